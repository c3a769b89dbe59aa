#!/usr/bin/env node
// Added latency from an event's binlog time (canal's `es`) to applied, at a steady rate, for
// `sluice start` from the testbed Kafka into (a) a no-op sink and (b) MariaDB through the rdb
// sink. Each message's `es` is stamped when it is produced, so the figure is the latency Sluice
// adds on top of canal (Kafka's produce/fetch included).
//   engine view   — p50/p99 from sluice_apply_lag_seconds (GET /metrics, histogram_quantile's
//                   interpolation), RSS from sluice_process_resident_memory_bytes every 10 s
//   outside view  — no-op: the latency sink's own per-row record (test/bench/latency-sink.mjs);
//                   MariaDB: a probe polling the target table every 20 ms, now − es per new id
// Target (issue 15): p99 < 250 ms with RSS flat.
// Usage: pnpm build && node test/bench/latency.bench.mjs [--rate 5000] [--seconds 300]
//        [--rows-per-message 10] [--targets noop,mariadb] [--node-args '--max-old-space-size=256']
import { spawn } from 'node:child_process';
import { mkdtemp, mkdir, readFile, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createRequire } from 'node:module';
import { sluiceNodeArgs } from './lib/launch.mjs';

const require = createRequire(import.meta.url);
const { Kafka, logLevel } = require('kafkajs');
const mysql = require('mysql2/promise');
const root = fileURLToPath(new URL('../../', import.meta.url));
const bin = join(root, 'packages/cli/dist/bin.js');

const { values: opts } = parseArgs({
  options: {
    rate: { type: 'string', default: '5000' },
    seconds: { type: 'string', default: '300' },
    'rows-per-message': { type: 'string', default: '10' },
    targets: { type: 'string', default: 'noop,mariadb' },
    'node-args': { type: 'string', default: '' },
  },
});
const RATE = Number(opts.rate);
const SECONDS = Number(opts.seconds);
const PER_MESSAGE = Number(opts['rows-per-message']);
const TICK_MS = 20;
const broker = (process.env.SLUICE_TEST_KAFKA ?? '127.0.0.1:19092').replace(/^[a-z]+:\/\//, '');
const mysqlUrl = new URL(process.env.SLUICE_TEST_MYSQL ?? 'mysql://root:@127.0.0.1:13306');
const my = {
  host: mysqlUrl.hostname,
  port: Number(mysqlUrl.port),
  user: decodeURIComponent(mysqlUrl.username),
  password: decodeURIComponent(mysqlUrl.password),
};
const kafka = new Kafka({
  clientId: 'sluice-latency',
  brokers: [broker],
  logLevel: logLevel.NOTHING,
});
const tag = `${process.pid.toString(36)}${Date.now().toString(36).slice(-5)}`;

function message(id0, n, es) {
  const data = [];
  for (let i = 0; i < n; i++)
    data.push({ id: String(id0 + i), amount: `${(id0 + i) % 1000}.25`, note: 'steady' });
  return JSON.stringify({
    data,
    database: `lat_${tag}`,
    es,
    gtid: '',
    id: id0,
    isDdl: false,
    mysqlType: { id: 'bigint(20)', amount: 'decimal(10,2)', note: 'varchar(40)' },
    old: null,
    pkNames: ['id'],
    sql: '',
    sqlType: { id: -5, amount: 3, note: 12 },
    table: 'orders',
    ts: es,
    type: 'INSERT',
  });
}

/** histogram_quantile over cumulative buckets {le, count}. */
function quantile(q, buckets) {
  const total = buckets.at(-1).count;
  const rank = q * total;
  let prevLe = 0;
  let prevCount = 0;
  for (const b of buckets) {
    if (b.count >= rank) {
      if (!Number.isFinite(b.le)) return prevLe;
      return prevLe + ((b.le - prevLe) * (rank - prevCount)) / Math.max(1, b.count - prevCount);
    }
    prevLe = b.le;
    prevCount = b.count;
  }
  return NaN;
}

function lagBuckets(text) {
  const buckets = new Map();
  for (const m of text.matchAll(
    /^sluice_apply_lag_seconds_bucket\{[^}]*le="([^"]+)"[^}]*\} (\d+)/gm,
  )) {
    const le = m[1] === '+Inf' ? Infinity : Number(m[1]);
    buckets.set(le, (buckets.get(le) ?? 0) + Number(m[2]));
  }
  return [...buckets].sort((a, b) => a[0] - b[0]).map(([le, count]) => ({ le, count }));
}

