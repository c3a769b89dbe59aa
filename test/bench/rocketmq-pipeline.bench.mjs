#!/usr/bin/env node
// Pipeline throughput from the testbed RocketMQ into a no-op sink, for 1 and 4 queues, beside
// the ceiling measured in the same run on the same topic:
//   sluice   — `sluice start --once` (the built binary) with the rocketmq source, the pipeline
//              engine and a no-op sink plugin (test/bench/kafka-noop-sink.mjs); rows/s from the
//              sink's first write to its last
//   ceiling  — a bare pull loop per queue with the same remoting client
//              (plugins/source-rocketmq/dist: PULL_MESSAGE, 32 messages per pull, the broker's
//              default cap), JSON.parse-ing every body; rows/s from the first pull to the last.
//              No core, no sink, no commits: what the wire and the broker give one Node client.
// Rows are canal FlatMessage rows (multi-row INSERT messages of an 8-column table), sent to the
// queue canal's $pk$ partition hash picks.
// Usage: pnpm build && node test/bench/rocketmq-pipeline.bench.mjs [--rows N]
//        [--rows-per-message N] [--queues 1,4] [--rounds N] [--json]
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import { orderMessagesByPartition } from './lib/orders.mjs';
import { median, runSluiceIntoNoop } from './lib/noopRun.mjs';

const load = (rel) =>
  import(new URL(rel, import.meta.url).href).catch((error) => {
    console.error(`Cannot load ${rel}: run "pnpm build" first.\n${error.message}`);
    process.exit(2);
  });
const protocol = await load('../../packages/canal-protocol/dist/index.js');
const { RocketMQClient } = await load('../../plugins/source-rocketmq/dist/index.js');

const { values: opts } = parseArgs({
  options: {
    rows: { type: 'string', default: '100000' },
    'rows-per-message': { type: 'string', default: '20' },
    queues: { type: 'string', default: '1,4' },
    rounds: { type: 'string', default: '3' },
    json: { type: 'boolean', default: false },
  },
});
const ROWS = Number(opts.rows);
const PER_MESSAGE = Number(opts['rows-per-message']);
const QUEUES = opts.queues.split(',').map(Number);
const ROUNDS = Number(opts.rounds);

const nameServer = (process.env.SLUICE_TEST_ROCKETMQ ?? '127.0.0.1:19876').replace(
  /^[a-z]+:\/\//,
  '',
);
const client = new RocketMQClient({
  nameServers: [nameServer],
  requestTimeoutMs: 10_000,
  connectTimeoutMs: 5_000,
});
const tag = `${process.pid.toString(36)}${Date.now().toString(36).slice(-5)}`;

// ---------------------------------------------------------------------------------------------
// The data: multi-row INSERTs of shop.orders, split over partitions like canal's $pk$ hash
// (test/bench/lib/orders.mjs, shared with the other pipeline benchmarks).
const messagesFor = (partitions) =>
  orderMessagesByPartition(protocol, ROWS, PER_MESSAGE, partitions);

async function prepareTopic(broker, queues) {
  const topic = `bench_rmq_${queues}q_${tag}`;
  await client.createTopic(broker, topic, queues);
  while ((await client.route(topic))?.readQueues.length !== queues)
    await new Promise((r) => setTimeout(r, 100));
  const perQueue = messagesFor(queues);
  let bytes = 0;
  await Promise.all(
    perQueue.map(async (values, queueId) => {
      // 8 sends in flight per queue; order inside a queue does not matter for throughput
      for (let i = 0; i < values.length; i += 8) {
        await Promise.all(
          values.slice(i, i + 8).map((value) => {
            bytes += Buffer.byteLength(value);
            return client.send(broker, {
              topic,
              queueId,
              body: Buffer.from(value),
              compress: true,
            });
          }),
        );
      }
    }),
  );
  return { topic, messages: perQueue.reduce((n, v) => n + v.length, 0), bytes };
}

// ---------------------------------------------------------------------------------------------
async function ceiling(broker, topic, queues) {
  let rows = 0;
  let first = 0;
  let last = 0;
  await Promise.all(
    Array.from({ length: queues }, async (_, queueId) => {
      let offset = 0n;
      for (;;) {
        const r = await client.pull(broker, {
          group: `bench_ceiling_${tag}`,
          topic,
          queueId,
          offset,
          maxNums: 32,
          suspendMs: 0,
          subscription: '*',
        });
        if (first === 0) first = performance.now();
        if (r.status !== 'found') break;
        for (const m of r.messages) rows += JSON.parse(m.body.toString('utf8')).data.length;
        offset = r.nextBeginOffset;
        last = performance.now();
      }
    }),
  );
  return { rows, seconds: (last - first) / 1000 };
}

async function sluice(topic) {
  return runSluiceIntoNoop({
    instance: topic,
    groupId: `bench_sluice_${tag}_${Math.random().toString(36).slice(2, 8)}`,
    conf: `  mode: rocketMQ
  flatMessage: true
  syncBatchSize: 1000
  retries: 3
  timeout:
  accessKey:
  secretKey:
  consumerProperties:
    rocketmq.namesrv.addr: ${nameServer}
    rocketmq.batch.size: 32
    rocketmq.consume.from.where: CONSUME_FROM_FIRST_OFFSET
`,
  });
}

const results = [];
try {
  const [broker] = [...(await client.brokers()).values()];
  if (!broker) throw new Error(`no broker registered with ${nameServer}`);
  for (const queues of QUEUES) {
    const { topic, messages, bytes } = await prepareTopic(broker, queues);
    const s = [];
    const c = [];
    for (let round = 0; round < ROUNDS; round++) {
      // alternate, so drift on a shared machine hits both sides
      c.push(await ceiling(broker, topic, queues));
      if (c.at(-1).rows !== ROWS)
        throw new Error(`ceiling read ${c.at(-1).rows} rows, expected ${ROWS}`);
      s.push(await sluice(topic));
      if (s.at(-1).rows !== ROWS)
        throw new Error(`sluice applied ${s.at(-1).rows} rows, expected ${ROWS}`);
    }
    const sluiceRate = median(s.map((x) => x.rows / x.seconds));
    const ceilingRate = median(c.map((x) => x.rows / x.seconds));
    results.push({
      queues,
      rows: ROWS,
      messages,
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
  client.close();
}

const machine = { nproc: cpus().length, cpu: cpus()[0]?.model ?? 'unknown', node: process.version };
if (opts.json) console.log(JSON.stringify({ machine, results }, null, 2));
else {
  console.log(
    `machine: ${machine.nproc} cpus, ${machine.cpu}, node ${machine.node}; ${ROWS} rows in ${PER_MESSAGE}-row messages; median of ${ROUNDS}`,
  );
  console.log(
    'queues | sluice rows/s | ceiling rows/s (bare pulls + JSON.parse) | ratio | sluice wall s (incl. start, rebalance, shutdown) | sluice peak RSS MiB (max of rounds)',
  );
  for (const r of results)
    console.log(
      `${r.queues} | ${r.sluiceRowsPerSec} | ${r.ceilingRowsPerSec} | ${r.ratio} | ${r.sluiceWallSeconds} | ${r.sluicePeakRssMiB}`,
    );
}
