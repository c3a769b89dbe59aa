/**
 * Keeps a full sync (ETL) that runs while the stream applies from leaving a stale row.
 *
 * The race: the ETL reads row K from the source at t1 and writes it at t2. If the stream applies a
 * newer change of K between t1 and t2 and no later change of K follows, the ETL's write would
 * leave K older than the source for good.
 *
 * The rule, inside one sink instance (the admin API's ETL and the stream share it):
 * - While an ETL runs, every stream write records the target keys it touches, before it runs.
 * - An ETL batch holds the gate from "drop the keys the stream touched" until its COMMIT; stream
 *   writes that arrive meanwhile wait for that commit (one short transaction), then record their
 *   keys and run after it.
 *
 * So for every key either the stream touched it after the ETL started (the ETL leaves it to the
 * stream, whose events carry full row images and keep coming in source order) or the ETL's write
 * commits before any later stream write of that key (which then wins). Stream events older than
 * the ETL's read that land after it are followed by every later event of the key, so the row
 * converges on the source's state. Outside an ETL the gate costs one branch per write.
 *
 * `sluice etl` started from the command line runs in its own process and cannot see the stream's
 * writes: the README says how to run it safely (stop the stream's destination, or re-consume from
 * before the ETL's start).
 */
import type { Operation } from './plan.js';

type Plans = readonly (
  { readonly ok: true; readonly ops: readonly Operation[] } | { readonly ok: false }
)[];

/** See the module comment. */
export class EtlGate {
  #runs = 0;
  readonly #touched = new Set<string>();
  #etlBatch: Promise<void> | undefined;

  /** Called by a stream write with its planned records; resolves with a release function. */
  async streamWrite(plans: Plans): Promise<() => void> {
    if (this.#runs === 0) return noop;
    while (this.#etlBatch) await this.#etlBatch;
    if (this.#runs > 0)
      for (const p of plans) if (p.ok) for (const op of p.ops) this.#touched.add(idOf(op));
    return noop;
  }

  /** Marks the start of an ETL run; returns the function that ends it. */
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
   * Runs one ETL batch: `write` receives the operations the stream has not touched and must
   * commit before it resolves. Stream writes wait meanwhile.
   */
  async etlBatch<T>(
    ops: readonly Operation[],
    write: (ops: Operation[]) => Promise<T>,
  ): Promise<T> {
    while (this.#etlBatch) await this.#etlBatch;
    let done!: () => void;
    this.#etlBatch = new Promise<void>((resolve) => (done = resolve));
    try {
      return await write(ops.filter((op) => !this.#touched.has(idOf(op))));
    } finally {
      this.#etlBatch = undefined;
      done();
    }
  }
}

function idOf(op: Operation): string {
  return `${op.table}\u0001${op.key.looseId}`;
}

function noop(): void {}
