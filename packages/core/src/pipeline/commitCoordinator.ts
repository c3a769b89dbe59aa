import type { Logger, SinkInstance } from '@sluice/plugin-api';
import { messageOf } from '../errors.js';

/** A sink instance as the {@link SinkFlusher} sees it. */
export interface FlushTarget {
  /** The instance key (`outerAdapters[].key`), for log lines. */
  readonly key: string;
  readonly instance: Pick<SinkInstance, 'flush'>;
}

/** Options of a {@link SinkFlusher}. */
export interface SinkFlusherOptions {
  /** Flushed one after the other, in this order. */
  readonly sinks: readonly FlushTarget[];
  readonly logger: Logger;
  /**
   * The signal of one flush, asked for when that flush starts (the engine gives the shutdown
   * deadline while stopping, otherwise a bound of its own that also aborts on a fatal stop).
   */
  readonly signal: () => AbortSignal;
}

/**
 * Flushes every sink of a pipeline before an offset commit (DESIGN.md §1.5: nothing is committed
 * before it is durable in the sinks). Concurrent callers share flushes: a caller gets a flush that
 * *starts after its call*, so everything whose `write` resolved before the call is durable when it
 * resolves true; a caller arriving while a flush runs waits for the next one (shared with every
 * caller that arrived meanwhile), never one that may have started before its records.
 */
export class SinkFlusher {
  readonly #o: SinkFlusherOptions;
  #running: Promise<boolean> | undefined;
  #next: Promise<boolean> | undefined;

  constructor(options: SinkFlusherOptions) {
    this.#o = options;
  }

  /**
   * Resolves true once every sink flushed; false when one failed to (logged at ERROR; the caller
   * must then not commit). Never rejects.
   */
  flush(): Promise<boolean> {
    if (this.#running === undefined) {
      this.#running = this.#flushOnce().finally(() => (this.#running = undefined));
      return this.#running;
    }
    // The running flush may have started before records the caller counts on: wait for the next.
    this.#next ??= this.#running.then(() => {
      this.#next = undefined;
      return this.flush();
    });
    return this.#next;
  }

  async #flushOnce(): Promise<boolean> {
    let ok = true;
    const signal = this.#o.signal();
    for (const sink of this.#o.sinks) {
      try {
        await sink.instance.flush(signal);
      } catch (error) {
        ok = false;
        this.#o.logger.error(
          `Sink "${sink.key}" failed to flush; offsets are not committed past its writes.`,
          { error: messageOf(error) },
        );
      }
    }
    return ok;
  }
}

/** Options of a {@link CommitCoordinator}. */
export interface CommitCoordinatorOptions {
  /** The partition whose offsets are committed. */
  readonly partition: string;
  /** The low watermark: the offset after the longest finished prefix ({@link AckTracker.committable}). */
  readonly committable: () => bigint | undefined;
  /**
   * Least time between two commits, ms (`sluice.pipeline.commitIntervalMs`); 0 commits at every
   * advance.
   */
  readonly commitIntervalMs: number;
  /** Makes everything written so far durable; false: do not commit (retried with the next). */
  readonly flush: () => Promise<boolean>;
  /** The source's commit (`SourceInstance.commit`): `offset` is the next offset to read. */
  readonly commit: (partition: string, offset: string) => Promise<void>;
  readonly logger: Logger;
  /**
   * Aborted when the partition is abandoned or revoked: advances and requests then no longer
   * schedule commits ({@link commitNow} still commits the watermark, which only holds finished
   * messages).
   */
  readonly signal: AbortSignal;
}

/**
 * The offset commits of one partition (DESIGN.md §1.5). The watermark comes from the partition's
 * ack tracker; a commit happens at most every `commitIntervalMs` after the watermark moved, at
 * once when the source asked ({@link request}), and on {@link commitNow} (revocation, shutdown).
 * Commits are serialised (one at a time, in order), each preceded by a sink flush that started
 * after the watermark was read, and never go backwards. A failed flush or commit is retried with
 * the next one, or after the interval (at least 1 s) when no advance comes first (a failed
 * commit is logged at WARN: the offsets are replayed after a restart, which per-key idempotent
 * sinks absorb).
 *
 * Not thread-safe by design: called from the one event loop of the engine.
 */
export class CommitCoordinator {
  readonly #o: CommitCoordinatorOptions;
  #committed: bigint | undefined;
  #timer: NodeJS.Timeout | undefined;
  #requested = false;
  #chain: Promise<void> = Promise.resolve();

  constructor(options: CommitCoordinatorOptions) {
    this.#o = options;
  }

  /** The last offset committed (the next offset to read), if any. */
  get committed(): bigint | undefined {
    return this.#committed;
  }

  /**
   * The watermark moved (the ack tracker's `onAdvance`): commits now when the interval is 0 or the
   * source asked for it, otherwise once the interval passed (one timer at a time).
   */
  advanced(): void {
    if (this.#o.signal.aborted) return;
    if (this.#o.commitIntervalMs === 0 || this.#requested) {
      this.#requested = false;
      this.stop();
      void this.commitNow();
      return;
    }
    this.#timer ??= setTimeout(() => {
      this.#timer = undefined;
      void this.commitNow();
    }, this.#o.commitIntervalMs).unref();
  }

  /**
   * The source asks for a commit as soon as possible ({@link SourceHandler.requestCommit}): now
   * when the watermark is past the last commit, else at the next advance (not after the interval).
   */
  request(): void {
    // On an aborted partition `advanced` schedules nothing, and the remembered request is unused.
    this.#requested = true;
    const next = this.#o.committable();
    if (next !== undefined && (this.#committed === undefined || next > this.#committed))
      this.advanced();
  }

  /** Cancels a pending interval commit (the partition is abandoned or about to commit for good). */
  stop(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /**
   * Commits the watermark if it moved past the last commit, after a flush of every sink that
   * started once the watermark was read. Serialised: resolves when this commit (and those before
   * it) finished. Never rejects.
   */
  commitNow(): Promise<void> {
    this.#chain = this.#chain.then(async () => {
      const next = this.#o.committable();
      if (next === undefined || (this.#committed !== undefined && next <= this.#committed)) return;
      if (!(await this.#o.flush())) {
        this.#retryLater();
        return;
      }
      try {
        await this.#o.commit(this.#o.partition, next.toString());
        this.#committed = next;
      } catch (error) {
        this.#o.logger.warn('Offset commit failed; it is retried with the next one.', {
          partition: this.#o.partition,
          offset: next.toString(),
          error: messageOf(error),
        });
        this.#retryLater();
      }
    });
    return this.#chain;
  }

  /**
   * After a failed flush or commit: tries again once the interval (at least
   * {@link COMMIT_RETRY_MIN_MS}) passed, unless an advance commits first or the partition is
   * abandoned by then. Without it an idle partition would keep its committed offset behind what
   * was applied until the next message.
   */
  #retryLater(): void {
    this.#timer ??= setTimeout(
      () => {
        this.#timer = undefined;
        if (!this.#o.signal.aborted) void this.commitNow();
      },
      Math.max(this.#o.commitIntervalMs, COMMIT_RETRY_MIN_MS),
    ).unref();
  }
}

/** Least wait, ms, before a failed flush or commit is tried again without a new advance. */
const COMMIT_RETRY_MIN_MS = 1000;
