import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { deferred, quietLogger } from '../../test/support/pipeline.js';
import { CommitCoordinator, SinkFlusher } from './commitCoordinator.js';

/** A coordinator over a watermark the test moves, recording flushes and commits in one log. */
function setup(options: { commitIntervalMs: number; flush?: (log: string[]) => Promise<boolean> }) {
  const log: string[] = [];
  const lines: string[] = [];
  let watermark: bigint | undefined;
  const abort = new AbortController();
  let commit = (_partition: string, offset: string): Promise<void> => {
    log.push(`commit ${offset}`);
    return Promise.resolve();
  };
  const commits = new CommitCoordinator({
    partition: 'p0',
    committable: () => watermark,
    commitIntervalMs: options.commitIntervalMs,
    flush: () => {
      if (options.flush) return options.flush(log);
      log.push('flush');
      return Promise.resolve(true);
    },
    commit: (partition, offset) => commit(partition, offset),
    logger: quietLogger(lines),
    signal: abort.signal,
  });
  return {
    commits,
    log,
    lines,
    abort,
    /** Moves the watermark and tells the coordinator, as the ack tracker does. */
    advance(to: bigint) {
      watermark = to;
      commits.advanced();
    },
    setCommit(fn: typeof commit) {
      commit = fn;
    },
  };
}

/** Lets queued promise callbacks (the commit chain) run. */
const settle = async () => {
  for (let i = 0; i < 10; i++) await Promise.resolve();
};

describe('CommitCoordinator', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('commits at most once per interval, the newest watermark, after a flush', async () => {
    const t = setup({ commitIntervalMs: 1000 });
    t.advance(3n);
    t.advance(5n);
    await settle();
    expect(t.log).toEqual([]);
    await vi.advanceTimersByTimeAsync(999);
    expect(t.log).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(t.log).toEqual(['flush', 'commit 5']);
    expect(t.commits.committed).toBe(5n);
    // No advance, no commit.
    await vi.advanceTimersByTimeAsync(5000);
    expect(t.log).toEqual(['flush', 'commit 5']);
  });

  it('with interval 0 commits every advance, one at a time, in order', async () => {
    const t = setup({ commitIntervalMs: 0 });
    const first = deferred();
    t.setCommit((_p, offset) => {
      t.log.push(`commit ${offset}`);
      return offset === '1' ? first.promise : Promise.resolve();
    });
    t.advance(1n);
    await settle();
    t.advance(2n);
    await settle();
    // The second commit waits for the first (each reads the watermark when its turn comes).
    expect(t.log).toEqual(['flush', 'commit 1']);
    first.resolve();
    await settle();
    expect(t.log).toEqual(['flush', 'commit 1', 'flush', 'commit 2']);
    expect(t.commits.committed).toBe(2n);
  });

  it('never commits the same or an older watermark twice', async () => {
    const t = setup({ commitIntervalMs: 0 });
    t.advance(4n);
    await settle();
    await t.commits.commitNow();
    await t.commits.commitNow();
    expect(t.log).toEqual(['flush', 'commit 4']);
  });

  it('a request commits at once when the watermark moved, else at the next advance', async () => {
    const t = setup({ commitIntervalMs: 60_000 });
    t.commits.request();
    await settle();
    expect(t.log).toEqual([]); // nothing to commit yet: remembered
    t.advance(2n);
    await settle();
    expect(t.log).toEqual(['flush', 'commit 2']);
    // The request was used up: the next advance waits for the interval again.
    t.advance(3n);
    await settle();
    expect(t.log).toEqual(['flush', 'commit 2']);
    // A request with the watermark ahead of the last commit commits now, before the interval.
    t.commits.request();
    await settle();
    expect(t.log).toEqual(['flush', 'commit 2', 'flush', 'commit 3']);
  });

  it('a request with nothing new to commit is kept for the next advance; one before any commit commits at once', async () => {
    const t = setup({ commitIntervalMs: 60_000 });
    // Nothing committed yet, the watermark moved: the request commits now.
    t.advance(2n);
    await settle();
    expect(t.log).toEqual([]);
    t.commits.request();
    await settle();
    expect(t.log).toEqual(['flush', 'commit 2']);
    // The watermark is where the last commit left it: the request waits for the next advance,
    // which then commits at once (not after the interval).
    t.commits.request();
    await settle();
    expect(t.log).toEqual(['flush', 'commit 2']);
    t.advance(3n);
    await settle();
    expect(t.log).toEqual(['flush', 'commit 2', 'flush', 'commit 3']);
  });

  it('does not commit when the flush fails, and commits with the next attempt', async () => {
    let ok = false;
    const t = setup({
      commitIntervalMs: 0,
      flush: (log) => {
        log.push(ok ? 'flush' : 'flush failed');
        return Promise.resolve(ok);
      },
    });
    t.advance(7n);
    await settle();
    expect(t.log).toEqual(['flush failed']);
    expect(t.commits.committed).toBeUndefined();
    ok = true;
    await t.commits.commitNow();
    expect(t.log).toEqual(['flush failed', 'flush', 'commit 7']);
  });

  it('logs a failed commit and retries it with the next one', async () => {
    const t = setup({ commitIntervalMs: 0 });
    t.setCommit(() => Promise.reject(new Error('broker gone')));
    t.advance(9n);
    await settle();
    expect(t.commits.committed).toBeUndefined();
    expect(t.lines.join('\n')).toMatch(/warn Offset commit failed.*"offset":"9".*broker gone/);
    t.setCommit((_p, offset) => {
      t.log.push(`commit ${offset}`);
      return Promise.resolve();
    });
    await t.commits.commitNow();
    expect(t.commits.committed).toBe(9n);
  });

  it('tries a failed commit or flush again after the interval (at least 1 s) with no new advance', async () => {
    for (const interval of [0, 5000]) {
      const t = setup({ commitIntervalMs: interval });
      let fail = 2;
      t.setCommit((_p, offset) => {
        t.log.push(fail > 0 ? `commit ${offset} failed` : `commit ${offset}`);
        return fail-- > 0 ? Promise.reject(new Error('broker gone')) : Promise.resolve();
      });
      t.advance(4n);
      if (interval > 0) await vi.advanceTimersByTimeAsync(interval);
      await settle();
      expect(t.log).toEqual(['flush', 'commit 4 failed']);
      const wait = Math.max(interval, 1000);
      await vi.advanceTimersByTimeAsync(wait - 1);
      expect(t.log).toEqual(['flush', 'commit 4 failed']);
      await vi.advanceTimersByTimeAsync(1);
      expect(t.log).toEqual(['flush', 'commit 4 failed', 'flush', 'commit 4 failed']);
      await vi.advanceTimersByTimeAsync(wait);
      expect(t.log.slice(4)).toEqual(['flush', 'commit 4']);
      expect(t.commits.committed).toBe(4n);
      // Committed: no more retries.
      await vi.advanceTimersByTimeAsync(10 * wait);
      expect(t.log).toHaveLength(6);
    }
    // A failed flush is retried the same way; an aborted partition is not.
    let ok = false;
    const f = setup({
      commitIntervalMs: 0,
      flush: (log) => {
        log.push(ok ? 'flush' : 'flush failed');
        return Promise.resolve(ok);
      },
    });
    f.advance(3n);
    await settle();
    ok = true;
    await vi.advanceTimersByTimeAsync(1000);
    expect(f.log).toEqual(['flush failed', 'flush', 'commit 3']);
    ok = false;
    f.advance(4n);
    await settle();
    f.abort.abort();
    await vi.advanceTimersByTimeAsync(5000);
    expect(f.log).toEqual(['flush failed', 'flush', 'commit 3', 'flush failed']);
  });

  it('stop cancels a pending interval commit; an aborted partition schedules none, but commitNow still commits', async () => {
    const t = setup({ commitIntervalMs: 1000 });
    t.advance(1n);
    t.commits.stop();
    await vi.advanceTimersByTimeAsync(2000);
    expect(t.log).toEqual([]);
    t.abort.abort();
    t.advance(2n);
    t.commits.request();
    await vi.advanceTimersByTimeAsync(2000);
    expect(t.log).toEqual([]);
    await t.commits.commitNow();
    expect(t.log).toEqual(['flush', 'commit 2']);
  });
});

