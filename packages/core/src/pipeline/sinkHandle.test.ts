import { describe, expect, it } from 'vitest';
import { NotConnectedError, type SinkInstance } from '@sluice/plugin-api';
import { quietLogger } from '../../test/support/pipeline.js';
import { SinkHandle } from './sinkHandle.js';

function flakySink(failures: number): SinkInstance & { connects: number } {
  const sink = {
    connects: 0,
    async connect() {
      sink.connects += 1;
      if (sink.connects <= failures) throw new NotConnectedError('connection refused');
    },
    write: async () => [],
    flush: async () => {},
    close: async () => {},
  };
  return sink;
}

describe('SinkHandle.connect', () => {
  it('a caller that gives up does not abort the reconnect other callers wait for', async () => {
    const sink = flakySink(3);
    const handle = new SinkHandle('s', sink, quietLogger(), { baseMs: 5, maxMs: 5 });
    const revoked = new AbortController(); // e.g. the applier of a partition being revoked
    const other = new AbortController(); // the applier of a partition that stays
    const first = handle.connect(revoked.signal);
    const second = handle.connect(other.signal);
    revoked.abort(new Error('Partition 0 abandoned.'));
    await expect(first).rejects.toThrow(/Partition 0 abandoned/);
    await expect(second).resolves.toBeUndefined();
    expect(sink.connects).toBe(4);
  });

  it('stops trying once every caller gave up', async () => {
    const sink = flakySink(Number.POSITIVE_INFINITY);
    const handle = new SinkHandle('s', sink, quietLogger(), { baseMs: 5, maxMs: 5 });
    const a = new AbortController();
    const waiting = handle.connect(a.signal);
    a.abort(new Error('stop'));
    await expect(waiting).rejects.toThrow(/stop/);
    const n = sink.connects;
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(sink.connects).toBe(n);
  });
});
