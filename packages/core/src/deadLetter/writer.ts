import type { Clock, Logger } from '@sluice/plugin-api';
import { retry } from '../pipeline/retry.js';
import type { DeadLetterQueue } from './queue.js';
import { encodePayload, type DeadLetterRecord } from './record.js';

/** Where a dead-lettered item came from: the original message. */
export interface DeadLetterOrigin {
  /** Partition and offset of the original message (for a replay: where it first came from). */
  readonly partition: string;
  readonly offset: string;
  readonly payload: Uint8Array | string;
}

/** Options of a {@link DeadLetterWriter}. */
export interface DeadLetterWriterOptions {
  /** `canalAdapters[].instance` of the pipeline. */
  readonly destination: string;
  /** `groups[].groupId` of the pipeline. */
  readonly groupId: string;
  readonly queue: DeadLetterQueue;
  readonly logger: Logger;
  readonly clock?: Clock;
  /** Backoff between failed writes: equal jitter from `baseMs`, doubling up to `maxMs`. */
  readonly retry: { readonly baseMs: number; readonly maxMs: number };
}

/**
 * Builds the dead-letter records of one pipeline and writes them "until durable": a failed
 * `queue.write` is logged and retried with exponential backoff, without limit, until it succeeds
 * or the signal aborts (the partition waits meanwhile: nothing is committed past a dead letter
 * that is not durable). Safe to call concurrently (one call per partition flow).
 */
export class DeadLetterWriter {
  readonly #o: DeadLetterWriterOptions;
  readonly #clock: Clock;

  constructor(options: DeadLetterWriterOptions) {
    this.#o = options;
    this.#clock = options.clock ?? { now: () => Date.now() };
  }

  /** The queue's location, for log lines. */
  get location(): string {
    return this.#o.queue.location;
  }

  /**
   * The record of an undecodable message (no `extra`) or of an event a sink rejected (`extra`
   * names the sink, the row index and the mapping file). `attempts` is 1: a first dead-lettering.
   */
  record(
    origin: DeadLetterOrigin,
    reason: string,
    extra: Pick<DeadLetterRecord, 'index' | 'sink' | 'mapping'> = {},
  ): DeadLetterRecord {
    return {
      at: new Date(this.#clock.now()).toISOString(),
      destination: this.#o.destination,
      groupId: this.#o.groupId,
      partition: origin.partition,
      offset: origin.offset,
      ...extra,
      reason,
      attempts: 1,
      ...encodePayload(origin.payload),
    };
  }

  /**
   * Writes `record`, retrying until it is durable. Resolves true once written, false when
   * abandoned because `signal` aborted (the caller must then not treat the item as handled).
   */
  async write(record: DeadLetterRecord, signal: AbortSignal): Promise<boolean> {
    const outcome = await retry((_, sig) => this.#o.queue.write(record, sig), {
      signal,
      backoff: this.#o.retry,
      // Every failure is retried: a dead letter is never dropped.
      classify: () => ({ retry: true }),
      onRetry: (error, attempt) =>
        this.#o.logger.error(
          'Writing to the dead-letter queue failed; retrying (the offset does not move meanwhile).',
          { deadLetter: this.#o.queue.location, attempt, error: (error as Error).message },
        ),
    });
    return outcome.ok;
  }
}
