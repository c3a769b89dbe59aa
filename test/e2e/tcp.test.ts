/**
 * Issue 16 part 3, the `tcp` source end to end: SQL on the testbed MariaDB → canal-server (canal
 * 1.1.7's own server, testbed service `canal`) over canal's TCP protocol → `sluice start` (the
 * built CLI) → the rdb sink into MariaDB; the target tables are compared with the source tables.
 * Also canal-adapter's shipped application.yml (mode tcp, logger adapter) run unchanged.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Connection } from 'mysql2/promise';
import {
  canalEndpoint,
  canalDestination,
  createCanalDestination,
  dropCanalDestination,
  mysqlEndpoint,
  uniqueName,
} from '../support/testbed.js';
import { canalJavaClasspath, mysqlRoot } from '../support/canal.js';
import { SluiceProcess, requireBuiltCli } from './support/sluice.js';

let my: Connection;
const destinations: string[] = [];
const databases: string[] = [];
beforeAll(async () => {
  requireBuiltCli();
  my = await mysqlRoot();
});
afterAll(async () => {
  for (const d of destinations) await dropCanalDestination(d).catch(() => {});
  for (const db of databases) await my?.query(`DROP DATABASE IF EXISTS \`${db}\``);
  await my?.end();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Source and target databases with the same tables: t (hot keys, PK changes) and u. */
async function databasesFor(prefix: string): Promise<{ source: string; target: string }> {
  const source = uniqueName(prefix);
  const target = `${source}_t`;
  databases.push(source, target);
  for (const db of [source, target]) {
    await my.query(`CREATE DATABASE \`${db}\` DEFAULT CHARACTER SET utf8mb4`);
    await my.query(
      `CREATE TABLE \`${db}\`.t (id int PRIMARY KEY, k int NOT NULL, v varchar(40), amount decimal(12,2))`,
    );
    await my.query(`CREATE TABLE \`${db}\`.u (id int PRIMARY KEY, name varchar(40))`);
    await my.query(`CREATE TABLE \`${db}\`.marker (id int PRIMARY KEY)`);
  }
  return { source, target };
}

/** A tcp-mode configuration: destination → rdb sink writing the target database. */
async function tcpConfig(options: {
  destination: string;
  source: string;
  target: string;
  host: string;
}): Promise<string> {
  const e = mysqlEndpoint();
  const dir = await mkdtemp(join(tmpdir(), 'sluice-tcp-'));
  await mkdir(join(dir, 'rdb'));
  await writeFile(
    join(dir, 'application.yml'),
    `canal.conf:
  mode: tcp
  syncBatchSize: 50
  retries: -1
  consumerProperties:
    canal.tcp.server.host: ${options.host}
    canal.tcp.batch.size: 16
  canalAdapters:
  - instance: ${options.destination}
    groups:
    - groupId: g1
      outerAdapters:
      - name: rdb
        key: mysql1
        properties:
          jdbc.url: jdbc:mysql://${e.host}:${e.port}/${options.target}?useUnicode=true
          jdbc.username: ${e.user}
          jdbc.password: "${e.password}"
sluice:
  deadLetter:
    dir: ${JSON.stringify(join(dir, 'dlq'))}
`,
  );
  for (const table of ['t', 'u', 'marker'])
    await writeFile(
      join(dir, 'rdb', `${table}.yml`),
      `destination: ${options.destination}
outerAdapterKey: mysql1
dbMapping:
  database: ${options.source}
  table: ${table}
  targetTable: ${table}
  targetPk:
    id: id
  mapAll: true
`,
    );
  return dir;
}

/**
 * The workload: inserts, hot-key updates (a few ids updated over and over), primary-key changes,
 * deletes and transactions over two tables, `n` statements in `rounds` slices.
 */
function workload(db: string, n: number): string[] {
  const out: string[] = [];
  let next = 1;
  const live: number[] = [];
  let seed = 7;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  for (let i = 0; i < n; i++) {
    const r = random();
    if (r < 0.3 || live.length < 5) {
      const id = next++;
      live.push(id);
      out.push(`INSERT INTO \`${db}\`.t VALUES (${id}, ${i}, 'v${i}', ${i}.25)`);
    } else if (r < 0.65) {
      const id = live[Math.floor(random() * Math.min(3, live.length))]!; // hot keys
      out.push(`UPDATE \`${db}\`.t SET k = k + 1, v = 'h${i}' WHERE id = ${id}`);
    } else if (r < 0.75) {
      const at = Math.floor(random() * live.length);
      const id = live[at]!;
      const moved = next++;
      live[at] = moved;
      out.push(`UPDATE \`${db}\`.t SET id = ${moved}, v = 'pk${i}' WHERE id = ${id}`);
    } else if (r < 0.85) {
      const at = Math.floor(random() * live.length);
      const [id] = live.splice(at, 1);
      out.push(`DELETE FROM \`${db}\`.t WHERE id = ${id}`);
    } else {
      const id = live[Math.floor(random() * live.length)]!;
      out.push(
        `BEGIN; UPDATE \`${db}\`.t SET amount = amount + 1 WHERE id = ${id}; ` +
          `INSERT INTO \`${db}\`.u VALUES (${i}, 'u${i}') ON DUPLICATE KEY UPDATE name = 'again'; COMMIT`,
      );
    }
  }
  return out;
}

