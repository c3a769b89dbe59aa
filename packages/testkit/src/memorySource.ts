import {
  defineSource,
  type SourceDefinition,
  type SourceHandler,
  type SourceInstance,
  type SourceMessage,
  type SourceRunOptions,
} from '@sluice/plugin-api';

/**
 * An in-memory source: partitions of messages you push, delivered in order, with the commits
 * recorded. `run` with `once` delivers what is there and returns; without it, it waits for
 * pushes until the signal aborts. Offsets are 1-based positions in the partition.
 */
export class MemorySource implements SourceInstance {
  readonly #partitions = new Map<string, SourceMessage[]>();
  readonly #delivered = new Map<string, number>();
  #wake: (() => void) | undefined;
  /** Maximum messages per delivered batch. */
  readonly batchSize: number;
  /** Committed next offsets by partition (the last value the core committed). */
  readonly committed = new Map<string, string>();
  /** Every commit call, in order. */
  readonly commits: { partition: string; nextOffset: string }[] = [];
  /** True once `close` was called. */
  closed = false;

  constructor(
    partitions: Readonly<Record<string, readonly (string | Uint8Array)[]>> = {},
    options: { batchSize?: number } = {},
  ) {
    this.batchSize = options.batchSize ?? 100;
    for (const [partition, payloads] of Object.entries(partitions))
      this.push(partition, ...payloads);
  }

  /** Appends messages to a partition (created on first use); a running `run` delivers them. */
  push(partition: string, ...payloads: readonly (string | Uint8Array)[]): void {
    let list = this.#partitions.get(partition);
    if (!list) this.#partitions.set(partition, (list = []));
    for (const payload of payloads) list.push({ offset: String(list.length + 1), payload });
    this.#wake?.();
  }

  /**
   * Makes the next `run` start again from the committed offsets (or the beginning), like a
   * restart after a crash.
   */
  rewindToCommitted(): void {
    this.#delivered.clear();
    for (const [partition, next] of this.committed)
      this.#delivered.set(partition, Number(next) - 1);
  }

  async connect(): Promise<void> {}

  async run(handler: SourceHandler, options: SourceRunOptions): Promise<void> {
    await handler.assigned?.([...this.#partitions.keys()]);
    for (;;) {
      let delivered = false;
      for (const [partition, messages] of this.#partitions) {
        for (;;) {
          if (options.signal.aborted) return;
          const from =
            this.#delivered.get(partition) ?? Number(this.committed.get(partition) ?? '1') - 1;
          if (from >= messages.length) break;
          const batch = messages.slice(from, from + this.batchSize);
          this.#delivered.set(partition, from + batch.length);
          await handler.deliver({ partition, messages: batch });
          delivered = true;
        }
      }
      if (options.once || options.signal.aborted) return;
      if (!delivered) {
        await new Promise<void>((resolve) => {
          this.#wake = resolve;
          options.signal.addEventListener('abort', () => resolve(), { once: true });
        });
        this.#wake = undefined;
      }
    }
  }

  async commit(partition: string, nextOffset: string): Promise<void> {
    this.committed.set(partition, nextOffset);
    this.commits.push({ partition, nextOffset });
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
