#!/usr/bin/env node
// Pipeline throughput from the testbed RabbitMQ node into a no-op sink, beside the ceiling
// measured in the same run on the same messages:
//   sluice   — `sluice start --once` (the built binary) in `canal.conf.mode: rabbitMQ` with the
//              RabbitMQ source, the pipeline engine and a no-op sink plugin
//              (test/bench/kafka-noop-sink.mjs); rows/s from the sink's first write to its last
//   ceiling  — a bare amqplib consumer on a queue holding the same messages: manual acks
//              (`multiple`, every 500 messages), the same prefetch, JSON.parse of every body;
//              rows/s from the first message to the last
// Each round publishes the messages (as canal's producer does: persistent, default exchange) to
// two fresh durable queues, one per side. Rows are canal FlatMessage rows (multi-row INSERT
// messages of an 8-column table, the same data as kafka-pipeline.bench.mjs).
// Usage: pnpm build && node test/bench/rabbitmq-pipeline.bench.mjs [--rows N]
//        [--rows-per-message N] [--prefetch N[,N]] [--rounds N] [--json]
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import { createRequire } from 'node:module';
import { orderMessages } from './lib/orders.mjs';
import { median, runSluiceIntoNoop } from './lib/noopRun.mjs';

const require = createRequire(import.meta.url);
const amqp = require('amqplib');
const protocol = await import(
  new URL('../../packages/canal-protocol/dist/index.js', import.meta.url).href
).catch((error) => {
  console.error(
    `Cannot load @sluice/canal-protocol from dist: run "pnpm build" first.\n${error.message}`,
  );
  process.exit(2);
});

const { values: opts } = parseArgs({
  options: {
    rows: { type: 'string', default: '100000' },
    'rows-per-message': { type: 'string', default: '20' },
    prefetch: { type: 'string', default: '5000' },
    rounds: { type: 'string', default: '3' },
    json: { type: 'boolean', default: false },
  },
});
const ROWS = Number(opts.rows);
const PER_MESSAGE = Number(opts['rows-per-message']);
const PREFETCHES = opts.prefetch.split(',').map(Number);
const ROUNDS = Number(opts.rounds);

const url = process.env.SLUICE_TEST_RABBITMQ || 'amqp://guest:guest@127.0.0.1:15673';
const broker = new URL(url);
const tag = `${process.pid.toString(36)}${Date.now().toString(36).slice(-5)}`;

// ---------------------------------------------------------------------------------------------
// The data: multi-row INSERTs of shop.orders (one queue = one partition), shared with the
// other pipeline benchmarks (test/bench/lib/orders.mjs).
const messages = () =>
  orderMessages(ROWS, PER_MESSAGE).map((m) => Buffer.from(protocol.encodeFlatMessage(m)));

async function fill(channel, queue, bodies) {
  await channel.assertQueue(queue, { durable: true });
  for (let i = 0; i < bodies.length; i++) {
    channel.publish('', queue, bodies[i], { deliveryMode: 2, contentType: 'text/plain' });
    if (i % 1000 === 999) await channel.waitForConfirms();
  }
  await channel.waitForConfirms();
}

// ---------------------------------------------------------------------------------------------
async function ceiling(queue, prefetch) {
  const conn = await amqp.connect(url);
  const channel = await conn.createChannel();
  await channel.prefetch(prefetch);
  let rows = 0;
  let count = 0;
  let first = 0;
  let last = 0;
  let done;
  const finished = new Promise((r) => (done = r));
  await channel.consume(
    queue,
    (message) => {
      if (first === 0) first = performance.now();
      rows += JSON.parse(message.content.toString('utf8')).data.length;
      count += 1;
      if (count % 500 === 0 || rows >= ROWS) channel.ack(message, true);
      last = performance.now();
      if (rows >= ROWS) done();
    },
    { noAck: false },
  );
  await finished;
  await conn.close();
  return { rows, seconds: (last - first) / 1000 };
}

async function sluice(queue, prefetch) {
  return runSluiceIntoNoop({
    instance: queue,
    groupId: 'g1',
    conf: `  mode: rabbitMQ
  flatMessage: true
  syncBatchSize: 1000
  retries: 3
  timeout:
  accessKey:
  secretKey:
  consumerProperties:
    rabbitmq.host: ${broker.hostname}:${broker.port || 5672}
    rabbitmq.virtual.host: /
    rabbitmq.username: ${decodeURIComponent(broker.username) || 'guest'}
    rabbitmq.password: ${decodeURIComponent(broker.password) || 'guest'}
    rabbitmq.prefetch.count: ${prefetch}
`,
  });
}

const bodies = messages();
const bytes = bodies.reduce((n, b) => n + b.length, 0);
const conn = await amqp.connect(url);
const channel = await conn.createConfirmChannel();
const results = [];
const queues = [];
try {
  for (const prefetch of PREFETCHES) {
    const s = [];
    const c = [];
    for (let round = 0; round < ROUNDS; round++) {
      const qc = `bench_rmq_ceiling_${tag}_${prefetch}_${round}`;
      const qs = `bench_rmq_sluice_${tag}_${prefetch}_${round}`;
      queues.push(qc, qs);
      await fill(channel, qc, bodies);
      c.push(await ceiling(qc, prefetch));
      await fill(channel, qs, bodies);
      s.push(await sluice(qs, prefetch));
      if (s.at(-1).rows !== ROWS)
        throw new Error(`sluice applied ${s.at(-1).rows} rows, expected ${ROWS}`);
      const left = (await channel.checkQueue(qs)).messageCount;
      if (left !== 0) throw new Error(`sluice left ${left} messages unacked in ${qs}`);
    }
    const sluiceRate = median(s.map((x) => x.rows / x.seconds));
    const ceilingRate = median(c.map((x) => x.rows / x.seconds));
    results.push({
      prefetch,
      rows: ROWS,
      messages: bodies.length,
      mib: +(bytes / 2 ** 20).toFixed(1),
      sluiceRowsPerSec: Math.round(sluiceRate),
      ceilingRowsPerSec: Math.round(ceilingRate),
      ratio: +(sluiceRate / ceilingRate).toFixed(2),
      sluiceWallSeconds: +median(s.map((x) => x.wall)).toFixed(2),
      sluicePeakRssMiB: Math.round(Math.max(...s.map((x) => x.rssMiB))),
      rounds: ROUNDS,
    });
  }
} finally {
  for (const q of queues) await channel.deleteQueue(q).catch(() => {});
  await conn.close().catch(() => {});
}

const machine = { nproc: cpus().length, cpu: cpus()[0]?.model ?? 'unknown', node: process.version };
if (opts.json) console.log(JSON.stringify({ machine, results }, null, 2));
else {
  console.log(
    `machine: ${machine.nproc} cpus, ${machine.cpu}, node ${machine.node}; ${ROWS} rows in ${PER_MESSAGE}-row messages (${bodies.length} messages, ${(bytes / 2 ** 20).toFixed(1)} MiB); median of ${ROUNDS}`,
  );
  console.log(
    'prefetch | sluice rows/s | ceiling rows/s (amqplib + JSON.parse, same prefetch) | ratio | sluice wall s (incl. start, shutdown) | sluice peak RSS MiB',
  );
  for (const r of results)
    console.log(
      `${r.prefetch} | ${r.sluiceRowsPerSec} | ${r.ceilingRowsPerSec} | ${r.ratio} | ${r.sluiceWallSeconds} | ${r.sluicePeakRssMiB}`,
    );
}
