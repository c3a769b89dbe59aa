import { describe, expect, it } from 'vitest';
import {
  FatalError,
  NotConnectedError,
  PermanentEventError,
  RetryableError,
  type RowChangeEvent,
  type SinkInstance,
  SluiceError,
  type SinkRecord,
  type WriteResult,
} from '@sluice/plugin-api';
import { quietLogger } from '../../test/support/pipeline.js';
import { BatchWriter, type BatchWriterSettings } from './batchWriter.js';
import type { CoalesceItem } from './coalesce.js';
import { SinkHandle } from './connection.js';

function update(id: string, v: string, changed = ['v']): RowChangeEvent {
  return {
    kind: 'row',
    type: 'UPDATE',
    destination: 'd',
    database: 'db',
    table: 't',
    pkNames: ['id'],
    columns: {},
    executedAt: 0,
    producedAt: 0,
    changed,
    before: { id, v: 'old' },
    after: { id, v },
    position: { source: 'd', partition: '0', offset: v, index: 0 },
  };
}
const item = (id: string, v = id): CoalesceItem => {
  const event = update(id, v);
  return { event, mapping: undefined, coalescible: true };
};
const idOf = (r: SinkRecord) => (r.event.kind === 'row' ? String(r.event.after?.['v']) : '');

type Script = (batch: readonly SinkRecord[], call: number) => WriteResult | Error;

function setup(
  script: Script,
  opts: {
    settings?: Partial<BatchWriterSettings>;
    coalescing?: boolean;
    signal?: AbortSignal;
    deadLetterOk?: boolean;
    connect?: () => Promise<void>;
    /** Replaces the SinkHandle's own connect (its retry loop), as a handle that fails otherwise. */
    handleConnect?: () => Promise<void>;
  } = {},
) {
  const calls: string[][] = [];
  const events: string[] = [];
  let connects = 0;
  const instance = {
    connect: async () => {
      connects += 1;
      await opts.connect?.();
    },
    write: async (batch: readonly SinkRecord[]) => {
      calls.push(batch.map(idOf));
      const r = script(batch, calls.length);
      if (r instanceof Error) throw r;
      return r;
    },
    flush: async () => undefined,
    close: async () => undefined,
  };
  const handle = new SinkHandle('s1', instance as unknown as SinkInstance, quietLogger(), {
    baseMs: 1,
    maxMs: 2,
  });
  if (opts.handleConnect) handle.connect = opts.handleConnect;
  const applied: string[] = [];
  const dead: { ids: string[]; reason: string; attempts: number }[] = [];
  const failures: SluiceError[] = [];
  const observed: number[] = [];
  const warnings: string[] = [];
  const writer = new BatchWriter<CoalesceItem>({
    sink: handle,
    settings: {
      retries: 3,
      terminateOnException: false,
      retryBaseMs: 1,
      retryMaxMs: 2,
      ...opts.settings,
    },
    coalescing: opts.coalescing ?? false,
    signal: opts.signal ?? new AbortController().signal,
    logger: quietLogger(warnings),
    hooks: {
      applied: (items) => {
        applied.push(...items.map((i) => idOf(i)));
        events.push(`applied ${items.length}`);
      },
      deadLetter: async (items, reason, attempts) => {
        dead.push({ ids: items.map((i) => idOf(i)), reason, attempts });
        events.push(`dead ${items.length}`);
        return opts.deadLetterOk ?? true;
      },
      fail: (error) => failures.push(error as SluiceError),
      observeWrite: (seconds, records) => {
        // Seconds, not milliseconds or a timestamp: a test's write takes well under a second.
        expect(seconds).toBeGreaterThanOrEqual(0);
        expect(seconds).toBeLessThan(5);
        observed.push(records);
      },
    },
  });
  return {
    writer,
    calls,
    applied,
    dead,
    failures,
    observed,
    warnings,
    events,
    connects: () => connects,
  };
}
const ok = (batch: readonly SinkRecord[]): WriteResult =>
  batch.map(() => ({ status: 'applied' as const }));

