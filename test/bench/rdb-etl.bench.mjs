#!/usr/bin/env node
// ETL (full sync) of a 1M-row table: `sluice etl rdb KEY TASK` from a MariaDB source table into
// a MariaDB and a PostgreSQL target, beside a ceiling measured in the same run: a trivial script
// doing the same keyset pages (`WHERE id > ? ORDER BY id LIMIT page`) and one multi-row upsert per
// page in a transaction through mysql2 / pg. RSS of the sluice process is sampled every second
// from /proc (flat means the ETL streams pages instead of holding the table).
//
// Usage: pnpm build && node test/bench/rdb-etl.bench.mjs [--rows 1000000] [--page 5000]
//        [--targets mariadb,postgresql]
import { spawn } from 'node:child_process';
import { mkdtemp, mkdir, readFile, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createRequire } from 'node:module';
import { sluiceNodeArgs } from './lib/launch.mjs';

const require = createRequire(import.meta.url);
const mysql = require('../../plugins/sink-rdb/node_modules/mysql2/promise.js');
const pg = require('../../plugins/sink-rdb/node_modules/pg/lib/index.js');
const root = fileURLToPath(new URL('../../', import.meta.url));
const bin = join(root, 'packages/cli/dist/bin.js');

const { values: opts } = parseArgs({
  options: {
    rows: { type: 'string', default: '1000000' },
    page: { type: 'string', default: '5000' },
    targets: { type: 'string', default: 'mariadb,postgresql' },
  },
});
const N = Number(opts.rows);
const PAGE = Number(opts.page);
const tag = `${process.pid.toString(36)}${Date.now().toString(36).slice(-4)}`;
const src = `etlb_src_${tag}`;
const tgt = `etlb_tgt_${tag}`;
const names = [
  'id',
  'user_id',
  'name',
  'email',
  'amount',
  'qty',
  'status',
  'created',
  'updated',
  'note',
];
const my = { host: '127.0.0.1', port: 13306, user: 'root' };
const pgc = { host: '127.0.0.1', port: 15432, user: 'postgres' };

const admin = await mysql.createConnection(my);
await admin.query(`CREATE DATABASE \`${src}\` DEFAULT CHARACTER SET utf8mb4`);
await admin.query(
  `CREATE TABLE \`${src}\`.orders (id bigint PRIMARY KEY, user_id int, name varchar(64), email varchar(128), amount decimal(12,2), qty int, status varchar(16), created datetime, updated timestamp NULL, note varchar(255))`,
);
const filled = Date.now();
for (let from = 1; from <= N; from += 100_000) {
  const to = Math.min(N, from + 99_999);
  await admin.query(
    `INSERT INTO \`${src}\`.orders SELECT seq, seq % 977, CONCAT('user ', seq), CONCAT('user', seq, '@example.com'), (seq % 100000) / 100, seq % 50, IF(seq % 2, 'paid', 'new'), '2024-06-01 12:00:00', TIMESTAMP('2024-06-01 12:00:00') + INTERVAL (seq % 3600) SECOND, CONCAT('note ', seq) FROM seq_${from}_to_${to}`.replace(
      'FROM seq_',
      'FROM `' + src + '`.seq_',
    ),
  );
}
console.log(`rdb-etl: ${N} source rows written in ${((Date.now() - filled) / 1000).toFixed(1)} s`);

const targets = {
  mariadb: {
    jdbc: `jdbc:mysql://127.0.0.1:13306/${tgt}`,
    user: 'root',
    async reset() {
      await admin.query(`DROP DATABASE IF EXISTS \`${tgt}\``);
      await admin.query(`CREATE DATABASE \`${tgt}\` DEFAULT CHARACTER SET utf8mb4`);
      await admin.query(`CREATE TABLE \`${tgt}\`.orders LIKE \`${src}\`.orders`);
    },
    async count() {
      return Number((await admin.query(`SELECT count(*) AS n FROM \`${tgt}\`.orders`))[0][0].n);
    },
    async drop() {
      await admin.query(`DROP DATABASE IF EXISTS \`${tgt}\``);
    },
    async writer() {
      const c = await mysql.createConnection({
        ...my,
        database: tgt,
        charset: 'utf8mb4_general_ci',
      });
      return {
        async write(rows) {
          await c.query('START TRANSACTION');
          await c.query(
            `INSERT INTO orders (${names.join(',')}) VALUES ${rows.map(() => `(${names.map(() => '?').join(',')})`).join(',')} ON DUPLICATE KEY UPDATE ${names
              .slice(1)
              .map((x) => `${x}=VALUES(${x})`)
              .join(',')}`,
            rows.flatMap((r) => names.map((n) => r[n])),
          );
          await c.query('COMMIT');
        },
        end: () => c.end(),
      };
    },
  },
  postgresql: {
    jdbc: `jdbc:postgresql://127.0.0.1:15432/${tgt}`,
    user: 'postgres',
    async reset() {
      const c = new pg.Client({ ...pgc, database: 'postgres' });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${tgt}`);
      await c.query(`CREATE DATABASE ${tgt}`);
      await c.end();
      const t = new pg.Client({ ...pgc, database: tgt });
      await t.connect();
      await t.query(
        `CREATE TABLE orders (id bigint PRIMARY KEY, user_id int, name varchar(64), email varchar(128), amount numeric(12,2), qty int, status varchar(16), created timestamp, updated timestamptz, note varchar(255))`,
      );
      await t.end();
    },
    async count() {
      const t = new pg.Client({ ...pgc, database: tgt });
      await t.connect();
      const n = Number((await t.query('SELECT count(*) AS n FROM orders')).rows[0].n);
      await t.end();
      return n;
    },
    async drop() {
      const c = new pg.Client({ ...pgc, database: 'postgres' });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${tgt}`);
      await c.end();
    },
    async writer() {
      const c = new pg.Client({ ...pgc, database: tgt });
      await c.connect();
      return {
        async write(rows) {
          let p = 0;
          await c.query('BEGIN');
          await c.query(
            `INSERT INTO orders (${names.join(',')}) VALUES ${rows.map(() => `(${names.map(() => `$${++p}`).join(',')})`).join(',')} ON CONFLICT (id) DO UPDATE SET ${names
              .slice(1)
              .map((x) => `${x}=EXCLUDED.${x}`)
              .join(',')}`,
            rows.flatMap((r) => names.map((n) => r[n])),
          );
          await c.query('COMMIT');
        },
        end: () => c.end(),
      };
    },
  },
};

