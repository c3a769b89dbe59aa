/** Reading back what the recording sink applied, and the checks every e2e scenario makes. */
import { Kafka, Partitioners, logLevel, type Admin, type Producer } from 'kafkajs';
import { Redis } from 'ioredis';
import { afterAll, beforeAll } from 'vitest';
import { kafkaBroker, redisUrl } from '../../support/testbed.js';
import { requireBuiltCli } from './sluice.js';
import type { Row, Workload } from './workload.js';

export class E2eKafka {
  readonly kafka: Kafka;
  readonly admin: Admin;
  readonly producer: Producer;
  readonly topics: string[] = [];

  constructor(broker: string) {
    this.kafka = new Kafka({
      clientId: 'sluice-e2e',
      brokers: [broker],
      logLevel: logLevel.NOTHING,
    });
    this.admin = this.kafka.admin();
    this.producer = this.kafka.producer({ createPartitioner: Partitioners.LegacyPartitioner });
  }

  async start(): Promise<this> {
    await this.admin.connect();
    await this.producer.connect();
    return this;
  }

  async createTopic(topic: string, partitions: number): Promise<void> {
    await this.admin.createTopics({
      topics: [{ topic, numPartitions: partitions, replicationFactor: 1 }],
      waitForLeaders: true,
    });
    this.topics.push(topic);
  }

  /** Sends each partition's payloads to that partition, in order (canal: null key, explicit partition). */
  async produce(
    topic: string,
    perPartition: readonly (readonly (string | Buffer)[])[],
  ): Promise<void> {
    await Promise.all(
      perPartition.map(async (values, partition) => {
        for (let i = 0; i < values.length; i += 500) {
          await this.producer.send({
            topic,
            acks: -1,
            messages: values.slice(i, i + 500).map((value) => ({ partition, key: null, value })),
          });
        }
      }),
    );
  }

  /** Committed offsets of a group (-1 → 0: nothing committed means "start at the beginning"). */
  async committed(groupId: string, topic: string): Promise<bigint[]> {
    const [t] = await this.admin.fetchOffsets({ groupId, topics: [topic] });
    return (t?.partitions ?? [])
      .sort((a, b) => a.partition - b.partition)
      .map((p) => (BigInt(p.offset) < 0n ? 0n : BigInt(p.offset)));
  }

  async ends(topic: string): Promise<bigint[]> {
    return (await this.admin.fetchTopicOffsets(topic))
      .sort((a, b) => a.partition - b.partition)
      .map((p) => BigInt(p.high));
  }

  /** Resolves once the group has committed the end of every partition (polls; the test timeout bounds it). */
  async untilCommittedToEnd(
    groupId: string,
    topic: string,
    stillRunning: () => boolean = () => true,
  ): Promise<void> {
    const ends = await this.ends(topic);
    for (;;) {
      const committed = await this.committed(groupId, topic);
      if (committed.length === ends.length && committed.every((c, i) => c >= ends[i]!)) return;
      if (!stillRunning())
        throw new Error(`no sluice process is running; committed ${committed} of ${ends}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  async stop(): Promise<void> {
    if (this.topics.length) await this.admin.deleteTopics({ topics: this.topics }).catch(() => {});
    await this.producer.disconnect();
    await this.admin.disconnect();
  }
}

/** What the recording sink holds under one prefix. */
export class Recording {
  constructor(
    readonly redis: Redis,
    readonly prefix: string,
  ) {}

  /** key → row, or null when the key holds a delete (or was never written). */
  async state(keys: Iterable<string>): Promise<Map<string, Row | null>> {
    const out = new Map<string, Row | null>();
    for (const key of keys) {
      const row = await this.redis.hget(`${this.prefix}:row:${key}`, 'row');
      out.set(key, row ? (JSON.parse(row) as Row) : null);
    }
    return out;
  }

  async violations(): Promise<string[]> {
    return this.redis.lrange(`${this.prefix}:violations`, 0, -1);
  }

  /** Positions applied from a partition. */
  async applied(partition: number): Promise<Set<bigint>> {
    return new Set((await this.redis.smembers(`${this.prefix}:appliedp:${partition}`)).map(BigInt));
  }

  /** Positions delivered again after being applied, per partition. */
  async dups(partition: number): Promise<bigint[]> {
    return (await this.redis.lrange(`${this.prefix}:dups:${partition}`, 0, -1)).map(BigInt);
  }

  async setFixed(): Promise<void> {
    await this.redis.set(`${this.prefix}:fixed`, '1');
  }

  async clear(): Promise<void> {
    let cursor = '0';
    do {
      const [next, keys] = await this.redis.scan(
        cursor,
        'MATCH',
        `${this.prefix}:*`,
        'COUNT',
        1000,
      );
      if (keys.length) await this.redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  }
}

/**
 * The crash-safety invariant: every row of every message below the committed offset of its
 * partition was applied by the sink (positions are offset * 10000 + row index). `skip` lists
 * (partition, offset) pairs that legitimately never apply (dead-lettered).
 */
export async function committedButNotApplied(
  recording: Recording,
  workload: Workload,
  committed: readonly bigint[],
  skip: ReadonlySet<string> = new Set(),
): Promise<string[]> {
  const problems: string[] = [];
  for (let p = 0; p < workload.partitions.length; p++) {
    const applied = await recording.applied(p);
    const upTo = Number(committed[p] ?? 0n);
    for (let offset = 0; offset < upTo; offset++) {
      if (skip.has(`${p}:${offset}`)) continue;
      const rows = workload.rowsPerMessage[p]![offset] ?? 0;
      for (let i = 0; i < rows; i++) {
        if (!applied.has(BigInt(offset) * 10000n + BigInt(i)))
          problems.push(`partition ${p} offset ${offset} row ${i} committed but never applied`);
      }
    }
  }
  return problems;
}

/** Differences between the expected (sequential) state and the sink's. */
export function stateDiff(
  expected: ReadonlyMap<string, Row | null>,
  actual: ReadonlyMap<string, Row | null>,
): string[] {
  const diffs: string[] = [];
  const norm = (row: Row | null) =>
    row === null
      ? 'null'
      : JSON.stringify(Object.entries(row).sort(([a], [b]) => a.localeCompare(b)));
  for (const [key, want] of expected) {
    const got = actual.get(key) ?? null;
    if (norm(want) !== norm(got))
      diffs.push(`${key}: expected ${JSON.stringify(want)}, got ${JSON.stringify(got)}`);
  }
  return diffs;
}

/** The services every end-to-end test uses, opened before the file's tests and closed after. */
export interface E2eServices {
  readonly kafka: E2eKafka;
  readonly redis: Redis;
}

/**
 * Registers `beforeAll`/`afterAll` hooks that check the CLI is built and open the testbed's Kafka
 * and Redis. Read the returned object's fields inside tests (they are set by `beforeAll`).
 */
export function useE2eServices(): E2eServices {
  const services = {} as { kafka: E2eKafka; redis: Redis };
  beforeAll(async () => {
    requireBuiltCli();
    services.kafka = await new E2eKafka(kafkaBroker()).start();
    services.redis = new Redis(redisUrl());
  });
  afterAll(async () => {
    await services.kafka?.stop();
    services.redis?.disconnect();
  });
  return services;
}
