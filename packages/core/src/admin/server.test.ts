import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { EtlResult, Logger } from '@sluice/plugin-api';
import { MetricsRegistry } from '../observability/metrics.js';
import type { AdminEtlRequest, AdminRuntime, SwitchState } from './adminRuntime.js';
import { CLOSE_GRACE_MS, startAdminServer, type AdminServer } from './server.js';

const quiet: Logger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
  child: () => quiet,
};

/** A runtime with one destination `example` whose rdb sink `rdb1` owns `mytest_user.yml`. */
class FakeRuntime implements AdminRuntime {
  tryEtlLock?: AdminRuntime['tryEtlLock'];
  readonly switches = new Map<string, SwitchState>([['example', 'on']]);
  readonly switchLog: string[] = [];
  readonly etlCalls: AdminEtlRequest[] = [];
  readonly metrics = new MetricsRegistry();
  etlGate: Promise<void> = Promise.resolve();
  etlResult: EtlResult = { rows: 3, errors: [] };
  ready = true;
  destinations = () => ['example'];
  syncSwitch = (d: string): SwitchState => this.switches.get(d) ?? 'off';
  setSyncSwitch = async (d: string, s: SwitchState) => {
    this.switchLog.push(`${d}:${s}`);
    this.switches.set(d, s);
  };
  health = () => [{ name: 'sink rdb1', ok: this.ready, ...(this.ready ? {} : { reason: 'down' }) }];
  findTask = (type: string, key: string | undefined, task: string) =>
    type === 'rdb' && (key === undefined || key === 'rdb1') && task === 'mytest_user.yml'
      ? ({ found: true, destination: 'example', key: 'rdb1' } as const)
      : ({ found: false, reason: `Task not found: ${type}/${key ?? '-'}/${task}.` } as const);
  etl = async (request: AdminEtlRequest): Promise<EtlResult> => {
    this.etlCalls.push(request);
    request.onProgress(1);
    await Promise.race([
      this.etlGate,
      new Promise((_, reject) =>
        request.signal.addEventListener('abort', () => reject(new Error('aborted')), {
          once: true,
        }),
      ),
    ]);
    return this.etlResult;
  };
  // A sink's field named like one of the answer's own keys must not replace it.
  count = async () => ({ count: 42, fields: { targetTable: '`mytest`.`user`', count: 'x' } });
  status = () => ({
    version: '0.0.0-test',
    startedAt: '2026-12-01T00:00:00.000Z',
    uptimeSeconds: 5,
    deadLetterQueue: 'file /tmp/dlq',
    pipelines: [],
  });
}

let server: AdminServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function start(runtime: AdminRuntime, token?: string): Promise<AdminServer> {
  server = await startAdminServer(runtime, {
    port: 0,
    logger: quiet,
    ...(token ? { token } : {}),
  });
  return server;
}

async function call(
  s: AdminServer,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: string,
) {
  const r = await fetch(s.url + path, { method, headers, ...(body ? { body } : {}) });
  const text = await r.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: r.status, text, json, headers: r.headers };
}

