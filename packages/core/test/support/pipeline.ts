/**
 * Test doubles for the pipeline engine: an in-memory source, a recording sink that keeps a
 * row-level target state and checks the applier's invariants, and an in-memory dead-letter queue.
 */
import { setImmediate as tick } from 'node:timers/promises';
import {
  APPLIED,
  type ChangeEvent,
  type Logger,
  type SinkInstance,
  type SinkRecord,
  type SourceHandler,
  type SourceInstance,
  type SourceRunOptions,
  type WriteResult,
} from '@sluice/plugin-api';
import type { DeadLetterQueue } from '../../src/deadLetter/queue.js';
import type { DeadLetterRecord } from '../../src/deadLetter/record.js';

/** A logger that drops everything (or collects lines when `lines` is given). */
export function quietLogger(lines?: string[]): Logger {
  const log = (level: string) => (message: string, fields?: Record<string, unknown>) => {
    lines?.push(`${level} ${message} ${fields ? JSON.stringify(fields) : ''}`);
  };
  const logger: Logger = {
    debug: log('debug'),
    info: log('info'),
    warn: log('warn'),
    error: log('error'),
    child: () => logger,
  };
  return logger;
}

/** One row of a test message. */
export interface Row {
  readonly [column: string]: string | null;
}

/** Builds a canal FlatMessage JSON text. */
export function flat(options: {
  type: 'INSERT' | 'UPDATE' | 'DELETE' | 'ALTER' | 'QUERY';
  database?: string;
  table?: string;
  data?: Row[];
  old?: Row[];
  pkNames?: string[];
  es?: number;
  sql?: string;
}): string {
  const isDdl = !['INSERT', 'UPDATE', 'DELETE'].includes(options.type);
  return JSON.stringify({
    data: options.data ?? null,
    database: options.database ?? 'db',
    es: options.es ?? 1_700_000_000_000,
    id: 1,
    isDdl,
    mysqlType: isDdl ? null : { id: 'int(11)', v: 'varchar(20)' },
    old: options.old ?? null,
    pkNames: isDdl ? null : (options.pkNames ?? ['id']),
    sql: options.sql ?? '',
    sqlType: isDdl ? null : { id: 4, v: 12 },
    table: options.table ?? 't',
    ts: (options.es ?? 1_700_000_000_000) + 5,
    type: options.type,
  });
}

/** A source whose partitions hold fixed messages; records every commit. */
export class MemorySource implements SourceInstance {
  readonly commits: { partition: string; offset: string }[] = [];
  /** Highest committed offset per partition. */
  readonly committed = new Map<string, string>();
  readonly #partitions: Map<string, { offset: string; payload: string }[]>;
  readonly #batchSize: number;
  /** Called before each delivery (lets a test pause or inspect). */
  beforeDeliver: ((partition: string, batchNo: number) => Promise<void> | void) | undefined;
  /** Resolved deliveries per partition. */
  readonly delivered = new Map<string, number>();
  commitError: Error | undefined;

