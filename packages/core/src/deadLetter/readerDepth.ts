import type { DeadLetterReader } from './queue.js';

/** How long one count may take before it is abandoned (the last count stays), ms. */
const COUNT_TIMEOUT_MS = 10_000;

/**
 * The dead-letter depth of a transport whose reader can count cheaply
 * ({@link DeadLetterReader.depth}; Kafka: end offsets minus the replay group's committed
 * offsets). {@link refresh} asks every destination's reader; a failed or slow count keeps the
 * last one (undefined before the first success), so an unreachable broker never blocks a scrape.
 *
 * Concurrency: refreshes are serialised; a refresh during one joins it.
 */
export class ReaderDeadLetterDepth {
  readonly #readers: ReadonlyMap<string, DeadLetterReader>;
  readonly #depths = new Map<string, number>();
  #running: Promise<void> | undefined;
  #countedAt = 0;

  /** @param readers destination → its reader (which has `depth`). */
  constructor(readers: ReadonlyMap<string, DeadLetterReader>) {
    this.#readers = readers;
  }

  /** The last count per destination (absent before the first success). No I/O. */
  current(): ReadonlyMap<string, number> {
    return new Map(this.#depths);
  }

  /** When the last refresh ended (ms since the epoch; 0 before the first). */
  get countedAt(): number {
    return this.#countedAt;
  }

  /** Counts again; never rejects. */
  refresh(): Promise<void> {
    this.#running ??= this.#refresh().finally(() => {
      this.#countedAt = Date.now();
      this.#running = undefined;
    });
    return this.#running;
  }

  /** Closes the readers. */
  async close(signal: AbortSignal): Promise<void> {
    await Promise.all([...this.#readers.values()].map((r) => r.close(signal).catch(() => {})));
  }

  async #refresh(): Promise<void> {
    await Promise.all(
      [...this.#readers].map(async ([destination, reader]) => {
        try {
          const n = await reader.depth!(AbortSignal.timeout(COUNT_TIMEOUT_MS));
          this.#depths.set(destination, n);
        } catch {
          // Unreachable for now: the last count stays (the source logs the outage itself).
        }
      }),
    );
  }
}
