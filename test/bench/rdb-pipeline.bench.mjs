#!/usr/bin/env node
// Kafka → Sluice → rdb (MariaDB, PostgreSQL) on one partition, beside a ceiling measured in the
// same run: a trivial script writing the same rows with the same batch size through mysql2 / pg
// (one multi-row upsert per batch in a transaction, values as canal's text).
//
// The topic holds a backlog of N row events of a realistic 10-column row (`shop.orders`): N/2
// inserts, then N/2 updates of the same keys, as canal FlatMessages of 20 rows. `sluice start
// --once` drains it into the target (rows/s from "Joined the consumer group" to exit: fetch,
// decode, lanes, conversion, upserts and commits included). RSS of the sluice process is sampled
// every second from /proc (the series is printed: it must stay flat while draining).
//
// Usage: pnpm build && node test/bench/rdb-pipeline.bench.mjs [--rows 1000000] [--batch 1000]
//        [--targets mariadb,postgresql] [--rounds 1]
import { spawn } from 'node:child_process';
import { mkdtemp, mkdir, readFile, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createRequire } from 'node:module';
import { sluiceNodeArgs } from './lib/launch.mjs';

const require = createRequire(import.meta.url);
const { Kafka, logLevel } = require('kafkajs');
const mysql = require('../../plugins/sink-rdb/node_modules/mysql2/promise.js');
const pg = require('../../plugins/sink-rdb/node_modules/pg/lib/index.js');
const root = fileURLToPath(new URL('../../', import.meta.url));
const bin = join(root, 'packages/cli/dist/bin.js');

