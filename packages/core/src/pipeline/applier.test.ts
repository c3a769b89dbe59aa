import { describe, expect, it } from 'vitest';
import type {
  ChangeEvent,
  SinkInstance,
  SinkRecord,
  SluiceError,
  WriteResult,
} from '@sluice/plugin-api';
import { quietLogger } from '../../test/support/pipeline.js';
import { AckTracker } from './ackTracker.js';
import { Applier, type ApplierEntry, type ApplierSettings } from './applier.js';
import { writeConflictKeys } from './conflictKeys.js';
import { SinkHandle } from './connection.js';
import type { OrderingMode } from './settings.js';

function event(id: string, kind: 'row' | 'ddl' = 'row', table = 't'): ChangeEvent {
  const base = {
    destination: 'd',
    database: 'db',
    table,
    columns: {},
    executedAt: 0,
    producedAt: 0,
    position: { source: 'd', partition: '0', offset: id, index: 0 },
  };
  if (kind === 'ddl')
    return { ...base, kind: 'ddl', type: 'ALTER', sql: 'ALTER TABLE t ADD c INT', pkNames: [] };
  return {
    ...base,
    kind: 'row',
    type: 'INSERT',
    pkNames: ['id'],
    changed: [],
    after: { id },
  };
}

const tracker = new AckTracker();
let offset = 0;
function entry(
  id: string,
  opts: { bytes?: number; kind?: 'row' | 'ddl'; ordering?: OrderingMode; table?: string } = {},
): ApplierEntry {
  const e = event(id, opts.kind, opts.table);
  const slots = { key: 0, key2: 0 };
  const table = `${e.database}.${e.table}`;
  const barrier = writeConflictKeys(e, opts.ordering ?? 'per-key', table, slots);
  return {
    event: e,
    mapping: undefined,
    ...slots,
    table,
    barrier,
    coalescible: false,
    bytes: opts.bytes ?? 10,
    ticket: tracker.open(String(offset++), 1),
    origin: { partition: '0', offset: id, payload: '' },
  };
}

class FakeSink {
  readonly batches: string[][] = [];
  readonly times: number[] = [];
  onWrite: (batch: readonly SinkRecord[]) => void = () => undefined;
  async connect(): Promise<void> {}
  async write(batch: readonly SinkRecord[]): Promise<WriteResult> {
    this.onWrite(batch);
    this.batches.push(
      batch.map((r) =>
        r.event.kind === 'ddl' ? `ddl:${r.event.table}` : String(r.event.after?.['id']),
      ),
    );
    this.times.push(Date.now());
    return batch.map(() => ({ status: 'applied' as const }));
  }
  async flush(): Promise<void> {}
  async close(): Promise<void> {}
}

const defaults: ApplierSettings = {
  lanes: 1,
  batchSize: 100,
  batchBytes: 1_000_000,
  lingerMs: 0,
  retries: 0,
  terminateOnException: false,
  retryBaseMs: 1,
  retryMaxMs: 2,
};

function setup(settings: Partial<ApplierSettings> = {}, signal = new AbortController().signal) {
  const sink = new FakeSink();
  const applied: ApplierEntry[] = [];
  const failures: (SluiceError | Error)[] = [];
  const applier = new Applier({
    sink: new SinkHandle('s1', sink as unknown as SinkInstance, quietLogger(), {
      baseMs: 1,
      maxMs: 2,
    }),
    settings: { ...defaults, ...settings },
    coalescing: false,
    signal,
    logger: quietLogger(),
    hooks: {
      applied: (entries) => applied.push(...entries),
      deadLetter: async () => true,
      fail: (error) => failures.push(error),
      observeWrite: () => undefined,
    },
  });
  return { sink, applier, applied, failures };
}

const within = <T>(p: Promise<T>, ms: number): Promise<T | 'late'> =>
  Promise.race([p, new Promise<'late'>((r) => setTimeout(() => r('late'), ms))]);

