import { setImmediate as tick } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import {
  APPLIED,
  FatalError,
  NotConnectedError,
  PermanentEventError,
  RetryableError,
  type SinkRecord,
  type SourceHandler,
  type SourceInstance,
  type SourceRunOptions,
} from '@sluice/plugin-api';
import { MetricsRegistry } from '../metrics.js';
import {
  MemoryDeadLetters,
  MemorySource,
  RecordingSink,
  deferred,
  flat,
  quietLogger,
} from '../../test/support/pipeline.js';
import { PipelineEngine, YIELD_BYTES, type EngineSink } from './engine.js';
import type { PipelineSettings } from './settings.js';

const insert = (id: string, table = 't') =>
  flat({ type: 'INSERT', table, data: [{ id, v: `v${id}` }] });
const idOf = (r: SinkRecord) =>
  r.event.kind === 'row' ? (r.event.after ?? r.event.before)?.['id'] : undefined;

function setup(options: {
  partitions: Record<string, string[]>;
  sinks: EngineSink[];
  settings?: Partial<PipelineSettings>;
  sourceBatch?: number;
  firstOffset?: bigint;
  clock?: { now(): number };
}) {
  const source = new MemorySource(options.partitions, {
    batchSize: options.sourceBatch ?? 10,
    firstOffset: options.firstOffset ?? 0n,
  });
  const dlq = new MemoryDeadLetters();
  const metrics = new MetricsRegistry();
  const lines: string[] = [];
  const engine = new PipelineEngine({
    destination: 'example',
    groupId: 'g1',
    format: 'flat',
    source,
    sinks: options.sinks,
    deadLetter: dlq,
    logger: quietLogger(lines),
    metrics,
    settings: { commitIntervalMs: 0, retryBaseMs: 0, retryMaxMs: 0, ...options.settings },
    ...(options.clock ? { clock: options.clock } : {}),
  });
  const controller = new AbortController();
  return {
    source,
    dlq,
    metrics,
    lines,
    engine,
    controller,
    run: () => engine.run({ once: true, signal: controller.signal }),
  };
}

