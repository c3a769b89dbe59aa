import {
  classifyError,
  isSluiceError,
  type FatalError,
  type Logger,
  type SinkRecord,
  type SluiceError,
  type WriteResult,
} from '@sluice/plugin-api';
import { coreErrors, messageOf } from '../errors.js';
import { coalesce, recordOf, type CoalesceItem, type CoalescedWrite } from './coalesce.js';
import type { SinkHandle } from './connection.js';
import { maxAttempts, retry, retryAfter, type RetryDecision } from './retry.js';
import type { PipelineSettings } from './settings.js';

/** What a batch writer reports for the items it was given. */
export interface BatchWriterHooks<T> {
  /** These items were applied (or cancelled out by coalescing). */
  applied(items: readonly T[]): void;
  /**
   * These items go to the dead-letter queue. Resolves true once written (the caller then
   * completes them), false when the write was abandoned (signal aborted): never completes them.
   */
  deadLetter(
    items: readonly T[],
    reason: string,
    attempts: number,
    signal: AbortSignal,
  ): Promise<boolean>;
  /** Nothing can go on: stop the pipeline without committing unfinished work. */
  fail(error: FatalError | SluiceError): void;
  /** One `write` call finished (for the batch latency histogram). */
  observeWrite(seconds: number, records: number): void;
  /** A write failed transiently and will be retried after a backoff. */
  observeRetry?(): void;
}

/** Tuning a batch writer uses. */
export type BatchWriterSettings = Pick<
  PipelineSettings,
  'retries' | 'terminateOnException' | 'retryBaseMs' | 'retryMaxMs'
>;

/** Options of a {@link BatchWriter}. */
export interface BatchWriterOptions<T> {
  readonly sink: SinkHandle;
  readonly settings: BatchWriterSettings;
  /** Coalesce per key within a batch (the sink declared it safe). */
  readonly coalescing: boolean;
  /** Aborted when the work must be abandoned (fatal error, shutdown deadline, revocation). */
  readonly signal: AbortSignal;
  readonly hooks: BatchWriterHooks<T>;
  readonly logger: Logger;
}

/** A `write` that returned the wrong number of outcomes: retried like a transient failure. */
class WriteResultMismatch extends Error {}

/**
 * The records of one `write` call and the items whose outcome each decides: without coalescing,
 * record `i` is item `i`'s; with coalescing, `groups[i]`
 * holds the items merged into record `i`.
 */
interface WriteSet<T> {
  readonly records: readonly SinkRecord[];
  readonly items: readonly T[] | undefined;
  readonly groups: readonly (readonly T[])[] | undefined;
}

function plainSet<T extends CoalesceItem>(items: readonly T[]): WriteSet<T> {
  const records = new Array<SinkRecord>(items.length);
  for (let i = 0; i < items.length; i++) records[i] = recordOf(items[i]!);
  return { records, items, groups: undefined };
}

function groupedSet<T extends CoalesceItem>(writes: readonly CoalescedWrite<T>[]): WriteSet<T> {
  return {
    records: writes.map((w) => w.record),
    items: undefined,
    groups: writes.map((w) => w.members),
  };
}

/** Appends the items of record `i` to `out`. */
function addMembers<T>(set: WriteSet<T>, i: number, out: T[]): void {
  if (set.items) out.push(set.items[i]!);
  else for (const item of set.groups![i]!) out.push(item);
}

/** Every item of the set, in order. */
function allMembers<T>(set: WriteSet<T>): T[] {
  return set.items ? [...set.items] : set.groups!.flat();
}

function sliceSet<T>(set: WriteSet<T>, start: number, end?: number): WriteSet<T> {
  return {
    records: set.records.slice(start, end),
    items: set.items?.slice(start, end),
    groups: set.groups?.slice(start, end),
  };
}

