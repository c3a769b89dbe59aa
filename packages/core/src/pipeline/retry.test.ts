import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { FatalError, NotConnectedError, RetryableError } from '@sluice/plugin-api';
import { backoffDelay, maxAttempts, retry, retryAfter, retryUnlessFatal, sleep } from './retry.js';

const fast = { baseMs: 1, maxMs: 2 };

describe('backoffDelay (equal jitter)', () => {
  it('waits between half the ceiling and the ceiling, doubling up to maxMs', () => {
    expect(backoffDelay(1, 100, 30_000, () => 0)).toBe(50);
    expect(backoffDelay(1, 100, 30_000, () => 0.999999)).toBe(100);
    expect(backoffDelay(4, 100, 30_000, () => 0)).toBe(400);
    expect(backoffDelay(4, 100, 30_000, () => 0.999999)).toBe(800);
    expect(backoffDelay(30, 100, 1000, () => 0)).toBe(500);
    expect(backoffDelay(30, 100, 1000, () => 0.999999)).toBe(1000);
  });

  it('never goes below half the ceiling whatever the random source', () => {
    for (let attempt = 1; attempt < 12; attempt++) {
      const ceiling = Math.min(5000, 100 * 2 ** (attempt - 1));
      for (const r of [0, 0.1, 0.5, 0.9]) {
        const d = backoffDelay(attempt, 100, 5000, () => r);
        expect(d).toBeGreaterThanOrEqual(ceiling / 2);
        expect(d).toBeLessThanOrEqual(ceiling);
      }
    }
  });
});

describe('maxAttempts (canal retries)', () => {
  it('maps -1 to forever, 0 and below to one attempt, N to N', () => {
    expect(maxAttempts(-1)).toBe(Number.POSITIVE_INFINITY);
    expect(maxAttempts(0)).toBe(1);
    expect(maxAttempts(-5)).toBe(1);
    expect(maxAttempts(3)).toBe(3);
  });
});

describe('retry', () => {
  const never = new AbortController().signal;

  it('returns the value and the attempts it took', async () => {
    let n = 0;
    const outcome = await retry(
      async () => {
        n += 1;
        if (n < 3) throw new RetryableError('busy');
        return 'done';
      },
      { signal: never, backoff: fast },
    );
    expect(outcome).toEqual({ ok: true, value: 'done', attempts: 3 });
  });

  it('stops at once on a fatal error (default classification)', async () => {
    let n = 0;
    const fatal = new FatalError('bad credentials');
    const outcome = await retry(
      async () => {
        n += 1;
        throw fatal;
      },
      { signal: never, backoff: fast },
    );
    expect(outcome).toEqual({ ok: false, reason: 'stopped', error: fatal, attempts: 1 });
    expect(n).toBe(1);
  });

  it('gives up after maxAttempts with the last error', async () => {
    let n = 0;
    const retried: number[] = [];
    const outcome = await retry(
      async () => {
        n += 1;
        throw new NotConnectedError(`refused ${n}`);
      },
      { signal: never, backoff: fast, maxAttempts: 3, onRetry: (_, a) => retried.push(a) },
    );
    expect(outcome.ok).toBe(false);
    expect(outcome).toMatchObject({ reason: 'exhausted', attempts: 3 });
    expect((outcome as { error: Error }).error.message).toBe('refused 3');
    expect(retried).toEqual([1, 2]);
  });

  it('waits at least the error’s waitMs (Retry-After)', async () => {
    const delays: number[] = [];
    let n = 0;
    await retry(
      async () => {
        if (++n === 1) throw new RetryableError('429', { waitMs: 40 });
      },
      { signal: never, backoff: fast, onRetry: (_, __, d) => delays.push(d) },
    );
    expect(delays).toEqual([40]);
  });

  it('runs beforeRetry between attempts; its failure stops the loop', async () => {
    const calls: string[] = [];
    const broken = new FatalError('cannot reconnect');
    const outcome = await retry(
      async (n) => {
        calls.push(`attempt ${n}`);
        throw new NotConnectedError('gone');
      },
      {
        signal: never,
        backoff: fast,
        beforeRetry: async () => {
          calls.push('reconnect');
          throw broken;
        },
      },
    );
    expect(calls).toEqual(['attempt 1', 'reconnect']);
    expect(outcome).toEqual({ ok: false, reason: 'stopped', error: broken, attempts: 1 });
  });

  it('ends with the signal’s reason when aborted during the backoff', async () => {
    const stop = new AbortController();
    const reason = new Error('shutdown');
    const outcome = retry(
      async () => {
        throw new RetryableError('busy');
      },
      { signal: stop.signal, backoff: { baseMs: 60_000, maxMs: 60_000 } },
    );
    setTimeout(() => stop.abort(reason), 10);
    expect(await outcome).toEqual({ ok: false, reason: 'aborted', error: reason, attempts: 1 });
  });

  it('makes no attempt when the signal is already aborted', async () => {
    const stop = new AbortController();
    stop.abort(new Error('gone'));
    let n = 0;
    const outcome = await retry(async () => (n += 1), { signal: stop.signal, backoff: fast });
    expect(outcome).toMatchObject({ ok: false, reason: 'aborted', attempts: 0 });
    expect(n).toBe(0);
  });
});

