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
  #connecting: Promise<void> | undefined;

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
   * Connects (again). Concurrent callers share one attempt loop. Rejects with a
   * {@link FatalError} when the sink says retrying cannot help, or with the signal's reason.
   */
  connect(signal: AbortSignal): Promise<void> {
    this.#connecting ??= this.#loop(signal).finally(() => {
      this.#connecting = undefined;
    });
    return this.#connecting;
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
