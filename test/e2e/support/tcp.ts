/**
 * Shared by the tcp end-to-end tests (tcp.test.ts, tcp-cluster.test.ts): source and target
 * databases with the same tables, a workload of inserts, hot-key updates, primary-key changes,
 * deletes and transactions, a tcp-mode configuration into the rdb sink, the table comparison,
 * and a private canal-server JVM (the testbed's launcher, canal 1.1.7) that a test may kill.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import type { Connection } from 'mysql2/promise';
import { mysqlEndpoint, uniqueName } from '../../support/testbed.js';
import { canalJavaClasspath } from '../../support/canal.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Source and target databases with the same tables: t (hot keys, PK changes) and u. */
export async function databasesFor(
  my: Connection,
  databases: string[],
  prefix: string,
): Promise<{ source: string; target: string }> {
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

/**
 * A tcp-mode configuration: destination → rdb sink writing the target database; the canal-server
 * is `host` (canal.tcp.server.host) or, with `zookeeperHosts`, discovered in ZooKeeper.
 */
export async function tcpConfig(options: {
  destination: string;
  source: string;
  target: string;
  host?: string;
  zookeeperHosts?: string;
}): Promise<string> {
  const server = options.zookeeperHosts
    ? `canal.tcp.zookeeper.hosts: ${options.zookeeperHosts}`
    : `canal.tcp.server.host: ${options.host}`;
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
    ${server}
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
export function workload(db: string, n: number): string[] {
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
export async function masterPosition(my: Connection): Promise<{ file: string; position: number }> {
  const [r] = await my.query('SHOW MASTER STATUS');
  const row = (r as { File: string; Position: number | string }[])[0]!;
  return { file: row.File, position: Number(row.Position) };
}

export async function rows(my: Connection, db: string, table: string): Promise<unknown[]> {
  const [r] = await my.query(`SELECT * FROM \`${db}\`.\`${table}\` ORDER BY id`);
  return r as unknown[];
}
export async function expectSameTables(
  my: Connection,
  source: string,
  target: string,
): Promise<void> {
  for (const table of ['t', 'u', 'marker'])
    expect(await rows(my, target, table), `table ${table}`).toEqual(await rows(my, source, table));
}

/** A canal-server of this test alone (canal 1.1.7, the testbed's launcher), so it can be restarted. */
export class PrivateCanal {
  child: ChildProcess | undefined;
  readonly port: number;
  readonly control: number;
  readonly data: string;
  log = '';
  readonly #options: { zk?: string; zkSessionTimeoutMs?: number; xmx?: string };
  /**
   * `zk`: cluster mode (the launcher's `sluice.canal.zk`, canal.zkServers) with the HA client's
   * session timeout `zkSessionTimeoutMs`; `xmx`: heap cap (default 192m).
   */
  constructor(
    port: number,
    control: number,
    data: string,
    options: { zk?: string; zkSessionTimeoutMs?: number; xmx?: string } = {},
  ) {
    this.port = port;
    this.control = control;
    this.data = data;
    this.#options = options;
  }
  get address(): string {
    return `127.0.0.1:${this.port}`;
  }
  async start(): Promise<void> {
    const e = mysqlEndpoint();
    const classpath = await canalJavaClasspath();
    const stale = await fetch(`http://127.0.0.1:${this.control}/health`).catch(() => undefined);
    if (stale)
      throw new Error(
        `port ${this.control} already answers (a launcher left over from an earlier run?)`,
      );
    this.child = spawn(
      'java',
      [
        '-Xms32m',
        `-Xmx${this.#options.xmx ?? '192m'}`,
        '-XX:+UseSerialGC',
        '-XX:TieredStopAtLevel=1',
        ...(this.#options.zk ? [`-Dsluice.canal.zk=${this.#options.zk}`] : []),
        ...(this.#options.zkSessionTimeoutMs
          ? [`-Dsluice.canal.zk.sessionTimeoutMs=${this.#options.zkSessionTimeoutMs}`]
          : []),
        `-Dsluice.canal.port=${this.port}`,
        `-Dsluice.canal.control.port=${this.control}`,
        `-Dsluice.canal.data=${this.data}`,
        `-Dsluice.canal.mysql=${e.host}:${e.port}`,
        `-Dsluice.canal.mysql.user=${e.replication.user}`,
        `-Dsluice.canal.mysql.password=${e.replication.password}`,
        '-cp',
        classpath,
        'sluice.testbed.canal.SluiceCanalLauncher',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    // never outlive the test process (a timed-out test does not reach its finally)
    const child = this.child;
    const reap = () => child.kill('SIGKILL');
    process.once('exit', reap);
    child.once('exit', () => process.off('exit', reap));
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
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
  }
}
