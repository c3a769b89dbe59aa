export { KafkaSource, kafkaSource } from './kafkaSource.js';
export { KafkaOptionsError, kafkaSourceOptions, parseJaasConfig } from './options.js';
export type { KafkaSaslOptions, KafkaSourceOptions } from './options.js';