const { values: opts } = parseArgs({
  options: {
    rows: { type: 'string', default: '1000000' },
    batch: { type: 'string', default: '1000' },
    targets: { type: 'string', default: 'mariadb,postgresql' },
    rounds: { type: 'string', default: '1' },
  },
});
const N = Number(opts.rows);
const BATCH = Number(opts.batch);
const ROUNDS = Number(opts.rounds);
const PER_MESSAGE = 20;
const KEYS = Math.floor(N / 2);
const broker = (process.env.SLUICE_TEST_KAFKA ?? '127.0.0.1:19092').replace(/^[a-z]+:\/\//, '');
const tag = `${process.pid.toString(36)}${Date.now().toString(36).slice(-4)}`;
const db = `rdbp_${tag}`;

const meta = {
  mysqlType: {
    id: 'bigint(20)',
    user_id: 'int(11)',
    name: 'varchar(64)',
    email: 'varchar(128)',
    amount: 'decimal(12,2)',
    qty: 'int(11)',
    status: 'varchar(16)',
    created: 'datetime',
    updated: 'timestamp',
    note: 'varchar(255)',
  },
  sqlType: {
    id: -5,
    user_id: 4,
    name: 12,
    email: 12,
    amount: 3,
    qty: 4,
    status: 12,
    created: 93,
    updated: 93,
    note: 12,
  },
};
const names = Object.keys(meta.mysqlType);
/** Row event i: i < KEYS inserts key i, then updates of key i − KEYS. */
const row = (i) => {
  const id = i % KEYS;
  return {
    id: String(id),
    user_id: String(id % 977),
    name: `user ${id}`,
    email: `user${id}@example.com`,
    amount: `${(i % 100000) / 100}`,
    qty: String(i % 50),
    status: i % 2 ? 'paid' : 'new',
    created: '2024-06-01 12:00:00',
    updated: `2024-06-01 12:${String(i % 60).padStart(2, '0')}:00`,
    note: `note ${i}`,
  };
};

function messages() {
  const out = [];
  for (let i = 0, m = 1; i < N; m++) {
    const insert = i < KEYS;
    const end = Math.min(insert ? KEYS : N, i + PER_MESSAGE);
    const data = [];
    const old = [];
    for (; i < end; i++) {
      data.push(row(i));
      if (!insert) {
        const before = row(i - KEYS);
        old.push({
          amount: before.amount,
          qty: before.qty,
          updated: before.updated,
          note: before.note,
        });
      }
    }
    out.push(
      JSON.stringify({
        data,
        database: 'shop',
        es: 1_700_000_000_000 + m,
        gtid: '',
        id: m,
        isDdl: false,
        ...meta,
        old: insert ? null : old,
        pkNames: ['id'],
        sql: '',
        table: 'orders',
        ts: 1_700_000_000_000 + m,
        type: insert ? 'INSERT' : 'UPDATE',
      }),
    );
  }
  return out;
}

const targets = {
  mariadb: {
    ddl: `CREATE TABLE orders (id bigint PRIMARY KEY, user_id int, name varchar(64), email varchar(128), amount decimal(12,2), qty int, status varchar(16), created datetime, updated timestamp NULL, note varchar(255))`,
    jdbc: `jdbc:mysql://127.0.0.1:13306/${db}`,
    user: 'root',
    async admin() {
      const c = await mysql.createConnection({ host: '127.0.0.1', port: 13306, user: 'root' });
      return {
        reset: async () => {
          await c.query(`DROP DATABASE IF EXISTS \`${db}\``);
          await c.query(`CREATE DATABASE \`${db}\` DEFAULT CHARACTER SET utf8mb4`);
          await c.query(`USE \`${db}\``);
          await c.query(this.ddl);
        },
        count: async () => Number((await c.query('SELECT count(*) AS n FROM orders'))[0][0].n),
        end: async () => {
          await c.query(`DROP DATABASE IF EXISTS \`${db}\``);
          await c.end();
        },
      };
    },
    async ceiling() {
      const c = await mysql.createConnection({
        host: '127.0.0.1',
        port: 13306,
        user: 'root',
        database: db,
        charset: 'utf8mb4_general_ci',
      });
      const sql = (n) =>
        `INSERT INTO orders (${names.join(',')}) VALUES ${Array(n)
          .fill(`(${names.map(() => '?').join(',')})`)
          .join(',')} ON DUPLICATE KEY UPDATE ${names
          .slice(1)
          .map((x) => `${x}=VALUES(${x})`)
          .join(',')}`;
      for (let i = 0; i < N; i += BATCH) {
        const rows = [];
        for (let j = i; j < Math.min(N, i + BATCH); j++) rows.push(row(j));
        await c.query('START TRANSACTION');
        await c.query(
          sql(rows.length),
          rows.flatMap((r) => names.map((n) => r[n])),
        );
        await c.query('COMMIT');
      }
      await c.end();
    },
  },
  postgresql: {
    ddl: `CREATE TABLE orders (id bigint PRIMARY KEY, user_id int, name varchar(64), email varchar(128), amount numeric(12,2), qty int, status varchar(16), created timestamp, updated timestamptz, note varchar(255))`,
    jdbc: `jdbc:postgresql://127.0.0.1:15432/${db}`,
    user: 'postgres',
    async admin() {
      const c = new pg.Client({
        host: '127.0.0.1',
        port: 15432,
        user: 'postgres',
        database: 'postgres',
      });
      await c.connect();
      let t;
      return {
        reset: async () => {
          await t?.end();
          await c.query(`DROP DATABASE IF EXISTS ${db}`);
          await c.query(`CREATE DATABASE ${db}`);
          t = new pg.Client({ host: '127.0.0.1', port: 15432, user: 'postgres', database: db });
          await t.connect();
          await t.query(this.ddl);
        },
        count: async () => Number((await t.query('SELECT count(*) AS n FROM orders')).rows[0].n),
        end: async () => {
          await t?.end();
          await c.query(`DROP DATABASE IF EXISTS ${db}`);
          await c.end();
        },
      };
    },
    async ceiling() {
      const c = new pg.Client({ host: '127.0.0.1', port: 15432, user: 'postgres', database: db });
      await c.connect();
      for (let i = 0; i < N; i += BATCH) {
        const rows = [];
        for (let j = i; j < Math.min(N, i + BATCH); j++) rows.push(row(j));
        let p = 0;
        const sql = `INSERT INTO orders (${names.join(',')}) VALUES ${rows
          .map(() => `(${names.map(() => `$${++p}`).join(',')})`)
          .join(',')} ON CONFLICT (id) DO UPDATE SET ${names
          .slice(1)
          .map((x) => `${x}=EXCLUDED.${x}`)
          .join(',')}`;
        await c.query('BEGIN');
        await c.query(
          sql,
          rows.flatMap((r) => names.map((n) => r[n])),
        );
        await c.query('COMMIT');
      }
      await c.end();
    },
  },
};

async function timeIt(fn) {
  const t = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t) / 1e9;
}

async function rssOf(pid) {
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
  } catch {
    return 0;
  }
}

