import { describe, expect, it } from 'vitest';
import {
  ErrorCodes,
  FatalError,
  NotConnectedError,
  classifyError,
  type SinkInstance,
  type SluiceError,
  type SourceInstance,
} from '@sluice/plugin-api';
import { quietLogger } from '../../test/support/pipeline.js';
import { SinkHandle, SourceHandle } from './connection.js';
import { maxAttempts } from './retry.js';

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

function flakySource(
  failures: number,
  error: () => Error = () => new NotConnectedError('ECONNREFUSED'),
) {
  const source = {
    connects: 0,
    async connect() {
      source.connects += 1;
      if (source.connects <= failures) throw error();
    },
    run: async () => {},
    commit: async () => {},
    close: async () => {},
  } satisfies SourceInstance & { connects: number };
  return source;
}

describe('SourceHandle.connect', () => {
  const never = new AbortController().signal;

  it('retries a source that is not reachable yet, logging each retry', async () => {
    const lines: string[] = [];
    const source = flakySource(3);
    const handle = new SourceHandle('"kafka" (destination "t")', source, {
      logger: quietLogger(lines),
      backoff: { baseMs: 2, maxMs: 4 },
      maxAttempts: Number.POSITIVE_INFINITY,
    });
    await handle.connect(never);
    expect(source.connects).toBe(4);
    expect(handle.connected).toBe(true);
    expect(lines.filter((l) => l.includes('could not connect; retrying')).length).toBe(3);
    expect(lines.some((l) => /^info Source "kafka" \(destination "t"\) connected\./.test(l))).toBe(
      true,
    );
  });

  it('gives up after canal retries with a SOURCE error code, not a sink one', async () => {
    const source = flakySource(Number.POSITIVE_INFINITY);
    const handle = new SourceHandle('"kafka"', source, {
      logger: quietLogger(),
      backoff: { baseMs: 1, maxMs: 1 },
      maxAttempts: maxAttempts(3),
    });
    const error = await handle.connect(never).then(
      () => undefined,
      (e: unknown) => e as SluiceError,
    );
    expect(source.connects).toBe(3);
    expect(error?.code).toBe(ErrorCodes.sourceConnect);
    expect(error?.message).toMatch(
      /^Source "kafka" could not connect \(3 attempt\(s\)\): ECONNREFUSED/,
    );
    expect(classifyError(error)).toBe('fatal');
    expect(handle.connected).toBe(false);
  });

  it('does not retry a fatal connect error', async () => {
    const source = flakySource(Number.POSITIVE_INFINITY, () => new FatalError('SASL failed'));
    const handle = new SourceHandle('"kafka"', source, {
      logger: quietLogger(),
      backoff: { baseMs: 1, maxMs: 1 },
    });
    await expect(handle.connect(never)).rejects.toMatchObject({
      code: ErrorCodes.sourceConnect,
      message: expect.stringMatching(/SASL failed/) as unknown,
    });
    expect(source.connects).toBe(1);
  });
});

describe('SinkHandle.connect errors', () => {
  it('a fatal connect error becomes SLUICE_ERR_SINK_CONNECT naming the sink', async () => {
    const sink = flakySink(0);
    sink.connect = async () => {
      throw new FatalError('unknown database');
    };
    const handle = new SinkHandle('es1', sink, quietLogger(), { baseMs: 1, maxMs: 1 });
    await expect(handle.connect(new AbortController().signal)).rejects.toMatchObject({
      code: ErrorCodes.sinkConnect,
      message: 'Sink "es1" could not connect (1 attempt(s)): unknown database',
    });
  });
});
