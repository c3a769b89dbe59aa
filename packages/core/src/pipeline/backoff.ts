/** Exponential backoff with full jitter: attempt 1 → up to `baseMs`, doubling up to `maxMs`. */
export function backoffDelay(
  attempt: number,
  baseMs = 100,
  maxMs = 30_000,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/** Resolves after `ms`, or rejects with the signal's reason when it is aborted first. */
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
