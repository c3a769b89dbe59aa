import { describe, expect, it } from 'vitest';
import { FatalError, NotConnectedError, RetryableError } from '@sluice/plugin-api';
import { backoffDelay, maxAttempts, retry } from './retry.js';

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
