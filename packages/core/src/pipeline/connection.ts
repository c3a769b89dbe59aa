import type { Logger, SinkInstance, SourceInstance } from '@sluice/plugin-api';
import { coreErrors, messageOf } from '../errors.js';
import { retry, type BackoffPolicy } from './retry.js';

/** Options of a {@link ConnectionHandle}. */
export interface ConnectionOptions {
  readonly logger: Logger;
  readonly backoff: BackoffPolicy;
  /**
   * Connect attempts in all before giving up (canal's `retries` through `maxAttempts`;
   * `Infinity` = until it succeeds, fails fatally or every caller gave up). Default `Infinity`.
   */
  readonly maxAttempts?: number;
}

interface ConnectAttempt {
  readonly promise: Promise<void>;
  readonly abort: AbortController;
  waiters: number;
  settled: boolean;
}

/**
 * The core's only path to a plugin's `connect` (the Benthos "air gap", architecture review §8.A):
 * one connect loop at a time, retried with backoff through {@link retry} until it succeeds,
 * fails fatally, runs out of attempts or nobody waits any more. Concurrent callers share the
 * loop; a caller whose signal aborts stops waiting (rejecting with its signal's reason) without
 * stopping the loop for the others. Gives up with a coded fatal error (`SLUICE_ERR_SINK_CONNECT`,
 * `SLUICE_ERR_SOURCE_CONNECT`) naming the plugin.
 */
export abstract class ConnectionHandle<T extends { connect(signal: AbortSignal): Promise<void> }> {
  /** The running plugin instance. */
  readonly instance: T;
  readonly #o: ConnectionOptions;
  #connecting: ConnectAttempt | undefined;
  #connected = false;

  protected constructor(instance: T, options: ConnectionOptions) {
    this.instance = instance;
    this.#o = options;
  }

  /** True once a connect succeeded (until a caller reports the connection lost). */
  get connected(): boolean {
    return this.#connected;
  }

  /** The instance's connection is gone (a `NotConnectedError`): {@link connected} turns false. */
  lost(): void {
    this.#connected = false;
  }

  /** How log lines and errors name the plugin, e.g. `Sink "es1"`. */
  protected abstract get label(): string;
  protected abstract giveUp(attempts: number, cause: unknown): Error;

  /**
   * Connects (again). Resolves once connected; rejects with the caller's signal's reason when it
   * aborts first, or with a coded fatal error when connecting failed for good.
   */
  async connect(signal: AbortSignal): Promise<void> {
    if (signal.aborted) throw signal.reason;
    if (!this.#connecting) {
      const abort = new AbortController();
      const attempt: ConnectAttempt = {
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
    this.#connected = false;
    const outcome = await retry((_, s) => this.instance.connect(s), {
      signal,
      backoff: this.#o.backoff,
      ...(this.#o.maxAttempts !== undefined ? { maxAttempts: this.#o.maxAttempts } : {}),
      onRetry: (error, attempt, delayMs) =>
        this.#o.logger.warn(`${this.label} could not connect; retrying.`, {
          attempt,
          delayMs,
          error: messageOf(error),
        }),
    });
    if (outcome.ok) {
      this.#connected = true;
      if (outcome.attempts > 1)
        this.#o.logger.info(`${this.label} connected.`, { attempts: outcome.attempts });
      return;
    }
    if (outcome.reason === 'aborted') throw outcome.error;
    throw this.giveUp(outcome.attempts, outcome.error);
  }
}

/**
 * A sink instance shared by every applier (partition) of a group, with (re)connection. A sink
 * connect is retried until it succeeds or fails fatally (a sink that is down holds its lanes;
 * offsets do not move meanwhile), unless `maxAttempts` says otherwise.
 */
export class SinkHandle extends ConnectionHandle<SinkInstance> {
  /** The sink instance key (`outerAdapters[].key`). */
  readonly key: string;

  constructor(key: string, instance: SinkInstance, logger: Logger, backoff: BackoffPolicy) {
    super(instance, { logger, backoff });
    this.key = key;
  }

  protected get label(): string {
    return `Sink "${this.key}"`;
  }

  protected giveUp(attempts: number, cause: unknown): Error {
    return coreErrors.sinkConnect(this.key, attempts, cause);
  }
}

/**
 * A source instance of one group with supervised connection, symmetric with {@link SinkHandle}
 * (DESIGN.md §5 "The core supervises every plugin's connect"): `NotConnectedError`,
 * `RetryableError` and unknown errors from `connect` are retried with backoff, at most
 * `maxAttempts` times in all (canal's `retries`: -1 = until it succeeds); a fatal error or the
 * last failed attempt rejects with `SLUICE_ERR_SOURCE_CONNECT`.
 */
export class SourceHandle extends ConnectionHandle<SourceInstance> {
  /** How the source is named: `"kafka" (destination "orders", group "g1")`. */
  readonly name: string;

  constructor(name: string, instance: SourceInstance, options: ConnectionOptions) {
    super(instance, options);
    this.name = name;
  }

  protected get label(): string {
    return `Source ${this.name}`;
  }

  protected giveUp(attempts: number, cause: unknown): Error {
    return coreErrors.sourceConnect(this.name, attempts, cause);
  }
}
