import { Kafka, Partitioners, logLevel, type Admin, type Producer } from 'kafkajs';
import { encodeFlatMessage, type FlatMessage } from '@sluice/canal-protocol';
import type {
  Counter,
  Gauge,
  Histogram,
  Logger,
  Metrics,
  SourceBatch,
  SourceHandler,
  SourceInstance,
} from '@sluice/plugin-api';
import { kafkaBroker, uniqueName } from '../../../test/support/testbed.js';
import { kafkaSource } from '../src/index.js';

export const broker = (): string => kafkaBroker();

/** Log lines captured by {@link recordingLogger}. */
export interface LogLine {
  level: 'debug' | 'info' | 'warn' | 'error';
  message: string;
  fields: Record<string, unknown> | undefined;
}

/** A logger that keeps every line (and prints warnings/errors when SLUICE_TEST_VERBOSE is set). */
export function recordingLogger(lines: LogLine[] = []): Logger & { lines: LogLine[] } {
  const make = (base: Record<string, unknown>): Logger => {
    const at = (level: LogLine['level']) => (message: string, fields?: Record<string, unknown>) => {
      lines.push({ level, message, fields: { ...base, ...fields } });
      if (process.env.SLUICE_TEST_VERBOSE)
        console.error(level, message, JSON.stringify({ ...base, ...fields }));
    };
    return {
      debug: at('debug'),
      info: at('info'),
      warn: at('warn'),
      error: at('error'),
      child: (f) => make({ ...base, ...f }),
    };
  };
  return Object.assign(make({}), { lines });
}

export class TestKafka {
  readonly kafka = new Kafka({
    clientId: 'sluice-test',
    brokers: [broker()],
    logLevel: logLevel.NOTHING,
  });
  readonly admin: Admin = this.kafka.admin();
  readonly producer: Producer = this.kafka.producer({
    createPartitioner: Partitioners.LegacyPartitioner,
  });
  readonly topics: string[] = [];

  async start(): Promise<this> {
    await this.admin.connect();
    await this.producer.connect();
    return this;
  }

  async createTopic(partitions: number, prefix = 'src'): Promise<string> {
    const topic = uniqueName(prefix);
    await this.admin.createTopics({
      topics: [{ topic, numPartitions: partitions, replicationFactor: 1 }],
      waitForLeaders: true,
    });
    this.topics.push(topic);
    return topic;
  }

  /** Sends values to one partition, in order; returns their offsets. */
  async produce(
    topic: string,
    partition: number,
    values: readonly (string | Buffer)[],
  ): Promise<void> {
    for (let i = 0; i < values.length; i += 500) {
      await this.producer.send({
        topic,
        acks: -1,
        messages: values.slice(i, i + 500).map((value) => ({ partition, value, key: null })),
      });
    }
  }

  async committed(groupId: string, topic: string): Promise<Map<number, bigint>> {
    const [t] = await this.admin.fetchOffsets({ groupId, topics: [topic] });
    return new Map((t?.partitions ?? []).map((p) => [p.partition, BigInt(p.offset)]));
  }

  async stop(): Promise<void> {
    if (this.topics.length) await this.admin.deleteTopics({ topics: this.topics }).catch(() => {});
    await this.producer.disconnect();
    await this.admin.disconnect();
  }
}

/** A canal INSERT FlatMessage for `shop.orders` with id `id` and a sequence number. */
export function orderInsert(id: number, seq: number): string {
  const message: FlatMessage = {
    id: seq,
    database: 'shop',
    table: 'orders',
    pkNames: ['id'],
    isDdl: false,
    type: 'INSERT',
    es: 1_700_000_000_000 + seq,
    ts: 1_700_000_000_000 + seq,
    sql: '',
    sqlType: { id: -5, seq: 4 },
    mysqlType: { id: 'bigint(20)', seq: 'int(11)' },
    data: [{ id: String(id), seq: String(seq) }],
    old: null,
    gtid: '',
  };
  return encodeFlatMessage(message);
}

export interface Delivery {
  partition: string;
  offsets: string[];
  seqs: number[];
}

/**
 * A SourceHandler that records everything, checks that deliveries of one partition never
 * overlap, and optionally commits each batch right after it (or a custom hook).
 */