describe('BatchWriter', () => {
  it('writes a batch once and reports every item applied', async () => {
    const t = setup(ok);
    await t.writer.write([item('1'), item('2')]);
    expect(t.calls).toEqual([['1', '2']]);
    expect(t.applied).toEqual(['1', '2']);
    expect(t.observed).toEqual([2]);
    expect(t.dead).toEqual([]);
    expect(t.failures).toEqual([]);
  });

  it('coalesces per key when enabled, and reports every member applied', async () => {
    const t = setup(ok, { coalescing: true });
    await t.writer.write([item('1', 'a'), item('1', 'b'), item('2', 'c')]);
    expect(t.calls).toEqual([['b', 'c']]);
    expect(t.applied).toEqual(['a', 'b', 'c']);
    const plain = setup(ok);
    await plain.writer.write([item('1', 'a'), item('1', 'b')]);
    expect(plain.calls).toEqual([['a', 'b']]);
  });

  it('retries a transient failure and logs each retry', async () => {
    const t = setup((b, n) => (n < 3 ? new RetryableError('busy') : ok(b)));
    await t.writer.write([item('1')]);
    expect(t.calls).toHaveLength(3);
    expect(t.applied).toEqual(['1']);
    expect(t.warnings.filter((w) => w.includes('write failed; retrying'))).toHaveLength(2);
    expect(t.warnings[0]).toMatch(/"attempt":1,"records":1,"error":"busy"/);
  });

  it('retries 0 means one attempt, then the dead-letter queue with the reason and attempts', async () => {
    const t = setup(() => new RetryableError('down'), { settings: { retries: 0 } });
    await t.writer.write([item('1'), item('2')]);
    expect(t.calls).toHaveLength(1);
    expect(t.dead).toEqual([
      { ids: ['1', '2'], reason: 'write failed after 1 attempt(s): down', attempts: 1 },
    ]);
    expect(t.applied).toEqual([]);
    expect(t.warnings.at(-1)).toBe(
      'error Sink "s1" failed after 1 attempt(s); the batch goes to the dead-letter queue. {"records":2,"error":"down"}',
    );
    const three = setup(() => new RetryableError('down'), { settings: { retries: 3 } });
    await three.writer.write([item('1')]);
    expect(three.calls).toHaveLength(3);
    expect(three.dead[0]!.attempts).toBe(3);
  });

  it('contention (countsAsAttempt: false) does not use up retries: retried until it passes, nothing dead-lettered', async () => {
    const t = setup(
      (b, n) => (n <= 4 ? new RetryableError('Deadlock found', { countsAsAttempt: false }) : ok(b)),
      { settings: { retries: 0 } },
    );
    await t.writer.write([item('1'), item('2')]);
    expect(t.calls).toHaveLength(5);
    expect(t.dead).toEqual([]);
    expect(t.applied).toEqual(['1', '2']);
    // …while a counted failure after them still ends in the dead-letter queue after `retries`.
    const mixed = setup(
      (_b, n) =>
        n <= 2
          ? new RetryableError('Deadlock found', { countsAsAttempt: false })
          : new RetryableError('down'),
      { settings: { retries: 2 } },
    );
    await mixed.writer.write([item('1')]);
    expect(mixed.calls).toHaveLength(4);
    expect(mixed.dead).toEqual([
      { ids: ['1'], reason: 'write failed after 4 attempt(s): down', attempts: 4 },
    ]);
  });

  it('with terminateOnException the last failure stops the pipeline instead', async () => {
    const t = setup(() => new RetryableError('down'), {
      settings: { retries: 2, terminateOnException: true },
    });
    await t.writer.write([item('1')]);
    expect(t.dead).toEqual([]);
    expect(t.failures).toHaveLength(1);
    expect(t.failures[0]!.code).toBe('SLUICE_ERR_FATAL');
    expect(t.failures[0]!.message).toMatch(/failed after 2 attempt\(s\) and terminateOnException/);
  });

  it('reconnects after a NotConnectedError, then writes again', async () => {
    const t = setup((b, n) => (n === 1 ? new NotConnectedError('gone') : ok(b)));
    await t.writer.write([item('1')]);
    expect(t.connects()).toBe(1);
    expect(t.calls).toHaveLength(2);
    expect(t.applied).toEqual(['1']);
    // A retryable error does not reconnect.
    const r = setup((b, n) => (n === 1 ? new RetryableError('busy') : ok(b)));
    await r.writer.write([item('1')]);
    expect(r.connects()).toBe(0);
  });

  it('an outage (NotConnectedError) does not use up retries: with retries 0 the batch is written after the reconnect', async () => {
    const t = setup((b, n) => (n <= 2 ? new NotConnectedError('gone') : ok(b)), {
      settings: { retries: 0 },
    });
    await t.writer.write([item('1')]);
    expect(t.connects()).toBe(2);
    expect(t.calls).toHaveLength(3);
    expect(t.dead).toEqual([]);
    expect(t.applied).toEqual(['1']);
  });

  it('a failed reconnect stops the pipeline with SLUICE_ERR_SINK_CONNECT (a fatal one as it is)', async () => {
    const t = setup(() => new NotConnectedError('gone'), {
      connect: async () => {
        throw new FatalError('bad password');
      },
    });
    await t.writer.write([item('1')]);
    expect(t.failures).toHaveLength(1);
    expect(t.failures[0]!.code).toBe('SLUICE_ERR_SINK_CONNECT');
    expect(t.dead).toEqual([]);
    expect(t.applied).toEqual([]);
  });

  it('a reconnect that fails with something other than a fatal SluiceError stops the pipeline as SLUICE_ERR_SINK_CONNECT; a fatal SluiceError as it is', async () => {
    const plain = setup(() => new NotConnectedError('gone'), {
      handleConnect: () => Promise.reject(new Error('socket hang up')),
    });
    await plain.writer.write([item('1')]);
    expect(plain.failures).toHaveLength(1);
    expect(plain.failures[0]!.code).toBe('SLUICE_ERR_SINK_CONNECT');
    expect(plain.failures[0]!.message).toBe(
      'Sink "s1" could not connect (1 attempt(s)): socket hang up',
    );
    // A SluiceError that is not fatal is wrapped too.
    const down = setup(() => new NotConnectedError('gone'), {
      handleConnect: () => Promise.reject(new NotConnectedError('still down')),
    });
    await down.writer.write([item('1')]);
    expect(down.failures.map((f) => [f.code, f.message])).toEqual([
      ['SLUICE_ERR_SINK_CONNECT', 'Sink "s1" could not connect (1 attempt(s)): still down'],
    ]);
    const fatal = new SluiceError('SLUICE_ERR_FATAL', 'handle gave up');
    const own = setup(() => new NotConnectedError('gone'), {
      handleConnect: () => Promise.reject(fatal),
    });
    await own.writer.write([item('1')]);
    expect(own.failures).toEqual([fatal]);
    expect(own.applied).toEqual([]);
    expect(own.dead).toEqual([]);
  });

  it('an empty batch writes nothing', async () => {
    const t = setup(ok);
    await t.writer.write([]);
    await setup(ok, { coalescing: true }).writer.write([]);
    expect(t.calls).toEqual([]);
    expect(t.events).toEqual([]);
  });

  it('a thrown null or undefined (a plugin bug) is retried like any unknown error', async () => {
    for (const thrown of [null, undefined]) {
      const t = setup((b, n) => {
        if (n === 1) throw thrown;
        return ok(b);
      });
      await t.writer.write([item('1')]);
      expect(t.calls).toHaveLength(2);
      expect(t.applied).toEqual(['1']);
      expect(t.failures).toEqual([]);
    }
  });

  it('a fatal write error stops the pipeline and reports nothing', async () => {
    const t = setup(() => new FatalError('no such index'));
    await t.writer.write([item('1')]);
    expect(t.calls).toHaveLength(1);
    expect(t.failures).toHaveLength(1);
    expect(t.failures[0]!.code).toBe('SLUICE_ERR_FATAL');
    expect(t.failures[0]!.message).toMatch(/Sink "s1" failed: no such index/);
    expect(t.dead).toEqual([]);
    expect(t.applied).toEqual([]);
  });

  it('a batch rejected as a whole is halved down to the record that goes to the dead-letter queue', async () => {
    const t = setup((b) =>
      b.some((r) => idOf(r) === '3') ? new PermanentEventError('bad row') : ok(b),
    );
    await t.writer.write(['1', '2', '3', '4', '5'].map((id) => item(id)));
    expect(t.calls).toEqual([
      ['1', '2', '3', '4', '5'],
      ['1', '2', '3'],
      ['1', '2'],
      ['3'],
      ['4', '5'],
    ]);
    expect(t.applied).toEqual(['1', '2', '4', '5']);
    expect(t.dead).toEqual([{ ids: ['3'], reason: 'bad row', attempts: 1 }]);
    expect(t.warnings.filter((w) => w.includes('splitting it to find the record'))[0]).toMatch(
      /"records":5,"error":"bad row"/,
    );
  });

  it('a coalesced batch rejected as a whole is halved with its members: those of the bad record are dead-lettered, the others applied', async () => {
    const t = setup(
      (b) => (b.some((r) => idOf(r) === 'c') ? new PermanentEventError('bad row') : ok(b)),
      { coalescing: true },
    );
    await t.writer.write([item('1', 'a'), item('1', 'b'), item('2', 'c'), item('3', 'd')]);
    expect(t.calls).toEqual([['b', 'c', 'd'], ['b', 'c'], ['b'], ['c'], ['d']]);
    expect(t.applied).toEqual(['a', 'b', 'd']);
    expect(t.dead).toEqual([{ ids: ['c'], reason: 'bad row', attempts: 1 }]);
  });

  it('per-record failures go to the dead-letter queue grouped by reason; the rest is applied', async () => {
    const t = setup((b) =>
      b.map((r) =>
        idOf(r) === '2' || idOf(r) === '4'
          ? { status: 'failed' as const, error: new Error('too long') }
          : idOf(r) === '3'
            ? { status: 'failed' as const, error: new Error('bad date') }
            : { status: 'applied' as const },
      ),
    );
    await t.writer.write(['1', '2', '3', '4'].map((id) => item(id)));
    expect(t.applied).toEqual(['1']);
    expect(t.dead).toEqual([
      { ids: ['2', '4'], reason: 'too long', attempts: 1 },
      { ids: ['3'], reason: 'bad date', attempts: 1 },
    ]);
    expect(t.events).toEqual(['applied 1', 'dead 2', 'dead 1']);
  });

  it('a failed outcome without an error (a plugin bug) is dead-lettered with a stated reason', async () => {
    const t = setup((b) => b.map(() => ({ status: 'failed' }) as unknown as WriteResult[number]));
    await t.writer.write([item('1')]);
    expect(t.dead).toEqual([{ ids: ['1'], reason: 'rejected by the sink', attempts: 1 }]);
  });

  it('coalescing merges insert … delete of a row into the delete: still written, every member applied', async () => {
    const insert = item('1', 'a');
    const del = item('1', 'b');
    const event = del.event as RowChangeEvent;
    (del as { event: RowChangeEvent }).event = {
      ...event,
      type: 'DELETE',
      before: event.after,
      after: undefined,
      changed: [],
    };
    (insert as { event: RowChangeEvent }).event = {
      ...(insert.event as RowChangeEvent),
      type: 'INSERT',
      before: undefined,
    };
    const types: string[] = [];
    const t = setup(
      (b) => {
        types.push(...b.map((r) => (r.event.kind === 'row' ? r.event.type : 'ddl')));
        return ok(b);
      },
      { coalescing: true },
    );
    await t.writer.write([insert, del]);
    expect(types).toEqual(['DELETE']);
    expect(t.events).toEqual(['applied 2']);
  });

  it('stops dead-lettering when a dead-letter write is abandoned', async () => {
    const t = setup(
      (b) =>
        b.map((r) => ({
          status: 'failed' as const,
          error: new Error(`reason ${idOf(r)}`),
        })),
      { deadLetterOk: false },
    );
    await t.writer.write([item('1'), item('2')]);
    expect(t.dead.map((d) => d.reason)).toEqual(['reason 1']);
  });

  it('a result of the wrong length is retried, then stops the pipeline (a plugin bug)', async () => {
    const t = setup((b, n) => (n === 1 ? ok(b).slice(1) : ok(b)));
    await t.writer.write([item('1'), item('2')]);
    expect(t.calls).toHaveLength(2);
    expect(t.applied).toEqual(['1', '2']);
    expect(t.observed).toEqual([2]);

    const bad = setup((b) => [...ok(b), ...ok(b)], { settings: { retries: 2 } });
    await bad.writer.write([item('1')]);
    expect(bad.calls).toHaveLength(2);
    expect(bad.failures).toHaveLength(1);
    expect(bad.failures[0]!.code).toBe('SLUICE_ERR_PIPELINE_STOPPED');
    expect(bad.failures[0]!.message).toMatch(
      /returned 2 outcomes for a batch of 1 records.*stopped after 2 attempt/,
    );
    expect(bad.applied).toEqual([]);
    expect(bad.dead).toEqual([]);
  });

  it('a sparse result of the right length (a plugin bug) never counts its holes as applied', async () => {
    // [APPLIED, <hole>]: the length matches, the second outcome is missing. The write fails (the
    // applier stops the pipeline on it) and neither record is reported applied.
    const t = setup((b) => {
      const result: WriteResult[number][] = new Array(b.length);
      result[0] = { status: 'applied' };
      return result;
    });
    await expect(t.writer.write([item('1'), item('2')])).rejects.toThrow(TypeError);
    expect(t.applied).toEqual([]);
    expect(t.dead).toEqual([]);
  });

  it('an abort abandons the batch: nothing applied, dead-lettered or failed', async () => {
    const stop = new AbortController();
    const t = setup(
      () => {
        stop.abort(new Error('revoked'));
        return new RetryableError('interrupted');
      },
      { signal: stop.signal },
    );
    await t.writer.write([item('1')]);
    expect(t.applied).toEqual([]);
    expect(t.dead).toEqual([]);
    expect(t.failures).toEqual([]);
  });

  it('an abort during a split stops before the second half', async () => {
    const stop = new AbortController();
    const t = setup(
      (b) => {
        if (b.length === 1) stop.abort(new Error('revoked'));
        return new PermanentEventError('bad');
      },
      { signal: stop.signal },
    );
    await t.writer.write([item('1'), item('2')]);
    expect(t.calls).toEqual([['1', '2'], ['1']]);
  });
});
