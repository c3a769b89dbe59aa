import { Kafka, logLevel, type Producer } from 'kafkajs';
import type { DeadLetterQueue } from './deadLetter/queue.js';
import type { DeadLetterRecord } from './deadLetter/record.js';

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
  /**
   * Makes sure a dead-letter topic exists before the first write to it. Default: create it with
   * the kafkajs admin client (1 partition, the broker's default replication factor) when it is
   * missing, since many clusters (and the testbed) have topic auto-creation off.
   */
  readonly ensureTopic?: (topic: string) => Promise<void>;
}

/** Creates `topic` (1 partition, broker-default replication) unless it exists. */
async function createTopicIfMissing(kafka: Kafka, topic: string): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = await admin.listTopics();
    if (existing.includes(topic)) return;
    try {
      await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
    } catch (error) {
      // Another process may have created it meanwhile.
      if (!(await admin.listTopics()).includes(topic)) throw error;
    }
  } finally {
    await admin.disconnect();
  }
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
  readonly #ensureTopic: (topic: string) => Promise<void>;
  readonly #ready = new Map<string, Promise<void>>();
  #connected: Promise<void> | undefined;

  constructor(options: KafkaDeadLetterOptions) {
    this.#suffix = options.topicSuffix ?? '.dlq';
    this.location = `kafka://${options.brokers.join(',')}/<topic>${this.#suffix}`;
    const kafka = new Kafka({
      clientId: options.clientId ?? 'sluice-dlq',
      brokers: [...options.brokers],
      logLevel: logLevel.NOTHING,
    });
    this.#producer =
      options.producer ??
      (kafka.producer({
        allowAutoTopicCreation: true,
        idempotent: true,
        maxInFlightRequests: 1,
      }) as Producer);
    this.#ensureTopic = options.ensureTopic ?? ((topic) => createTopicIfMissing(kafka, topic));
  }

  async write(record: DeadLetterRecord): Promise<void> {
    const topic = deadLetterTopic(record.destination, this.#suffix);
    this.#connected ??= this.#producer.connect();
    try {
      await this.#connected;
      let ready = this.#ready.get(topic);
      if (!ready) {
        ready = this.#ensureTopic(topic);
        this.#ready.set(topic, ready);
        ready.catch(() => this.#ready.delete(topic));
      }
      await ready;
      await this.#producer.send({
        topic,
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