/**
 * Writes the batches of one sink instance with canal's failure policy (DESIGN.md §3
 * "Failures"), through the core's one {@link retry} loop:
 *
 * - retryable (and unknown) errors: backoff with jitter (at least a `RetryableError`'s `waitMs`),
 *   at most canal's `retries` attempts (-1 = forever);
 * - `NotConnectedError`: reconnect through the {@link SinkHandle}, then retry, for as long as the
 *   outage lasts (these attempts do not count toward `retries`);
 * - `PermanentEventError` thrown for the whole batch: no retry; the batch is split in halves
 *   written one after the other (per-key order holds: the batch held its keys exclusively), down
 *   to the one record that goes to the dead-letter queue;
 * - per-record `failed` outcomes: those records go to the dead-letter queue, the rest is applied;
 * - a result of the wrong length (a plugin contract violation): retried, then a fatal
 *   `SLUICE_ERR_PIPELINE_STOPPED`;
 * - fatal errors stop the pipeline; after the last attempt the batch is dead-lettered, or with
 *   `terminateOnException` the pipeline stops without committing it.
 *
 * Every item given to {@link write} ends reported exactly once (applied or dead-lettered), unless
 * the signal aborts or the pipeline fails, in which case the rest is abandoned (never committed).
 * One `write` at a time per lane; several lanes share one writer.
 */
export class BatchWriter<T extends CoalesceItem> {
  readonly #o: BatchWriterOptions<T>;
  readonly #limit: number;

  constructor(options: BatchWriterOptions<T>) {
    this.#o = options;
    this.#limit = maxAttempts(options.settings.retries);
  }

  /** Writes one batch (coalesced when enabled); resolves once every item was reported or abandoned. */
  async write(batch: readonly T[]): Promise<void> {
    if (batch.length === 0) return;
    if (!this.#o.coalescing) {
      await this.#write(plainSet(batch));
      return;
    }
    await this.#write(groupedSet(coalesce(batch)));
  }