describe('SinkFlusher', () => {
  it('flushes every sink with the signal of the flush; a caller during a flush gets the next one, shared', async () => {
    const gate = deferred();
    const calls: string[] = [];
    const signals: AbortSignal[] = [];
    let n = 0;
    const sink = (key: string) => ({
      key,
      instance: {
        flush: async (signal: AbortSignal) => {
          calls.push(`${key}#${n}`);
          expect(signal).toBe(signals.at(-1));
          if (n === 0 && key === 'b') await gate.promise;
        },
      },
    });
    const flusher = new SinkFlusher({
      sinks: [sink('a'), sink('b')],
      logger: quietLogger(),
      signal: () => {
        const s = new AbortController().signal;
        signals.push(s);
        return s;
      },
    });
    const first = flusher.flush();
    await settle();
    expect(calls).toEqual(['a#0', 'b#0']);
    // Two callers while the first flush runs: both wait for one more flush, started after it.
    const second = flusher.flush();
    const third = flusher.flush();
    expect(third).toBe(second);
    n = 1;
    gate.resolve();
    expect(await first).toBe(true);
    expect(await second).toBe(true);
    expect(calls).toEqual(['a#0', 'b#0', 'a#1', 'b#1']);
    expect(signals).toHaveLength(2);
  });

  it('resolves false and names the sink when one fails to flush; the others still flush', async () => {
    const lines: string[] = [];
    const flushed: string[] = [];
    const flusher = new SinkFlusher({
      sinks: [
        { key: 'bad', instance: { flush: () => Promise.reject(new Error('disk full')) } },
        { key: 'good', instance: { flush: async () => void flushed.push('good') } },
      ],
      logger: quietLogger(lines),
      signal: () => new AbortController().signal,
    });
    expect(await flusher.flush()).toBe(false);
    expect(flushed).toEqual(['good']);
    expect(lines.join('\n')).toMatch(/error Sink "bad" failed to flush.*disk full/);
  });
});
