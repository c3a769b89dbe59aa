import { Kafka, logLevel, type Producer } from 'kafkajs';
import type { DeadLetterQueue, DeadLetterRecord } from './deadLetter.js';

/** The part of a kafkajs producer the dead-letter writer uses (replaceable in tests). */
export interface DeadLetterProducer {
  connect(): Promise<void>;
  send(request: {
    topic: string;
    acks: number;
    messages: { key: string; value: string; headers?: Record<string, string> }[];
  }): Promise<unknown>;
  disconnect(): Promise<void>;
}

/** Options of a {@link KafkaDeadLetterQueue}. */
export interface KafkaDeadLetterOptions {
  /** Brokers (`kafka.bootstrap.servers` of `consumerProperties`). */
  readonly brokers: readonly string[];
  /** Appended to the record's destination (the source topic) to name the DLQ topic. Default `.dlq`. */
  readonly topicSuffix?: string;
  /** kafkajs client id. Default `sluice-dlq`. */
  readonly clientId?: string;
  /** A producer to use instead of a kafkajs one (tests). */
  readonly producer?: DeadLetterProducer;
}

/** The DLQ topic of a destination: `<topic><suffix>`, e.g. `example.dlq`. */
export function deadLetterTopic(destination: string, suffix = '.dlq'): string {
  return `${destination}${suffix}`;
}

/**
 * Dead letters as Kafka records on `<topic>.dlq` (DESIGN.md §3): value = the
 * {@link DeadLetterRecord} as JSON, key = `<partition>:<offset>`, headers with the sink and the
 * reason. `write` resolves once every in-sync replica has the record (`acks: -1`). Connects on the
 * first write and again after a failed one.
 */
export class KafkaDeadLetterQueue implements DeadLetterQueue {
  readonly location: string;
  readonly #suffix: string;
  readonly #producer: DeadLetterProducer;
  #connected: Promise<void> | undefined;

  constructor(options: KafkaDeadLetterOptions) {
    this.#suffix = options.topicSuffix ?? '.dlq';
    this.location = `kafka://${options.brokers.join(',')}/<topic>${this.#suffix}`;
    this.#producer =
      options.producer ??
      (new Kafka({ clientId: options.clientId ?? 'sluice-dlq', brokers: [...options.brokers], logLevel: logLevel.NOTHING }).producer({
        allowAutoTopicCreation: true,
        idempotent: true,
        maxInFlightRequests: 1,
      }) as Producer);
  }

  async write(record: DeadLetterRecord): Promise<void> {
    this.#connected ??= this.#producer.connect();
    try {
      await this.#connected;
      await this.#producer.send({
        topic: deadLetterTopic(record.destination, this.#suffix),
        acks: -1,
        messages: [
          {
            key: `${record.partition}:${record.offset}`,
            value: JSON.stringify(record),
            headers: { 'sluice-sink': record.sink ?? '', 'sluice-reason': record.reason.slice(0, 1000) },
          },
        ],
      });
    } catch (error) {
      this.#connected = undefined;
      throw error;
    }
  }

  async close(): Promise<void> {
    if (this.#connected === undefined) return;
    this.#connected = undefined;
    await this.#producer.disconnect().catch(() => undefined);
  }
}
