import { FatalError, classifyError, type Logger, type SinkInstance } from '@sluice/plugin-api';
import { backoffDelay, sleep } from './backoff.js';

/**
 * A sink instance shared by every applier (partition) of a group, with (re)connection: one
 * connect at a time, retried with backoff until it succeeds, fails fatally or the signal aborts.
 */
export class SinkHandle {
  /** The sink instance key. */
  readonly key: string;
  /** The running instance. */
  readonly instance: SinkInstance;
  readonly #logger: Logger;
  readonly #backoff: { readonly baseMs: number; readonly maxMs: number };
  #connecting:
    | { promise: Promise<void>; abort: AbortController; waiters: number; settled: boolean }
    | undefined;

  constructor(
    key: string,
    instance: SinkInstance,
    logger: Logger,
    backoff: { baseMs: number; maxMs: number },
  ) {
    this.key = key;
    this.instance = instance;
    this.#logger = logger;
    this.#backoff = backoff;
  }

  /**
   * Connects (again). Concurrent callers share one attempt loop; a caller whose signal aborts
   * stops waiting (rejecting with its signal's reason) without stopping the loop for the
   * others, which ends only once every caller gave up. Rejects with a {@link FatalError} when the
   * sink says retrying cannot help.
   */
  async connect(signal: AbortSignal): Promise<void> {
    if (signal.aborted) throw signal.reason;
    if (!this.#connecting) {
      const abort = new AbortController();
      const attempt = {
        promise: this.#loop(abort.signal).finally(() => {
          attempt.settled = true;
          if (this.#connecting === attempt) this.#connecting = undefined;
        }),
        abort,
        waiters: 0,
        settled: false,
      };
      attempt.promise.catch(() => undefined);
      this.#connecting = attempt;
    }
    const attempt = this.#connecting;
    attempt.waiters += 1;
    let onAbort: (() => void) | undefined;
    try {
      await Promise.race([
        attempt.promise,
        new Promise<never>((_, reject) => {
          onAbort = () => reject(signal.reason);
          signal.addEventListener('abort', onAbort, { once: true });
        }),
      ]);
    } finally {
      if (onAbort) signal.removeEventListener('abort', onAbort);
      // Nobody waits any more: stop retrying (never abort the signal of a finished connect).
      if (--attempt.waiters === 0 && !attempt.settled)
        attempt.abort.abort(new Error('Connect abandoned.'));
    }
  }

  async #loop(signal: AbortSignal): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      if (signal.aborted) throw signal.reason;
      try {
        await this.instance.connect(signal);
        return;
      } catch (error) {
        if (signal.aborted) throw signal.reason;
        if (classifyError(error) === 'fatal') {
          throw new FatalError(`Sink "${this.key}" cannot connect: ${(error as Error).message}`, {
            cause: error,
          });
        }
        this.#logger.warn(`Sink "${this.key}" could not connect; retrying.`, {
          attempt,
          error: (error as Error).message,
        });
        await sleep(backoffDelay(attempt, this.#backoff.baseMs, this.#backoff.maxMs), signal);
      }
    }
  }
}