/** The ceiling: keyset pages from the source, one multi-row upsert per page. */
async function ceiling(target) {
  const reader = await mysql.createConnection({
    ...my,
    database: src,
    dateStrings: true,
    supportBigNumbers: true,
    bigNumberStrings: true,
    decimalNumbers: false,
  });
  const w = await targets[target].writer();
  let last = 0;
  for (;;) {
    const [rows] = await reader.query(
      `SELECT ${names.join(',')} FROM orders WHERE id > ? ORDER BY id LIMIT ${PAGE}`,
      [last],
    );
    if (rows.length === 0) break;
    await w.write(rows);
    last = rows.at(-1).id;
  }
  await w.end();
  await reader.end();
}

async function rssOf(pid) {
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
  } catch {
    return 0;
  }
}

async function sluiceEtl(target) {
  const t = targets[target];
  const dir = await mkdtemp(join(tmpdir(), 'sluice-etlb-'));
  await mkdir(join(dir, 'rdb'));
  await writeFile(
    join(dir, 'application.yml'),
    `canal.conf:
  mode: kafka
  consumerProperties:
    kafka.bootstrap.servers: 127.0.0.1:19092
  srcDataSources:
    defaultDS:
      url: jdbc:mysql://127.0.0.1:13306/${src}
      username: root
      password: ""
  canalAdapters:
  - instance: etlbench
    groups:
    - groupId: g
      outerAdapters:
      - name: rdb
        key: t
        properties:
          jdbc.url: ${t.jdbc}
          jdbc.username: ${t.user}
          jdbc.password: ""
`,
  );
  await writeFile(
    join(dir, 'rdb', 'orders.yml'),
    `dataSourceKey: defaultDS\ndestination: etlbench\ngroupId: g\nouterAdapterKey: t\ndbMapping:\n  database: ${src}\n  table: orders\n  targetTable: orders\n  targetPk:\n    id: id\n  mapAll: true\n  commitBatch: ${PAGE}\n`,
  );
  const started = process.hrtime.bigint();
  const child = spawn(
    process.execPath,
    [...sluiceNodeArgs(), bin, 'etl', 'rdb', 't', 'orders.yml', '--config', dir],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  child.stdout.on('data', (c) => (out += c));
  child.stderr.on('data', (c) => (out += c));
  const rss = [];
  const sampler = setInterval(async () => rss.push(await rssOf(child.pid)), 1000);
  const code = await new Promise((r) => child.once('exit', (c) => r(c)));
  clearInterval(sampler);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (code !== 0) throw new Error(`sluice etl exited ${code}:\n${out.slice(-3000)}`);
  return {
    seconds,
    rss: rss.filter((x) => x > 0),
    last: out.trim().split(/\r|\n/).filter(Boolean).slice(-2).join(' | '),
  };
}

const mib = (b) => Math.round(b / 1048576);
console.log(
  `rdb-etl: ${N} rows of a 10-column table, page ${PAGE}; Node ${process.version}; ${cpus().length} CPUs ${cpus()[0]?.model}; load ${loadavg()
    .map((x) => x.toFixed(1))
    .join(' ')}`,
);
try {
  for (const target of opts.targets.split(',')) {
    const t = targets[target];
    try {
      await t.reset();
      const c0 = process.hrtime.bigint();
      await ceiling(target);
      const ceilingS = Number(process.hrtime.bigint() - c0) / 1e9;
      if ((await t.count()) !== N)
        throw new Error(`${target}: the ceiling script wrote ${await t.count()} rows`);
      await t.reset();
      const run = await sluiceEtl(target);
      const rows = await t.count();
      if (rows !== N) throw new Error(`${target}: ${rows} rows after sluice etl, expected ${N}`);
      const c = N / ceilingS;
      const s = N / run.seconds;
      console.log(
        `${target}: ceiling ${Math.round(c).toLocaleString('en-US')} rows/s (${ceilingS.toFixed(1)} s); sluice etl ${Math.round(s).toLocaleString('en-US')} rows/s (${run.seconds.toFixed(1)} s, process start included); ratio ${(s / c).toFixed(2)}; ` +
          `RSS max ${mib(Math.max(...run.rss))} MiB; load ${loadavg()[0].toFixed(1)}`,
      );
      console.log(`${target} RSS every second (MiB): ${run.rss.map(mib).join(' ')}`);
      console.log(`${target} last progress output: ${run.last}`);
      const own = /rows written, \d+ errors, (?:(\d+)m)?(\d+)s/.exec(run.last);
      if (own) {
        const ownS = Number(own[1] ?? 0) * 60 + Number(own[2]);
        console.log(
          `${target}: by sluice's own clock (the ETL only, no process start): ${Math.round(N / ownS).toLocaleString('en-US')} rows/s, ratio ${(N / ownS / c).toFixed(2)}`,
        );
      }
    } finally {
      await t.drop();
    }
  }
} finally {
  await admin.query(`DROP DATABASE IF EXISTS \`${src}\``);
  await admin.end();
}