/** SHOW MASTER STATUS: the binlog position after everything written so far. */
async function masterPosition(): Promise<{ file: string; position: number }> {
  const [r] = await my.query('SHOW MASTER STATUS');
  const row = (r as { File: string; Position: number | string }[])[0]!;
  return { file: row.File, position: Number(row.Position) };
}

async function rows(db: string, table: string): Promise<unknown[]> {
  const [r] = await my.query(`SELECT * FROM \`${db}\`.\`${table}\` ORDER BY id`);
  return r as unknown[];
}

/** Runs `sluice start --once` until the marker row reached the target (canal may still be parsing). */
async function drain(dir: string, target: string, marker: number): Promise<void> {
  for (let i = 0; i < 20; i++) {
    const run = SluiceProcess.start(dir, { once: true });
    const exit = await run.exited;
    expect(exit.code, run.tail()).toBe(0);
    const [found] = await my.query(`SELECT id FROM \`${target}\`.marker WHERE id = ?`, [marker]);
    if ((found as unknown[]).length > 0) return;
    await sleep(300);
  }
  throw new Error('the marker row never reached the target');
}

async function expectSameTables(source: string, target: string): Promise<void> {
  for (const table of ['t', 'u', 'marker'])
    expect(await rows(target, table), `table ${table}`).toEqual(await rows(source, table));
}

it('hot keys, primary-key changes and transactions arrive in order; kill -9 of Sluice mid-stream loses nothing', async () => {
  const { source, target } = await databasesFor('e2e_tcp');
  const destination = uniqueName('tcp_dest');
  destinations.push(destination);
  await createCanalDestination(destination, { filter: `${source}\\..*` });
  const dir = await tcpConfig({ destination, source, target, host: canalEndpoint().tcp });
  const statements = workload(source, 1500);
  const slices = 4;
  const per = Math.ceil(statements.length / slices);
  let kills = 0;
  for (let s = 0; s < slices; s++) {
    const sluice = SluiceProcess.start(dir);
    await sluice.waitFor(/Subscribed to canal-server/);
    const writing = (async () => {
      for (const sql of statements.slice(s * per, (s + 1) * per)) await my.query(sql);
    })();
    await sleep(200 + s * 150);
    sluice.kill('SIGKILL');
    const exit = await sluice.exited;
    expect(exit.signal, sluice.tail()).toBe('SIGKILL');
    kills++;
    await writing;
  }
  const beforeMarker = await masterPosition();
  await my.query(`INSERT INTO \`${source}\`.marker VALUES (1)`);
  await drain(dir, target, 1);
  expect(kills).toBe(slices);
  await expectSameTables(source, target);
  // Everything of the workload was acked: canal's cursor of client 1001 is past the binlog
  // position where the workload ended. (canal's store moves on by itself afterwards: it keeps a
  // BEGIN/END pair of other databases' transactions every few seconds.)
  const status = await canalDestination(destination);
  expect(status.cursor?.journalName).toBe(beforeMarker.file);
  expect(status.cursor!.position).toBeGreaterThan(beforeMarker.position);
}, 180_000);

