/**
 * Issue 15, the admin API of a running `sluice start`: canal-adapter's endpoints with its JSON
 * shapes, the bearer token, /metrics after a workload, /status, the sync switch pausing a
 * Kafka → MariaDB stream, and an ETL over the API while the stream runs ending with the target
 * equal to the source. Bad input (path traversal, SQL in params) is refused and changes nothing.
 */
import { mkdtemp, mkdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeFlatMessage, type FlatMessage } from '@sluice/canal-protocol';
import { kafkaBroker, mysqlEndpoint, uniqueName } from '../support/testbed.js';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { SluiceProcess, sluiceBin } from './support/sluice.js';
import { useE2eServices } from './support/verify.js';

const e2e = useE2eServices();
const TOKEN = 'admin-test-token-1234';
const source = uniqueName('adm_src');
const target = uniqueName('adm_tgt');
const topic = uniqueName('adm_topic');
const groupId = uniqueName('g');
let my: mysql.Connection;
let sluice: SluiceProcess;
let url: string;
let configDir: string;

const auth = { authorization: `Bearer ${TOKEN}` };
const get = (path: string, headers: Record<string, string> = auth) =>
  fetch(url + path, { headers });
const send = (method: string, path: string, body?: string) =>
  fetch(url + path, {
    method,
    headers: {
      ...auth,
      ...(body !== undefined ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
    },
    ...(body !== undefined ? { body } : {}),
  });

let messageId = 0;
function insert(rows: { id: number; name: string; score: string }[]): string {
  const message: FlatMessage = {
    id: ++messageId,
    database: source,
    table: 'user',
    pkNames: ['id'],
    isDdl: false,
    type: 'INSERT',
    es: Date.now(),
    ts: Date.now(),
    sql: '',
    sqlType: { id: 4, name: 12, score: 3 },
    mysqlType: { id: 'int', name: 'varchar(40)', score: 'decimal(10,2)' },
    data: rows.map((r) => ({ id: String(r.id), name: r.name, score: r.score })),
    old: null,
  };
  return encodeFlatMessage(message);
}

async function rowsOf(db: string): Promise<unknown[]> {
  const [rows] = await my.query(`SELECT id, name, score FROM \`${db}\`.user ORDER BY id`);
  return rows as unknown[];
}

async function until(check: () => Promise<boolean>, what: string, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 150));
  }
  throw new Error(`timed out waiting for ${what}\n${sluice.tail()}`);
}

const countIn = async (db: string) =>
  Number(
    ((await my.query(`SELECT COUNT(*) AS n FROM \`${db}\`.user`))[0] as { n: number }[])[0]!.n,
  );

beforeAll(async () => {
  const e = mysqlEndpoint();
  my = await mysql.createConnection({
    host: e.host,
    port: e.port,
    user: e.user,
    password: e.password,
    multipleStatements: true,
    decimalNumbers: false,
  });
  for (const db of [source, target]) {
    await my.query(`CREATE DATABASE \`${db}\` DEFAULT CHARACTER SET utf8mb4`);
    await my.query(
      `CREATE TABLE \`${db}\`.user (id int PRIMARY KEY, name varchar(40) NOT NULL, score decimal(10,2))`,
    );
  }
  await e2e.kafka.createTopic(topic, 1);
  const dir = await mkdtemp(join(tmpdir(), 'sluice-admin-'));
  configDir = dir;
  await mkdir(join(dir, 'rdb'));
  await writeFile(
    join(dir, 'application.yml'),
    `server:
  port: 8081
canal.conf:
  mode: kafka
  flatMessage: true
  syncBatchSize: 100
  consumerProperties:
    kafka.bootstrap.servers: ${kafkaBroker()}
    kafka.auto.offset.reset: earliest
    kafka.fetch.max.wait.ms: "100"
  srcDataSources:
    defaultDS:
      url: jdbc:mysql://${e.host}:${e.port}/${source}?useUnicode=true
      username: ${e.user}
      password: "${e.password}"
  canalAdapters:
  - instance: ${topic}
    groups:
    - groupId: ${groupId}
      outerAdapters:
      - name: rdb
        key: mysql1
        properties:
          jdbc.url: jdbc:mysql://${e.host}:${e.port}/${target}?useUnicode=true
          jdbc.username: ${e.user}
          jdbc.password: "${e.password}"
sluice:
  deadLetter:
    dir: ${JSON.stringify(join(dir, 'dlq'))}
  admin:
    token: ${TOKEN}
`,
  );
  await writeFile(
    join(dir, 'rdb', 'src_user.yml'),
    `dataSourceKey: defaultDS
destination: ${topic}
groupId: ${groupId}
outerAdapterKey: mysql1
dbMapping:
  database: ${source}
  table: user
  targetTable: user
  targetPk:
    id: id
  mapAll: true
  etlCondition: "where id >= {}"
`,
  );
  sluice = SluiceProcess.start(dir);
  url = await sluice.adminUrl();
  await sluice.waitFor(/Joined the consumer group/);
}, 60_000);

