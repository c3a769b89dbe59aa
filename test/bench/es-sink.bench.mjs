#!/usr/bin/env node
// Kafka → Sluice → Elasticsearch (es8 sink) on one partition, beside a ceiling measured in the
// same run: a trivial script POSTing the same documents to `_bulk` with the same batch size, one
// request at a time (what any indexer does at the least).
//
// 1. Single-table mapping (`select a.id as _id, a.user_id, … from orders a`): a topic holding N
//    INSERT row events of `shop.orders` (test/bench/lib/orders.mjs, 20 rows per FlatMessage);
//    `sluice start --once` drains it into a fresh index (docs/s from "Joined the consumer group"
//    to exit: fetch, decode, lanes, document building, _bulk with external versions, commits).
//    The ceiling indexes the same documents into another fresh index.
// 2. Join mapping (`… from orders a left join users u on u.id = a.user_id`): J INSERT events of
//    orders whose rows are in MariaDB too; each batch re-queries the source. Rows/s, and source
//    queries per event counted exactly by a MySQL-protocol proxy between Sluice and MariaDB
//    (COM_QUERY packets).
//
// Usage: pnpm build && node test/bench/es-sink.bench.mjs [--rows 200000] [--join-rows 20000]
//        [--batch 1000] [--rounds 1]
import { spawn } from 'node:child_process';
import { mkdtemp, mkdir, writeFile } from 'node:fs/promises';
import { createServer, connect } from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createRequire } from 'node:module';
import { orderMessages } from './lib/orders.mjs';
import { sluiceNodeArgs } from './lib/launch.mjs';

const require = createRequire(import.meta.url);
const { Kafka, logLevel } = require('kafkajs');
const mysql = require('../../plugins/sink-es/node_modules/mysql2/promise.js');
const root = fileURLToPath(new URL('../../', import.meta.url));
const bin = join(root, 'packages/cli/dist/bin.js');

