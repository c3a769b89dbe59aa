export { KafkaSource, kafkaSource } from './kafkaSource.js';
export { KafkaOptionsError, kafkaSourceOptions, parseJaasConfig } from './options.js';
export type { KafkaSaslOptions, KafkaSourceOptions } from './options.js';
export { KafkaDeadLetterQueue, deadLetterOptions, deadLetterTopic } from './deadLetterQueue.js';
export { KafkaDeadLetterReader, deadLetterReplayGroup } from './deadLetterReader.js';
export { assignRange, type GroupMemberSubscription } from './rangeAssigner.js';