afterAll(async () => {
  sluice?.kill('SIGTERM');
  await sluice?.exited;
  for (const db of [source, target])
    await my?.query(`DROP DATABASE IF EXISTS \`${db}\``).catch(() => undefined);
  await my?.end();
});

describe('a running sluice start serves the admin API', () => {
  it('listens on loopback and refuses every endpoint but liveness without the token', async () => {
    expect(new URL(url).hostname).toBe('127.0.0.1');
    expect((await get('/health/live', {})).status).toBe(200);
    for (const path of ['/destinations', '/metrics', '/status', `/syncSwitch/${topic}`]) {
      const r = await get(path, {});
      expect(r.status, path).toBe(401);
      expect((await get(path, { authorization: 'Bearer wrong-token-1234' })).status, path).toBe(
        401,
      );
    }
    const off = await fetch(`${url}/syncSwitch/${topic}/off`, { method: 'PUT' });
    expect(off.status).toBe(401);
    expect(await (await get(`/syncSwitch/${topic}`)).json()).toEqual({
      stauts: 'on',
      status: 'on',
    });
  });

  it('answers canal-adapter’s /destinations and reports readiness', async () => {
    expect(await (await get('/destinations')).json()).toEqual([
      { destination: topic, status: 'on' },
    ]);
    await until(async () => (await get('/health/ready')).status === 200, 'readiness');
    const ready = (await (await get('/health/ready')).json()) as { checks: { name: string }[] };
    expect(ready.checks.map((c) => c.name)).toEqual([
      `source ${topic}/${groupId}`,
      `sink mysql1 (${topic}/${groupId})`,
      `pipeline ${topic}/${groupId}`,
    ]);
  });

  it('shows a workload’s counts per sink and table in /metrics and in /status', async () => {
    await e2e.kafka.produce(topic, [
      [
        insert([
          { id: 1, name: 'a', score: '1.50' },
          { id: 2, name: 'b', score: '2.00' },
        ]),
        insert([{ id: 3, name: 'c', score: null as unknown as string }]),
      ],
    ]);
    await until(async () => (await countIn(target)) === 3, '3 rows in the target');
    await until(
      async () => (await (await get('/metrics')).text()).includes('sluice_events_applied_total'),
      'metrics',
    );
    const metrics = await (await get('/metrics')).text();
    expect(metrics).toMatch(
      new RegExp(`sluice_events_applied_total\\{sink="mysql1",table="${source}\\.user"\\} 3\\b`),
    );
    expect(metrics).toMatch(
      new RegExp(
        `sluice_events_consumed_total\\{destination="${topic}",groupId="${groupId}",table="${source}\\.user"\\} 3\\b`,
      ),
    );
    const status = (await (await get('/status')).json()) as {
      pipelines: {
        destination: string;
        syncSwitch: string;
        lagSeconds: number | null;
        sinks: { key: string; applied: number; deadLettered: number }[];
      }[];
    };
    expect(status.pipelines).toHaveLength(1);
    const p = status.pipelines[0]!;
    expect(p.destination).toBe(topic);
    expect(p.syncSwitch).toBe('on');
    expect(p.lagSeconds).not.toBeNull();
    expect(p.sinks).toEqual([
      expect.objectContaining({ key: 'mysql1', applied: 3, deadLettered: 0 }),
    ]);
  });

  it('reports lag that grows while the sink is stalled and comes back down after', async () => {
    const lagOf = async () => {
      const text = await (await get('/metrics')).text();
      const m = new RegExp(
        `sluice_lag_seconds\\{destination="${topic}",groupId="${groupId}",partition="0"\\} ([\\d.e+-]+)`,
      ).exec(text);
      return m ? Number(m[1]) : NaN;
    };
    // The target table is locked: the sink's write waits, the event stays in flight.
    const locker = await mysql.createConnection({ ...mysqlEndpoint(), user: mysqlEndpoint().user });
    await locker.query(`LOCK TABLES \`${target}\`.user WRITE`);
    try {
      await e2e.kafka.produce(topic, [[insert([{ id: 90, name: 'stalled', score: '9.00' }])]]);
      await until(async () => (await lagOf()) >= 2, 'the lag to grow past 2 s while stalled');
      const status = (await (await get('/status')).json()) as {
        pipelines: { lagSeconds: number; inFlight: number }[];
      };
      expect(status.pipelines[0]!.lagSeconds).toBeGreaterThanOrEqual(2);
      expect(status.pipelines[0]!.inFlight).toBe(1);
    } finally {
      await locker.query('UNLOCK TABLES');
      await locker.end();
    }
    await until(async () => (await countIn(target)) === 4, 'the stalled row');
    await e2e.kafka.produce(topic, [[insert([{ id: 91, name: 'fresh', score: '9.10' }])]]);
    await until(async () => (await countIn(target)) === 5, 'a fresh row');
    await until(async () => (await lagOf()) < 1, 'the lag to come back under 1 s');
    await my.query(`DELETE FROM \`${target}\`.user WHERE id IN (90, 91)`);
    const metrics = await (await get('/metrics')).text();
    expect(metrics).toMatch(
      new RegExp(
        `sluice_apply_lag_seconds_count\\{destination="${topic}",groupId="${groupId}"\\} [1-9]`,
      ),
    );
    expect(metrics).toMatch(/sluice_batch_records_count\{sink="mysql1"\} [1-9]/);
  });

  it('pauses the destination with the sync switch and resumes it', async () => {
    const off = await send('PUT', `/syncSwitch/${topic}/off`);
    expect(await off.json()).toEqual({ code: 20000, message: `实例: ${topic} 关闭同步成功` });
    expect(await (await get(`/syncSwitch/${topic}`)).json()).toEqual({
      stauts: 'off',
      status: 'off',
    });
    await e2e.kafka.produce(topic, [[insert([{ id: 4, name: 'paused', score: '4.00' }])]]);
    // Switched off: the message stays unapplied for as long as the switch is off.
    await new Promise((r) => setTimeout(r, 2_000));
    expect(await countIn(target)).toBe(3);
    const on = await send('PUT', `/syncSwitch/${topic}/on`);
    expect(((await on.json()) as { code: number }).code).toBe(20000);
    await until(async () => (await countIn(target)) === 4, 'the paused row after switching on');
    // canal's answers for unknown input: a code 50000 body, nothing switched.
    expect(await (await send('PUT', `/syncSwitch/nosuchdest/off`)).json()).toEqual({
      code: 50000,
      message: '实例: nosuchdest 操作失败',
    });
    expect(
      ((await (await send('PUT', `/syncSwitch/${topic}/maybe`)).json()) as { code: number }).code,
    ).toBe(50000);
    expect(await (await get(`/syncSwitch/${topic}`)).json()).toEqual({
      stauts: 'on',
      status: 'on',
    });
  });

  it('runs an ETL over the API while the stream runs, ending with the target equal to the source', async () => {
    // The source holds 2,000 rows the stream never carried, plus the 4 it did.
    const values = Array.from({ length: 2_000 }, (_, i) => `(${100 + i}, 'etl ${i} ✓', ${i}.25)`);
    await my.query(`INSERT INTO \`${source}\`.user VALUES ${values.join(',')}`);
    await my.query(
      `INSERT INTO \`${source}\`.user VALUES (1,'a',1.50),(2,'b',2.00),(3,'c',NULL),(4,'paused',4.00)`,
    );
    // The stream keeps running: one more row arrives through Kafka and the source alike.
    await my.query(`INSERT INTO \`${source}\`.user VALUES (5, 'streamed', 5.00)`);
    const streaming = e2e.kafka.produce(topic, [
      [insert([{ id: 5, name: 'streamed', score: '5.00' }])],
    ]);
    const etl = await send('POST', '/etl/rdb/mysql1/src_user.yml', 'params=1');
    await streaming;
    expect(etl.status).toBe(200);
    expect(await etl.json()).toEqual({ succeeded: true, resultMessage: 'Imported 2005 rdb rows.' });
    await until(async () => (await countIn(target)) === 2_005, 'the ETL and the stream');
    expect(await rowsOf(target)).toEqual(await rowsOf(source));
    // canal's count endpoint, with and without the key.
    expect(await (await get('/count/rdb/mysql1/src_user.yml')).json()).toEqual({
      targetTable: `\`${target}\`.\`user\``,
      count: 2_005,
      type: 'rdb',
      key: 'mysql1',
      task: 'src_user.yml',
    });
    expect(((await (await get('/count/rdb/src_user.yml')).json()) as { count: number }).count).toBe(
      2_005,
    );
    // The switch is back on after the ETL.
    expect(await (await get(`/syncSwitch/${topic}`)).json()).toEqual({
      stauts: 'on',
      status: 'on',
    });
  });

  it('runs a long ETL as a job with a status URL', async () => {
    const started = await send('POST', '/etl/rdb/mysql1/src_user.yml?async=true', 'params=100');
    expect(started.status).toBe(202);
    const body = (await started.json()) as { jobId: string; statusUrl: string };
    expect(body.statusUrl).toBe(`/etl/jobs/${body.jobId}`);
    let state = 'running';
    await until(async () => {
      const s = (await (await get(body.statusUrl)).json()) as { state: string; rows: number };
      state = s.state;
      return s.state !== 'running';
    }, 'the ETL job');
    expect(state).toBe('succeeded');
    const job = (await (await get(body.statusUrl)).json()) as { rows: number; errors: string[] };
    expect(job).toMatchObject({ rows: 2_000, errors: [] });
  });

  it('refuses path traversal and binds SQL in params as a value, changing nothing', async () => {
    const before = await rowsOf(target);
    for (const path of [
      '/etl/rdb/mysql1/..%2F..%2Fapplication.yml',
      '/etl/rdb/..%2Fmysql1/src_user.yml',
      '/count/rdb/mysql1/%2e%2e',
    ]) {
      const r = await send(path.startsWith('/count') ? 'GET' : 'POST', path);
      expect([400, 404], path).toContain(r.status);
    }
    expect((await send('POST', '/etl/rdb/mysql1/nosuch.yml')).status).toBe(404);
    // An injection attempt in params is a bound value: `id >= '0 OR 1=1; DROP …'` matches by
    // MariaDB's string-to-number cast at most, never runs a second statement.
    const [deleted] = await my.query(`DELETE FROM \`${target}\`.user WHERE id >= 1000`);
    const removed = (deleted as { affectedRows: number }).affectedRows;
    expect(removed).toBeGreaterThan(0);
    const injected = await send(
      'POST',
      '/etl/rdb/mysql1/src_user.yml',
      `params=${encodeURIComponent('999999 OR 1=1 --')}`,
    );
    expect(await injected.json()).toEqual({
      succeeded: true,
      resultMessage: 'Imported 0 rdb rows.',
    });
    // A second statement cannot be smuggled in either: `;` separates params (canal), so the
    // placeholder count no longer matches and the ETL is refused before any SQL runs.
    const smuggled = await send(
      'POST',
      '/etl/rdb/mysql1/src_user.yml',
      `params=${encodeURIComponent(`1; DROP TABLE \`${target}\`.user; --`)}`,
    );
    expect(await smuggled.json()).toEqual({
      succeeded: false,
      errorMessage:
        'rdb/src_user.yml: etlCondition has 1 {} placeholder(s) but 3 param(s) were given.',
    });
    expect(await countIn(target)).toBe(before.length - removed);
    const [tables] = await my.query(`SHOW TABLES FROM \`${target}\``);
    expect((tables as unknown[]).length).toBe(1);
    // Bring the target back to the source and check nothing else changed.
    expect(
      (
        (await (await send('POST', '/etl/rdb/mysql1/src_user.yml')).json()) as {
          succeeded: boolean;
        }
      ).succeeded,
    ).toBe(true);
    expect(await rowsOf(target)).toEqual(before);
  });

  it('sluice status prints switches, lag, throughput and dead letters of the running process', async () => {
    const run = promisify(execFile);
    // One message that is no canal message: dead-lettered, so the queue holds 1 record.
    await e2e.kafka.produce(topic, [['this is not a canal message']]);
    const depthIn = (text: string) =>
      new RegExp(`sluice_dead_letter_depth\\{destination="${topic}",type="file"\\} (\\d+)`).exec(
        text,
      )?.[1];
    await until(
      async () => depthIn(await (await get('/metrics')).text()) === '1',
      'the dead-letter depth to reach 1',
    );
    const { stdout } = await run(process.execPath, [
      sluiceBin,
      'status',
      '--url',
      url,
      '--token',
      TOKEN,
      '--interval',
      '0.2',
    ]);
    const lines = stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^Sluice \S+, up \d+s; dead letters go to \/\S+dlq/);
    expect(lines[1]).toMatch(
      /^DESTINATION\s+GROUP\s+SWITCH\s+SOURCE\s+LAG\s+IN-FLIGHT\s+DLQ\s+SINK\s+APPLIED\s+RATE\/S\s+DEAD-LETTERED$/,
    );
    expect(lines[2]).toMatch(
      new RegExp(
        `^${topic}\\s+${groupId}\\s+on\\s+connected\\s+[\\d.]+s\\s+0\\s+1\\s+mysql1\\s+7\\s+0\\s+0$`,
      ),
    );
    // Dropped with the CLI (another process rewrites the file): the depth follows.
    await run(process.execPath, [sluiceBin, 'dlq', 'drop', '--config', configDir, '--yes']);
    await until(
      async () => depthIn(await (await get('/metrics')).text()) === '0',
      'the dead-letter depth to drop to 0',
    );
    const status = (await (await get('/status')).json()) as {
      instance: { configDir: string; pid: number };
      pipelines: { deadLetterDepth: number }[];
    };
    expect(status.pipelines[0]!.deadLetterDepth).toBe(0);
    expect(status.instance).toMatchObject({ configDir, pid: sluice.child.pid });
    // Without the token: a clear error and exit 1.
    const refused = await run(process.execPath, [sluiceBin, 'status', '--url', url]).catch(
      (e: { code: number; stderr: string }) => e,
    );
    expect(refused).toMatchObject({ code: 1 });
    expect((refused as { stderr: string }).stderr).toContain('requires a token');
  }, 120_000); // four CLI processes, each a node start-up

  it('sluice status --config warns when another configuration’s Sluice answers on its port; sluice etl refuses a local run beside its own', async () => {
    const run = promisify(execFile);
    const port = new URL(url).port;
    // The configuration of a second instance that was given the same admin port by mistake.
    const other = await mkdtemp(join(tmpdir(), 'sluice-admin-other-'));
    await writeFile(
      join(other, 'application.yml'),
      `canal.conf:
  mode: kafka
  consumerProperties:
    kafka.bootstrap.servers: ${kafkaBroker()}
  canalAdapters:
  - instance: other
    groups:
    - groupId: g1
      outerAdapters:
      - name: logger
sluice:
  admin:
    port: ${port}
    token: ${TOKEN}
`,
    );
    const clash = await run(process.execPath, [
      sluiceBin,
      'status',
      '--config',
      other,
      '--interval',
      '0',
    ]).catch((e: { code: number; stdout: string; stderr: string }) => e);
    expect(clash).toMatchObject({ code: 1 });
    const { stderr, stdout } = clash as { stderr: string; stdout: string };
    expect(stderr).toContain(
      `sluice status: warning: the Sluice answering at this address (pid ${sluice.child.pid} on `,
    );
    expect(stderr).toContain(
      `runs ${configDir}, not ${other}: another instance holds the admin port`,
    );
    expect(stdout).toContain(topic);
    // The right configuration: no warning.
    await writeFile(
      join(configDir, 'application.yml'),
      (await readFile(join(configDir, 'application.yml'), 'utf8')).replace(
        'server:\n  port: 8081',
        `server:\n  port: ${port}`,
      ),
    );
    const ok = await run(process.execPath, [
      sluiceBin,
      'status',
      '--config',
      configDir,
      '--interval',
      '0',
    ]);
    expect(ok.stderr).toBe('');
    // A local ETL beside the running stream of the same configuration is refused, naming
    // --remote; nothing is written.
    const before = await rowsOf(target);
    const local = await run(process.execPath, [
      sluiceBin,
      'etl',
      'rdb',
      'mysql1',
      'src_user.yml',
      '--config',
      configDir,
    ]).catch((e: { code: number; stdout: string; stderr: string }) => e);
    expect(local).toMatchObject({ code: 1 });
    expect((local as { stderr: string }).stderr).toContain(
      `sluice etl: the Sluice of this configuration is running (pid ${sluice.child.pid} on `,
    );
    expect((local as { stderr: string }).stderr).toContain(
      'Run it inside that process with --remote',
    );
    // A token the running process refuses: it may be this configuration's, so refused too.
    const wrongToken = await run(process.execPath, [
      sluiceBin,
      'etl',
      'rdb',
      'mysql1',
      'src_user.yml',
      '--config',
      configDir,
      '--token',
      'not-the-token',
    ]).catch((e: { code: number; stdout: string; stderr: string }) => e);
    expect(wrongToken).toMatchObject({ code: 1 });
    expect((wrongToken as { stderr: string }).stderr).toContain(
      'the Sluice of this configuration may be running (a Sluice admin API at ',
    );
    expect(await rowsOf(target)).toEqual(before);
  }, 120_000);

  it('sluice etl --url runs the ETL inside the running process', async () => {
    await my.query(`DELETE FROM \`${target}\`.user WHERE id >= 100`);
    const { stdout } = await promisify(execFile)(process.execPath, [
      sluiceBin,
      'etl',
      'rdb',
      'mysql1',
      'src_user.yml',
      '--params',
      '100',
      '--url',
      url,
      '--token',
      TOKEN,
    ]);
    expect(stdout).toMatch(/^rdb src_user\.yml: succeeded, 2000 rows written, 0 errors, /);
    expect(await rowsOf(target)).toEqual(await rowsOf(source));
  });
});