/** A canal-server of this test alone (canal 1.1.7, the testbed's launcher), so it can be restarted. */
class PrivateCanal {
  child: ChildProcess | undefined;
  readonly port: number;
  readonly control: number;
  readonly data: string;
  log = '';
  constructor(port: number, control: number, data: string) {
    this.port = port;
    this.control = control;
    this.data = data;
  }
  async start(): Promise<void> {
    const e = mysqlEndpoint();
    this.child = spawn(
      'java',
      [
        '-Xms32m',
        '-Xmx192m',
        '-XX:+UseSerialGC',
        '-XX:TieredStopAtLevel=1',
        `-Dsluice.canal.port=${this.port}`,
        `-Dsluice.canal.control.port=${this.control}`,
        `-Dsluice.canal.data=${this.data}`,
        `-Dsluice.canal.mysql=${e.host}:${e.port}`,
        `-Dsluice.canal.mysql.user=${e.replication.user}`,
        `-Dsluice.canal.mysql.password=${e.replication.password}`,
        '-cp',
        canalJavaClasspath(),
        'sluice.testbed.canal.SluiceCanalLauncher',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.child.stdout!.on('data', (d: Buffer) => (this.log += d.toString()));
    this.child.stderr!.on('data', (d: Buffer) => (this.log += d.toString()));
    const until = Date.now() + 60_000;
    for (;;) {
      try {
        const res = await fetch(`http://127.0.0.1:${this.control}/health`);
        if (res.ok) return;
      } catch {
        // not yet
      }
      if (Date.now() > until || this.child.exitCode !== null)
        throw new Error(`private canal-server did not start:\n${this.log.slice(-3000)}`);
      await sleep(200);
    }
  }
  async put(name: string, body: unknown): Promise<void> {
    const res = await fetch(`http://127.0.0.1:${this.control}/destinations/${name}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`PUT ${name}: ${res.status} ${await res.text()}`);
  }
  async kill(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
  }
}

it('a restart of canal-server mid-stream loses nothing (batch ids restart, redeliveries applied again)', async () => {
  const { source, target } = await databasesFor('e2e_tcpr');
  const data = await mkdtemp(join(tmpdir(), 'sluice-canal-private-'));
  const canal = new PrivateCanal(11121, 11191, data);
  await canal.start();
  try {
    const destination = 'restart';
    await canal.put(destination, { filter: `${source}\\..*` });
    const dir = await tcpConfig({ destination, source, target, host: `127.0.0.1:${canal.port}` });
    const statements = workload(source, 900);
    const sluice = SluiceProcess.start(dir);
    await sluice.waitFor(/Subscribed to canal-server/);
    for (const sql of statements.slice(0, 300)) await my.query(sql);
    await sleep(300);
    await canal.kill(); // mid-stream: un-acked batches in flight
    for (const sql of statements.slice(300, 600)) await my.query(sql);
    await canal.start(); // same data dir: the destination resumes from its saved cursor
    await sluice.waitFor(/Lost the session with canal-server/);
    const resubscribed = sluice.lines.length;
    for (const sql of statements.slice(600)) await my.query(sql);
    await my.query(`INSERT INTO \`${source}\`.marker VALUES (2)`);
    await sluice.waitFor(/Subscribed to canal-server/, resubscribed - 1);
    const until = Date.now() + 60_000;
    for (;;) {
      const [found] = await my.query(`SELECT id FROM \`${target}\`.marker WHERE id = 2`);
      if ((found as unknown[]).length > 0) break;
      if (Date.now() > until) throw new Error(`marker not applied:\n${sluice.tail()}`);
      await sleep(200);
    }
    sluice.kill('SIGTERM');
    await sluice.exited;
    await expectSameTables(source, target);
  } finally {
    await canal.kill();
  }
}, 180_000);

for (const version of ['1.1.7', '1.1.4']) {
  it(`canal-adapter ${version}'s shipped application.yml (mode tcp, logger adapter) runs unchanged`, async () => {
    // As shipped: mode tcp against 127.0.0.1:11111 (1.1.7: consumerProperties
    // canal.tcp.server.host; 1.1.4: canal.conf.canalServerHost), destination "example", only the
    // logger adapter; the testbed canal-server listens there.
    const shipped = await readFile(
      new URL(`./fixtures/canal-adapter-${version}-application.yml`, import.meta.url),
      'utf8',
    );
    expect(shipped).toMatch(/(canal\.tcp\.server\.host|canalServerHost): 127\.0\.0\.1:11111/);
    expect(canalEndpoint().tcp).toBe('127.0.0.1:11111');
    const db = uniqueName('e2e_shipped');
    databases.push(db);
    await my.query(`CREATE DATABASE \`${db}\``);
    await my.query(`CREATE TABLE \`${db}\`.hello (id int PRIMARY KEY, msg varchar(20))`);
    // A fresh "example" (a drop finishes in the background: retry while it is still stopping).
    await dropCanalDestination('example');
    destinations.push('example');
    for (let i = 0; ; i++) {
      try {
        await createCanalDestination('example', { filter: `${db}\\..*` });
        break;
      } catch (error) {
        if (i > 100 || !/still stopping|HTTP 409/.test(String(error))) throw error;
        await sleep(200);
      }
    }
    await my.query(`INSERT INTO \`${db}\`.hello VALUES (1, 'from the binlog'), (2, 'via tcp')`);
    const dir = await mkdtemp(join(tmpdir(), 'sluice-shipped-'));
    await writeFile(join(dir, 'application.yml'), shipped);
    let output = '';
    for (let i = 0; i < 20 && !output.includes('via tcp'); i++) {
      const run = SluiceProcess.start(dir, { once: true });
      const exit = await run.exited;
      expect(exit.code, run.tail()).toBe(0);
      output += run.lines.join('\n');
      await sleep(300);
    }
    expect(output).toContain('from the binlog');
    expect(output).toContain('via tcp');
    // Acked: a second run gets nothing of it again.
    const again = SluiceProcess.start(dir, { once: true });
    expect((await again.exited).code, again.tail()).toBe(0);
    expect(again.lines.join('\n')).not.toContain('via tcp');
  }, 120_000);
}
