#!/usr/bin/env node
// Throughput of the `tcp` source (canal's client protocol, straight from canal-server) into a
// no-op sink, beside canal's own Java client reading the same binlog from the same canal-server
// in the same run:
//   sluice  — `sluice start --once` (the built binary), canal.conf.mode tcp against the testbed
//             canal-server, the pipeline engine and the no-op sink plugin
//             (test/bench/kafka-noop-sink.mjs); rows/s from the sink's first write to its last
//   java    — canal.client 1.1.7 (CanalClientCheck --quiet: connect, subscribe,
//             getWithoutAck(batchSize, timeout) → RowChange.parseFrom for every ROWDATA entry,
//             every column's name and value read → ack, one batch at a time, as canal's
//             ClientSample); rows/s from its first non-empty batch to its last
// Data: N rows INSERTed into a 10-column table of the testbed MariaDB (multi-row INSERTs, one
// transaction each) before the rounds. Each reader of each round gets a fresh canal destination
// starting at the binlog position before the INSERTs (so canal's parser runs the same work for
// both), created through the testbed canal's control endpoint and dropped afterwards. Both use
// the same batch size (Get.fetch_size, canal's MEMSIZE units of 1 KiB) and GET timeout.
// Usage: pnpm build && pnpm testbed up canal && node test/bench/tcp-pipeline.bench.mjs
//        [--rows 200000] [--rows-per-insert 1000] [--batch-size 500] [--timeout-ms 1000]
//        [--rounds 3] [--xmx 256m] [--json]
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createRequire } from 'node:module';
import { orderRows } from './lib/orders.mjs';
import { launcherClasspath } from '../testbed/services/canal.mjs';
import { median, runSluiceIntoNoop } from './lib/noopRun.mjs';

const require = createRequire(import.meta.url);
const mysql = require('mysql2/promise');
const root = fileURLToPath(new URL('../../', import.meta.url));

const { values: opts } = parseArgs({
  options: {
    rows: { type: 'string', default: '200000' },
    'rows-per-insert': { type: 'string', default: '1000' },
    'batch-size': { type: 'string', default: '500' },
    'timeout-ms': { type: 'string', default: '1000' },
    rounds: { type: 'string', default: '3' },
    xmx: { type: 'string', default: '256m' },
    prefill: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
  },
});
const ROWS = Number(opts.rows);
const PER_INSERT = Number(opts['rows-per-insert']);
const BATCH = Number(opts['batch-size']);
const TIMEOUT_MS = Number(opts['timeout-ms']);
const ROUNDS = Number(opts.rounds);

// Endpoints as test/support/testbed.ts reads them (env first, then the testbed defaults).
const canalUrl = new URL(
  process.env.SLUICE_TEST_CANAL ?? 'canal://127.0.0.1:11111?control=http://127.0.0.1:11180',
);
const canalTcp = `${canalUrl.hostname}:${canalUrl.port}`;
const control = canalUrl.searchParams.get('control').replace(/\/+$/, '');
const mysqlUrl = new URL(process.env.SLUICE_TEST_MYSQL ?? 'mysql://root:@127.0.0.1:13306');
const tag = `${process.pid.toString(36)}${Date.now().toString(36).slice(-5)}`;
const database = `bench_tcp_${tag}`;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function canal(method, path, body) {
  const res = await fetch(`${control}${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: HTTP ${res.status} ${text}`);
  return JSON.parse(text);
}

/**
 * A fresh destination at `start`; resolves once canal's store holds its first entry, or with
 * --prefill once the store stopped growing for 2 s (everything parsed, or canal's memory store
 * full); then resolves whether the store reached `end` (every row buffered in canal).
 */
async function destination(name, start, end) {
  await canal('PUT', `/destinations/${name}`, {
    filter: `${database}\\.orders`,
    journalName: start.file,
    position: start.position,
  });
  const until = Date.now() + 120_000;
  for (;;) {
    const status = await canal('GET', `/destinations/${name}`);
    if (status.parserError) throw new Error(`canal destination ${name}: ${status.parserError}`);
    if (status.storeLatest && !opts.prefill) return false;
    if (status.storeLatest) {
      let last = JSON.stringify(status.storeLatest);
      let still = Date.now();
      while (Date.now() - still < 2000) {
        await sleep(250);
        const now = JSON.stringify((await canal('GET', `/destinations/${name}`)).storeLatest);
        if (now !== last) [last, still] = [now, Date.now()];
      }
      const p = JSON.parse(last);
      return p.journalName === end.file && p.position >= end.position;
    }
    if (Date.now() > until) throw new Error(`canal destination ${name} published nothing`);
    await sleep(50);
  }
}

