import { setImmediate as tick } from 'node:timers/promises';
import {
  APPLIED,
  type ChangeEvent,
  type RowImage,
  type SinkInstance,
  type SinkRecord,
  type WriteResult,
} from '@sluice/plugin-api';

/** The row key a {@link RecordingSink} uses: `database.table#<id>` (the `id` column). */
function keyOf(event: ChangeEvent, image: 'before' | 'after'): string {
  const row = event.kind === 'row' ? event[image] : undefined;
  return `${event.database}.${event.table}#${row?.['id'] ?? ''}`;
}

/**
 * What a test can make a `write` of a {@link RecordingSink} do: throw (the whole batch fails),
 * return a custom result, or return `undefined` for "apply everything". `call` counts from 1.
 */
export type WriteScript = (
  batch: readonly SinkRecord[],
  call: number,
) => Promise<WriteResult | undefined> | WriteResult | undefined;

/**
 * A sink for tests of the core's pipeline: it applies events to an in-memory state keyed by
 * `database.table#id`, in batch order, records every applied record and which ones a `flush` made
 * durable, and checks the core's side of the sink contract as it goes: two concurrent batches
 * touching the same key are recorded in `violations`. `script` scripts failures; `random` adds
 * scheduling noise (0–3 event-loop turns per write, no wall time).
 *
 * Use {@link MemorySink} to test a pipeline's end state by table; use this one to test how the
 * core drives a sink (order, concurrency, retries, durability).
 */
export class RecordingSink implements SinkInstance {
  /** `database.table#id` → row, as applied. */
  readonly state = new Map<string, RowImage>();
  /** Every applied record, in apply order. */
  readonly applied: SinkRecord[] = [];
  /**
   * Records made durable by a `flush`, as a buffering sink would: a flush makes durable every
   * record whose `write` had resolved when the flush was called.
   */
  readonly durable: SinkRecord[] = [];
  #resolved: SinkRecord[] = [];
  /** The size of every batch that resolved, in order. */
  readonly batches: number[] = [];
  /** Broken rules of the core's side of the contract (a key in two concurrent batches). */
  readonly violations: string[] = [];
  connects = 0;
  flushes = 0;
  /** `write` calls so far. */
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

/** The state a {@link RecordingSink} reaches applying `events` one by one (a reference). */
export async function sequentialState(
  events: readonly ChangeEvent[],
): Promise<Map<string, RowImage>> {
  const sink = new RecordingSink();
  for (const e of events) await sink.write([{ event: e, mapping: undefined }]);
  return sink.state;
}
