import type { Kafka } from 'kafkajs';
import {
  type DeadLetterBatch,
  type DeadLetterReader,
  type DeadLetterRecord,
  parseDeadLetterRecord,
} from '@sluice/plugin-api';
import { createKafka, describeKafka, kafkaErrorType, untilAborted } from './kafkaClient.js';
import { abortable, deadLetterError } from './deadLetterQueue.js';
import type { KafkaSourceOptions } from './options.js';

/** The consumer group that keeps the replay progress of a dead-letter topic. */
export function deadLetterReplayGroup(topic: string): string {
  return `sluice-dlq-replay.${topic}`;
}

/**
 * Reads a dead-letter topic back for `sluice dlq replay`, with the source's connection settings
 * (brokers, TLS, SASL). Each `read` returns the records from the replay group's committed offsets
 * (the beginning, the first time) up to the end the topic had when `read` was called; the batch's
 * `commit` moves the replay group to that end. A topic that does not exist holds no dead letters.
 * The replay group ({@link deadLetterReplayGroup}) must have no other active member while
 * committing (one replay at a time per topic).
 */
export class KafkaDeadLetterReader implements DeadLetterReader {
  readonly location: string;
  readonly #o: KafkaSourceOptions;
  readonly #topic: string;
  #kafka: Kafka | undefined;

  constructor(options: KafkaSourceOptions, topic: string) {
    this.#o = options;
    this.#topic = topic;
    this.location = `topic "${topic}" on ${describeKafka(options)}`;
  }

  async read(signal: AbortSignal): Promise<DeadLetterBatch> {
    try {
      return await abortable(this.#read(signal), signal);
    } catch (error) {
      throw deadLetterError(`Reading the dead letters of topic "${this.#topic}"`, this.#o, error);
    }
  }

  /**
   * Records not yet replayed: per partition of the topic, its end offset minus the replay group's
   * committed offset (or the low watermark when nothing was committed, or retention deleted
   * past it). Two admin requests; 0 when the topic does not exist.
   */
  async depth(signal: AbortSignal): Promise<number> {
    const topic = this.#topic;
    const kafka = (this.#kafka ??= createKafka(this.#o, undefined, '-dlq-replay'));
    const admin = kafka.admin();
    try {
      return await abortable(
        (async () => {
          await admin.connect();
          const offsets = await admin.fetchTopicOffsets(topic).catch((error: unknown) => {
            if (kafkaErrorType(error) === 'UNKNOWN_TOPIC_OR_PARTITION') return undefined;
            throw error;
          });
          if (!offsets) return 0;
          const committed = new Map<number, bigint>();
          for (const t of await admin.fetchOffsets({
            groupId: deadLetterReplayGroup(topic),
            topics: [topic],
          }))
            for (const p of t.partitions)
              if (BigInt(p.offset) >= 0n) committed.set(p.partition, BigInt(p.offset));
          let waiting = 0n;
          for (const p of offsets) {
            const low = BigInt(p.low);
            const from = committed.get(p.partition) ?? low;
            const start = from > low ? from : low;
            if (BigInt(p.high) > start) waiting += BigInt(p.high) - start;
          }
          return Number(waiting);
        })(),
        signal,
      );
    } catch (error) {
      throw deadLetterError(`Counting the dead letters of topic "${topic}"`, this.#o, error);
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }

  close(): Promise<void> {
    return Promise.resolve(); // every read connects and disconnects its own clients
  }

  async #read(signal: AbortSignal): Promise<DeadLetterBatch> {
    const topic = this.#topic;
    const groupId = deadLetterReplayGroup(topic);
    const kafka = (this.#kafka ??= createKafka(this.#o, undefined, '-dlq-replay'));
    const ends = new Map<number, bigint>(); // partitions with something to read: their end
    const done = new Map<number, string>(); // where every partition stands after this batch
    const admin = kafka.admin();
    await admin.connect();
    try {
      const offsets = await admin.fetchTopicOffsets(topic).catch((error: unknown) => {
        if (kafkaErrorType(error) === 'UNKNOWN_TOPIC_OR_PARTITION') return undefined;
        throw error;
      });
      if (!offsets) return { records: [], commit: () => Promise.resolve() };
      const committed = new Map<number, bigint>();
      for (const t of await admin.fetchOffsets({ groupId, topics: [topic] }))
        for (const p of t.partitions)
          if (BigInt(p.offset) >= 0n) committed.set(p.partition, BigInt(p.offset));
      for (const p of offsets) {
        const low = BigInt(p.low);
        const from = committed.get(p.partition) ?? low;
        // Records below `low` were deleted by retention: nothing to wait for there.
        if (BigInt(p.high) > (from > low ? from : low)) ends.set(p.partition, BigInt(p.high));
        done.set(p.partition, p.high);
      }
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
    const commit = async (commitSignal: AbortSignal): Promise<void> => {
      const setter = kafka.admin();
      try {
        await abortable(
          (async () => {
            await setter.connect();
            await setter.setOffsets({
              groupId,
              topic,
              partitions: [...done].map(([partition, offset]) => ({ partition, offset })),
            });
          })(),
          commitSignal,
        );
      } catch (error) {
        throw deadLetterError(`Recording the replay of topic "${topic}"`, this.#o, error);
      } finally {
        await setter.disconnect().catch(() => undefined);
      }
    };
    if (ends.size === 0) return { records: [], commit };
    const records: DeadLetterRecord[] = [];
    const consumer = kafka.consumer({
      groupId,
      allowAutoTopicCreation: false,
      maxWaitTimeInMs: this.#o.maxWaitTimeInMs,
      sessionTimeout: this.#o.sessionTimeout,
      heartbeatInterval: this.#o.heartbeatInterval,
      readUncommitted: this.#o.readUncommitted,
    });
    await consumer.connect();
    try {
      await consumer.subscribe({ topic, fromBeginning: true });
      await new Promise<void>((resolve, reject) => {
        const onAbort = () => reject(signal.reason as Error);
        signal.addEventListener('abort', onAbort, { once: true });
        consumer.on(consumer.events.CRASH, (event) => {
          if (!event.payload.restart) reject(event.payload.error);
        });
        consumer
          .run({
            autoCommit: false,
            eachMessage: async ({ partition, message }) => {
              const end = ends.get(partition);
              if (end === undefined || BigInt(message.offset) >= end) return;
              try {
                records.push(
                  parseDeadLetterRecord(
                    message.value?.toString('utf8') ?? '',
                    `topic "${topic}" partition ${partition} offset ${message.offset}`,
                  ),
                );
              } catch (error) {
                ends.clear(); // nothing more: the replay stops with this error
                reject(error);
                return;
              }
              if (BigInt(message.offset) + 1n >= end) ends.delete(partition);
              if (ends.size === 0) {
                signal.removeEventListener('abort', onAbort);
                resolve();
              }
            },
          })
          .catch(reject);
      });
    } finally {
      await untilAborted(
        consumer.disconnect().catch(() => undefined),
        AbortSignal.timeout(this.#o.requestTimeout),
      );
    }
    return { records, commit };
  }
}
