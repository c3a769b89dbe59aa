/**
 * Keeps a full sync (ETL) that runs while the stream applies from leaving a stale document — the
 * Elasticsearch counterpart of the rdb sink's gate (`plugins/sink-rdb/src/etlGate.ts`, which
 * gives the full reasoning).
 *
 * The race: the ETL reads row K from the source at t1 and indexes its document at t2. If the
 * stream writes a newer version of K's document between t1 and t2 and no later change of K
 * follows, the ETL's write would leave the document older than the source for good (ETL writes
 * carry no external version: they come from a source read, not from an event position).
 *
 * The rule, inside one sink instance (the admin API's ETL and the stream share it):
 * - While an ETL runs, every stream write records the documents (`index` + `_id`) it touches,
 *   before its `_bulk` is sent.
 * - An ETL `_bulk` holds the gate from "drop the documents the stream touched" until its answer;
 *   stream writes that arrive meanwhile wait for it (one bulk request), then record and run.
 *
 * So for every document either the stream touched it after the ETL started (the ETL leaves it
 * to the stream, whose events keep coming in source order) or the ETL's write lands before any
 * later stream write of it (which then wins). Outside an ETL the gate costs one branch per write.
 *
 * Concurrency: safe for concurrent `streamWrite` calls and one ETL at a time per document set;
 * several ETLs may run, their bulks take turns.
 */
export class EtlGate {
  #runs = 0;
  readonly #touched = new Set<string>();
  #etlBulk: Promise<void> | undefined;

  /** Whether an ETL is running (stream writes then call {@link streamWrite}). */
  get active(): boolean {
    return this.#runs > 0;
  }

  /** Called by a stream write with the documents it is about to write (see {@link docKey}). */
  async streamWrite(keys: Iterable<string>): Promise<void> {
    if (this.#runs === 0) return;
    while (this.#etlBulk) await this.#etlBulk;
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
   * Runs one ETL bulk: `write` receives the items whose document the stream has not touched and
   * must resolve once Elasticsearch answered. Stream writes wait meanwhile.
   */
  async etlBulk<T, R>(
    items: readonly T[],
    keyOf: (item: T) => string,
    write: (kept: T[]) => Promise<R>,
  ): Promise<R> {
    while (this.#etlBulk) await this.#etlBulk;
    let done!: () => void;
    this.#etlBulk = new Promise<void>((resolve) => (done = resolve));
    try {
      return await write(items.filter((i) => !this.#touched.has(keyOf(i))));
    } finally {
      this.#etlBulk = undefined;
      done();
    }
  }
}

/** The gate's key of a document. */
export const docKey = (index: string, id: string): string => `${index}\u0000${id}`;