describe('Applier', () => {
  it('what is pushed together is one batch, cut at batchSize', async () => {
    const { sink, applier, applied } = setup({ batchSize: 2 });
    for (const id of ['1', '2', '3', '4', '5']) applier.push(entry(id));
    expect(applier.pending).toBe(5);
    await applier.whenIdle();
    expect(sink.batches).toEqual([['1', '2'], ['3', '4'], ['5']]);
    expect(applied).toHaveLength(5);
    expect(applier.pending).toBe(0);
  });

  it('cuts a batch at batchBytes (a batch exactly at the bound is kept), at least one record', async () => {
    const { sink, applier } = setup({ batchBytes: 20 });
    for (const id of ['1', '2', '3']) applier.push(entry(id, { bytes: 10 }));
    applier.push(entry('4', { bytes: 50 }));
    applier.push(entry('5', { bytes: 5 }));
    await applier.whenIdle();
    expect(sink.batches).toEqual([['1', '2'], ['3'], ['4'], ['5']]);
  });

  it('lingers for more records when a batch is not full', async () => {
    const { sink, applier } = setup({ lingerMs: 150 });
    applier.push(entry('1'));
    await new Promise((r) => setTimeout(r, 20));
    applier.push(entry('2'));
    await applier.whenIdle();
    expect(sink.batches).toEqual([['1', '2']]);
  });

  it('does not linger with a full batch, nor with lingerMs 0', async () => {
    const full = setup({ lingerMs: 60_000, batchSize: 2 });
    full.applier.push(entry('1'));
    full.applier.push(entry('2'));
    expect(await within(full.applier.whenIdle(), 2_000)).toBeUndefined();
    expect(full.sink.batches).toEqual([['1', '2']]);

    const none = setup({ lingerMs: 0 });
    none.applier.push(entry('1'));
    await new Promise((r) => setTimeout(r, 20));
    none.applier.push(entry('2'));
    await none.applier.whenIdle();
    expect(none.sink.batches).toEqual([['1'], ['2']]);
  });

  it('with lingerMs 0 a lane writes what is queued at once, without a timer turn', async () => {
    // A record pushed from the next timer callback comes after the first batch was cut: waiting
    // for even a 0 ms timer would let it join.
    const { sink, applier } = setup({ lingerMs: 0 });
    applier.push(entry('1'));
    setTimeout(() => applier.push(entry('2')), 0);
    await new Promise((r) => setTimeout(r, 20));
    await applier.whenIdle();
    expect(sink.batches).toEqual([['1'], ['2']]);
  });

  it('an abort while lingering writes nothing and ends whenIdle', async () => {
    const stop = new AbortController();
    const { sink, applier } = setup({ lingerMs: 60_000 }, stop.signal);
    applier.push(entry('1'));
    const idle = applier.whenIdle();
    expect(await within(idle, 30)).toBe('late');
    stop.abort(new Error('shutdown'));
    expect(await within(idle, 2_000)).toBeUndefined();
    await new Promise((r) => setTimeout(r, 20));
    expect(sink.batches).toEqual([]);
    expect(await within(applier.whenIdle(), 100)).toBeUndefined();
  });

  it('whenIdle resolves at once when nothing is pending', async () => {
    const { applier } = setup();
    expect(await within(applier.whenIdle(), 100)).toBeUndefined();
  });

  it('a DDL is written alone under every ordering (partition ordering too: it is no barrier there)', async () => {
    for (const ordering of ['per-key', 'table', 'partition'] as const) {
      const { sink, applier } = setup({ lanes: 4 });
      applier.push(entry('1', { ordering }));
      applier.push(entry('0', { kind: 'ddl', ordering }));
      applier.push(entry('2', { ordering }));
      await applier.whenIdle();
      expect(sink.batches.flat(), ordering).toEqual(['1', 'ddl:t', '2']);
      expect(
        sink.batches.find((b) => b.includes('ddl:t')),
        ordering,
      ).toEqual(['ddl:t']);
    }
  });

  it('runs lanes in parallel: a slow lane does not hold back another lane', async () => {
    const { sink, applier } = setup({ lanes: 8 });
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => (release = r));
    const writes: string[] = [];
    sink.onWrite = (batch) => {
      writes.push(String(batch[0]!.event.kind === 'row' ? batch[0]!.event.after?.['id'] : ''));
    };
    const original = sink.write.bind(sink);
    sink.write = async (batch) => {
      if (batch.some((r) => r.event.kind === 'row' && r.event.after?.['id'] === 'slow')) await gate;
      return original(batch);
    };
    applier.push(entry('slow'));
    // Find an id that lands on another lane than "slow": with 8 lanes one of 40 surely does.
    for (let i = 0; i < 40; i++) applier.push(entry(`k${i}`));
    await new Promise((r) => setTimeout(r, 50));
    expect(sink.batches.flat().length).toBeGreaterThan(0);
    expect(sink.batches.flat()).not.toContain('slow');
    release();
    await applier.whenIdle();
    expect(sink.batches.flat()).toHaveLength(41);
  });

  it('a crash in a lane stops the pipeline with SLUICE_ERR_PIPELINE_STOPPED', async () => {
    const { applier, failures } = setup();
    const bad = entry('1');
    Object.defineProperty(bad, 'event', {
      get() {
        throw new Error('boom');
      },
    });
    applier.push(bad);
    await new Promise((r) => setTimeout(r, 50));
    expect(failures).toHaveLength(1);
    expect((failures[0] as SluiceError).code).toBe('SLUICE_ERR_PIPELINE_STOPPED');
    expect(failures[0]!.message).toMatch(/Applier of sink "s1" crashed: boom/);
  });
});
