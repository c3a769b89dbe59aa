import {
  APPLIED,
  NotConnectedError,
  PermanentEventError,
  SinkClosedError,
  defineSink,
  failed,
  type ChangeEvent,
  type SinkDefinition,
  type SinkInstance,
  type SinkRecord,
  type WriteOutcome,
  type WriteResult,
} from '@sluice/plugin-api';
import { applyEvent, type TableState } from './model.js';

/**
 * The "database" behind {@link MemorySink}s: outlives sink instances, so a new instance (a
 * restart) sees what earlier ones wrote.
 */
export class MemoryTarget {
  /** `database.table` → key → row. */
  readonly tables = new Map<string, TableState>();
  /**
   * Decides whether an event is rejected permanently: return a reason to reject it. Default:
   * none are (apart from rows without a usable primary key).
   */
  reject: (event: ChangeEvent) => string | undefined = () => undefined;

  /** The rows of `database.table` (empty when never written). */
  table(database: string, table: string): TableState {
    return this.tables.get(`${database}.${table}`) ?? new Map();
  }

  /** Forgets every row. */
  clear(): void {
    this.tables.clear();
  }
}

/**
 * An in-memory sink with upsert/delete-by-key semantics, for tests of the core and of pipelines.
 * It records every batch and lifecycle call, can be made to fail, and passes the contract suite.
 */
export class MemorySink implements SinkInstance {
  /** Where rows go. */
  readonly target: MemoryTarget;
  /** Every batch `write` received, in call order. */
  readonly batches: (readonly SinkRecord[])[] = [];
  /** Lifecycle calls in order: `connect`, `write`, `flush`, `close`. */
  readonly calls: string[] = [];
  #connected = false;
  #closed = false;
  #failNext: Error[] = [];

  constructor(target: MemoryTarget = new MemoryTarget()) {
    this.target = target;
  }

  /** True between a successful `connect` and a disconnect/close. */
  get connected(): boolean {
    return this.#connected;
  }

  /** Drops the "connection": the next `write`/`flush` rejects with `NotConnectedError`. */
  disconnect(): void {
    this.#connected = false;
  }

  /** Makes the next `write` calls throw these errors, one per call, before applying anything. */
  failNextWrites(...errors: Error[]): void {
    this.#failNext.push(...errors);
  }

  async connect(): Promise<void> {
    this.calls.push('connect');
    if (this.#closed) throw new SinkClosedError();
    this.#connected = true;
  }

  async write(batch: readonly SinkRecord[]): Promise<WriteResult> {
    this.calls.push('write');
    if (this.#closed) throw new SinkClosedError();
    if (!this.#connected) throw new NotConnectedError('The in-memory sink is not connected.');
    const injected = this.#failNext.shift();
    if (injected) throw injected;
    this.batches.push(batch);
    return batch.map(({ event }): WriteOutcome => {
      const reason = this.target.reject(event);
      if (reason !== undefined) return failed(new PermanentEventError(reason));
      try {
        applyEvent(this.target.tables, event);
        return APPLIED;
      } catch (error) {
        return failed(error as Error);
      }
    });
  }

  async flush(): Promise<void> {
    this.calls.push('flush');
    if (this.#closed) throw new SinkClosedError();
  }

  async close(): Promise<void> {
    if (!this.#closed) this.calls.push('close');
    this.#closed = true;
    this.#connected = false;
  }
}

/** A `memory` sink plugin and the instances it created (newest last), sharing one target. */
export interface MemorySinkPlugin {
  readonly definition: SinkDefinition<Record<string, string>, unknown, {}>;
  readonly target: MemoryTarget;
  readonly instances: readonly MemorySink[];
}

/**
 * A sink plugin (default name `memory`) whose instances are {@link MemorySink}s writing to one
 * shared {@link MemoryTarget}: register it in a registry to run a whole pipeline in memory.
 */
export function createMemorySinkPlugin(
  name = 'memory',
  target: MemoryTarget = new MemoryTarget(),
): MemorySinkPlugin {
  const instances: MemorySink[] = [];
  const definition = defineSink({
    name,
    description: 'Keeps rows in memory (tests).',
    coalescing: true,
    create: () => {
      const sink = new MemorySink(target);
      instances.push(sink);
      return sink;
    },
  });
  return { definition, target, instances };
}
