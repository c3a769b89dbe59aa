/**
 * Keeps a full sync (ETL) that runs while the stream applies from leaving a stale target row or
 * document. For sinks that implement `SinkInstance.etl` and let it run beside `write`
 * (the admin API's `POST /etl/…` does); the rdb and es sinks use it.
 *
 * The race: the ETL reads row K from the source at t1 and writes it at t2. If the stream applies
 * a newer change of K between t1 and t2 and no later change of K follows, the ETL's write would
 * leave K older than the source for good (an ETL write carries no event position to compare).
 *
 * The rule, inside one sink instance (the ETL and the stream share one gate):
 * - While an ETL runs, every stream write records the target keys it touches
 *   ({@link EtlStreamGate.streamWrite}) before it runs.
 * - An ETL write ({@link EtlStreamGate.etlWrite}) holds the gate from "drop the keys the stream
 *   touched" until the target confirmed it (a COMMIT, a `_bulk` answer); stream writes that arrive
 *   meanwhile wait for it, then record their keys and run after it.
 *
 * So for every key either the stream touched it after the ETL started (the ETL leaves it to the
 * stream, whose events keep coming in source order) or the ETL's write lands before any later
 * stream write of that key (which then wins). Outside an ETL the gate costs one branch per write
 * (check {@link EtlStreamGate.active} before building keys).
 *
 * A key is any string naming one target row or document (e.g. table + primary key, index + `_id`);
 * the stream and the ETL must build it the same way. A process that is not the one running the
 * stream (`sluice etl` without `--remote`) cannot use this gate.
 *
 * Concurrency: safe for concurrent `streamWrite` calls and any number of ETL runs; their writes
 * take turns.
 */
export class EtlStreamGate {
  #runs = 0;
  readonly #touched = new Set<string>();
  #etlWrite: Promise<void> | undefined;

  /** Whether an ETL is running (stream writes then call {@link EtlStreamGate.streamWrite}). */
  get active(): boolean {
    return this.#runs > 0;
  }

  /**
   * Called by a stream write with the keys it is about to write, before it writes them. Waits
   * while an ETL write is in progress; resolves at once when no ETL runs.
   */
  async streamWrite(keys: Iterable<string>): Promise<void> {
    if (this.#runs === 0) return;
    while (this.#etlWrite) await this.#etlWrite;
    if (this.#runs > 0) for (const k of keys) this.#touched.add(k);
  }

  /** Marks the start of an ETL run; returns the function that ends it (idempotent). */
  beginEtl(): () => void {
    this.#runs += 1;
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      this.#runs -= 1;
      if (this.#runs === 0) this.#touched.clear();
    };
  }

  /**
   * Runs one ETL write: `write` receives the items whose key the stream has not touched since
   * the ETL began and must resolve once the target confirmed them. Stream writes wait meanwhile.
   */
  async etlWrite<T, R>(
    items: readonly T[],
    keyOf: (item: T) => string,
    write: (kept: T[]) => Promise<R>,
  ): Promise<R> {
    while (this.#etlWrite) await this.#etlWrite;
    let done!: () => void;
    this.#etlWrite = new Promise<void>((resolve) => (done = resolve));
    try {
      return await write(items.filter((i) => !this.#touched.has(keyOf(i))));
    } finally {
      this.#etlWrite = undefined;
      done();
    }
  }
}