const { values: opts } = parseArgs({
  options: {
    rows: { type: 'string', default: '200000' },
    'join-rows': { type: 'string', default: '20000' },
    batch: { type: 'string', default: '1000' },
    rounds: { type: 'string', default: '1' },
  },
});
const N = Number(opts.rows);
const J = Number(opts['join-rows']);
const BATCH = Number(opts.batch);
const ROUNDS = Number(opts.rounds);
const PER_MESSAGE = 20;
const broker = (process.env.SLUICE_TEST_KAFKA ?? '127.0.0.1:19092').replace(/^[a-z]+:\/\//, '');
const es = (process.env.SLUICE_TEST_ES ?? 'http://127.0.0.1:19200').replace(/\/+$/, '');
const tag = `${process.pid.toString(36)}${Date.now().toString(36).slice(-4)}`;
const db = `es_ops_bench_${tag}`;
const STATUS = ['new', 'paid', 'shipped'];

async function http(method, path, body, ndjson = false) {
  const res = await fetch(`${es}${path}`, {
    method,
    headers: { 'content-type': ndjson ? 'application/x-ndjson' : 'application/json' },
    body: body === undefined ? undefined : ndjson ? body : JSON.stringify(body),
  });
  const json = await res.json();
  if (res.status >= 300)
    throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

const PROPERTIES = {
  user_id: { type: 'long' },
  amount: { type: 'double' },
  status: { type: 'keyword' },
  note: { type: 'text' },
  attrs: { type: 'keyword', ignore_above: 256 },
  created_at: { type: 'date' },
  updated_at: { type: 'date' },
  user_name: { type: 'keyword' },
};
async function freshIndex(index) {
  await http('DELETE', `/${index}?ignore_unavailable=true`);
  await http('PUT', `/${index}`, {
    settings: { number_of_shards: 1, number_of_replicas: 0 },
    mappings: { properties: PROPERTIES },
  });
}
async function count(index) {
  await http('POST', `/${index}/_refresh`);
  return (await http('GET', `/${index}/_count`)).count;
}

/** The document Sluice builds from an order row (the ceiling sends the same). */
const doc = (r) => ({
  user_id: Number(r.user_id),
  amount: r.amount,
  status: STATUS[Number(r.status) - 1],
  note: r.note,
  attrs: r.attrs,
  created_at: r.created_at.replace(' ', 'T'),
  updated_at: r.updated_at.replace(' ', 'T'),
});

/** The ceiling: the same documents, `_bulk` of BATCH at a time, sequentially. */
async function ceiling(index, messages) {
  const rows = messages.flatMap((m) => m.data);
  for (let i = 0; i < rows.length; i += BATCH) {
    const lines = [];
    for (const r of rows.slice(i, i + BATCH)) {
      lines.push(JSON.stringify({ index: { _index: index, _id: r.id } }));
      lines.push(JSON.stringify(doc(r)));
    }
    const answer = await http('POST', '/_bulk', lines.join('\n') + '\n', true);
    if (answer.errors) throw new Error(`ceiling bulk errors: ${JSON.stringify(answer.items[0])}`);
  }
}

/**
 * A TCP proxy to MariaDB counting the client's COM_QUERY packets (MySQL protocol: 3-byte
 * length, sequence id, then the command byte; a command starts a new sequence at 0).
 */
async function countingProxy(port) {
  const stats = { queries: 0 };
  const server = createServer((client) => {
    const upstream = connect(port, '127.0.0.1');
    let buf = Buffer.alloc(0);
    client.on('data', (chunk) => {
      upstream.write(chunk);
      buf = Buffer.concat([buf, chunk]);
      while (buf.length >= 4) {
        const len = buf.readUIntLE(0, 3);
        if (buf.length < 4 + len) break;
        if (buf[3] === 0 && len > 0 && buf[4] === 0x03) stats.queries += 1;
        buf = buf.subarray(4 + len);
      }
    });
    upstream.on('data', (c) => client.write(c));
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { port: server.address().port, stats, close: () => server.close() };
}

/** `sluice start --once` over the whole topic with a fresh group; seconds from join to exit. */
async function sluiceRun(topic, index, sql, sourcePort) {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-esb-'));
  await mkdir(join(dir, 'es8'));
  const groupId = `es_ops_g_${tag}_${Math.random().toString(36).slice(2, 7)}`;
  await writeFile(
    join(dir, 'application.yml'),
    `canal.conf:
  mode: kafka
  flatMessage: true
  syncBatchSize: ${BATCH}
  consumerProperties:
    kafka.bootstrap.servers: ${broker}
    kafka.auto.offset.reset: earliest
    kafka.max.poll.records: "1000"
    kafka.fetch.max.wait.ms: "100"
  srcDataSources:
    defaultDS:
      url: jdbc:mysql://127.0.0.1:${sourcePort}/${db}
      username: root
      password: ""
  canalAdapters:
  - instance: ${topic}
    groups:
    - groupId: ${groupId}
      outerAdapters:
      - name: es8
        key: es1
        hosts: ${es}
sluice:
  deadLetter:
    dir: ${JSON.stringify(join(dir, 'dlq'))}
`,
  );
  await writeFile(
    join(dir, 'es8', 'orders.yml'),
    `dataSourceKey: defaultDS\ndestination: ${topic}\ngroupId: ${groupId}\nouterAdapterKey: es1\nesMapping:\n  _index: ${index}\n  _id: _id\n  sql: "${sql}"\n`,
  );
  const child = spawn(
    process.execPath,
    [
      ...sluiceNodeArgs(),
      ...(process.env.ES_BENCH_PROF
        ? ['--cpu-prof', `--cpu-prof-dir=${process.env.ES_BENCH_PROF}`]
        : []),
      bin,
      'start',
      '--once',
      '--config',
      dir,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, SLUICE_LOG_FORMAT: 'json' } },
  );
  let log = '';
  let joinedAt;
  child.stderr.on('data', (c) => {
    log += c;
    if (joinedAt === undefined && /Joined the consumer group/.test(log))
      joinedAt = process.hrtime.bigint();
  });
  const exit = await new Promise((r) => child.once('exit', (code) => r(code)));
  const endAt = process.hrtime.bigint();
  if (exit !== 0 || joinedAt === undefined)
    throw new Error(`sluice exited ${exit}:\n${log.slice(-4000)}`);
  return Number(endAt - joinedAt) / 1e9;
}

async function produce(kafka, admin, topic, messages) {
  await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
  const producer = kafka.producer();
  await producer.connect();
  const payloads = messages.map((m) => JSON.stringify(m));
  for (let i = 0; i < payloads.length; i += 100)
    await producer.send({
      topic,
      acks: 1,
      messages: payloads.slice(i, i + 100).map((value) => ({ partition: 0, value })),
    });
  await producer.disconnect();
}

async function timeIt(fn) {
  const t = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t) / 1e9;
}

const fmt = (v) => Math.round(v).toLocaleString('en-US');
console.log(
  `es-sink: ${N} INSERT row events (single-table), ${J} (join), ${PER_MESSAGE} rows/message, 1 partition, batch ${BATCH}; ` +
    `Node ${process.version}; ${cpus().length} CPUs ${cpus()[0]?.model}; load ${loadavg()
      .map((x) => x.toFixed(1))
      .join(' ')}`,
);
const kafka = new Kafka({
  clientId: 'es-ops-bench',
  brokers: [broker],
  logLevel: logLevel.NOTHING,
});
const admin = kafka.admin();
await admin.connect();
const topic = `es_ops_bench_${tag}`;
const joinTopic = `es_ops_bench_join_${tag}`;
const sluiceIndex = `es-ops-bench-sluice-${tag}`;
const ceilingIndex = `es-ops-bench-ceiling-${tag}`;
const joinIndex = `es-ops-bench-join-${tag}`;
const my = await mysql.createConnection({ host: '127.0.0.1', port: 13306, user: 'root' });
const proxy = await countingProxy(13306);
try {
  // The events name this run's database (the mappings' tables resolve against srcDataSources).
  const messages = orderMessages(N, PER_MESSAGE).map((m) => ({ ...m, database: db }));
  await my.query(`CREATE DATABASE \`${db}\` DEFAULT CHARACTER SET utf8mb4`);
  await produce(kafka, admin, topic, messages);
  const single =
    'select a.id as _id, a.user_id, a.amount, a.status, a.note, a.attrs, a.created_at, a.updated_at from orders a';
  for (let round = 1; round <= ROUNDS; round++) {
    await freshIndex(ceilingIndex);
    const c = N / (await timeIt(() => ceiling(ceilingIndex, messages)));
    if ((await count(ceilingIndex)) !== N) throw new Error('ceiling: wrong document count');
    await freshIndex(sluiceIndex);
    const s = N / (await sluiceRun(topic, sluiceIndex, single, 13306));
    const n = await count(sluiceIndex);
    if (n !== N) throw new Error(`sluice: ${n} documents, expected ${N}`);
    console.log(
      `single-table round ${round}: ceiling (_bulk script) ${fmt(c)} docs/s; sluice ${fmt(s)} docs/s; ratio ${(s / c).toFixed(2)}; load ${loadavg()[0].toFixed(1)}`,
    );
  }

  // Join mapping: the source holds the orders (and their users); the stream inserts them.
  await my.query(`USE \`${db}\``);
  await my.query(
    `CREATE TABLE orders (id bigint PRIMARY KEY, user_id int unsigned, amount decimal(10,2), status enum('new','paid','shipped'), note text, attrs json, created_at datetime(3), updated_at timestamp NULL)`,
  );
  await my.query('CREATE TABLE users (id int unsigned PRIMARY KEY, name varchar(64))');
  const joinMessages = orderMessages(J, PER_MESSAGE).map((m) => ({
    ...m,
    database: db,
    data: m.data.map((r) => ({ ...r, user_id: String(Number(r.user_id) % 5000) })),
  }));
  const rows = joinMessages.flatMap((m) => m.data);
  for (let i = 0; i < rows.length; i += 1000)
    await my.query('INSERT INTO orders VALUES ?', [
      rows
        .slice(i, i + 1000)
        .map((r) => [
          r.id,
          r.user_id,
          r.amount,
          Number(r.status),
          r.note,
          r.attrs,
          r.created_at,
          r.updated_at,
        ]),
    ]);
  await my.query('INSERT INTO users VALUES ?', [
    Array.from({ length: 5000 }, (_, u) => [u, `user ${u}`]),
  ]);
  await produce(kafka, admin, joinTopic, joinMessages);
  const joinSql =
    'select a.id as _id, a.user_id, a.amount, a.status, a.note, a.attrs, a.created_at, a.updated_at, u.name as user_name from orders a left join users u on u.id = a.user_id';
  await freshIndex(joinIndex);
  const before = proxy.stats.queries;
  const seconds = await sluiceRun(joinTopic, joinIndex, joinSql, proxy.port);
  const queries = proxy.stats.queries - before;
  const n = await count(joinIndex);
  if (n !== J) throw new Error(`join: ${n} documents, expected ${J}`);
  console.log(
    `join mapping (LEFT JOIN users): sluice ${fmt(J / seconds)} rows/s (${seconds.toFixed(1)} s); source queries ${queries} = ${(queries / J).toFixed(4)} per event; load ${loadavg()[0].toFixed(1)}`,
  );
} finally {
  proxy.close();
  await my.query(`DROP DATABASE IF EXISTS \`${db}\``).catch(() => {});
  await my.end();
  for (const index of [sluiceIndex, ceilingIndex, joinIndex])
    await http('DELETE', `/${index}?ignore_unavailable=true`).catch(() => {});
  await admin.deleteTopics({ topics: [topic, joinTopic] }).catch(() => {});
  await admin.disconnect();
}
