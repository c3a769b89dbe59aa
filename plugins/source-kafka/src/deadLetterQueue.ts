import type { Kafka, Producer } from 'kafkajs';
import {
  FatalError,
  NotConnectedError,
  RetryableError,
  type DeadLetterContext,
  type DeadLetterQueue,
  type DeadLetterRecord,
} from '@sluice/plugin-api';
import {
  authenticationMessage,
  createKafka,
  describeKafka,
  errorMessage,
  isAuthenticationFailure,
  isConnectionFailure,
  kafkaErrorType,
  untilAborted,
} from './kafkaClient.js';
import { kafkaSourceOptions, type KafkaSourceOptions } from './options.js';

/** The dead-letter topic of a source topic: `sluice.deadLetter.topic`, else `<topic>.dlq`. */
export function deadLetterTopic(instance: string, configured: string | undefined): string {
  return configured?.trim() || `${instance.trim()}.dlq`;
}

/** The Kafka options the dead-letter clients use: the source's, parsed from the same properties. */
export function deadLetterOptions(context: DeadLetterContext): KafkaSourceOptions {
  return kafkaSourceOptions({
    properties: context.properties,
    topic: context.instance,
    groupId: `sluice-dlq.${context.instance}`,
    configDir: context.configDir,
  });
}

const AUTHORIZATION = new Set([
  'TOPIC_AUTHORIZATION_FAILED',
  'CLUSTER_AUTHORIZATION_FAILED',
  'GROUP_AUTHORIZATION_FAILED',
  'TRANSACTIONAL_ID_AUTHORIZATION_FAILED',
]);

/**
 * Classifies a failure of a dead-letter client: refused credentials or missing rights are fatal
 * (retrying cannot help), unreachable brokers are "not connected", anything else retryable.
 */
export function deadLetterError(
  what: string,
  options: KafkaSourceOptions,
  error: unknown,
): FatalError | NotConnectedError | RetryableError {
  if (error instanceof FatalError || error instanceof NotConnectedError) return error;
  const where = describeKafka(options);
  if (isAuthenticationFailure(error))
    return new FatalError(`${what} on ${where}: ${authenticationMessage(options, error)}`, {
      cause: error,
    });
  if (AUTHORIZATION.has(kafkaErrorType(error) ?? ''))
    return new FatalError(
      `${what} on ${where}: not authorised (${errorMessage(error)}); grant the Kafka user the rights, or create the topic in advance.`,
      { cause: error },
    );
  if (isConnectionFailure(error))
    return new NotConnectedError(`${what}: ${where} cannot be reached: ${errorMessage(error)}`, {
      cause: error,
    });
  return new RetryableError(`${what} on ${where} failed: ${errorMessage(error)}`, {
    cause: error,
  });
}

/**
 * Dead letters of one source topic as Kafka records on its dead-letter topic (DESIGN.md §3):
 * value = the {@link DeadLetterRecord} as JSON, key = `<partition>:<offset>`, headers with the sink
 * and the reason. Connects with the source's own settings (brokers, TLS, SASL), lazily on the first
 * `write` and again after a failed one. Creates the topic (1 partition, the broker's default
 * replication) when it is missing, since clusters often have topic auto-creation off.
 *
 * `write` resolves once every in-sync replica has the record (`acks: -1`, idempotent producer);
 * concurrent writes (one per partition flow) share one producer. Errors are classified by
 * {@link deadLetterError}.
 */
export class KafkaDeadLetterQueue implements DeadLetterQueue {
  readonly location: string;
  readonly #o: KafkaSourceOptions;
  readonly #topic: string;
  #kafka: Kafka | undefined;
  #producer: Producer | undefined;
  #ready: Promise<Producer> | undefined;

  constructor(options: KafkaSourceOptions, topic: string) {
    this.#o = options;
    this.#topic = topic;
    this.location = `topic "${topic}" on ${describeKafka(options)}`;
  }

  async write(record: DeadLetterRecord, signal: AbortSignal): Promise<void> {
    const attempt = (async () => {
      const producer = await this.#connect();
      await producer.send({
        topic: this.#topic,
        acks: -1,
        messages: [
          {
            key: `${record.partition}:${record.offset}`,
            value: JSON.stringify(record),
            headers: {
              'sluice-sink': record.sink ?? '',
              'sluice-reason': record.reason.slice(0, 1000),
            },
          },
        ],
      });
    })();
    try {
      await abortable(attempt, signal);
    } catch (error) {
      this.#ready = undefined; // reconnect (and re-check the topic) on the next write
      throw deadLetterError(`Writing a dead letter to topic "${this.#topic}"`, this.#o, error);
    }
  }

  async close(signal: AbortSignal): Promise<void> {
    const producer = this.#producer;
    this.#producer = undefined;
    this.#ready = undefined;
    if (producer)
      await untilAborted(
        producer.disconnect().catch(() => undefined),
        signal,
      );
  }

  #connect(): Promise<Producer> {
    this.#ready ??= (async () => {
      this.#kafka ??= createKafka(this.#o, undefined, '-dlq');
      if (!this.#producer) {
        this.#producer = this.#kafka.producer({
          allowAutoTopicCreation: false,
          idempotent: true,
          maxInFlightRequests: 1,
        });
      }
      await this.#producer.connect();
      await createTopicIfMissing(this.#kafka, this.#topic);
      return this.#producer;
    })();
    return this.#ready;
  }
}

/** Creates `topic` (1 partition, broker-default replication) unless it exists. */
async function createTopicIfMissing(kafka: Kafka, topic: string): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    if ((await admin.listTopics()).includes(topic)) return;
    try {
      await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
    } catch (error) {
      // Another process may have created it meanwhile.
      if (!(await admin.listTopics()).includes(topic)) throw error;
    }
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/** `promise`, or rejects with the signal's reason when `signal` aborts first. */
export function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  promise.catch(() => undefined);
  if (signal.aborted) return Promise.reject(abortReason(signal));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(abortReason(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

const abortReason = (signal: AbortSignal): unknown =>
  signal.reason instanceof Error ? signal.reason : new RetryableError('Aborted.');
