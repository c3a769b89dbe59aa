import {
  defineSource,
  type SourceDefinition,
  type SourceHandler,
  type SourceInstance,
  type SourceMessage,
  type SourceRunOptions,
} from '@sluice/plugin-api';

/** Options of {@link MemorySource}. */
export interface MemorySourceOptions {
  /** Maximum messages per delivered batch. Default 100. */
  readonly batchSize?: number;
  /** Offset of each partition's first message; the next ones count up by 1. Default 1. */
  readonly firstOffset?: number | bigint;
}

/** The stream and commits that instances of one "consumer group" share (see `restarted`). */
class MemoryStream {
  readonly partitions = new Map<string, SourceMessage[]>();
  readonly committed = new Map<string, string>();
  readonly commits: { partition: string; nextOffset: string }[] = [];
  readonly wakers = new Set<() => void>();
  constructor(
    readonly batchSize: number,
    readonly firstOffset: bigint,
  ) {}
}

/**
 * An in-memory source: partitions of messages you push, delivered in order, with the commits
 * recorded; the reference implementation the source contract suite is checked against.
 *
 * `run` with `once` delivers what is there at the start and returns; without it, it follows
 * pushes (new partitions are `assigned` as they appear) until the signal aborts. Partitions are
 * delivered concurrently, each one batch at a time. A new instance made by {@link MemorySource.restarted}
 * reads the same stream and resumes each partition from its committed offset, like a process
 * restart. Offsets are `firstOffset` + position, as decimal strings.
 */
export class MemorySource implements SourceInstance {
  #stream: MemoryStream;
  /** Index of the next message to deliver per partition, once delivery started. */
  readonly #position = new Map<string, bigint>();
  /**
   * Called before each delivery with the partition and the batch's number in it (from 0): lets a
   * test pause a partition (return a promise) or inspect the state between batches.
   */
  beforeDeliver: ((partition: string, batchNo: number) => Promise<void> | void) | undefined;
  /** Resolved deliveries per partition (counted when `deliver` resolved). */
  readonly delivered = new Map<string, number>();
  /** When set, `commit` rejects with it (a broken offset store). */
  commitError: Error | undefined;
  /** True once `close` was called. */
  closed = false;

  constructor(
    partitions: Readonly<Record<string, readonly (string | Uint8Array)[]>> = {},
    options: MemorySourceOptions = {},
  ) {
    this.#stream = new MemoryStream(options.batchSize ?? 100, BigInt(options.firstOffset ?? 1));
    for (const [partition, payloads] of Object.entries(partitions))
      this.push(partition, ...payloads);
  }

  /** Maximum messages per delivered batch. */
  get batchSize(): number {
    return this.#stream.batchSize;
  }

  /** Committed next offsets by partition (the last value the core committed; shared with restarts). */
  get committed(): Map<string, string> {
    return this.#stream.committed;
  }

  /** Every commit call that succeeded, in order (shared with restarts). */
  get commits(): readonly { partition: string; nextOffset: string }[] {
    return this.#stream.commits;
  }

  /** Appends messages to a partition (created on first use); a running `run` delivers them. */
  push(partition: string, ...payloads: readonly (string | Uint8Array)[]): void {
    let list = this.#stream.partitions.get(partition);
    if (!list) this.#stream.partitions.set(partition, (list = []));
    for (const payload of payloads) {
      const offset = (this.#stream.firstOffset + BigInt(list.length)).toString();
      list.push({ offset, payload });
    }
    for (const wake of [...this.#stream.wakers]) wake();
  }

  /**
   * A new instance on the same stream and commits, as after a restart: its `run` resumes every
   * partition from the committed offset (or the beginning).
   */
  restarted(): MemorySource {
    const next = new MemorySource();
    next.#stream = this.#stream;
    return next;
  }

  /**
   * Makes the next `run` of this instance start again from the committed offsets (or the
   * beginning). Prefer {@link MemorySource.restarted}, which models a restart as a new instance.
   */
  rewindToCommitted(): void {
    this.#position.clear();
  }

  async connect(): Promise<void> {}

  async run(handler: SourceHandler, options: SourceRunOptions): Promise<void> {
    const { signal } = options;
    const loops: Promise<void>[] = [];
    let failure: { error: unknown } | undefined;
    const started = new Set<string>();
    const startNew = async () => {
      const fresh = [...this.#stream.partitions.keys()].filter((p) => !started.has(p));
      if (fresh.length === 0) return;
      for (const p of fresh) started.add(p);
      await handler.assigned?.(fresh);
      for (const p of fresh) {
        loops.push(
          this.#partitionLoop(p, handler, options).catch((error: unknown) => {
            failure ??= { error };
            for (const wake of [...this.#stream.wakers]) wake();
          }),
        );
      }
    };
    await startNew();
    if (!options.once) {
      while (!signal.aborted && !failure) {
        await this.#idle(signal);
        if (!failure && !signal.aborted) await startNew();
      }
    }
    await Promise.all(loops);
    if (failure) throw failure.error;
  }

  async #partitionLoop(
    partition: string,
    handler: SourceHandler,
    { once, signal }: SourceRunOptions,
  ): Promise<void> {
    const messages = this.#stream.partitions.get(partition)!;
    const end = once ? messages.length : Infinity; // `once`: what was there at the start
    for (let batchNo = 0; ;) {
      if (signal.aborted) return;
      let from = this.#position.get(partition);
      if (from === undefined) {
        const next = this.#stream.committed.get(partition);
        from = next === undefined ? 0n : BigInt(next) - this.#stream.firstOffset;
        if (from < 0n) from = 0n;
      }
      const stop = Math.min(end, messages.length);
      if (from >= BigInt(stop)) {
        if (once) return;
        await this.#idle(signal);
        continue;
      }
      const batch = messages.slice(Number(from), Math.min(Number(from) + this.batchSize, stop));
      await this.beforeDeliver?.(partition, batchNo++);
      if (signal.aborted) return;
      this.#position.set(partition, from + BigInt(batch.length));
      await handler.deliver({ partition, messages: batch });
      this.delivered.set(partition, (this.delivered.get(partition) ?? 0) + 1);
    }
  }

  /** Waits for a push or the abort; leaves no listener behind. */
  #idle(signal: AbortSignal): Promise<void> {
    if (signal.aborted) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const done = () => {
        this.#stream.wakers.delete(done);
        signal.removeEventListener('abort', done);
        resolve();
      };
      this.#stream.wakers.add(done);
      signal.addEventListener('abort', done, { once: true });
    });
  }

  /**
   * Records the commit. Rejects with `commitError` when set, and with an Error when the offset
   * does not increase (the core must commit increasing offsets per partition).
   */
  async commit(partition: string, nextOffset: string): Promise<void> {
    if (this.commitError) throw this.commitError;
    const previous = this.#stream.committed.get(partition);
    if (previous !== undefined && BigInt(nextOffset) <= BigInt(previous))
      throw new Error(`commit went backwards: ${previous} → ${nextOffset}`);
    this.#stream.committed.set(partition, nextOffset);
    this.#stream.commits.push({ partition, nextOffset });
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

/** A source plugin (default name `memory`) that hands out the given {@link MemorySource}. */
export function createMemorySourcePlugin(
  source: MemorySource,
  name = 'memory',
): SourceDefinition<{}> {
  return defineSource({
    name,
    description: 'Delivers messages pushed in memory (tests).',
    create: () => source,
  });
}
