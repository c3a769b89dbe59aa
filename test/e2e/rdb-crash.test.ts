/**
 * Issue 12, crash convergence of the rdb sink: a stream of more than 100 000 row events (inserts,
 * updates, PK-changing updates and deletes over hot keys, canal FlatMessages split over three
 * partitions by canal's `$pk$` hash) is applied by one `sluice start` into MariaDB **and**
 * PostgreSQL (two outer adapters of one group), and the process is killed with SIGKILL at random
 * moments while it applies. After a final drain the two target tables equal the sequential
 * result: same row count and the same SHA-256 over every row in key order.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, mkdir, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { kafkaBroker, mysqlEndpoint, pgEndpoint, uniqueName } from '../support/testbed.js';
import { SluiceProcess } from './support/sluice.js';
import { useE2eServices } from './support/verify.js';
import { generateWorkload, rng, type Row } from './support/workload.js';

const e2e = useE2eServices();
const target = uniqueName('crash_rdb');
let my: mysql.Connection;
let pgAdmin: pg.Client;
let pgTarget: pg.Client;
let sluice: SluiceProcess | undefined;

beforeAll(async () => {
  const m = mysqlEndpoint();
  my = await mysql.createConnection({
    host: m.host,
    port: m.port,
    user: m.user,
    password: m.password,
  });
  await my.query(`CREATE DATABASE \`${target}\` DEFAULT CHARACTER SET utf8mb4`);
  await my.query(
    `CREATE TABLE \`${target}\`.items (id bigint PRIMARY KEY, name varchar(64), qty int)`,
  );
  const p = pgEndpoint();
  pgAdmin = new pg.Client({ connectionString: p.uri });
  await pgAdmin.connect();
  await pgAdmin.query(`CREATE DATABASE "${target}"`);
  pgTarget = new pg.Client({ connectionString: p.uri.replace(/\/[^/]*$/, `/${target}`) });
  await pgTarget.connect();
  await pgTarget.query(`CREATE TABLE items (id bigint PRIMARY KEY, name varchar(64), qty int)`);
});

afterAll(async () => {
  sluice?.kill('SIGKILL');
  await sluice?.exited;
  await my?.query(`DROP DATABASE IF EXISTS \`${target}\``).catch(() => undefined);
  await my?.end();
  await pgTarget?.end().catch(() => undefined);
  await pgAdmin?.query(`DROP DATABASE IF EXISTS "${target}"`).catch(() => undefined);
  await pgAdmin?.end();
});

/** `id|name|qty` lines in ascending id order, hashed; NULL as `\N`. */
function checksum(rows: readonly (readonly [string, string | null, string | null])[]): string {
  const hash = createHash('sha256');
  for (const [id, name, qty] of rows) hash.update(`${id}|${name ?? '\\N'}|${qty ?? '\\N'}\n`);
  return hash.digest('hex');
}

function expectedRows(expected: ReadonlyMap<string, Row | null>): [string, string, string][] {
  return [...expected.values()]
    .filter((r): r is Row => r !== null)
    .map((r): [string, string, string] => [r.id, r.name, r.qty])
    .sort((a, b) => Number(a[0]) - Number(b[0]));
}

async function mariadbRows(): Promise<[string, string | null, string | null][]> {
  const [rows] = await my.query<mysql.RowDataPacket[]>({
    // Aliases other than the column names: ORDER BY must sort by the bigint, not by its text.
    sql: `SELECT CAST(id AS CHAR) AS k, name AS n, CAST(qty AS CHAR) AS q FROM \`${target}\`.items ORDER BY id`,
  });
  return rows.map((r) => [String(r.k), r.n as string | null, r.q as string | null]);
}

async function postgresRows(): Promise<[string, string | null, string | null][]> {
  const res = await pgTarget.query<{ k: string; n: string | null; q: string | null }>(
    'SELECT id::text AS k, name AS n, qty::text AS q FROM items ORDER BY id',
  );
  return res.rows.map((r) => [r.k, r.n, r.q]);
}

/** The first rows where two key-ordered row lists differ (for the failure message). */
function firstDifferences(
  actual: readonly (readonly [string, string | null, string | null])[],
  wanted: readonly (readonly [string, string | null, string | null])[],
): string[] {
  const a = new Map(actual.map((r) => [r[0], r.join('|')]));
  const w = new Map(wanted.map((r) => [r[0], r.join('|')]));
  const out: string[] = [];
  for (const id of new Set([...a.keys(), ...w.keys()])) {
    if (a.get(id) !== w.get(id))
      out.push(`id ${id}: target ${a.get(id) ?? '(none)'}, expected ${w.get(id) ?? '(none)'}`);
    if (out.length >= 10) break;
  }
  return out;
}

