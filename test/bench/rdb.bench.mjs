// rdb sink throughput (sink.write of ChangeEvents: conversion, grouping, multi-row upserts in one
// transaction per batch) beside a ceiling measured in the same run: a trivial script writing the
// same rows with the same batch size through mysql2 / pg (one multi-row upsert per batch).
// Not through Kafka (the Kafka → sink pipeline is measured by kafka-pipeline.bench.mjs).
// Run after `pnpm build`:  node test/bench/rdb.bench.mjs [rows=100000] [batch=1000]
import os from 'node:os';
import mysql from '../../plugins/sink-rdb/node_modules/mysql2/promise.js';
import pg from '../../plugins/sink-rdb/node_modules/pg/lib/index.js';
import { rdbSink } from '../../plugins/sink-rdb/dist/index.js';

const N = Number(process.argv[2] ?? 100_000);
const BATCH = Number(process.argv[3] ?? 1000);
const KEYS = Math.floor(N / 2); // half inserts, half updates of existing keys
const quiet = { debug() {}, info() {}, warn() {}, error() {}, child: () => quiet };
const never = new AbortController().signal;
const db = `rdb_bench_${process.pid}`;
const columns = {
  id: { mysqlType: 'bigint(20)', sqlType: -5 },
  user_id: { mysqlType: 'int(11)', sqlType: 4 },
  name: { mysqlType: 'varchar(64)', sqlType: 12 },
  email: { mysqlType: 'varchar(128)', sqlType: 12 },
  amount: { mysqlType: 'decimal(12,2)', sqlType: 3 },
  qty: { mysqlType: 'int(11)', sqlType: 4 },
  status: { mysqlType: 'varchar(16)', sqlType: 12 },
  created: { mysqlType: 'datetime', sqlType: 93 },
  updated: { mysqlType: 'timestamp', sqlType: 93 },
  note: { mysqlType: 'varchar(255)', sqlType: 12 },
};
const names = Object.keys(columns);
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
const events = Array.from({ length: N }, (_, i) => ({
  kind: 'row',
  type: i < KEYS ? 'INSERT' : 'UPDATE',
  destination: 'bench',
  database: 'shop',
  table: 'orders',
  pkNames: ['id'],
  columns,
  executedAt: 0,
  producedAt: 0,
  position: { source: 'bench', partition: '0', offset: String(i), index: 0 },
  ...(i < KEYS ? {} : { before: row(i - KEYS) }),
  after: row(i),
  changed: [],
}));
const mapping = {
  file: 'rdb/orders.yml',
  name: 'orders.yml',
  config: {
    dbMapping: {
      database: 'shop',
      table: 'orders',
      targetTable: 'orders',
      targetPk: { id: 'id' },
      mapAll: true,
    },
  },
};

async function timeIt(fn) {
  const t = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t) / 1e9;
}

async function bench(kind, admin, resetSql, url, user, ceiling) {
  await admin(resetSql);
  const ceilingS = await timeIt(ceiling);
  await admin(resetSql);
  const sink = rdbSink.create({
    key: 'bench',
    name: 'rdb',
    hosts: undefined,
    properties: {
      'jdbc.url': url,
      'jdbc.username': user,
      'jdbc.password': '',
      threads: 3,
      batchRows: BATCH,
      foreignKeyChecks: false,
      truncate: false,
      ddl: 'mirror',
      skipDupException: true,
    },
    configDir: '/tmp',
    deps: { logger: quiet, dataSources: { get: () => undefined, keys: () => [] } },
  });
  await sink.connect(never);
  const rssBefore = process.memoryUsage().rss;
  const sinkS = await timeIt(async () => {
    for (let i = 0; i < N; i += BATCH) {
      const batch = events.slice(i, i + BATCH).map((event) => ({ event, mapping }));
      const r = await sink.write(batch, never);
      if (r.some((o) => o.status !== 'applied')) throw new Error('a row failed');
    }
  });
  const rssAfter = process.memoryUsage().rss;
  await sink.close(never);
  const c = N / ceilingS;
  const s = N / sinkS;
  console.log(
    `${kind}: ceiling (raw driver, same rows, batch ${BATCH}) ${Math.round(c).toLocaleString('en-US')} rows/s; ` +
      `rdb sink ${Math.round(s).toLocaleString('en-US')} rows/s; ratio ${(s / c).toFixed(2)}; ` +
      `RSS ${Math.round(rssBefore / 1e6)} → ${Math.round(rssAfter / 1e6)} MB`,
  );
}

console.log(
  `rdb.bench: ${N} events (${KEYS} inserts, ${N - KEYS} updates), 10 columns, batch ${BATCH}; node ${process.version}; nproc ${os.cpus().length}; ${os.cpus()[0]?.model}`,
);

// MariaDB
const my = await mysql.createConnection({
  host: '127.0.0.1',
  port: 13306,
  user: 'root',
  multipleStatements: true,
});
await my.query(`CREATE DATABASE IF NOT EXISTS \`${db}\``);
const myDdl = `DROP TABLE IF EXISTS \`${db}\`.orders; CREATE TABLE \`${db}\`.orders (id bigint PRIMARY KEY, user_id int, name varchar(64), email varchar(128), amount decimal(12,2), qty int, status varchar(16), created datetime, updated timestamp NULL, note varchar(255))`;
try {
  await bench(
    'MariaDB',
    (sql) => my.query(sql),
    myDdl,
    `jdbc:mysql://127.0.0.1:13306/${db}`,
    'root',
    async () => {
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
        const rows = events.slice(i, i + BATCH).map((e) => e.after);
        await c.query('START TRANSACTION');
        await c.query(
          sql(rows.length),
          rows.flatMap((r) => names.map((n) => r[n])),
        );
        await c.query('COMMIT');
      }
      await c.end();
    },
  );
} finally {
  await my.query(`DROP DATABASE IF EXISTS \`${db}\``);
  await my.end();
}

// PostgreSQL
const pgAdmin = new pg.Client({
  host: '127.0.0.1',
  port: 15432,
  user: 'postgres',
  database: 'postgres',
});
await pgAdmin.connect();
const pgDdl = `DROP TABLE IF EXISTS public.${db}; CREATE TABLE public.${db} (id bigint PRIMARY KEY, user_id int, name varchar(64), email varchar(128), amount numeric(12,2), qty int, status varchar(16), created timestamp, updated timestamptz, note varchar(255))`;
mapping.config.dbMapping.targetTable = db;
try {
  await bench(
    'PostgreSQL',
    (sql) => pgAdmin.query(sql),
    pgDdl,
    'jdbc:postgresql://127.0.0.1:15432/postgres',
    'postgres',
    async () => {
      const c = new pg.Client({
        host: '127.0.0.1',
        port: 15432,
        user: 'postgres',
        database: 'postgres',
      });
      await c.connect();
      for (let i = 0; i < N; i += BATCH) {
        const rows = events.slice(i, i + BATCH).map((e) => e.after);
        let p = 0;
        const sql = `INSERT INTO public.${db} (${names.join(',')}) VALUES ${rows.map(() => `(${names.map(() => `$${++p}`).join(',')})`).join(',')} ON CONFLICT (id) DO UPDATE SET ${names
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
  );
} finally {
  await pgAdmin.query(`DROP TABLE IF EXISTS public.${db}`);
  await pgAdmin.end();
}
