/**
 * Issue 15: with canal's `zookeeperHosts`, an ETL takes canal-adapter's distributed lock
 * `/canal-adapter/sync-etl/<type>-<destination>` (`EtlLock.java`, a Curator `InterProcessMutex`):
 * one ETL per (type, destination) across every process sharing the ZooKeeper. Two `sluice start`
 * processes of one configuration: an ETL running in one makes the same ETL in the other refused
 * with canal's answer, and accepted once it ended; a holder killed with -9 releases the lock when
 * its ZooKeeper session expires (2 s here, `sluice.zookeeper.sessionTimeoutMs`).
 *
 * The ETL is held running by a `LOCK TABLES … WRITE` on its target table, so no timing decides
 * what runs when.
 */
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import zookeeper from 'node-zookeeper-client';
import { afterAll, beforeAll, expect, it, onTestFailed } from 'vitest';
import { kafkaBroker, mysqlEndpoint, uniqueName, zookeeperHosts } from '../support/testbed.js';
import { SluiceProcess } from './support/sluice.js';
import { useE2eServices } from './support/verify.js';

const e2e = useE2eServices();
const source = uniqueName('etllock_src');
const target = uniqueName('etllock_tgt');
const topic = uniqueName('etllock');
const processes: SluiceProcess[] = [];
let my: mysql.Connection;
let dir: string;

const BUSY = { succeeded: false, errorMessage: 'src_user.yml 有其他进程正在导入中, 请稍后再试' };

beforeAll(async () => {
  const e = mysqlEndpoint();
  my = await mysql.createConnection({
    host: e.host,
    port: e.port,
    user: e.user,
    password: e.password,
  });
  for (const db of [source, target]) {
    await my.query(`CREATE DATABASE \`${db}\``);
    await my.query(`CREATE TABLE \`${db}\`.user (id int PRIMARY KEY, name varchar(40))`);
  }
  await my.query(
    `INSERT INTO \`${source}\`.user VALUES ${Array.from({ length: 50 }, (_, i) => `(${i + 1}, 'u${i + 1}')`).join(',')}`,
  );
  await e2e.kafka.createTopic(topic, 1);
  dir = await mkdtemp(join(tmpdir(), 'sluice-etllock-'));
  await mkdir(join(dir, 'rdb'));
  const groupId = uniqueName('g');
  await writeFile(
    join(dir, 'application.yml'),
    `canal.conf:
  mode: kafka
  flatMessage: true
  zookeeperHosts: ${zookeeperHosts()}
  consumerProperties:
    kafka.bootstrap.servers: ${kafkaBroker()}
    kafka.auto.offset.reset: earliest
    kafka.fetch.max.wait.ms: "100"
  srcDataSources:
    defaultDS:
      url: jdbc:mysql://${e.host}:${e.port}/${source}
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
          jdbc.url: jdbc:mysql://${e.host}:${e.port}/${target}
          jdbc.username: ${e.user}
          jdbc.password: "${e.password}"
sluice:
  zookeeper:
    sessionTimeoutMs: 2000
  deadLetter:
    dir: ${JSON.stringify(join(dir, 'dlq'))}
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
`,
  );
}, 60_000);

afterAll(async () => {
  for (const p of processes) p.kill('SIGKILL');
  await Promise.all(processes.map((p) => p.exited));
  for (const db of [source, target])
    await my?.query(`DROP DATABASE IF EXISTS \`${db}\``).catch(() => undefined);
  await my?.end();
});

const post = async (url: string, path: string) => {
  const r = await fetch(url + path, { method: 'POST' });
  return { status: r.status, body: (await r.json()) as Record<string, unknown> };
};

async function until(check: () => Promise<boolean>, what: string, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 150));
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function lockNodes(): Promise<string[]> {
  const client = zookeeper.createClient(zookeeperHosts());
  await new Promise<void>((resolve) => {
    client.once('connected', () => resolve());
    client.connect();
  });
  try {
    return await new Promise((resolve, reject) =>
      client.getChildren(`/canal-adapter/sync-etl/rdb-${topic}`, (error, list) => {
        if (error instanceof zookeeper.Exception && error.getCode() === zookeeper.Exception.NO_NODE)
          return resolve([]);
        if (error) return reject(error);
        resolve(list);
      }),
    );
  } finally {
    client.close();
  }
}