describe('admin API: canal-adapter endpoints', () => {
  it('lists destinations with their switch, and switches them like canal', async () => {
    const rt = new FakeRuntime();
    const s = await start(rt);
    expect((await call(s, 'GET', '/destinations')).json).toEqual([
      { destination: 'example', status: 'on' },
    ]);
    // canal's exact Result bodies (CommonRest.java, null fields omitted), HTTP 200.
    expect((await call(s, 'PUT', '/syncSwitch/example/off')).json).toEqual({
      code: 20000,
      message: '实例: example 关闭同步成功',
    });
    // canal ≤ 1.1.7's typo key and 1.1.8's fixed one, both.
    expect((await call(s, 'GET', '/syncSwitch/example')).json).toEqual({
      stauts: 'off',
      status: 'off',
    });
    expect((await call(s, 'GET', '/syncSwitch/unknown')).json).toEqual({
      stauts: 'off',
      status: 'off',
    });
    expect((await call(s, 'PUT', '/syncSwitch/example/maybe')).json).toEqual({
      code: 50000,
      message: '实例: example 操作失败',
    });
    expect((await call(s, 'PUT', '/syncSwitch/unknown/on')).json).toEqual({
      code: 50000,
      message: '实例: unknown 操作失败',
    });
    const on = await call(s, 'PUT', '/syncSwitch/example/on');
    expect(on.status).toBe(200);
    expect(on.json).toEqual({ code: 20000, message: '实例: example 开启同步成功' });
    expect(rt.switchLog).toEqual(['example:off', 'example:on']);
  });

  it('runs an ETL with canal params (split on ;), pausing the destination while it runs', async () => {
    const rt = new FakeRuntime();
    const s = await start(rt);
    const r = await call(s, 'POST', '/etl/rdb/rdb1/mytest_user.yml?params=2024-01-01;%20x');
    expect(r.json).toEqual({ succeeded: true, resultMessage: 'Imported 3 rdb rows.' });
    expect(rt.etlCalls[0]!.params).toEqual(['2024-01-01', ' x']);
    expect(rt.switchLog).toEqual(['example:off', 'example:on']);
    const form = await call(
      s,
      'POST',
      '/etl/rdb/mytest_user.yml',
      { 'content-type': 'application/x-www-form-urlencoded' },
      'params=a%3Bb',
    );
    expect(form.json).toMatchObject({ succeeded: true });
    expect(rt.etlCalls[1]!.params).toEqual(['a', 'b']);
  });

  it('reports ETL errors in canal shape and leaves an off switch off', async () => {
    const rt = new FakeRuntime();
    rt.switches.set('example', 'off');
    rt.etlResult = { rows: 1, errors: ['row 7: Data too long'] };
    const s = await start(rt);
    const r = await call(s, 'POST', '/etl/rdb/rdb1/mytest_user.yml');
    expect(r.json).toEqual({ succeeded: false, errorMessage: 'row 7: Data too long' });
    expect(rt.switchLog).toEqual([]);
  });

  it('answers "Task not found" for an unknown task and validates path segments', async () => {
    const s = await start(new FakeRuntime());
    const r = await call(s, 'POST', '/etl/rdb/rdb1/nope.yml');
    expect(r.status).toBe(404);
    expect(r.json).toMatchObject({
      succeeded: false,
      errorMessage: expect.stringMatching(/Task not found/),
    });
    for (const bad of [
      '/etl/rdb/rdb1/..',
      '/count/rdb/rdb1/a%2F..%2Fb',
      "/count/rdb/x';drop/t.yml",
    ]) {
      const b = await call(s, bad.startsWith('/etl') ? 'POST' : 'GET', bad);
      expect(b.status, bad).toBeGreaterThanOrEqual(400);
      expect(b.status, bad).toBeLessThan(500);
    }
  });

  it('runs long ETLs as jobs with a status URL, one per (type, destination), cancellable', async () => {
    const rt = new FakeRuntime();
    let release!: () => void;
    rt.etlGate = new Promise((r) => (release = r));
    const s = await start(rt);
    const started = await call(s, 'POST', '/etl/rdb/rdb1/mytest_user.yml?async=true');
    expect(started.status).toBe(202);
    const { jobId, statusUrl } = started.json as { jobId: string; statusUrl: string };
    const status = await call(s, 'GET', statusUrl);
    expect(status.json).toMatchObject({
      id: jobId,
      state: 'running',
      rows: 1,
      destination: 'example',
    });
    const busy = await call(s, 'POST', '/etl/rdb/rdb1/mytest_user.yml');
    expect(busy.status).toBe(409);
    // canal's EtlResult for a held lock, word for word (CommonRest.java).
    expect(busy.json).toEqual({
      succeeded: false,
      errorMessage: 'mytest_user.yml 有其他进程正在导入中, 请稍后再试',
    });
    expect((await call(s, 'DELETE', statusUrl)).status).toBe(202);
    for (let i = 0; i < 50; i++) {
      const st = (await call(s, 'GET', statusUrl)).json as { state: string };
      if (st.state !== 'running') break;
      await new Promise((r) => setTimeout(r, 10));
    }
    expect((await call(s, 'GET', statusUrl)).json).toMatchObject({ state: 'cancelled' });
    expect(rt.switchLog).toEqual(['example:off', 'example:on']);
    // The header form of ?async=true, and the list of this process's jobs (newest first).
    const second = await call(s, 'POST', '/etl/rdb/rdb1/mytest_user.yml', {
      prefer: 'respond-async',
    });
    expect(second.status).toBe(202);
    const secondId = (second.json as { jobId: string }).jobId;
    expect(secondId).not.toBe(jobId);
    const list = await call(s, 'GET', '/etl/jobs');
    expect((list.json as { id: string; state: string }[]).map((j) => [j.id, j.state])).toEqual([
      [secondId, 'running'],
      [jobId, 'cancelled'],
    ]);
    await call(s, 'DELETE', `/etl/jobs/${secondId}`);
    release();
  });

  it('takes the runtime’s distributed ETL lock: refused with canal’s answer when held elsewhere, released when the job ends', async () => {
    const rt = new FakeRuntime();
    const held = new Set<string>();
    const calls: string[] = [];
    let down = false;
    rt.tryEtlLock = async (type: string, destination: string) => {
      const name = `${type}-${destination}`;
      calls.push(name);
      if (down) throw new Error('ZooKeeper did not answer');
      if (held.has(name)) return undefined;
      held.add(name);
      return { release: async () => void held.delete(name) };
    };
    const s = await start(rt);
    held.add('rdb-example'); // another process holds it
    const refused = await call(s, 'POST', '/etl/rdb/rdb1/mytest_user.yml');
    expect(refused.status).toBe(409);
    expect(refused.json).toEqual({
      succeeded: false,
      errorMessage: 'mytest_user.yml 有其他进程正在导入中, 请稍后再试',
    });
    expect(rt.etlCalls).toHaveLength(0);
    expect(rt.switchLog).toEqual([]);
    held.delete('rdb-example'); // the other process finished
    const ok = await call(s, 'POST', '/etl/rdb/mytest_user.yml');
    expect(ok.json).toEqual({ succeeded: true, resultMessage: 'Imported 3 rdb rows.' });
    expect(calls).toEqual(['rdb-example', 'rdb-example']);
    expect(held.size).toBe(0); // released after the job
    // A failing ETL releases it too.
    rt.etl = async () => {
      throw new Error('boom');
    };
    expect((await call(s, 'POST', '/etl/rdb/mytest_user.yml')).json).toMatchObject({
      succeeded: false,
    });
    expect(held.size).toBe(0);
    // ZooKeeper unreachable: refused with the reason, nothing run, the switch untouched.
    down = true;
    rt.switchLog.length = 0;
    const unavailable = await call(s, 'POST', '/etl/rdb/mytest_user.yml');
    expect(unavailable.status).toBe(503);
    expect((unavailable.json as { errorMessage: string }).errorMessage).toContain(
      'ZooKeeper did not answer',
    );
    expect(rt.switchLog).toEqual([]);
  });

  it('reports a job ended only after the switch is back on and its locks are released', async () => {
    const rt = new FakeRuntime();
    let releaseStarted!: () => void;
    const releasing = new Promise<void>((r) => (releaseStarted = r));
    let finishRelease!: () => void;
    const released = new Promise<void>((r) => (finishRelease = r));
    rt.tryEtlLock = async () => ({
      release: async () => {
        releaseStarted();
        await released;
      },
    });
    const s = await start(rt);
    const started = await call(s, 'POST', '/etl/rdb/rdb1/mytest_user.yml?async=true');
    const { statusUrl } = started.json as { statusUrl: string };
    try {
      await releasing; // the ETL is done; ZooKeeper has not yet confirmed the lock node's removal
      expect(rt.switchLog).toEqual(['example:off', 'example:on']);
      const during = (await call(s, 'GET', statusUrl)).json as Record<string, unknown>;
      expect(during['state']).toBe('running');
      expect(during['endedAt']).toBeUndefined();
      expect((await call(s, 'POST', '/etl/rdb/rdb1/mytest_user.yml')).status).toBe(409);
    } finally {
      finishRelease(); // also when an expectation failed: the server's close waits for the job
    }
    let after: Record<string, unknown> = { state: 'running' };
    for (let i = 0; i < 50 && after['state'] === 'running'; i++) {
      await new Promise((r) => setTimeout(r, 5));
      after = (await call(s, 'GET', statusUrl)).json as Record<string, unknown>;
    }
    expect(after).toMatchObject({ state: 'succeeded', rows: 3, errors: [] });
    expect(after['endedAt']).toEqual(expect.any(String));
  });

  it('counts a mapping target', async () => {
    const s = await start(new FakeRuntime());
    expect((await call(s, 'GET', '/count/rdb/rdb1/mytest_user.yml')).json).toEqual({
      targetTable: '`mytest`.`user`',
      count: 42,
      type: 'rdb',
      key: 'rdb1',
      task: 'mytest_user.yml',
    });
    expect((await call(s, 'GET', '/count/rdb/mytest_user.yml')).json).toMatchObject({ count: 42 });
  });
});