  async #write(live: WriteSet<T>): Promise<void> {
    const { hooks, signal, sink, logger } = this.#o;
    const s = this.#o.settings;
    const records = live.records;
    let reconnectFailed = false;
    const outcome = await retry(
      async (_, sig): Promise<WriteResult> => {
        const started = performance.now();
        const result = await sink.instance.write(records, sig);
        if (result.length !== records.length) {
          throw new WriteResultMismatch(
            `returned ${result.length} outcomes for a batch of ${records.length} records`,
          );
        }
        hooks.observeWrite((performance.now() - started) / 1000, records.length);
        return result;
      },
      {
        signal,
        backoff: { baseMs: s.retryBaseMs, maxMs: s.retryMaxMs },
        maxAttempts: this.#limit,
        classify: classifyWriteFailure,
        onRetry: (error, attempt) => {
          hooks.observeRetry?.();
          logger.warn(`Sink "${sink.key}" write failed; retrying.`, {
            attempt,
            records: records.length,
            error: messageOf(error),
          });
        },
        beforeRetry: async (error) => {
          if (classifyError(error) !== 'notConnected') return;
          sink.lost();
          try {
            await sink.connect(signal);
          } catch (e) {
            // Ends the loop as 'stopped' with this error (retry's beforeRetry contract).
            reconnectFailed = true;
            throw e;
          }
        },
      },
    );
    if (outcome.ok) {
      await this.#report(live, outcome.value, outcome.attempts);
      return;
    }
    const { error, attempts } = outcome;
    if (outcome.reason === 'aborted') return;
    if (outcome.reason === 'stopped') {
      if (reconnectFailed) {
        hooks.fail(asFatal(error, () => coreErrors.sinkConnect(sink.key, attempts, error)));
        return;
      }
      if (classifyError(error) === 'permanent') {
        await this.#split(live, messageOf(error), attempts);
        return;
      }
      hooks.fail(coreErrors.sinkFailed(sink.key, error));
      return;
    }
    // exhausted
    if (error instanceof WriteResultMismatch) {
      hooks.fail(coreErrors.sinkContract(sink.key, error.message, attempts));
    } else if (s.terminateOnException) {
      hooks.fail(coreErrors.sinkTerminated(sink.key, attempts, error));
    } else {
      logger.error(
        `Sink "${sink.key}" failed after ${attempts} attempt(s); the batch goes to the dead-letter queue.`,
        { records: records.length, error: messageOf(error) },
      );
      await hooks.deadLetter(
        allMembers(live),
        `write failed after ${attempts} attempt(s): ${messageOf(error)}`,
        attempts,
        signal,
      );
    }
  }

  /** A batch rejected as a whole: halves, down to the record that goes to the dead-letter queue. */
  async #split(live: WriteSet<T>, message: string, attempts: number): Promise<void> {
    const { hooks, signal, sink, logger } = this.#o;
    const n = live.records.length;
    if (n === 1) {
      await hooks.deadLetter(allMembers(live), message, attempts, signal);
      return;
    }
    logger.warn(
      `Sink "${sink.key}" rejected a batch as a whole; splitting it to find the record.`,
      {
        records: n,
        error: message,
      },
    );
    const mid = Math.ceil(n / 2);
    await this.#write(sliceSet(live, 0, mid));
    if (signal.aborted) return;
    await this.#write(sliceSet(live, mid));
  }

  /** Reports per-record outcomes: applied ones at once, failed ones to the dead-letter queue. */
  async #report(live: WriteSet<T>, result: WriteResult, attempts: number): Promise<void> {
    const { hooks, signal } = this.#o;
    if (live.items !== undefined && everyApplied(result)) {
      // The common case: one record per item, all applied; no second array of the items.
      hooks.applied(live.items);
      return;
    }
    let ok: T[] | undefined;
    let rejected: Map<string, T[]> | undefined;
    for (let i = 0; i < result.length; i++) {
      const outcome = result[i]!;
      if (outcome.status === 'applied') addMembers(live, i, (ok ??= []));
      else {
        const reason = outcome.error?.message ?? 'rejected by the sink';
        rejected ??= new Map();
        let list = rejected.get(reason);
        if (!list) rejected.set(reason, (list = []));
        addMembers(live, i, list);
      }
    }
    if (ok) hooks.applied(ok);
    if (rejected) {
      for (const [reason, items] of rejected) {
        if (!(await hooks.deadLetter(items, reason, attempts, signal))) return;
      }
    }
  }
}

/**
 * True when every outcome is `applied`. Indexed, not `every`: `every` skips the holes of a sparse
 * result (a plugin bug), which must fail below as the loop over each outcome does, not count as
 * applied.
 */
function everyApplied(result: WriteResult): boolean {
  for (let i = 0; i < result.length; i++) if (result[i]?.status !== 'applied') return false;
  return true;
}

/** Fatal and permanent failures stop the retry loop; everything else is retried. */
function classifyWriteFailure(error: unknown): RetryDecision {
  if (error instanceof WriteResultMismatch) return { retry: true };
  const kind = classifyError(error);
  if (kind === 'fatal' || kind === 'permanent') return { retry: false };
  // A target that is down is an outage, not a bad batch: wait for the reconnect (the sink
  // handle retries it until it succeeds) and write again, without using up canal's `retries`,
  // so an outage never sends good data to the dead-letter queue. The same for a busy target
  // (lock contention, back-pressure: a RetryableError with countsAsAttempt false).
  return retryAfter(error, kind === 'notConnected' || countsNoAttempt(error));
}

/** A RetryableError that says it does not use up an attempt (duck-typed: plugins may bundle their own plugin-api). */
function countsNoAttempt(error: unknown): boolean {
  return (
    typeof error === 'object' &&
    error !== null &&
    (error as { countsAsAttempt?: unknown }).countsAsAttempt === false
  );
}

function asFatal(error: unknown, wrap: () => SluiceError): SluiceError {
  return isSluiceError(error) && classifyError(error) === 'fatal' ? error : wrap();
}