/** Holds the target table write-locked (the ETL's writes wait) until the callback returns. */
async function withTargetLocked<T>(run: () => Promise<T>): Promise<T> {
  const e = mysqlEndpoint();
  const locker = await mysql.createConnection({
    host: e.host,
    port: e.port,
    user: e.user,
    password: e.password,
  });
  await locker.query(`LOCK TABLES \`${target}\`.user WRITE`);
  try {
    return await run();
  } finally {
    await locker.query('UNLOCK TABLES');
    await locker.end();
  }
}

const jobState = async (url: string, statusUrl: string) =>
  ((await (await fetch(url + statusUrl)).json()) as { state: string }).state;

/** The step the test is at (printed with both processes' last log lines when it fails). */
let step = 'starting A and B';

it('refuses the same ETL in a second process while one runs, accepts it after, and survives a kill -9 of the holder', async () => {
  const a = SluiceProcess.start(dir);
  const b = SluiceProcess.start(dir);
  processes.push(a, b);
  onTestFailed(() => {
    console.error(
      `etlLockShared failed at: ${step}\n--- A (last lines) ---\n${a.tail(30)}\n--- B (last lines) ---\n${b.tail(30)}`,
    );
  });
  const [urlA, urlB] = await Promise.all([a.adminUrl(), b.adminUrl()]);

  // 1. An ETL runs in A (held by the table lock): B's is refused with canal's answer, and a
  //    second one in A too (the in-process lock).
  let statusUrl = '';
  step = '1: an ETL in A, refused in B';
  await withTargetLocked(async () => {
    const started = await post(urlA, '/etl/rdb/mysql1/src_user.yml?async=true');
    expect(started.status).toBe(202);
    statusUrl = started.body['statusUrl'] as string;
    expect(await lockNodes()).toHaveLength(1);
    const refused = await post(urlB, '/etl/rdb/mysql1/src_user.yml');
    expect(refused.status).toBe(409);
    expect(refused.body).toEqual(BUSY);
    expect((await post(urlB, '/etl/rdb/src_user.yml')).body).toEqual(BUSY);
    expect((await post(urlA, '/etl/rdb/mysql1/src_user.yml')).body).toEqual(BUSY);
    expect(await jobState(urlA, statusUrl)).toBe('running');
  });
  await until(async () => (await jobState(urlA, statusUrl)) === 'succeeded', 'the ETL in A');
  expect(await lockNodes()).toEqual([]);

  // 2. It ended: the same ETL in B is accepted.
  step = '2: the same ETL in B after A ended';
  const accepted = await post(urlB, '/etl/rdb/mysql1/src_user.yml');
  expect(accepted.body).toEqual({ succeeded: true, resultMessage: 'Imported 50 rdb rows.' });

  // 3. A holder killed with -9 never releases the lock itself: ZooKeeper does, once its
  //    session expires; until then B is refused.
  step = '3: A killed while holding the lock';
  await withTargetLocked(async () => {
    const held = await post(urlA, '/etl/rdb/mysql1/src_user.yml?async=true');
    expect(held.status).toBe(202);
    expect((await post(urlB, '/etl/rdb/mysql1/src_user.yml')).body).toEqual(BUSY);
    a.kill('SIGKILL');
    await a.exited;
    let answer = await post(urlB, '/etl/rdb/mysql1/src_user.yml?async=true');
    await until(async () => {
      if (answer.status === 202) return true;
      expect(answer.body).toEqual(BUSY);
      answer = await post(urlB, '/etl/rdb/mysql1/src_user.yml?async=true');
      return answer.status === 202;
    }, 'the lock of the killed process to be released');
    statusUrl = answer.body['statusUrl'] as string;
  });
  step = '3: the ETL in B after the lock was released';
  await until(async () => (await jobState(urlB, statusUrl)) === 'succeeded', 'the ETL in B');
  expect(await lockNodes()).toEqual([]);
  const [rows] = await my.query(`SELECT COUNT(*) AS n FROM \`${target}\`.user`);
  expect(Number((rows as { n: number }[])[0]!.n)).toBe(50);
}, 120_000);
