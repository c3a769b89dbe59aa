import { classifyError } from '@sluice/plugin-api';

/** Exponential backoff bounds, ms. */
export interface BackoffPolicy {
  /** Ceiling of the first delay. */
  readonly baseMs: number;
  /** Largest ceiling (the doubling stops here). */
  readonly maxMs: number;
}

/**
 * Exponential backoff with **equal jitter**: the ceiling doubles per attempt from `baseMs` up to
 * `maxMs`; the delay is half the ceiling plus a random part of up to the other half, so attempt
 * `n` waits between `c/2` and `c` where `c = min(maxMs, baseMs · 2^(n-1))`. Equal rather than
 * full jitter (`random · c`): a retry never comes back at once, yet clients that failed together
 * spread out. `random` must return values in [0, 1).
 */
export function backoffDelay(
  attempt: number,
  baseMs = 100,
  maxMs = 30_000,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/**
 * Resolves after `ms`, or rejects with the signal's reason when it is aborted first
 * (`timers/promises.setTimeout` would reject with a generic `AbortError` instead).
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason as Error);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason as Error);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** canal's `retries`: -1 → forever; 0 or less → one attempt; N → N attempts. */
export function maxAttempts(retries: number): number {
  if (retries === -1) return Number.POSITIVE_INFINITY;
  return retries > 0 ? retries : 1;
}

/** What {@link retry} does after a failed attempt. */
export type RetryDecision =
  /**
   * Back off, then try again (if attempts remain). `waitMs` is a least delay (Retry-After).
   * `free`: this failure does not use up an attempt of `maxAttempts` (a lost connection: the
   * loop waits for it to come back for as long as it takes, as canal's reconnect loop does
   * without consuming its retry budget).
   */
  | { readonly retry: true; readonly waitMs?: number; readonly free?: boolean }
  /** Stop now: {@link retry} resolves `{ ok: false, reason: 'stopped' }`. */
  | { readonly retry: false };

/** Options of {@link retry}. */
export interface RetryOptions {
  /** Aborting stops the loop (during an attempt, a backoff or `beforeRetry`). */
  readonly signal: AbortSignal;
  readonly backoff: BackoffPolicy;
  /** Attempts in all, ≥ 1 (`Infinity` for canal's `retries: -1`). Default: unlimited. */
  readonly maxAttempts?: number;
  /**
   * Decides what a failure means. Default {@link retryUnlessFatal}: retry anything but a
   * {@link FatalError} (and the other fatal codes).
   */
  readonly classify?: (error: unknown, attempt: number) => RetryDecision;
  /** Called before each backoff, e.g. to log. `delayMs` is the delay about to be waited. */
  readonly onRetry?: (error: unknown, attempt: number, delayMs: number) => void;
  /**
   * Called after the backoff, before the next attempt (e.g. reconnect after a
   * `NotConnectedError`). A rejection ends the loop with `reason: 'stopped'` and that error,
   * unless the signal aborted.
   */
  readonly beforeRetry?: (error: unknown, attempt: number) => Promise<void>;
  /** Random source of the jitter (tests). */
  readonly random?: () => number;
}

/** How {@link retry} ended. `attempts` counts the attempts made (≥ 1 unless aborted at once). */
export type RetryOutcome<T> =
  | { readonly ok: true; readonly value: T; readonly attempts: number }
  | {
      readonly ok: false;
      /**
       * `aborted`: the signal aborted (`error` is its reason); `stopped`: `classify` said stop, or
       * `beforeRetry` failed (`error` is that failure); `exhausted`: `maxAttempts` reached
       * (`error` is the last failure).
       */
      readonly reason: 'aborted' | 'stopped' | 'exhausted';
      readonly error: unknown;
      readonly attempts: number;
    };

/** The default classification: fatal errors stop, everything else is retried. */
export function retryUnlessFatal(error: unknown): RetryDecision {
  return classifyError(error) === 'fatal' ? { retry: false } : retryAfter(error);
}

/**
 * `{ retry: true }` with the error's `waitMs` (a `RetryableError`'s Retry-After), when any;
 * `free` marks a failure that does not use up an attempt (see {@link RetryDecision}).
 */
export function retryAfter(error: unknown, free = false): RetryDecision {
  const waitMs = (error as { waitMs?: unknown } | undefined)?.waitMs;
  return {
    retry: true,
    ...(typeof waitMs === 'number' ? { waitMs } : {}),
    ...(free ? { free: true } : {}),
  };
}

/**
 * The one retry loop of the core (DESIGN.md §3 "Failures"): runs `attempt` until it resolves,
 * `classify` says stop, `maxAttempts` is reached or `signal` aborts; between attempts it waits
 * {@link backoffDelay} (at least the decision's `waitMs`) and runs `beforeRetry`. Used by sink and
 * source connect ({@link ConnectionHandle}), batch writes ({@link BatchWriter}) and dead-letter
 * writes. Never rejects: the outcome says how it ended. One attempt at a time.
 */
export async function retry<T>(
  attempt: (n: number, signal: AbortSignal) => Promise<T>,
  options: RetryOptions,
): Promise<RetryOutcome<T>> {
  const { signal, backoff } = options;
  const limit = options.maxAttempts ?? Number.POSITIVE_INFINITY;
  const classify = options.classify ?? retryUnlessFatal;
  // Attempts that count toward `limit` (failures classified `free` do not).
  let counted = 0;
  for (let n = 1; ; n++) {
    if (signal.aborted)
      return { ok: false, reason: 'aborted', error: signal.reason, attempts: n - 1 };
    let failure: unknown;
    try {
      return { ok: true, value: await attempt(n, signal), attempts: n };
    } catch (error) {
      failure = error;
    }
    if (signal.aborted) return { ok: false, reason: 'aborted', error: signal.reason, attempts: n };
    const decision = classify(failure, n);
    if (!decision.retry) return { ok: false, reason: 'stopped', error: failure, attempts: n };
    if (!decision.free) counted += 1;
    if (counted >= limit) return { ok: false, reason: 'exhausted', error: failure, attempts: n };
    const delayMs = Math.max(
      backoffDelay(n, backoff.baseMs, backoff.maxMs, options.random),
      decision.waitMs ?? 0,
    );
    options.onRetry?.(failure, n, delayMs);
    try {
      await sleep(delayMs, signal);
      await options.beforeRetry?.(failure, n);
    } catch (error) {
      if (signal.aborted)
        return { ok: false, reason: 'aborted', error: signal.reason, attempts: n };
      return { ok: false, reason: 'stopped', error, attempts: n };
    }
  }
}