export class RecordingHandler implements SourceHandler {
  readonly deliveries: Delivery[] = [];
  readonly events: string[] = [];
  readonly violations: string[] = [];
  /** Every failed `commit` (partition@offset: error), retried up to 5 times 200 ms apart. */
  readonly commitErrors: string[] = [];
  readonly #busy = new Set<string>();
  source: SourceInstance | undefined;
  commitEach = false;
  /** Called after each recorded batch (e.g. to block, to stop). */
  onDeliver: ((batch: SourceBatch) => Promise<void> | void) | undefined;
  #waiters: Array<{ test: () => boolean; resolve: () => void }> = [];

  async deliver(batch: SourceBatch): Promise<void> {
    if (this.#busy.has(batch.partition))
      this.violations.push(`overlapping deliveries on partition ${batch.partition}`);
    this.#busy.add(batch.partition);
    try {
      const seqs = batch.messages.map((m) => {
        const text =
          typeof m.payload === 'string' ? m.payload : Buffer.from(m.payload).toString('utf8');
        return (JSON.parse(text) as { id: number }).id;
      });
      this.deliveries.push({
        partition: batch.partition,
        offsets: batch.messages.map((m) => m.offset),
        seqs,
      });
      this.events.push(`deliver ${batch.partition}`);
      await this.onDeliver?.(batch);
      if (this.commitEach && this.source) {
        const next = (BigInt(batch.messages.at(-1)!.offset) + 1n).toString();
        // A failed commit is retried, as the core does (SourceInstance.commit); each failure is
        // recorded for the test's report.
        for (let attempt = 1; ; attempt++) {
          try {
            await this.source.commit(batch.partition, next);
            break;
          } catch (error) {
            this.commitErrors.push(`${batch.partition}@${next}: ${String(error)}`);
            if (attempt >= 5) throw error;
            await new Promise((r) => setTimeout(r, 200));
          }
        }
      }
    } finally {
      this.#busy.delete(batch.partition);
      this.#wake();
    }
  }

  async assigned(partitions: readonly string[]): Promise<void> {
    this.events.push(`assigned ${partitions.join(',')}`);
    this.#wake();
  }

  async revoked(partitions: readonly string[]): Promise<void> {
    this.events.push(`revoked ${partitions.join(',')}`);
    this.#wake();
  }

  /** Offsets delivered for `partition`, in delivery order. */
  offsets(partition: string): string[] {
    return this.deliveries.filter((d) => d.partition === partition).flatMap((d) => d.offsets);
  }

  count(): number {
    return this.deliveries.reduce((n, d) => n + d.offsets.length, 0);
  }

  /** Resolves when `test` holds (checked after every callback). No timer: the test timeout bounds it. */
  until(test: () => boolean): Promise<void> {
    if (test()) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push({ test, resolve }));
  }

  #wake(): void {
    this.#waiters = this.#waiters.filter((w) => (w.test() ? (w.resolve(), false) : true));
  }
}

/** Metrics that remember every gauge value set, per metric name and label values. */
export class RecordingMetrics implements Metrics {
  /** `name{label=value,…}` → every value set, in order. */
  readonly gauges = new Map<string, number[]>();
  counter<L extends string = never>(): Counter<L> {
    return { inc: () => undefined };
  }
  gauge<L extends string = never>(spec: { name: string }): Gauge<L> {
    const set = (labels: Readonly<Record<string, string>> | undefined, value: number) => {
      const key = `${spec.name}{${Object.entries(labels ?? {})
        .map(([k, v]) => `${k}=${v}`)
        .join(',')}}`;
      this.gauges.set(key, [...(this.gauges.get(key) ?? []), value]);
    };
    return { set, inc: () => undefined, dec: () => undefined };
  }
  histogram<L extends string = never>(): Histogram<L> {
    return { observe: () => undefined };
  }
}

export function createSource(options: {
  topic: string;
  groupId: string;
  properties?: Record<string, string>;
  logger?: Logger;
  metrics?: Metrics;
}): SourceInstance {
  return kafkaSource.create({
    instance: options.topic,
    groupId: options.groupId,
    properties: {
      'kafka.bootstrap.servers': broker(),
      'kafka.auto.offset.reset': 'earliest',
      'kafka.session.timeout.ms': '6000',
      'kafka.heartbeat.interval.ms': '500',
      'kafka.fetch.max.wait.ms': '100',
      ...options.properties,
    },
    configDir: process.cwd(),
    deps: {
      logger: options.logger ?? recordingLogger(),
      metrics: options.metrics ?? new RecordingMetrics(),
    },
  });
}

export const range = (from: number, to: number): string[] =>
  Array.from({ length: to - from }, (_, i) => String(from + i));
