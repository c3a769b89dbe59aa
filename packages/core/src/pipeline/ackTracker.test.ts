import { describe, expect, it } from 'vitest';
import { AckTracker } from './ackTracker.js';

/** True once `p` settled (after the microtasks queued so far ran). */
async function settled(p: Promise<unknown>): Promise<boolean> {
  let done = false;
  void p.then(() => (done = true));
  for (let i = 0; i < 5; i++) await Promise.resolve();
  return done;
}

describe('AckTracker', () => {
  it('a message is done only when its routing hold and every record finished', () => {
    const t = new AckTracker();
    const m = t.open('10', 2);
    t.add(m, 2);
    expect(m.pending).toBe(3);
    t.complete(m);
    t.release(m);
    expect(m.done).toBe(false);
    expect(t.committable).toBeUndefined();
    t.complete(m);
    expect(m.done).toBe(true);
    expect(t.committable).toBe(11n);
  });

  it('complete(count) finishes several records at once', () => {
    const t = new AckTracker();
    const m = t.open('0', 3);
    t.add(m, 3);
    t.release(m);
    t.complete(m, 2);
    expect(m.done).toBe(false);
    t.complete(m, 1);
    expect(m.done).toBe(true);
    expect(t.inFlight).toBe(0);
  });

  it('weighs a message by its events, at least 1', () => {
    const t = new AckTracker();
    t.open('0', 0);
    expect(t.inFlight).toBe(1);
    t.open('1', 5);
    expect(t.inFlight).toBe(6);
    t.open('2', -3);
    expect(t.inFlight).toBe(7);
  });

  it('completing a finished message again changes nothing (in-flight never goes negative)', () => {
    const advances: bigint[] = [];
    const t = new AckTracker((n) => advances.push(n));
    const a = t.open('0', 1);
    const b = t.open('1', 1);
    t.release(a);
    t.complete(a);
    t.complete(a, 5);
    expect(t.inFlight).toBe(1);
    expect(advances).toEqual([1n]);
    t.release(b);
    expect(t.inFlight).toBe(0);
    expect(advances).toEqual([1n, 2n]);
  });

  it('adding records to a finished message throws', () => {
    const t = new AckTracker();
    const m = t.open('0', 1);
    t.release(m);
    expect(() => t.add(m, 1)).toThrow(/finished/);
  });

  it('reports an advance only when the done prefix grows, to the offset after it', () => {
    const advances: bigint[] = [];
    const t = new AckTracker((n) => advances.push(n));
    const [a, b, c] = ['5', '6', '9'].map((o) => t.open(o, 1));
    t.release(b!);
    t.release(c!);
    expect(advances).toEqual([]);
    expect(t.committable).toBeUndefined();
    t.release(a!);
    expect(advances).toEqual([10n]);
    expect(t.committable).toBe(10n);
  });

  it('rejects an offset that does not follow: equal, lower, or below the committed prefix', () => {
    const t = new AckTracker();
    t.open('5', 1);
    expect(() => t.open('5', 1)).toThrow(/does not follow/);
    expect(() => t.open('4', 1)).toThrow(/does not follow/);
    expect(() => t.open('6', 1)).not.toThrow();
  });

  it('accepts only offsets beyond the last tracked one (redeliveries are refused)', () => {
    const t = new AckTracker();
    expect(t.accepts('0')).toBe(true);
    const m = t.open('7', 1);
    expect(t.accepts('7')).toBe(false);
    expect(t.accepts('6')).toBe(false);
    expect(t.accepts('8')).toBe(true);
    t.release(m);
    expect(t.accepts('7')).toBe(false);
    expect(t.accepts('8')).toBe(true);
  });

  it('compacts its queue past 1024 done messages and still tracks offsets across it', () => {
    const advances: bigint[] = [];
    const t = new AckTracker((n) => advances.push(n));
    const tickets = [];
    for (let i = 0; i < 1100; i++) tickets.push(t.open(String(i), 1));
    for (const m of tickets.slice(0, 1050)) t.release(m);
    expect(t.committable).toBe(1050n);
    expect(t.inFlight).toBe(50);
    for (const m of tickets.slice(1050)) t.release(m);
    expect(t.committable).toBe(1100n);
    expect(advances).toHaveLength(1100);
    expect(advances.at(-1)).toBe(1100n);
    expect(t.inFlight).toBe(0);
    // After compaction the queue is empty: the committed prefix still guards the offsets.
    expect(t.accepts('1099')).toBe(false);
    expect(t.accepts('1100')).toBe(true);
    expect(() => t.open('1099', 1)).toThrow(/does not follow/);
    const next = t.open('1100', 1);
    t.release(next);
    expect(t.committable).toBe(1101n);
    // A gap after compaction: done out of order, committed in order.
    const [x, y] = [t.open('1200', 1), t.open('1201', 1)];
    t.release(y);
    expect(t.committable).toBe(1101n);
    t.release(x);
    expect(t.committable).toBe(1202n);
  });

  it('compacts while messages are still in flight (a long done prefix behind a slow tail)', () => {
    const t = new AckTracker();
    const tickets = [];
    for (let i = 0; i < 3000; i++) tickets.push(t.open(String(i), 1));
    for (const m of tickets.slice(0, 2000)) t.release(m);
    expect(t.committable).toBe(2000n);
    t.release(tickets[2500]!);
    expect(t.committable).toBe(2000n);
    for (const m of tickets.slice(2000)) t.release(m);
    expect(t.committable).toBe(3000n);
    expect(t.inFlight).toBe(0);
  });

  it('whenIdle resolves only once nothing is in flight', async () => {
    const t = new AckTracker();
    await expect(settled(t.whenIdle())).resolves.toBe(true);
    const a = t.open('0', 1);
    const b = t.open('1', 1);
    const idle = t.whenIdle();
    t.release(b);
    expect(await settled(idle)).toBe(false);
    t.release(a);
    expect(await settled(idle)).toBe(true);
  });

  it('goes idle again and again: each whenIdle resolves once, the next completion finds no stale waiter', async () => {
    const t = new AckTracker();
    for (let round = 0; round < 3; round++) {
      const m = t.open(String(round), 1);
      const idle = t.whenIdle();
      expect(await settled(idle)).toBe(false);
      expect(() => t.release(m)).not.toThrow();
      expect(await settled(idle)).toBe(true);
    }
    expect(t.committable).toBe(3n);
  });

  it('whenProgress resolves at the next completion of any message', async () => {
    const t = new AckTracker();
    await expect(settled(t.whenProgress())).resolves.toBe(true);
    const a = t.open('0', 1);
    const b = t.open('1', 1);
    const progress = t.whenProgress();
    t.add(a, 1);
    t.release(a);
    expect(await settled(progress)).toBe(false);
    t.release(b); // not the head: no advance, still progress
    expect(await settled(progress)).toBe(true);
    const idle = t.whenIdle();
    expect(await settled(idle)).toBe(false);
  });

  it('wakeAll wakes idle and progress waiters', async () => {
    const t = new AckTracker();
    t.open('0', 1);
    const idle = t.whenIdle();
    const progress = t.whenProgress();
    expect(await settled(idle)).toBe(false);
    t.wakeAll();
    expect(await settled(idle)).toBe(true);
    expect(await settled(progress)).toBe(true);
  });

  it('after a compaction that empties the queue, the committed prefix alone refuses old offsets', () => {
    const t = new AckTracker();
    const tickets = [];
    for (let i = 0; i < 1100; i++) tickets.push(t.open(String(i), 1));
    for (const m of tickets.slice(1)) t.release(m);
    expect(t.committable).toBeUndefined();
    t.release(tickets[0]!); // the whole queue is done at once: compacted to nothing
    expect(t.committable).toBe(1100n);
    expect(t.accepts('1099')).toBe(false);
    expect(t.accepts('1100')).toBe(true);
    expect(() => t.open('1099', 1)).toThrow(/does not follow/);
    expect(() => t.open('1050', 1)).toThrow(/does not follow/);
    expect(() => t.open('1100', 1)).not.toThrow();
  });

  it('after wakeAll the tracker goes on: later completions and waiters work', async () => {
    const t = new AckTracker();
    const m = t.open('0', 1);
    void t.whenIdle();
    void t.whenProgress();
    t.wakeAll();
    expect(() => t.release(m)).not.toThrow();
    expect(t.committable).toBe(1n);
    const n = t.open('1', 1);
    const idle = t.whenIdle();
    t.wakeAll();
    expect(await settled(idle)).toBe(true);
    expect(() => t.release(n)).not.toThrow();
  });
});