async function runTarget(target) {
  const topic = `bench_latency_${target}_${tag}`;
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({
    topics: [{ topic, numPartitions: 1, replicationFactor: 1 }],
    waitForLeaders: true,
  });
  const dir = await mkdtemp(join(tmpdir(), 'sluice-latency-'));
  const report = join(dir, 'report.json');
  const database = `lat_${tag}`;
  let db;
  if (target === 'mariadb') {
    db = await mysql.createConnection({ ...my, multipleStatements: true });
    await db.query(
      `CREATE DATABASE IF NOT EXISTS \`${database}\`; CREATE TABLE \`${database}\`.orders_${target} (id bigint PRIMARY KEY, amount decimal(10,2), note varchar(40))`,
    );
    await mkdir(join(dir, 'rdb'));
    await writeFile(
      join(dir, 'rdb', 'orders.yml'),
      `destination: ${topic}\ngroupId: g_${tag}\nouterAdapterKey: db\ndbMapping:\n  database: ${database}\n  table: orders\n  targetDb: ${database}\n  targetTable: orders_${target}\n  targetPk:\n    id: id\n  mapAll: true\n`,
    );
  }
  const sink =
    target === 'noop'
      ? `      - name: latency\n        key: lat\n        properties:\n          report: ${JSON.stringify(report)}`
      : `      - name: rdb\n        key: db\n        properties:\n          jdbc.url: jdbc:mysql://${my.host}:${my.port}/${database}\n          jdbc.username: ${my.user}\n          jdbc.password: "${my.password}"`;
  await writeFile(
    join(dir, 'application.yml'),
    `canal.conf:
  mode: kafka
  flatMessage: true
  consumerProperties:
    kafka.bootstrap.servers: ${broker}
    kafka.auto.offset.reset: earliest
  canalAdapters:
  - instance: ${topic}
    groups:
    - groupId: g_${tag}
      outerAdapters:
${sink}
sluice:
  plugins:
  - ${JSON.stringify(join(root, 'test/bench/latency-sink.mjs'))}
  deadLetter:
    dir: ${JSON.stringify(join(dir, 'dlq'))}
`,
  );
  const nodeArgs = opts['node-args'].split(' ').filter(Boolean);
  const child = spawn(
    process.execPath,
    [...sluiceNodeArgs(), ...nodeArgs, bin, 'start', '--config', dir, '--admin-port', '0'],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, SLUICE_LOG_FORMAT: 'json' },
    },
  );
  let log = '';
  child.stderr.on('data', (c) => (log += c));
  let url;
  while (!url) {
    await new Promise((r) => setTimeout(r, 100));
    url = /"url":"(http:[^"]+)".*Admin API listening/.exec(log)?.[1];
    if (child.exitCode !== null) throw new Error(`sluice exited:\n${log}`);
  }
  while (!/Joined the consumer group/.test(log)) await new Promise((r) => setTimeout(r, 100));

  // Outside probe for MariaDB: new ids every 20 ms, now − their es.
  const esOf = new Map();
  const probeLags = [];
  let probing = target === 'mariadb';
  let seen = 0;
  const probe = (async () => {
    if (!db) return;
    while (probing) {
      const [rows] = await db.query(
        `SELECT id FROM \`${database}\`.orders_${target} WHERE id > ? ORDER BY id`,
        [seen],
      );
      const now = Date.now();
      for (const r of rows) {
        const es = esOf.get(Number(r.id));
        if (es !== undefined) probeLags.push(now - es);
        seen = Math.max(seen, Number(r.id));
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  })();

  const producer = kafka.producer();
  await producer.connect();
  const rss = [];
  const heap = [];
  const rssTimer = setInterval(async () => {
    const text = await (await fetch(`${url}/metrics`)).text();
    const m = /^sluice_process_resident_memory_bytes (\d+)/m.exec(text);
    if (m) rss.push(Number(m[1]));
    const h = /^sluice_nodejs_heap_size_used_bytes (\d+)/m.exec(text);
    if (h) heap.push(Number(h[1]));
  }, 10_000);
  const perTick = (RATE * TICK_MS) / 1000;
  const started = Date.now();
  let id = 1;
  let produced = 0;
  for (let tick = 0; Date.now() - started < SECONDS * 1000; tick++) {
    const due = started + tick * TICK_MS;
    const wait = due - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const messages = [];
    for (let n = 0; n < perTick; n += PER_MESSAGE) {
      const es = Date.now();
      const count = Math.min(PER_MESSAGE, perTick - n);
      for (let i = 0; i < count; i++) esOf.set(id + i, es);
      messages.push({ value: message(id, count, es) });
      id += count;
      produced += count;
    }
    await producer.send({ topic, acks: 1, messages });
  }
  const elapsed = (Date.now() - started) / 1000;
  // Let the tail drain, scrape, stop.
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const text = await (await fetch(`${url}/metrics`)).text();
    const applied = [...text.matchAll(/^sluice_events_applied_total\{[^}]*\} (\d+)/gm)].reduce(
      (n, m) => n + Number(m[1]),
      0,
    );
    if (applied >= produced) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  clearInterval(rssTimer);
  const metrics = await (await fetch(`${url}/metrics`)).text();
  probing = false;
  await probe;
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  await producer.disconnect();
  await admin.deleteTopics({ topics: [topic] }).catch(() => {});
  await admin.disconnect();
  if (db) {
    await db.query(`DROP DATABASE \`${database}\``);
    await db.end();
  }
  const buckets = lagBuckets(metrics);
  const engine = {
    p50Ms: quantile(0.5, buckets) * 1000,
    p99Ms: quantile(0.99, buckets) * 1000,
    observations: buckets.at(-1)?.count ?? 0,
  };
  let outside;
  if (target === 'noop') outside = JSON.parse(await readFile(report, 'utf8'));
  else {
    const s = probeLags.sort((a, b) => a - b);
    const q = (p) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
    outside = { events: s.length, p50Ms: q(0.5), p99Ms: q(0.99), maxMs: s.at(-1) };
  }
  const mib = (b) => Math.round(b / 1048576);
  const minute = Math.max(1, Math.round(60_000 / 10_000));
  const firstMinute = rss.slice(0, minute);
  const lastMinute = rss.slice(-minute);
  return {
    target,
    rowsPerSecond: Math.round(produced / elapsed),
    produced,
    seconds: Math.round(elapsed),
    engine,
    outside,
    rssSeries: rss.map(mib),
    heapSeries: heap.map(mib),
    rssMiB: {
      firstMinuteMax: mib(Math.max(...firstMinute)),
      lastMinuteMax: mib(Math.max(...lastMinute)),
      max: mib(Math.max(...rss)),
    },
  };
}

console.log(
  `latency: ${RATE} rows/s for ${SECONDS} s, ${PER_MESSAGE} rows/message, 1 partition; ${cpus().length} CPUs, Node ${process.version}`,
);
for (const target of opts.targets.split(',')) {
  const r = await runTarget(target);
  console.log(
    `${r.target.padEnd(8)} ${r.rowsPerSecond} rows/s over ${r.seconds}s (${r.produced} rows): ` +
      `engine p50 ${r.engine.p50Ms.toFixed(0)} ms p99 ${r.engine.p99Ms.toFixed(0)} ms (${r.engine.observations} obs); ` +
      `outside p50 ${r.outside.p50Ms} ms p99 ${r.outside.p99Ms} ms max ${r.outside.maxMs} ms (${r.outside.events} rows); ` +
      `RSS first minute ${r.rssMiB.firstMinuteMax} MiB, last minute ${r.rssMiB.lastMinuteMax} MiB, max ${r.rssMiB.max} MiB`,
  );
  console.log(`${r.target.padEnd(8)} RSS every 10 s (MiB): ${r.rssSeries.join(' ')}`);
  console.log(`${r.target.padEnd(8)} V8 heap used every 10 s (MiB): ${r.heapSeries.join(' ')}`);
}
