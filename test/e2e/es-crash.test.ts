/**
 * Issue 13, crash convergence of the Elasticsearch sink: a stream of canal FlatMessages on Kafka
 * (inserts, updates, PK-changing updates and deletes over hot keys, three partitions by canal's
 * `$pk$` hash; then, mid-stream, every row of a joined table renamed in the source with canal's
 * UPDATE messages) is applied by one `sluice start` through
 * two es8 mappings of one outer adapter — a single-table mapping (documents from the events,
 * external versions) and a LEFT JOIN mapping (documents re-queried from MariaDB) — and the
 * process is killed with SIGKILL at moments spread over the stream. After a final `--once` drain:
 * every document of the single-table index equals the sequential result of the stream, and every
 * document of the join index equals the source re-queried with the mapping's join (the source
 * holds the stream's final state, as canal's binlog source would).
 */
import { mkdtemp, mkdir, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import { encodeFlatMessage } from '@sluice/canal-protocol';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { esUrl, kafkaBroker, mysqlEndpoint, uniqueName } from '../support/testbed.js';
import { SluiceProcess } from './support/sluice.js';
import { useE2eServices } from './support/verify.js';
import { generateWorkload, rng, type Row } from './support/workload.js';

const e2e = useE2eServices();
const db = uniqueName('es_ops_crash');
const itemsIndex = `es-ops-${uniqueName('crash_items').replace(/_/g, '-')}`;
const joinIndex = `es-ops-${uniqueName('crash_join').replace(/_/g, '-')}`;
const KINDS = 120;
let my: mysql.Connection;
let sluice: SluiceProcess | undefined;

async function es<T>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${esUrl()}${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return (await res.json()) as T;
}

/** Every document of `index` by _id, as canonical JSON (at most 10 000: the key space is 3000). */
async function documents(index: string): Promise<Map<string, string>> {
  await es('POST', `/${index}/_refresh`);
  const r = await es<{
    hits: { total: { value: number }; hits: { _id: string; _source: object }[] };
  }>('POST', `/${index}/_search`, {
    size: 10_000,
    track_total_hits: true,
    query: { match_all: {} },
  });
  if (r.hits.total.value > 10_000) throw new Error(`${index} has more than 10 000 documents`);
  return new Map(r.hits.hits.map((h) => [h._id, canonical(h._source)]));
}

const canonical = (o: object): string =>
  JSON.stringify(Object.fromEntries(Object.entries(o).sort(([a], [b]) => a.localeCompare(b))));

/** The first ids where two maps differ (for the failure message). */
function differences(actual: Map<string, string>, wanted: Map<string, string>): string[] {
  const out: string[] = [];
  for (const id of new Set([...actual.keys(), ...wanted.keys()])) {
    if (actual.get(id) !== wanted.get(id))
      out.push(
        `${id}: index ${actual.get(id) ?? '(none)'}, expected ${wanted.get(id) ?? '(none)'}`,
      );
    if (out.length >= 10) break;
  }
  return out;
}

beforeAll(async () => {
  const m = mysqlEndpoint();
  my = await mysql.createConnection({
    host: m.host,
    port: m.port,
    user: m.user,
    password: m.password,
  });
  await my.query(`CREATE DATABASE \`${db}\` DEFAULT CHARACTER SET utf8mb4`);
  await my.query(`CREATE TABLE \`${db}\`.items (id bigint PRIMARY KEY, name varchar(64), qty int)`);
  await my.query(`CREATE TABLE \`${db}\`.kinds (id int PRIMARY KEY, label varchar(64))`);
  for (const index of [itemsIndex, joinIndex])
    await es('PUT', `/${index}`, {
      mappings: {
        properties: {
          name: { type: 'keyword' },
          qty: { type: 'integer' },
          label: { type: 'keyword' },
        },
      },
    });
});

afterAll(async () => {
  sluice?.kill('SIGKILL');
  await sluice?.exited;
  for (const index of [itemsIndex, joinIndex])
    await es('DELETE', `/${index}?ignore_unavailable=true`).catch(() => undefined);
  await my?.query(`DROP DATABASE IF EXISTS \`${db}\``).catch(() => undefined);
  await my?.end();
});

it('converges after kill -9 spread over a 25k-event stream: single-table and LEFT JOIN indices equal the source', async () => {
  const partitions = 3;
  const workload = generateWorkload({
    partitions,
    statements: 14_000,
    keySpace: 3000,
    hot: 60,
    seed: 1313,
  });
  const events = workload.rowsPerMessage.flat().reduce((n, c) => n + c, 0);
  expect(events).toBeGreaterThanOrEqual(20_000);

  // The workload's database is "shop"; the stream and the mappings use this test's database.
  const payloads = workload.partitions.map((msgs) =>
    msgs.map((p) => p.replace('"database":"shop"', `"database":"${db}"`)),
  );
  // The joined table: labels now, renamed in the source mid-stream (after the second kill) with
  // canal's UPDATE messages appended to partition 0 — then only those events can bring the new
  // labels to documents whose item changed before.
  const labels = new Map<number, string>();
  for (let k = 0; k < KINDS; k++) labels.set(k, `kind ${k}`);
  const renames = [...labels].map(([id, before]) => {
    const after = `kind ${id} renamed ü`;
    return encodeFlatMessage({
      id: 900_000 + id,
      database: db,
      table: 'kinds',
      pkNames: ['id'],
      isDdl: false,
      type: 'UPDATE',
      es: 1_800_000_000_000 + id,
      ts: 1_800_000_000_000 + id,
      sql: '',
      sqlType: { id: 4, label: 12 },
      mysqlType: { id: 'int(11)', label: 'varchar(64)' },
      data: [{ id: String(id), label: after }],
      old: [{ label: before }],
      gtid: '',
    });
  });

  // The source holds the stream's final state of items (the join mapping re-queries it).
  const finalRows = [...workload.expected.values()].filter((r): r is Row => r !== null);
  for (let i = 0; i < finalRows.length; i += 1000)
    await my.query(`INSERT INTO \`${db}\`.items (id, name, qty) VALUES ?`, [
      finalRows.slice(i, i + 1000).map((r) => [r.id, r.name, r.qty]),
    ]);
  await my.query(`INSERT INTO \`${db}\`.kinds (id, label) VALUES ?`, [
    [...labels].map(([id, label]) => [id, label]),
  ]);

  const e = mysqlEndpoint();
  const topic = uniqueName('es_ops_crash');
  const groupId = uniqueName('es_ops_g');
  await e2e.kafka.createTopic(topic, partitions);
  await e2e.kafka.produce(topic, payloads);

  const dir = await mkdtemp(join(tmpdir(), 'sluice-es-crash-'));
  await mkdir(join(dir, 'es8'));
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
  srcDataSources:
    defaultDS:
      url: jdbc:mysql://${e.host}:${e.port}/${db}?useUnicode=true
      username: ${e.user}
      password: "${e.password}"
  canalAdapters:
  - instance: ${topic}
    groups:
    - groupId: ${groupId}
      outerAdapters:
      - name: es8
        key: es1
        hosts: ${esUrl()}
sluice:
  deadLetter:
    dir: ${JSON.stringify(join(dir, 'dlq'))}
`,
  );
  const mappingHead = `dataSourceKey: defaultDS\ndestination: ${topic}\ngroupId: ${groupId}\nouterAdapterKey: es1\n`;
  await writeFile(
    join(dir, 'es8', 'items.yml'),
    `${mappingHead}esMapping:\n  _index: ${itemsIndex}\n  _id: _id\n  sql: "select a.id as _id, a.name, a.qty from items a"\n`,
  );
  await writeFile(
    join(dir, 'es8', 'items_kinds.yml'),
    `${mappingHead}esMapping:\n  _index: ${joinIndex}\n  _id: _id\n  sql: "select a.id as _id, a.name, a.qty, k.label from items a left join kinds k on k.id = a.qty"\n`,
  );

  let total = (await e2e.kafka.ends(topic)).reduce((n, x) => n + x, 0n);
  const committedNow = async () =>
    (await e2e.kafka.committed(groupId, topic)).reduce((n, c) => n + c, 0n);
  const crashes: string[] = [];
  let midStream = 0;
  const kills = 4;
  const killRandom = rng(1331);
  for (let kill = 1; kill <= kills; kill++) {
    sluice = SluiceProcess.start(dir);
    await sluice.waitFor(/Joined the consumer group/);
    const mark = (total * BigInt(kill)) / BigInt(kills + 1);
    const proc = sluice;
    const giveUp = Date.now() + 30_000;
    while ((await committedNow()) < mark && proc.child.exitCode === null && Date.now() < giveUp)
      await new Promise((r) => setTimeout(r, 100));
    await new Promise((r) => setTimeout(r, Math.floor(killRandom() * 1500)));
    sluice.kill('SIGKILL');
    const exit = await sluice.exited;
    expect(exit.signal, sluice.tail()).toBe('SIGKILL');
    const done = await committedNow();
    if (done < total) midStream += 1;
    crashes.push(`kill ${kill}: committed ${done} of ${total} messages`);
    if (kill === 2) {
      await my.query(`UPDATE \`${db}\`.kinds SET label = CONCAT('kind ', id, ' renamed ü')`);
      await e2e.kafka.produce(topic, [renames]);
      total = (await e2e.kafka.ends(topic)).reduce((n, x) => n + x, 0n);
    }
  }
  expect(midStream, crashes.join('\n')).toBeGreaterThanOrEqual(2);

  sluice = SluiceProcess.start(dir, { once: true });
  const exit = await sluice.exited;
  expect(exit.code, sluice.tail()).toBe(0);
  expect(await readdir(join(dir, 'dlq')).catch(() => []), 'nothing dead-lettered').toEqual([]);

  // Single-table index: the sequential result of the stream.
  const wantItems = new Map(
    finalRows.map((r) => [r.id, canonical({ name: r.name, qty: Number(r.qty) })]),
  );
  const items = await documents(itemsIndex);
  expect(
    items.size === wantItems.size && differences(items, wantItems).length === 0,
    `single-table index differs (${items.size} documents, ${wantItems.size} expected):\n${differences(items, wantItems).join('\n')}\n${crashes.join('\n')}`,
  ).toBe(true);

  // Join index: the source re-queried with the mapping's join.
  const [rows] = await my.query(
    `SELECT a.id, a.name, a.qty, k.label FROM \`${db}\`.items a LEFT JOIN \`${db}\`.kinds k ON k.id = a.qty`,
  );
  const wantJoin = new Map(
    (rows as { id: number; name: string; qty: number; label: string | null }[]).map((r) => [
      String(r.id),
      canonical({ name: r.name, qty: r.qty, label: r.label }),
    ]),
  );
  const joined = await documents(joinIndex);
  expect(
    joined.size === wantJoin.size && differences(joined, wantJoin).length === 0,
    `join index differs (${joined.size} documents, ${wantJoin.size} expected):\n${differences(joined, wantJoin).join('\n')}\n${crashes.join('\n')}`,
  ).toBe(true);
}, 600_000);