async function drop(name) {
  await canal('DELETE', `/destinations/${name}`).catch(() => {});
}

// ---------------------------------------------------------------------------------------------
// The data: shop-like orders, 10 columns (bigint, unsigned int, decimal, enum, text, json,
// varchar, smallint, datetime(3), timestamp), seeded (test/bench/lib/orders.mjs).
async function writeRows(my) {
  await my.query(`CREATE DATABASE \`${database}\``);
  await my.query(
    `CREATE TABLE \`${database}\`.orders (id bigint PRIMARY KEY, user_id int unsigned NOT NULL,
      amount decimal(10,2) NOT NULL, status enum('new','paid','shipped') NOT NULL, note text,
      attrs json, sku varchar(32) NOT NULL, qty smallint NOT NULL, created_at datetime(3) NOT NULL,
      updated_at timestamp NOT NULL)`,
  );
  const [[start]] = await my.query('SHOW MASTER STATUS');
  const row = orderRows();
  for (let id = 1; id <= ROWS;) {
    const values = [];
    for (let i = 0; i < PER_INSERT && id <= ROWS; i++, id++) {
      const r = row(id);
      values.push([
        r.id,
        r.user_id,
        r.amount,
        Number(r.status),
        r.note,
        r.attrs,
        `SKU-${(id * 7919) % 100000}`,
        id % 17,
        r.created_at,
        r.updated_at,
      ]);
    }
    await my.query(`INSERT INTO \`${database}\`.orders VALUES ?`, [values]);
  }
  const [[end]] = await my.query('SHOW MASTER STATUS');
  return {
    start: { file: start.File, position: Number(start.Position) },
    // the last event of the INSERTs starts before the end position
    end: { file: end.File, position: Number(end.Position) - 8192 },
    binlogMiB:
      start.File === end.File
        ? +((Number(end.Position) - Number(start.Position)) / 2 ** 20).toFixed(1)
        : null,
  };
}

// ---------------------------------------------------------------------------------------------
async function sluice(dest) {
  const run = await runSluiceIntoNoop({
    instance: dest,
    groupId: 'g1',
    conf: `  mode: tcp
  syncBatchSize: 1000
  retries: 3
  timeout: ${TIMEOUT_MS}
  accessKey:
  secretKey:
  consumerProperties:
    canal.tcp.server.host: ${canalTcp}
    canal.tcp.batch.size: ${BATCH}
`,
  });
  const r = run.report;
  if (r.rows !== r.events && !opts.json)
    console.error(`sluice events by kind: ${JSON.stringify(r.kinds)}`);
  return { ...run, rows: r.rows, events: r.events };
}