  constructor(
    partitions: Record<string, string[]>,
    options: { batchSize?: number; firstOffset?: bigint } = {},
  ) {
    const first = options.firstOffset ?? 0n;
    this.#partitions = new Map(
      Object.entries(partitions).map(([p, payloads]) => [
        p,
        payloads.map((payload, i) => ({ offset: (first + BigInt(i)).toString(), payload })),
      ]),
    );
    this.#batchSize = options.batchSize ?? 10;
  }

  async connect(): Promise<void> {}

  async run(handler: SourceHandler, options: SourceRunOptions): Promise<void> {
    await handler.assigned?.([...this.#partitions.keys()]);
    await Promise.all(
      [...this.#partitions].map(async ([partition, messages]) => {
        for (let i = 0, n = 0; i < messages.length; i += this.#batchSize, n++) {
          if (options.signal.aborted) return;
          await this.beforeDeliver?.(partition, n);
          if (options.signal.aborted) return;
          await handler.deliver({ partition, messages: messages.slice(i, i + this.#batchSize) });
          this.delivered.set(partition, (this.delivered.get(partition) ?? 0) + 1);
        }
      }),
    );
    if (!options.once) {
      await new Promise<void>((resolve) => {
        if (options.signal.aborted) resolve();
        options.signal.addEventListener('abort', () => resolve(), { once: true });
      });
    }
  }

  async commit(partition: string, nextOffset: string): Promise<void> {
    if (this.commitError) throw this.commitError;
    const prev = this.committed.get(partition);
    if (prev !== undefined && BigInt(nextOffset) <= BigInt(prev))
      throw new Error(`commit went backwards: ${prev} → ${nextOffset}`);
    this.commits.push({ partition, offset: nextOffset });
    this.committed.set(partition, nextOffset);
  }

  async close(): Promise<void> {}
}

/** The row key the recording sink uses: table + `id`. */
function keyOf(event: ChangeEvent, image: 'before' | 'after'): string {
  const row = event.kind === 'row' ? event[image] : undefined;
  return `${event.database}.${event.table}#${row?.['id'] ?? ''}`;
}

/** What a test can make a write do. */
export type WriteScript = (
  batch: readonly SinkRecord[],
  call: number,
) => Promise<WriteResult | undefined> | WriteResult | undefined;

/**
 * A sink applying events to an in-memory table state, in batch order. It fails the test (via
 * `violations`) when two concurrent batches touch the same key. `script` may throw or return a
 * custom result; `delay` adds random scheduling noise (no wall time).
 */
export class RecordingSink implements SinkInstance {
  readonly state = new Map<string, Row>();
  /** Every applied record, in apply order. */
  readonly applied: SinkRecord[] = [];
  /**
   * Records made durable by a `flush`, as a buffering sink would: a flush makes durable every
   * record whose `write` had resolved when the flush was called.
   */
  readonly durable: SinkRecord[] = [];
  #resolved: SinkRecord[] = [];
  readonly batches: number[] = [];
  readonly violations: string[] = [];
  connects = 0;
  flushes = 0;
  calls = 0;
  inFlight = 0;
  maxConcurrent = 0;
  readonly #busyKeys = new Map<string, number>();
  readonly #script: WriteScript | undefined;
  readonly #random: (() => number) | undefined;

  constructor(options: { script?: WriteScript; random?: () => number } = {}) {
    this.#script = options.script;
    this.#random = options.random;
  }

  async connect(): Promise<void> {
    this.connects += 1;
  }

  async write(batch: readonly SinkRecord[]): Promise<WriteResult> {
    const call = ++this.calls;
    const keys = new Set<string>();
    for (const r of batch) {
      if (r.event.kind === 'ddl')
        keys.add(`${r.event.database}.${r.event.table}#DDL@${r.event.position.partition}`);
      else {
        if (r.event.before) keys.add(keyOf(r.event, 'before'));
        if (r.event.after) keys.add(keyOf(r.event, 'after'));
      }
    }
    for (const k of keys)
      if (this.#busyKeys.has(k))
        this.violations.push(`key ${k} in two concurrent batches (call ${call})`);
    for (const k of keys) this.#busyKeys.set(k, call);
    this.inFlight += 1;
    this.maxConcurrent = Math.max(this.maxConcurrent, this.inFlight);
    try {
      if (this.#random) {
        const ticks = Math.floor(this.#random() * 4);
        for (let i = 0; i < ticks; i++) await tick();
      }
      const scripted = await this.#script?.(batch, call);
      const result = scripted ?? batch.map(() => APPLIED);
      for (let i = 0; i < batch.length && i < result.length; i++) {
        if (result[i]!.status === 'applied') this.#apply(batch[i]!);
      }
      for (const r of batch) this.#resolved.push(r);
      this.batches.push(batch.length);
      return result;
    } finally {
      this.inFlight -= 1;
      for (const k of keys) if (this.#busyKeys.get(k) === call) this.#busyKeys.delete(k);
    }
  }

  #apply(record: SinkRecord): void {
    this.applied.push(record);
    const e = record.event;
    if (e.kind === 'ddl') return;
    if (e.type !== 'INSERT') this.state.delete(keyOf(e, 'before'));
    if (e.type !== 'DELETE') this.state.set(keyOf(e, 'after'), { ...e.after });
  }

  async flush(): Promise<void> {
    this.flushes += 1;
    const covered = this.#resolved;
    this.#resolved = [];
    await tick(); // a flush takes time: writes may resolve meanwhile (not covered by this one)
    this.durable.push(...covered);
  }

  async close(): Promise<void> {}
}

/** Applies events sequentially to a plain state (the reference the engine must match). */
export async function sequentialState(events: readonly ChangeEvent[]): Promise<Map<string, Row>> {
  const sink = new RecordingSink();
  for (const e of events) await sink.write([{ event: e, mapping: undefined }]);
  return sink.state;
}

/** A dead-letter queue in memory; `failures` makes the next N writes reject. */
export class MemoryDeadLetters implements DeadLetterQueue {
  readonly location = 'memory';
  readonly records: DeadLetterRecord[] = [];
  failures = 0;
  attempts = 0;

  async write(record: DeadLetterRecord): Promise<void> {
    this.attempts += 1;
    if (this.failures > 0) {
      this.failures -= 1;
      throw new Error('dead-letter queue unavailable');
    }
    this.records.push(record);
  }

  async close(): Promise<void> {}
}

/** A promise with its resolve function exposed. */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}