describe('sleep', () => {
  it('resolves after the delay with or without a signal, and leaves no abort listener behind', async () => {
    await expect(sleep(1)).resolves.toBeUndefined();
    const live = new AbortController();
    await expect(sleep(1, live.signal)).resolves.toBeUndefined();
    expect(getEventListeners(live.signal, 'abort')).toHaveLength(0);
  });

  it('rejects at once with the reason of an already aborted signal (no timer is waited)', async () => {
    const stop = new AbortController();
    const reason = new Error('gone');
    stop.abort(reason);
    const started = Date.now();
    await expect(sleep(60_000, stop.signal)).rejects.toBe(reason);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('rejects with the signal’s reason when aborted while waiting, and drops its listener', async () => {
    const stop = new AbortController();
    const reason = new Error('shutdown');
    const waiting = sleep(60_000, stop.signal);
    expect(getEventListeners(stop.signal, 'abort')).toHaveLength(1);
    stop.abort(reason);
    await expect(waiting).rejects.toBe(reason);
    expect(getEventListeners(stop.signal, 'abort')).toHaveLength(0);
  });
});

describe('retry classification', () => {
  it('retryUnlessFatal stops on a fatal error and retries anything else', () => {
    expect(retryUnlessFatal(new FatalError('no'))).toStrictEqual({ retry: false });
    expect(retryUnlessFatal(new Error('x'))).toStrictEqual({ retry: true });
    expect(retryUnlessFatal(new RetryableError('429', { waitMs: 7 }))).toStrictEqual({
      retry: true,
      waitMs: 7,
    });
  });

  it('retryAfter carries only a numeric waitMs, and accepts undefined and non-objects', () => {
    expect(retryAfter(undefined)).toStrictEqual({ retry: true });
    expect(retryAfter(new Error('x'))).toStrictEqual({ retry: true });
    expect(retryAfter({ waitMs: '5' })).toStrictEqual({ retry: true });
    expect(retryAfter({ waitMs: 0 })).toStrictEqual({ retry: true, waitMs: 0 });
  });

  it('reports an abort during an attempt as aborted (not as a failure to classify)', async () => {
    const stop = new AbortController();
    const reason = new Error('revoked');
    const classified: unknown[] = [];
    const outcome = await retry(
      async () => {
        stop.abort(reason);
        throw new RetryableError('write interrupted');
      },
      {
        signal: stop.signal,
        backoff: fast,
        classify: (e) => {
          classified.push(e);
          return { retry: true };
        },
      },
    );
    expect(outcome).toStrictEqual({ ok: false, reason: 'aborted', error: reason, attempts: 1 });
    expect(classified).toEqual([]);
  });

  it('maxAttempts 1 (canal retries 0) makes exactly one attempt', async () => {
    let n = 0;
    const outcome = await retry(
      async () => {
        n += 1;
        throw new RetryableError('busy');
      },
      { signal: new AbortController().signal, backoff: fast, maxAttempts: maxAttempts(0) },
    );
    expect(n).toBe(1);
    expect(outcome).toMatchObject({ ok: false, reason: 'exhausted', attempts: 1 });
  });
});

describe('free failures (a lost connection)', () => {
  it('do not use up maxAttempts: the loop goes on until the attempt succeeds', async () => {
    let n = 0;
    const outcome = await retry(
      async () => {
        n += 1;
        if (n < 6) throw new NotConnectedError('down');
        return 'written';
      },
      {
        signal: new AbortController().signal,
        backoff: { baseMs: 1, maxMs: 2 },
        maxAttempts: 1,
        classify: (error) =>
          error instanceof NotConnectedError ? { retry: true, free: true } : { retry: true },
      },
    );
    expect(outcome).toEqual({ ok: true, value: 'written', attempts: 6 });
  });

  it('still count the other failures between them', async () => {
    let n = 0;
    const outcome = await retry(
      async () => {
        n += 1;
        throw n % 2 === 1 ? new NotConnectedError('down') : new RetryableError('busy');
      },
      {
        signal: new AbortController().signal,
        backoff: { baseMs: 1, maxMs: 2 },
        maxAttempts: 2,
        classify: (error) =>
          error instanceof NotConnectedError ? { retry: true, free: true } : { retry: true },
      },
    );
    // not-connected, busy (1), not-connected, busy (2): exhausted at the 4th attempt
    expect(outcome).toMatchObject({ ok: false, reason: 'exhausted', attempts: 4 });
  });
});