async function java(dest, classpath) {
  const started = performance.now();
  const child = spawn(
    'java',
    [
      `-Xms${opts.xmx}`,
      `-Xmx${opts.xmx}`,
      `-Dsluice.batchSize=${BATCH}`,
      `-Dsluice.timeoutMs=${TIMEOUT_MS}`,
      '-cp',
      classpath,
      'sluice.testbed.canal.CanalClientCheck',
      canalTcp,
      dest,
      '', // no client filter: the destination's own, as canal-adapter subscribes
      String(ROWS),
      '600',
      '--quiet',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const code = await new Promise((r) => child.on('exit', r));
  const wall = (performance.now() - started) / 1000;
  const last = stderr
    .trim()
    .split('\n')
    .reverse()
    .find((l) => l.startsWith('{"'));
  if (code !== 0 || !last) throw new Error(`java client exited ${code}:\n${stderr.slice(-3000)}`);
  const s = JSON.parse(last);
  return { rows: s.rows, seconds: (s.lastMs - s.firstMs) / 1000, wall, batches: s.batches };
}

// ---------------------------------------------------------------------------------------------
const { classpath } = await launcherClasspath();
const my = await mysql.createConnection({
  host: mysqlUrl.hostname,
  port: Number(mysqlUrl.port),
  user: decodeURIComponent(mysqlUrl.username),
  password: decodeURIComponent(mysqlUrl.password),
  timezone: 'Z',
});
const load = [];
const sampler = setInterval(() => load.push(loadavg()[0]), 1000);
const created = [];
const s = [];
const j = [];
let binlogMiB = null;
let allBuffered = true;
try {
  const t0 = performance.now();
  const written = await writeRows(my);
  binlogMiB = written.binlogMiB;
  const writeSeconds = (performance.now() - t0) / 1000;
  if (!opts.json) console.error(`wrote ${ROWS} rows in ${writeSeconds.toFixed(1)} s`);
  for (let round = 0; round < ROUNDS; round++) {
    // alternate the order, so drift on a shared machine hits both sides
    const order = round % 2 === 0 ? ['java', 'sluice'] : ['sluice', 'java'];
    for (const who of order) {
      const name = `${database}_${round}_${who}`;
      created.push(name);
      const buffered = await destination(name, written.start, written.end);
      if (opts.prefill) allBuffered &&= buffered;
      const r = who === 'java' ? await java(name, classpath) : await sluice(name);
      await drop(name);
      if (r.rows !== ROWS) throw new Error(`${who} read ${r.rows} rows, expected ${ROWS}`);
      (who === 'java' ? j : s).push(r);
      if (!opts.json)
        console.error(
          `round ${round + 1} ${who}: ${Math.round(r.rows / r.seconds)} rows/s, wall ${r.wall.toFixed(1)} s`,
        );
    }
  }
} finally {
  clearInterval(sampler);
  for (const name of created) await drop(name);
  await my.query(`DROP DATABASE IF EXISTS \`${database}\``).catch(() => {});
  await my.end();
}

const sluiceRate = median(s.map((x) => x.rows / x.seconds));
const javaRate = median(j.map((x) => x.rows / x.seconds));
let commit = 'unknown';
try {
  commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root }).toString().trim();
  if (execFileSync('git', ['status', '--porcelain'], { cwd: root }).toString().trim() !== '')
    commit += '+dirty';
} catch {
  // not a git checkout
}
const result = {
  machine: {
    nproc: cpus().length,
    cpu: cpus()[0]?.model ?? 'unknown',
    node: process.version,
    java: spawnSync('java', ['-version'], { encoding: 'utf8' }).stderr.split('\n')[0],
  },
  commit,
  load1: {
    min: +Math.min(...load).toFixed(2),
    median: +median(load).toFixed(2),
    max: +Math.max(...load).toFixed(2),
  },
  rows: ROWS,
  binlogMiB,
  batchSize: BATCH,
  timeoutMs: TIMEOUT_MS,
  javaXmx: opts.xmx,
  rounds: ROUNDS,
  start: opts.prefill
    ? `prefilled: each reader started once canal's store stopped growing (${allBuffered ? 'all rows buffered in canal' : 'canal memory store full, the rest parsed live'})`
    : 'live: each reader started as soon as canal had parsed the first entry',
  sluiceRowsPerSec: Math.round(sluiceRate),
  javaRowsPerSec: Math.round(javaRate),
  ratio: +(sluiceRate / javaRate).toFixed(2),
  sluiceWallSeconds: +median(s.map((x) => x.wall)).toFixed(2),
  javaWallSeconds: +median(j.map((x) => x.wall)).toFixed(2),
  sluicePeakRssMiB: Math.round(Math.max(...s.map((x) => x.rssMiB))),
  javaBatches: median(j.map((x) => x.batches)),
};
if (opts.json) console.log(JSON.stringify(result, null, 2));
else {
  const m = result.machine;
  console.log(
    `machine: ${m.nproc} cpus, ${m.cpu}, node ${m.node}, ${m.java}; commit ${commit}; load avg (1 min) during the run min/median/max ${result.load1.min}/${result.load1.median}/${result.load1.max}`,
  );
  console.log(
    `${ROWS} rows (${binlogMiB ?? '?'} MiB of binlog); ${result.start}; batch size ${BATCH} (KiB, MEMSIZE), GET timeout ${TIMEOUT_MS} ms, java -Xmx${opts.xmx}; median of ${ROUNDS}`,
  );
  console.log(
    'sluice rows/s | canal Java client rows/s | ratio | sluice wall s (incl. start, shutdown) | java wall s (incl. JVM start) | sluice peak RSS MiB | java batches',
  );
  console.log(
    `${result.sluiceRowsPerSec} | ${result.javaRowsPerSec} | ${result.ratio} | ${result.sluiceWallSeconds} | ${result.javaWallSeconds} | ${result.sluicePeakRssMiB} | ${result.javaBatches}`,
  );
}