/** A small seeded PRNG (mulberry32), for reproducible scheduling noise. */
function mulberry(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function until(condition: () => boolean, limit = 10_000): Promise<void> {
  for (let i = 0; i < limit && !condition(); i++) {
    if (i % 50 === 49) await new Promise((resolve) => setTimeout(resolve, 1));
    else await tick();
  }
  if (!condition()) throw new Error('condition never became true');
}

describe('PipelineEngine acknowledgement', () => {
  it('never commits past a message that is still being applied, then commits everything', async () => {
    const gate = deferred();
    const sink = new RecordingSink({
      script: async (batch) => {
        if (batch.some((r) => idOf(r) === '3')) await gate.promise;
        return undefined;
      },
    });
    const { source, run } = setup({
      partitions: { p: ['1', '2', '3', '4', '5', '6'].map((id) => insert(id)) },
      sinks: [{ key: 's', instance: sink }],
      settings: { batchSize: 1 },
    });
    const running = run();
    await until(() => sink.applied.length === 5);
    // Messages 0,1 (ids 1,2) done; message 2 (id 3) blocked; 3..5 applied out of order.
    await until(() => source.committed.get('p') !== undefined);
    for (let i = 0; i < 20; i++) await tick();
    expect(source.committed.get('p')).toBe('2');
    gate.resolve();
    await running;
    expect(source.committed.get('p')).toBe('6');
    expect(sink.flushes).toBeGreaterThanOrEqual(1);
  });

  it('commits an offset only once every record below it was flushed (a buffering sink loses nothing)', async () => {
    const sink = new RecordingSink({ random: mulberry(7) });
    const { source, run } = setup({
      partitions: { p: Array.from({ length: 40 }, (_, i) => insert(String(i % 7))) },
      sinks: [{ key: 's', instance: sink }],
      settings: { batchSize: 3, lanes: 4 },
      sourceBatch: 5,
    });
    const checked: string[] = [];
    const violations: string[] = [];
    const commit = source.commit.bind(source);
    source.commit = async (partition, nextOffset) => {
      const durable = new Set(sink.durable.map((r) => r.event.position.offset));
      for (let o = 0n; o < BigInt(nextOffset); o++) {
        if (!durable.has(o.toString()))
          violations.push(`offset ${o} committed (next ${nextOffset}) before it was flushed`);
      }
      checked.push(nextOffset);
      return commit(partition, nextOffset);
    };
    await run();
    expect(violations).toEqual([]);
    expect(source.committed.get('p')).toBe('40');
    expect(checked.length).toBeGreaterThan(0);
  });

  it('commits offsets beyond 2^53 exactly, and a message that decoded to no events', async () => {
    const sink = new RecordingSink();
    const empty = JSON.stringify({
      data: [],
      database: 'db',
      table: 't',
      type: 'INSERT',
      isDdl: false,
      es: 1,
      ts: 1,
      pkNames: ['id'],
    });
    const { source, run } = setup({
      partitions: { p: [insert('1'), empty] },
      sinks: [{ key: 's', instance: sink }],
      firstOffset: 2n ** 60n,
    });
    await run();
    expect(source.committed.get('p')).toBe((2n ** 60n + 2n).toString());
  });

  it('waits for every sink of the group before a message is done', async () => {
    const gate = deferred();
    const fast = new RecordingSink();
    const slow = new RecordingSink({ script: async () => (await gate.promise, undefined) });
    const { source, run } = setup({
      partitions: { p: [insert('1')] },
      sinks: [
        { key: 'fast', instance: fast },
        { key: 'slow', instance: slow },
      ],
    });
    const running = run();
    await until(() => fast.applied.length === 1);
    for (let i = 0; i < 20; i++) await tick();
    expect(source.committed.get('p')).toBeUndefined();
    gate.resolve();
    await running;
    expect(source.committed.get('p')).toBe('1');
  });
});

describe('PipelineEngine metrics', () => {
  it('observes the apply lag once per sink write, with the lag of its oldest event', async () => {
    const sink = new RecordingSink();
    // Binlog times out of order within a write: the oldest is not the first.
    const es = [5_000, 3_000, 3_000, 7_000, 1_000, 9_000, 2_000, 4_000];
    const { metrics, run } = setup({
      partitions: {
        p: es.map((t, i) => flat({ type: 'INSERT', data: [{ id: String(i), v: 'x' }], es: t })),
      },
      sinks: [{ key: 's', instance: sink }],
      settings: { lanes: 1, batchSize: 3 },
      sourceBatch: 8,
      clock: { now: () => 10_000 },
    });
    await run();
    expect(sink.applied).toHaveLength(8);
    // The writes as the sink saw them; each one's oldest binlog time.
    const oldest: number[] = [];
    let at = 0;
    for (const n of sink.batches) {
      const times = sink.applied.slice(at, at + n).map((r) => r.event.executedAt);
      expect(new Set(times).size, 'a write mixing binlog times').toBeGreaterThan(1);
      oldest.push(Math.min(...times));
      at += n;
    }
    expect(oldest).toEqual([3_000, 1_000, 2_000]);
    const text = await metrics.exposition();
    expect(text).toContain('sluice_apply_lag_seconds_count{destination="example",groupId="g1"} 3');
    // (10 000 − 3 000) + (10 000 − 1 000) + (10 000 − 2 000) ms
    expect(
      metrics.value('sluice_apply_lag_seconds', { destination: 'example', groupId: 'g1' }),
    ).toBe(24);
  });
});

describe('PipelineEngine failures', () => {
  it('dead-letters a poison event with its context while the other events flow', async () => {
    const sink = new RecordingSink({
      script: (batch) =>
        batch.map((r) =>
          idOf(r) === '2'
            ? { status: 'failed', error: new PermanentEventError('duplicate key') }
            : APPLIED,
        ),
    });
    const { source, dlq, metrics, run } = setup({
      partitions: { p: ['1', '2', '3'].map((id) => insert(id)) },
      sinks: [{ key: 'rdb1', instance: sink }],
    });
    await run();
    expect(sink.applied.map(idOf)).toEqual(['1', '3']);
    expect(dlq.records).toHaveLength(1);
    expect(dlq.records[0]).toMatchObject({
      destination: 'example',
      groupId: 'g1',
      partition: 'p',
      offset: '1',
      index: 0,
      sink: 'rdb1',
      reason: 'duplicate key',
      attempts: 1,
      payloadEncoding: 'utf8',
    });
    expect(JSON.parse(dlq.records[0]!.payload)).toMatchObject({ data: [{ id: '2' }] });
    expect(source.committed.get('p')).toBe('3');
    expect(
      metrics.value('sluice_events_dead_lettered_total', { sink: 'rdb1', table: 'db.t' }),
    ).toBe(1);
    expect(metrics.value('sluice_events_applied_total', { sink: 'rdb1', table: 'db.t' })).toBe(2);
  });

  it('splits a batch rejected as a whole (PermanentEventError thrown) down to the bad record, without retrying', async () => {
    const sink = new RecordingSink({
      script: (batch) => {
        if (batch.some((r) => idOf(r) === '6'))
          throw new PermanentEventError('row 6 violates a constraint');
        return undefined;
      },
    });
    const { dlq, source, run } = setup({
      partitions: { p: ['1', '2', '3', '4', '5', '6', '7', '8'].map((id) => insert(id)) },
      sinks: [{ key: 's', instance: sink }],
      settings: { batchSize: 8, lanes: 1, retries: -1 },
      sourceBatch: 8,
    });
    await run();
    expect(sink.applied.map(idOf)).toEqual(['1', '2', '3', '4', '5', '7', '8']);
    expect(dlq.records.map((r) => [r.offset, r.reason])).toEqual([
      ['5', 'row 6 violates a constraint'],
    ]);
    expect(sink.calls).toBeLessThanOrEqual(1 + 2 * Math.ceil(Math.log2(8)));
    expect(source.committed.get('p')).toBe('8');
  });

  it('retries a retryable failure and applies once it passes', async () => {
    const sink = new RecordingSink({
      script: (_b, call) => {
        if (call <= 2) throw new RetryableError('deadlock');
        return undefined;
      },
    });
    const { dlq, run } = setup({
      partitions: { p: [insert('1')] },
      sinks: [{ key: 's', instance: sink }],
      settings: { retries: 3 },
    });
    await run();
    expect(sink.calls).toBe(3);
    expect(sink.applied.map(idOf)).toEqual(['1']);
    expect(dlq.records).toEqual([]);
  });

  it('after the last attempt dead-letters the batch (terminateOnException false), never drops it', async () => {
    const sink = new RecordingSink({
      script: () => {
        throw new Error('timeout');
      },
    });
    const { source, dlq, run } = setup({
      partitions: { p: [insert('1'), insert('2')] },
      sinks: [{ key: 's', instance: sink }],
      settings: { retries: 2, lanes: 1 },
    });
    await run();
    expect(sink.calls).toBe(2);
    // attempts counts dead-letterings (plugin-api DeadLetterRecord); the reason says the writes.
    expect(dlq.records.map((r) => [r.offset, r.attempts])).toEqual([
      ['0', 1],
      ['1', 1],
    ]);
    expect(dlq.records[0]!.reason).toMatch(/write failed after 2 attempt\(s\): timeout/);
    expect(source.committed.get('p')).toBe('2');
  });

  it('retries forever with retries -1', async () => {
    const sink = new RecordingSink({
      script: (_b, call) => {
        if (call < 25) throw new Error('flaky');
        return undefined;
      },
    });
    const { dlq, run } = setup({
      partitions: { p: [insert('1')] },
      sinks: [{ key: 's', instance: sink }],
      settings: { retries: -1 },
    });
    await run();
    expect(sink.calls).toBe(25);
    expect(dlq.records).toEqual([]);
  });

  it('stops without committing the failed work when terminateOnException is true', async () => {
    const sink = new RecordingSink({
      script: (batch) => {
        if (batch.some((r) => idOf(r) === '2')) throw new Error('boom');
        return undefined;
      },
    });
    const { source, dlq, run } = setup({
      partitions: { p: ['1', '2', '3'].map((id) => insert(id)) },
      sinks: [{ key: 's', instance: sink }],
      settings: { retries: 2, terminateOnException: true, lanes: 1, batchSize: 1 },
      sourceBatch: 1,
    });
    await expect(run()).rejects.toThrow(
      /Sink "s" failed after 2 attempt\(s\) and terminateOnException is true.*boom/,
    );
    expect(dlq.records).toEqual([]);
    expect(source.committed.get('p')).toBe('1');
  });

  it('stops cleanly on a fatal error with the sink named', async () => {
    const sink = new RecordingSink({
      script: () => {
        throw new FatalError('access denied for user');
      },
    });
    const { source, run } = setup({
      partitions: { p: [insert('1')] },
      sinks: [{ key: 'rdb1', instance: sink }],
    });
    await expect(run()).rejects.toThrow(/Sink "rdb1" failed: access denied for user/);
    expect(sink.calls).toBe(1);
    expect(source.committed.get('p')).toBeUndefined();
  });

  it('connects the sinks in parallel: a sink stuck connecting does not hold the others up', async () => {
    const slow = new RecordingSink();
    const fast = new RecordingSink();
    const fastConnected = deferred();
    slow.connect = async () => {
      // Connected only once the other sink connected: a sequential connect would never get there.
      await fastConnected.promise;
      slow.connects += 1;
    };
    fast.connect = async () => {
      fast.connects += 1;
      fastConnected.resolve();
    };
    const { run } = setup({
      partitions: { p: [insert('1')] },
      sinks: [
        { key: 'slow', instance: slow },
        { key: 'fast', instance: fast },
      ],
    });
    await run();
    expect([slow.connects, fast.connects]).toEqual([1, 1]);
    expect(slow.applied.map(idOf)).toEqual(['1']);
  });

  it('a sink that cannot connect stops the connect loops of the others', async () => {
    const broken = new RecordingSink();
    const flaky = new RecordingSink();
    broken.connect = async () => {
      throw new FatalError('access denied');
    };
    flaky.connect = async () => {
      flaky.connects += 1;
      throw new NotConnectedError('refused');
    };
    const { run } = setup({
      partitions: { p: [insert('1')] },
      sinks: [
        { key: 'broken', instance: broken },
        { key: 'flaky', instance: flaky },
      ],
      settings: { retryBaseMs: 5, retryMaxMs: 5 },
    });
    await expect(run()).rejects.toMatchObject({ code: 'SLUICE_ERR_SINK_CONNECT' });
    const n = flaky.connects;
    await new Promise((resolve) => setTimeout(resolve, 40));
    expect(flaky.connects).toBe(n);
  });

  it('a fatal error aborts a routine flush that hangs instead of waiting out the shutdown timeout', async () => {
    let flushes = 0;
    const sink = new RecordingSink({
      script: (_b, call) => {
        if (call === 2) throw new FatalError('access denied');
        return undefined;
      },
    });
    sink.flush = async (signal?: AbortSignal) => {
      flushes += 1;
      if (flushes > 1) return;
      // The first (routine) flush hangs until its signal aborts.
      await new Promise<void>((_, reject) =>
        signal?.addEventListener('abort', () => reject(signal.reason as Error), { once: true }),
      );
    };
    const { run } = setup({
      partitions: { p: [insert('1'), insert('2')] },
      sinks: [{ key: 'rdb1', instance: sink }],
      sourceBatch: 1,
      // Before the fix a routine flush got a signal sized by shutdownTimeoutMs (60 s here).
      settings: { shutdownTimeoutMs: 60_000, retryMaxMs: 60_000, batchSize: 1 },
    });
    await expect(run()).rejects.toThrow(/access denied/);
    expect(flushes).toBeGreaterThanOrEqual(1);
  }, 10_000);

  it('reconnects after NotConnectedError, then retries', async () => {
    const sink = new RecordingSink({
      script: (_b, call) => {
        if (call === 1) throw new NotConnectedError('socket closed');
        return undefined;
      },
    });
    const { run } = setup({
      partitions: { p: [insert('1')] },
      sinks: [{ key: 's', instance: sink }],
    });
    await run();
    expect(sink.connects).toBe(2);
    expect(sink.applied.map(idOf)).toEqual(['1']);
  });

  it('treats a result of the wrong length as a failed batch: retried, then fatal', async () => {
    let short = true;
    const sink = new RecordingSink({ script: (batch) => (short ? [] : batch.map(() => APPLIED)) });
    const first = setup({
      partitions: { p: [insert('1')] },
      sinks: [{ key: 's', instance: sink }],
      settings: { retries: 3 },
    });
    const running = first.run();
    await until(() => sink.calls === 2);
    short = false;
    await running;
    expect(sink.applied.map(idOf)).toEqual(['1']);

    const bad = new RecordingSink({ script: () => [] });
    const second = setup({
      partitions: { p: [insert('1')] },
      sinks: [{ key: 'bad', instance: bad }],
      settings: { retries: 2 },
    });
    await expect(second.run()).rejects.toThrow(
      /Sink "bad" returned 0 outcomes for a batch of 1 records/,
    );
    expect(second.dlq.records).toEqual([]);
    expect(second.source.committed.get('p')).toBeUndefined();
  });

  it('dead-letters undecodable messages and waits for a failing dead-letter queue', async () => {
    const sink = new RecordingSink();
    const { source, dlq, run } = setup({
      partitions: { p: [insert('1'), '{not json', insert('3')] },
      sinks: [{ key: 's', instance: sink }],
    });
    dlq.failures = 3;
    await run();
    expect(dlq.attempts).toBe(4);
    expect(dlq.records).toHaveLength(1);
    expect(dlq.records[0]).toMatchObject({ offset: '1', payload: '{not json' });
    expect(dlq.records[0]!.reason).toMatch(/^undecodable message/);
    expect(dlq.records[0]!.sink).toBeUndefined();
    expect(source.committed.get('p')).toBe('3');
  });

  it('never advances past an event whose dead letter could not be written', async () => {
    const sink = new RecordingSink({
      script: (batch) =>
        batch.map((r) =>
          idOf(r) === '1' ? { status: 'failed', error: new Error('bad') } : APPLIED,
        ),
    });
    const { source, dlq, engine, controller } = setup({
      partitions: { p: [insert('1'), insert('2')] },
      sinks: [{ key: 's', instance: sink }],
      settings: { shutdownTimeoutMs: 0 },
    });
    dlq.failures = Number.POSITIVE_INFINITY;
    const running = engine.run({ once: false, signal: controller.signal });
    await until(() => dlq.attempts >= 5);
    controller.abort();
    await running;
    expect(sink.applied.map(idOf)).toEqual(['2']);
    expect(source.committed.get('p')).toBeUndefined();
  });
});

describe('PipelineEngine flow control', () => {
  it('resolves deliver only below maxInFlight (the source pauses)', async () => {
    const gate = deferred();
    const sink = new RecordingSink({ script: async () => (await gate.promise, undefined) });
    const { source, engine, run } = setup({
      partitions: { p: Array.from({ length: 20 }, (_, i) => insert(String(i))) },
      sinks: [{ key: 's', instance: sink }],
      settings: { maxInFlight: 5 },
      sourceBatch: 4,
    });
    const running = run();
    await until(() => source.delivered.get('p') === 1);
    for (let i = 0; i < 50; i++) await tick();
    // 4 in flight < 5: the second batch is taken up to 5 in flight, then waits (within the
    // batch: its other 3 messages are not decoded yet).
    expect(engine.inFlight('p')).toBe(5);
    expect(source.delivered.get('p')).toBe(1);
    gate.resolve();
    await running;
    expect(source.delivered.get('p')).toBe(5);
    expect(source.committed.get('p')).toBe('20');
  });

  it('lets the lanes write after every YIELD_BYTES of a delivered batch: a sink that keeps up holds a few hundred KiB decoded, not maxInFlight events', async () => {
    const seen: { read: number; inFlight: number }[] = [];
    let read = 0;
    const ref: { engine?: PipelineEngine } = {};
    const sink = new RecordingSink({
      script: () => {
        seen.push({ read, inFlight: ref.engine!.inFlight('p') });
        return undefined;
      },
    });
    const { engine } = setup({
      partitions: {},
      sinks: [{ key: 's', instance: sink }],
      settings: { maxInFlight: 10_000, lanes: 1 },
    });
    ref.engine = engine;
    await engine.assigned(['p']);
    // 40 one-row messages of a quarter of YIELD_BYTES each; the engine's reads are counted.
    const big = 'x'.repeat(YIELD_BYTES / 4);
    const payloads = Array.from({ length: 40 }, (_, i) =>
      flat({ type: 'INSERT', table: 't', data: [{ id: String(i), v: big }] }),
    );
    const messages = payloads.map((payload, i) =>
      Object.defineProperties(
        {},
        {
          offset: { get: () => ((read = Math.max(read, i + 1)), String(i)) },
          payload: { value: payload },
        },
      ),
    ) as { offset: string; payload: string }[];
    await engine.deliver({ partition: 'p', messages });
    await until(() => sink.applied.length === 40);
    // The first write came after about YIELD_BYTES (4 messages and the one that crossed it), long
    // before the 40th message; at most two such stretches were ever in flight (without the
    // yield: all 40 before the first write).
    expect(seen[0]!.read).toBeLessThanOrEqual(6);
    expect(Math.max(...seen.map((s) => s.inFlight))).toBeLessThanOrEqual(10);
    expect(sink.applied.map(idOf)).toEqual(payloads.map((_, i) => String(i)));
  });

  it('stops taking a batch midway when its partition is revoked while it waits for room', async () => {
    const gate = deferred();
    const sink = new RecordingSink({ script: async () => (await gate.promise, undefined) });
    const { source, engine } = setup({
      partitions: {},
      sinks: [{ key: 's', instance: sink }],
      settings: { maxInFlight: 2 },
    });
    await engine.assigned(['p']);
    let delivered = false;
    const delivering = engine
      .deliver({
        partition: 'p',
        messages: ['0', '1', '2', '3', '4'].map((id) => ({ offset: id, payload: insert(id) })),
      })
      .then(() => (delivered = true));
    for (let i = 0; i < 20; i++) await tick();
    expect(engine.inFlight('p')).toBe(2);
    expect(delivered).toBe(false);
    const revoking = engine.revoked(['p']);
    gate.resolve();
    await Promise.all([delivering, revoking]);
    // The two taken were applied and committed; the other three were never taken (a revoked
    // partition's messages are the next owner's).
    expect(sink.applied.map(idOf)).toEqual(['0', '1']);
    expect(source.committed.get('p')).toBe('2');
  });

  it('drains a revoked partition, commits what was applied, then forgets it', async () => {
    const gate = deferred();
    const sink = new RecordingSink({ script: async () => (await gate.promise, undefined) });
    const { source, engine } = setup({ partitions: {}, sinks: [{ key: 's', instance: sink }] });
    await engine.assigned(['p']);
    await engine.deliver({
      partition: 'p',
      messages: [
        { offset: '7', payload: insert('1') },
        { offset: '8', payload: insert('2') },
      ],
    });
    let revoked = false;
    const revoking = engine.revoked(['p']).then(() => (revoked = true));
    for (let i = 0; i < 20; i++) await tick();
    expect(revoked).toBe(false);
    gate.resolve();
    await revoking;
    expect(source.committed.get('p')).toBe('9');
    expect(engine.inFlight('p')).toBe(0);
    // Re-assigned: state is fresh (older offsets are accepted again).
    await engine.assigned(['p']);
    await engine.deliver({ partition: 'p', messages: [{ offset: '7', payload: insert('1') }] });
  });

  it('abandons a revoked partition that does not drain in time without committing it', async () => {
    const sink = new RecordingSink({ script: () => new Promise(() => {}) });
    const { source, engine } = setup({
      partitions: {},
      sinks: [{ key: 's', instance: sink }],
      settings: { shutdownTimeoutMs: 1 },
    });
    await engine.assigned(['p']);
    await engine.deliver({ partition: 'p', messages: [{ offset: '0', payload: insert('1') }] });
    await engine.revoked(['p']);
    expect(source.committed.get('p')).toBeUndefined();
  });

  it('on shutdown stops intake, drains the lanes, flushes and commits', async () => {
    const gate = deferred();
    const sink = new RecordingSink({ script: async () => (await gate.promise, undefined) });
    const { source, controller, engine } = setup({
      partitions: { p: ['1', '2', '3'].map((id) => insert(id)) },
      sinks: [{ key: 's', instance: sink }],
      sourceBatch: 1,
    });
    const running = engine.run({ once: false, signal: controller.signal });
    await until(() => source.delivered.get('p') === 3);
    controller.abort();
    for (let i = 0; i < 20; i++) await tick();
    expect(sink.flushes).toBe(0);
    gate.resolve();
    await running;
    expect(sink.applied).toHaveLength(3);
    expect(sink.durable).toHaveLength(3);
    expect(source.committed.get('p')).toBe('3');
  });

  it('abandons work still unfinished at the shutdown deadline without committing it', async () => {
    const sink = new RecordingSink({
      script: (batch) => (batch.some((r) => idOf(r) === '2') ? new Promise(() => {}) : undefined),
    });
    const { source, controller, engine } = setup({
      partitions: { p: ['1', '2'].map((id) => insert(id)) },
      sinks: [{ key: 's', instance: sink }],
      settings: { shutdownTimeoutMs: 1, lanes: 1, batchSize: 1 },
      sourceBatch: 1,
    });
    const running = engine.run({ once: false, signal: controller.signal });
    await until(() => sink.applied.length === 1 && source.delivered.get('p') === 2);
    controller.abort();
    await running;
    expect(source.committed.get('p')).toBe('1');
    expect(engine.abandoned).toBe(true);
  });

  it('--once waits for everything delivered to be applied, however long past the shutdown deadline', async () => {
    // The source has delivered everything (its run resolved) while the sink still works: a slow
    // or retrying target. The shutdown deadline (1 ms here) is for a stop, not for --once's end.
    const gate = deferred();
    const sink = new RecordingSink({
      script: async (batch) => {
        if (batch.some((r) => idOf(r) === '2')) await gate.promise;
        return undefined;
      },
    });
    const { source, engine, run } = setup({
      partitions: { p: ['1', '2', '3'].map((id) => insert(id)) },
      sinks: [{ key: 's', instance: sink }],
      settings: { shutdownTimeoutMs: 1, lanes: 1, batchSize: 1 },
      sourceBatch: 1,
    });
    let finished = false;
    const running = run().then(() => (finished = true));
    await until(() => source.delivered.get('p') === 3 && sink.applied.length === 1);
    await new Promise((r) => setTimeout(r, 50));
    expect(finished).toBe(false);
    gate.resolve();
    await running;
    expect(sink.applied.map(idOf)).toEqual(['1', '2', '3']);
    expect(source.committed.get('p')).toBe('3');
    expect(engine.abandoned).toBe(false);
  });
});

describe('PipelineEngine mappings', () => {
  const mapping = (name: string) => ({ file: `rdb/${name}`, name, config: { name } });

  it('routes one record per matching mapping, skips unmatched tables and swaps mappings at batch boundaries', async () => {
    const sink = new RecordingSink();
    const logger = new RecordingSink();
    const { source, engine, metrics } = setup({
      partitions: {},
      sinks: [
        {
          key: 'rdb1',
          instance: sink,
          routes: [
            {
              mapping: mapping('a.yml'),
              destination: 'example',
              groupId: 'g1',
              database: 'db',
              table: 't',
            },
            {
              mapping: mapping('b.yml'),
              destination: 'example',
              groupId: 'g1',
              database: 'db',
              table: 't',
            },
          ],
        },
        { key: 'logger', instance: logger },
      ],
    });
    await engine.deliver({
      partition: 'p',
      messages: [
        { offset: '0', payload: insert('1') },
        { offset: '1', payload: insert('2', 'other') },
      ],
    });
    await until(() => sink.applied.length === 2 && logger.applied.length === 2);
    expect(sink.applied.map((r) => [idOf(r), r.mapping?.name])).toEqual([
      ['1', 'a.yml'],
      ['1', 'b.yml'],
    ]);
    expect(logger.applied.map((r) => r.mapping)).toEqual([undefined, undefined]);
    expect(metrics.value('sluice_events_skipped_total', { sink: 'rdb1', table: 'db.other' })).toBe(
      1,
    );
    engine.replaceMappings('rdb1', [
      {
        mapping: mapping('c.yml'),
        destination: 'example',
        groupId: 'g1',
        database: 'db',
        table: 'other',
      },
    ]);
    await engine.deliver({
      partition: 'p',
      messages: [{ offset: '2', payload: insert('3', 'other') }],
    });
    await until(() => sink.applied.length === 3);
    expect(sink.applied[2]!.mapping?.name).toBe('c.yml');
    await until(() => source.committed.get('p') === '3');
  });

  it('coalesces per key when the sink declares it safe', async () => {
    const sink = new RecordingSink();
    const { run, source } = setup({
      partitions: {
        p: [
          insert('1'),
          flat({ type: 'UPDATE', data: [{ id: '1', v: 'x' }], old: [{ v: 'v1' }] }),
          insert('2'),
          flat({ type: 'DELETE', data: [{ id: '2', v: 'v2' }] }),
        ],
      },
      sinks: [{ key: 's', instance: sink, coalescing: true }],
      settings: { lanes: 1 },
    });
    await run();
    expect(sink.applied).toHaveLength(2);
    expect(sink.applied[0]!.event).toMatchObject({ type: 'INSERT', after: { id: '1', v: 'x' } });
    expect(sink.applied[1]!.event).toMatchObject({ type: 'DELETE', before: { id: '2' } });
    expect([...sink.state.values()]).toEqual([{ id: '1', v: 'x' }]);
    expect(source.committed.get('p')).toBe('4');
  });
});

describe('PipelineEngine coalescing and crash replay', () => {
  it('a replayed insert-then-delete still deletes the row an earlier run applied', async () => {
    // Run 1 applied INSERT id=1 and crashed before committing; run 2 replays from the committed
    // offset and gets INSERT id=1 and DELETE id=1 in one batch. The source no longer has the row.
    const sink = new RecordingSink();
    sink.state.set('db.t#1', { id: '1', v: 'v1' });
    const { run } = setup({
      partitions: { p: [insert('1'), flat({ type: 'DELETE', data: [{ id: '1', v: 'v1' }] })] },
      sinks: [{ key: 's', instance: sink, coalescing: true }],
      settings: { lanes: 1 },
    });
    await run();
    expect([...sink.state.keys()]).toEqual([]);
  });
});

describe('PipelineEngine replay override', () => {
  const mapping = (name: string) => ({ file: `rdb/${name}`, name, config: { name } });
  const route = (name: string) => ({
    mapping: mapping(name),
    destination: 'example',
    groupId: 'g1',
    database: 'db',
    table: 't',
  });

  it('applies a dead letter only to the mapping that failed, not to the others of its sink', async () => {
    // Row 1 failed in mapping a.yml and was applied by b.yml; b.yml has since applied newer
    // images of row 1. Replaying the old image into b.yml too would overwrite them.
    const sink = new RecordingSink();
    const source = new MemorySource({ replay: [insert('1')] });
    const engine = new PipelineEngine({
      destination: 'example',
      groupId: 'g1',
      format: 'flat',
      source,
      sinks: [{ key: 'rdb1', instance: sink, routes: [route('a.yml'), route('b.yml')] }],
      deadLetter: new MemoryDeadLetters(),
      logger: quietLogger(),
      metrics: new MetricsRegistry(),
      settings: { commitIntervalMs: 0 },
      messageOverride: () => ({ sinks: ['rdb1'], index: 0, mapping: 'rdb/a.yml' }),
    });
    await engine.run({ once: true, signal: new AbortController().signal });
    expect(sink.applied.map((r) => r.mapping?.file)).toEqual(['rdb/a.yml']);
  });
});

/**
 * A source with an acknowledgement window, like RabbitMQ's prefetch: it delivers one message at
 * a time while fewer than `window` are uncommitted, then waits for a commit. With `ask`, it calls
 * `requestCommit` once half the window is uncommitted.
 */
class WindowSource implements SourceInstance {
  committed = 0n;
  readonly commits: string[] = [];
  delivered = 0;
  #wake: (() => void) | undefined;

  constructor(
    readonly total: number,
    readonly window: number,
    readonly ask: boolean,
  ) {}

  async connect(): Promise<void> {}

  async run(handler: SourceHandler, options: SourceRunOptions): Promise<void> {
    let next = 0n;
    while (next < BigInt(this.total) && !options.signal.aborted) {
      if (next - this.committed >= BigInt(this.window)) {
        await new Promise<void>((resolve) => {
          this.#wake = resolve;
          options.signal.addEventListener('abort', () => resolve(), { once: true });
        });
        continue;
      }
      await handler.deliver({
        partition: 'p',
        messages: [{ offset: next.toString(), payload: insert(String(next)) }],
      });
      next += 1n;
      this.delivered += 1;
      if (this.ask && next - this.committed >= BigInt(this.window / 2))
        handler.requestCommit?.('p');
    }
  }

  async commit(_partition: string, nextOffset: string): Promise<void> {
    this.committed = BigInt(nextOffset);
    this.commits.push(nextOffset);
    this.#wake?.();
  }

  async close(): Promise<void> {}
}

describe('PipelineEngine commit cadence', () => {
  const engineFor = (source: WindowSource) =>
    new PipelineEngine({
      destination: 'example',
      groupId: 'g1',
      format: 'flat',
      source,
      sinks: [{ key: 's', instance: new RecordingSink() }],
      deadLetter: new MemoryDeadLetters(),
      logger: quietLogger([]),
      metrics: new MetricsRegistry(),
      // An hour: no commit comes from the interval during the test.
      settings: { commitIntervalMs: 3_600_000, retryBaseMs: 0, retryMaxMs: 0 },
    });

  it('a full window waits for the commit interval when the source does not ask', async () => {
    const source = new WindowSource(40, 8, false);
    const controller = new AbortController();
    const running = engineFor(source).run({ once: false, signal: controller.signal });
    await until(() => source.delivered === 8);
    for (let i = 0; i < 200; i++) await tick();
    expect(source.delivered).toBe(8);
    expect(source.commits).toEqual([]);
    controller.abort();
    await running;
    expect(source.commits).toEqual(['8']); // the shutdown commit
  });

  it('commits at once when the source asks (requestCommit), so the window keeps moving', async () => {
    const source = new WindowSource(40, 8, true);
    const controller = new AbortController();
    const running = engineFor(source).run({ once: false, signal: controller.signal });
    await until(() => source.delivered === 40);
    // Several commits while running (the window of 8 moved 40 messages: at least 4 of them).
    expect(source.commits.length).toBeGreaterThanOrEqual(4);
    controller.abort();
    await running;
    expect(source.commits.at(-1)).toBe('40');
  });

  it('ignores a request for a partition it does not hold', () => {
    const engine = engineFor(new WindowSource(1, 1, true));
    expect(() => engine.requestCommit('nope')).not.toThrow();
  });
});