describe('admin API: health, metrics, security', () => {
  it('serves liveness, readiness and Prometheus metrics', async () => {
    const rt = new FakeRuntime();
    rt.metrics.increment('events_applied_total', { sink: 'rdb1', table: 'db.t' }, 5);
    const s = await start(rt);
    expect((await call(s, 'GET', '/health/live')).status).toBe(200);
    expect((await call(s, 'GET', '/health/ready')).status).toBe(200);
    rt.ready = false;
    const notReady = await call(s, 'GET', '/health/ready');
    expect(notReady.status).toBe(503);
    expect(notReady.json).toMatchObject({
      checks: [{ name: 'sink rdb1', ok: false, reason: 'down' }],
    });
    const m = await call(s, 'GET', '/metrics');
    expect(m.headers.get('content-type')).toContain('text/plain');
    expect(m.text).toContain('sluice_events_applied_total{sink="rdb1",table="db.t"} 5');
  });

  it('requires the bearer token on everything but liveness when one is set', async () => {
    const rt = new FakeRuntime();
    const s = await start(rt, 's3cret');
    expect((await call(s, 'GET', '/health/live')).status).toBe(200);
    for (const [method, path] of [
      ['GET', '/destinations'],
      ['GET', '/metrics'],
      ['PUT', '/syncSwitch/example/off'],
      ['POST', '/etl/rdb/rdb1/mytest_user.yml'],
    ] as const) {
      expect((await call(s, method, path)).status, path).toBe(401);
      expect((await call(s, method, path, { authorization: 'Bearer wrong' })).status).toBe(401);
    }
    expect(rt.switchLog).toEqual([]);
    expect(rt.etlCalls).toEqual([]);
    expect((await call(s, 'GET', '/destinations', { authorization: 'Bearer s3cret' })).status).toBe(
      200,
    );
  });

  it('refuses to listen on a non-loopback address without a token', async () => {
    await expect(
      startAdminServer(new FakeRuntime(), { host: '0.0.0.0', port: 0, logger: quiet }),
    ).rejects.toThrow(/without a token/);
  });

  it('closes in bounded time while a client holds a connection with half a request', async () => {
    const s = await startAdminServer(new FakeRuntime(), { port: 0, logger: quiet });
    const { hostname, port } = new URL(s.url);
    const socket = connect(Number(port), hostname);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve).once('error', reject);
    });
    socket.write('GET /status HTTP/1.1\r\nHost: x\r\n'); // the headers never end
    const ended = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    await new Promise((r) => setTimeout(r, 50));
    const started = performance.now();
    await s.close();
    const took = performance.now() - started;
    await ended; // the server cut it
    expect(took).toBeGreaterThanOrEqual(CLOSE_GRACE_MS - 50);
    expect(took).toBeLessThan(CLOSE_GRACE_MS + 3_000);
  });

  it('answers unknown endpoints with a JSON 404', async () => {
    const s = await start(new FakeRuntime());
    const r = await call(s, 'GET', '/druid/index.html');
    expect(r.status).toBe(404);
    expect(r.json).toMatchObject({ code: 'not-found' });
  });
});