/** `sluice start --once` over the whole topic with a fresh group; rows/s from join to exit. */
async function sluiceRun(target, topic) {
  const t = targets[target];
  const dir = await mkdtemp(join(tmpdir(), 'sluice-rdbp-'));
  await mkdir(join(dir, 'rdb'));
  const groupId = `g_${tag}_${Math.random().toString(36).slice(2, 7)}`;
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
  canalAdapters:
  - instance: ${topic}
    groups:
    - groupId: ${groupId}
      outerAdapters:
      - name: rdb
        key: t
        properties:
          jdbc.url: ${t.jdbc}
          jdbc.username: ${t.user}
          jdbc.password: ""
          batchRows: ${BATCH}
sluice:
  deadLetter:
    dir: ${JSON.stringify(join(dir, 'dlq'))}
`,
  );
  await writeFile(
    join(dir, 'rdb', 'orders.yml'),
    `destination: ${topic}\ngroupId: ${groupId}\nouterAdapterKey: t\ndbMapping:\n  database: shop\n  table: orders\n  targetTable: orders\n  targetPk:\n    id: id\n  mapAll: true\n`,
  );
  const child = spawn(
    process.execPath,
    [...sluiceNodeArgs(), bin, 'start', '--once', '--config', dir],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, SLUICE_LOG_FORMAT: 'json' },
    },
  );
  let log = '';
  let joinedAt;
  child.stderr.on('data', (c) => {
    log += c;
    if (joinedAt === undefined && /Joined the consumer group/.test(log))
      joinedAt = process.hrtime.bigint();
  });
  const rss = [];
  const sampler = setInterval(async () => rss.push(await rssOf(child.pid)), 1000);
  const exit = await new Promise((r) => child.once('exit', (code) => r(code)));
  const endAt = process.hrtime.bigint();
  clearInterval(sampler);
  if (exit !== 0 || joinedAt === undefined)
    throw new Error(`sluice exited ${exit}:\n${log.slice(-4000)}`);
  return { seconds: Number(endAt - joinedAt) / 1e9, rss: rss.filter((x) => x > 0) };
}

const mib = (b) => Math.round(b / 1048576);
console.log(
  `rdb-pipeline: ${N} row events (${KEYS} inserts, ${N - KEYS} updates), ${PER_MESSAGE} rows/message, 1 partition, batch ${BATCH}; ` +
    `Node ${process.version}; ${cpus().length} CPUs ${cpus()[0]?.model}; load ${loadavg()
      .map((x) => x.toFixed(1))
      .join(' ')}`,
);
const kafka = new Kafka({ clientId: 'rdbp', brokers: [broker], logLevel: logLevel.NOTHING });
const admin = kafka.admin();
await admin.connect();
const topic = `rdbp_${tag}`;
await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
const producer = kafka.producer();
await producer.connect();
const payloads = messages();
for (let i = 0; i < payloads.length; i += 100)
  await producer.send({
    topic,
    acks: 1,
    messages: payloads.slice(i, i + 100).map((value) => ({ partition: 0, value })),
  });
await producer.disconnect();
console.log(`produced ${payloads.length} messages`);

try {
  for (const target of opts.targets.split(',')) {
    const t = targets[target];
    const a = await t.admin();
    try {
      for (let round = 1; round <= ROUNDS; round++) {
        await a.reset();
        const ceilingS = await timeIt(() => t.ceiling());
        await a.reset();
        const run = await sluiceRun(target, topic);
        const rows = await a.count();
        if (rows !== KEYS)
          throw new Error(`${target}: ${rows} rows in the target, expected ${KEYS}`);
        const c = N / ceilingS;
        const s = N / run.seconds;
        const tenth = Math.max(1, Math.floor(run.rss.length / 10));
        console.log(
          `${target} round ${round}: ceiling ${Math.round(c).toLocaleString('en-US')} rows/s; ` +
            `sluice ${Math.round(s).toLocaleString('en-US')} rows/s (${run.seconds.toFixed(1)} s); ratio ${(s / c).toFixed(2)}; ` +
            `RSS first tenth max ${mib(Math.max(...run.rss.slice(0, tenth)))} MiB, last tenth max ${mib(Math.max(...run.rss.slice(-tenth)))} MiB, max ${mib(Math.max(...run.rss))} MiB; load ${loadavg()[0].toFixed(1)}`,
        );
        console.log(`${target} RSS every second (MiB): ${run.rss.map(mib).join(' ')}`);
      }
    } finally {
      await a.end();
    }
  }
} finally {
  await admin.deleteTopics({ topics: [topic] }).catch(() => {});
  await admin.disconnect();
}
