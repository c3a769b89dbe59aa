import { Kafka, logLevel } from 'kafkajs';
import { parseDeadLetters, type DeadLetterRecord } from './deadLetter/record.js';

/** Dead letters read from a topic, and how to mark them replayed. */
export interface DeadLetterTopicRead {
  readonly records: DeadLetterRecord[];
  /**
   * Records the read records as replayed (commits the replay group's offsets), so the next
   * replay starts after them. Call only once they were replayed or written back.
   */
  commit(): Promise<void>;
}

/** The consumer group that keeps the replay progress of a dead-letter topic. */
export function deadLetterReplayGroup(topic: string): string {
  return `sluice-dlq-replay.${topic}`;
}

/**
 * Reads the records of a dead-letter topic that were not replayed yet: from the replay group's
 * committed offsets (the beginning, the first time) to the end the topic had when called.
 */
export async function readDeadLetterTopic(
  brokers: readonly string[],
  topic: string,
  signal: AbortSignal,
): Promise<DeadLetterTopicRead> {
  const kafka = new Kafka({
    clientId: 'sluice-dlq-replay',
    brokers: [...brokers],
    logLevel: logLevel.NOTHING,
  });
  const groupId = deadLetterReplayGroup(topic);
  const admin = kafka.admin();
  await admin.connect();
  const ends = new Map<number, bigint>();
  const done = new Map<number, string>();
  try {
    const committed = new Map<number, bigint>();
    for (const t of await admin.fetchOffsets({ groupId, topics: [topic] })) {
      for (const p of t.partitions)
        if (BigInt(p.offset) >= 0n) committed.set(p.partition, BigInt(p.offset));
    }
    for (const p of await admin.fetchTopicOffsets(topic)) {
      const from = committed.get(p.partition) ?? BigInt(p.low);
      if (BigInt(p.high) > from) ends.set(p.partition, BigInt(p.high));
      done.set(p.partition, p.high);
    }
  } finally {
    await admin.disconnect();
  }
  const commit = async (): Promise<void> => {
    const setter = kafka.admin();
    await setter.connect();
    try {
      await setter.setOffsets({
        groupId,
        topic,
        partitions: [...done].map(([partition, offset]) => ({ partition, offset })),
      });
    } finally {
      await setter.disconnect();
    }
  };
  if (ends.size === 0) return { records: [], commit };
  const consumer = kafka.consumer({ groupId });
  const out: DeadLetterRecord[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const onAbort = () => reject(signal.reason as Error);
      signal.addEventListener('abort', onAbort, { once: true });
      consumer
        .run({
          autoCommit: false,
          eachMessage: async ({ partition, message }) => {
            const end = ends.get(partition);
            if (end === undefined || BigInt(message.offset) >= end) return;
            const value = message.value?.toString('utf8') ?? '';
            out.push(...parseDeadLetters(value, `${topic}[${partition}]@${message.offset}`));
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
    await consumer.disconnect();
  }
  return { records: out, commit };
}