it('converges after kill -9 at random moments during a 100k-event stream, into MariaDB and PostgreSQL (checksummed)', async () => {
  const partitions = 3;
  const workload = generateWorkload({
    partitions,
    statements: 57_000,
    keySpace: 3000,
    hot: 60,
    seed: 1212,
  });
  const events = workload.rowsPerMessage.flat().reduce((n, c) => n + c, 0);
  expect(events).toBeGreaterThanOrEqual(100_000);

  const m = mysqlEndpoint();
  const p = pgEndpoint();
  const topic = uniqueName('rdb_crash');
  const groupId = uniqueName('g');
  await e2e.kafka.createTopic(topic, partitions);
  await e2e.kafka.produce(topic, workload.partitions);

  const dir = await mkdtemp(join(tmpdir(), 'sluice-rdb-crash-'));
  await mkdir(join(dir, 'rdb'));
  await writeFile(
    join(dir, 'application.yml'),
    `canal.conf:
  mode: kafka
  flatMessage: true
  syncBatchSize: 500
  consumerProperties:
    kafka.bootstrap.servers: ${kafkaBroker()}
    kafka.auto.offset.reset: earliest
    kafka.fetch.max.wait.ms: "100"
    kafka.max.poll.records: "500"
  canalAdapters:
  - instance: ${topic}
    groups:
    - groupId: ${groupId}
      outerAdapters:
      - name: rdb
        key: my
        properties:
          jdbc.url: jdbc:mysql://${m.host}:${m.port}/${target}
          jdbc.username: ${m.user}
          jdbc.password: "${m.password}"
      - name: rdb
        key: pg
        properties:
          jdbc.url: jdbc:postgresql://${p.host}:${p.port}/${target}
          jdbc.username: ${p.user}
          jdbc.password: "${p.password}"
sluice:
  deadLetter:
    dir: ${JSON.stringify(join(dir, 'dlq'))}
`,
  );
  for (const key of ['my', 'pg'])
    await writeFile(
      join(dir, 'rdb', `items-${key}.yml`),
      `destination: ${topic}\ngroupId: ${groupId}\nouterAdapterKey: ${key}\ndbMapping:\n  database: shop\n  table: items\n  targetTable: items\n  targetPk:\n    id: id\n  mapAll: true\n`,
    );

  const random = rng(4242);
  const ends = await e2e.kafka.ends(topic);
  const total = ends.reduce((n, e) => n + e, 0n);
  const committedNow = async () =>
    (await e2e.kafka.committed(groupId, topic)).reduce((n, c) => n + c, 0n);
  const crashes: string[] = [];
  let midStream = 0;
  const kills = 6;
  for (let kill = 1; kill <= kills; kill++) {
    sluice = SluiceProcess.start(dir);
    await sluice.waitFor(/Joined the consumer group/);
    // Kill k happens once about k/(kills+1) of the stream is committed (so kills are spread over
    // the whole stream whatever the machine's speed), then after a random 0–1.5 s more: anywhere
    // between two commits, mid-batch, mid-transaction.
    const mark = (total * BigInt(kill)) / BigInt(kills + 1);
    const proc = sluice;
    const giveUp = Date.now() + 30_000; // a slow machine still gets its kills
    while ((await committedNow()) < mark && proc.child.exitCode === null && Date.now() < giveUp)
      await new Promise((r) => setTimeout(r, 100));
    await new Promise((r) => setTimeout(r, Math.floor(random() * 1500)));
    sluice.kill('SIGKILL');
    const exit = await sluice.exited;
    expect(exit.signal, sluice.tail()).toBe('SIGKILL');
    const committed = await e2e.kafka.committed(groupId, topic);
    const done = committed.reduce((n, c) => n + c, 0n);
    if (done < total) midStream += 1;
    crashes.push(`kill ${kill}: committed ${done} of ${total} messages`);
  }
  // At least some kills must have hit the stream, or the test shows nothing.
  expect(midStream, crashes.join('\n')).toBeGreaterThanOrEqual(2);

  sluice = SluiceProcess.start(dir, { once: true });
  const exit = await sluice.exited;
  expect(exit.code, sluice.tail()).toBe(0);
  expect(await readdir(join(dir, 'dlq')).catch(() => []), 'nothing dead-lettered').toEqual([]);

  const wanted = expectedRows(workload.expected);
  const wantedSum = checksum(wanted);
  const fromMariadb = await mariadbRows();
  const fromPostgres = await postgresRows();
  expect(
    { rows: fromMariadb.length, sha256: checksum(fromMariadb) },
    `MariaDB differs:\n${firstDifferences(fromMariadb, wanted).join('\n')}\n${crashes.join('\n')}`,
  ).toEqual({ rows: wanted.length, sha256: wantedSum });
  expect(
    { rows: fromPostgres.length, sha256: checksum(fromPostgres) },
    `PostgreSQL differs:\n${firstDifferences(fromPostgres, wanted).join('\n')}\n${crashes.join('\n')}`,
  ).toEqual({ rows: wanted.length, sha256: wantedSum });
}, 900_000);
