import { coreServices, defineSource } from '@sluice/plugin-api';
import { RabbitDeadLetterQueue, RabbitDeadLetterReader, deadLetterOptions } from './deadLetters.js';
import { rabbitOptions, rabbitPropertiesSchema } from './options.js';
import { RabbitSource } from './rabbitSource.js';

export { RabbitSource } from './rabbitSource.js';
export {
  RABBIT_KEYS,
  RabbitOptionsError,
  aliyunLoginWarning,
  describeBroker,
  parseRabbitHost,
  rabbitOptions,
  rabbitPropertiesSchema,
} from './options.js';
export type { RabbitOptions, RabbitTlsOptions } from './options.js';
export {
  RabbitDeadLetterQueue,
  RabbitDeadLetterReader,
  deadLetterOptions,
  deadLetterQueueName,
} from './deadLetters.js';

/**
 * `canal.conf.mode: rabbitMQ` (matched case-insensitively, as canal lower-cases the mode to pick
 * its connector): consumes the queue named by `canalAdapters[].instance` with canal-adapter's
 * `rabbitmq.*` consumer properties (canal 1.1.8 `CanalRabbitMQConsumer.java`). Unlike
 * canal-adapter, which acks each message as soon as its handler returns (even a failed one),
 * a message is acked only after its events were applied or dead-lettered. `groups[].groupId`
 * is only a label here, as in canal. Its dead-letter queue (`sluice.deadLetter.type: rabbitmq`)
 * is the durable queue `<instance>.dlq` on the same broker.
 */
export const rabbitmqSource = defineSource({
  name: 'rabbitmq',
  description:
    'Consumes canal messages from a RabbitMQ queue; acknowledges only what was applied or dead-lettered.',
  deps: { logger: coreServices.logger },
  propertiesSchema: rabbitPropertiesSchema,
  deadLetters: {
    queue: (ctx) => new RabbitDeadLetterQueue(deadLetterOptions(ctx)),
    reader: (ctx) => new RabbitDeadLetterReader(deadLetterOptions(ctx)),
  },
  create: (ctx) =>
    new RabbitSource(
      rabbitOptions(ctx.properties, ctx.instance, ctx.configDir),
      ctx.deps.logger,
      ctx.groupId,
    ),
});
