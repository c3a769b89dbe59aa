#!/usr/bin/env node
// Pipeline throughput from the testbed Kafka into a no-op sink, for 1 and 4 partitions, beside
// the ceiling measured in the same run on the same topic:
//   sluice   — `sluice start --once` (the built binary) with the kafka source, the pipeline
//              engine and a no-op sink plugin (test/bench/kafka-noop-sink.mjs); rows/s from the
//              sink's first write to its last
//   ceiling  — a bare kafkajs consumer (eachBatch) reading the same topic and JSON.parse-ing
//              every value (test/bench/lib/kafkaCeiling.mjs); rows/s from the first batch to the
//              last. Run as a trivial script in a fresh process, as Sluice is (the ratio); and
//              also in this benchmark's own process, warm from producing and from earlier rounds
//              (the "in-process ceiling", shown beside it: a process grows faster over rounds
//              than a fresh Sluice can, so that ratio understates Sluice)
// Rows are canal FlatMessage rows (multi-row INSERT messages of an 8-column table).
// Both are also counted past warm-up: from the first write (sluice) or batch (ceiling) at which a
// quarter of the rows was done, to the last ("warm" rows/s and ratio, printed beside the whole
// window's: the whole window is the target's measure; the warm one says how much of the gap is a
// young process's JIT and heap).
//   baseline — with --baseline PATH: the same as sluice with another build's bin.js (a copy of an
//              older build), in the same rounds (each round: ceiling, in-process ceiling,
//              baseline, sluice), so old and new are compared in the same conditions
// Usage: pnpm build && node test/bench/kafka-pipeline.bench.mjs [--rows N] [--rows-per-message N]
//        [--partitions 1,4] [--rounds N] [--baseline path/to/bin.js] [--baseline-node-args "…"]
//        [--json]
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import { createRequire } from 'node:module';
import { orderMessagesByPartition } from './lib/orders.mjs';
import { median, runSluiceIntoNoop } from './lib/noopRun.mjs';
import { freshKafkaCeiling, kafkaCeiling } from './lib/kafkaCeiling.mjs';

const require = createRequire(import.meta.url);
const { Kafka, Partitioners, logLevel } = require('kafkajs');
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
    rows: { type: 'string', default: '200000' },
    'rows-per-message': { type: 'string', default: '20' },
    partitions: { type: 'string', default: '1,4' },
    rounds: { type: 'string', default: '3' },
    baseline: { type: 'string' },
    'baseline-node-args': { type: 'string' },
    json: { type: 'boolean', default: false },
  },
});
const ROWS = Number(opts.rows);
const PER_MESSAGE = Number(opts['rows-per-message']);
const PARTITIONS = opts.partitions.split(',').map(Number);
const ROUNDS = Number(opts.rounds);
// Rows after which both sides count their warm rate (a quarter of the run).
const MARK = Math.ceil(ROWS / 4);
// --baseline-node-args "…" runs the baseline (this tree's build unless --baseline names another)
// with these node options instead of the launch lines' ("" for none): an A/B of V8 options.
const BASELINE_NODE_ARGS =
  opts['baseline-node-args'] === undefined
    ? undefined
    : opts['baseline-node-args'].split(' ').filter(Boolean);
const BASELINE =
  opts.baseline ??
  (BASELINE_NODE_ARGS
    ? new URL('../../packages/cli/dist/bin.js', import.meta.url).pathname
    : undefined);

function kafkaBroker() {
  if (process.env.SLUICE_TEST_KAFKA)
    return process.env.SLUICE_TEST_KAFKA.replace(/^[a-z]+:\/\//, '');
  return '127.0.0.1:19092';
}
const broker = kafkaBroker();
const kafka = new Kafka({
  clientId: 'sluice-bench',
  brokers: [broker],
  logLevel: logLevel.NOTHING,
});
const tag = `${process.pid.toString(36)}${Date.now().toString(36).slice(-5)}`;

// ---------------------------------------------------------------------------------------------
// The data: multi-row INSERTs of shop.orders, split over partitions like canal's $pk$ hash
// (test/bench/lib/orders.mjs, shared with the other pipeline benchmarks).
const messagesFor = (partitions) =>
  orderMessagesByPartition(protocol, ROWS, PER_MESSAGE, partitions);

async function prepareTopic(admin, producer, partitions) {
  const topic = `bench_kafka_${partitions}p_${tag}`;
  await admin.createTopics({
    topics: [{ topic, numPartitions: partitions, replicationFactor: 1 }],
    waitForLeaders: true,
  });
  const perPartition = messagesFor(partitions);
  let bytes = 0;
  await Promise.all(
    perPartition.map(async (values, partition) => {
      for (let i = 0; i < values.length; i += 100) {
        const slice = values.slice(i, i + 100);
        bytes += slice.reduce((n, v) => n + Buffer.byteLength(v), 0);
        await producer.send({
          topic,
          acks: -1,
          messages: slice.map((value) => ({ partition, key: null, value })),
        });
      }
    }),
  );
  return { topic, messages: perPartition.reduce((n, v) => n + v.length, 0), bytes };
}

// ---------------------------------------------------------------------------------------------
async function sluice(topic, bin, nodeArgs) {
  return runSluiceIntoNoop({
    ...(bin ? { bin } : {}),
    ...(nodeArgs ? { nodeArgs } : {}),
    instance: topic,
    mark: MARK,
    groupId: `bench_sluice_${tag}_${Math.random().toString(36).slice(2, 8)}`,
    conf: `  mode: kafka
  flatMessage: true
  syncBatchSize: 1000
  retries: 3
  timeout:
  accessKey:
  secretKey:
  consumerProperties:
    kafka.bootstrap.servers: ${broker}
    kafka.auto.offset.reset: earliest
    kafka.max.poll.records: 1000
    kafka.fetch.max.wait.ms: 100
`,
  });
}

const admin = kafka.admin();
const producer = kafka.producer({ createPartitioner: Partitioners.LegacyPartitioner });
await admin.connect();
await producer.connect();
const results = [];
const topics = [];
try {
  for (const partitions of PARTITIONS) {
    const { topic, messages, bytes } = await prepareTopic(admin, producer, partitions);
    topics.push(topic);
    const s = [];
    const c = [];
    const w = [];
    const b = [];
    for (let round = 0; round < ROUNDS; round++) {
      // alternate, so drift on a shared machine hits both sides
      c.push(await freshKafkaCeiling({ broker, topic, rows: ROWS, partitions, mark: MARK }));
      w.push(await kafkaCeiling({ broker, topic, rows: ROWS, partitions }));
      if (BASELINE) {
        b.push(await sluice(topic, BASELINE, BASELINE_NODE_ARGS));
        if (b.at(-1).rows !== ROWS)
          throw new Error(`baseline applied ${b.at(-1).rows} rows, expected ${ROWS}`);
      }
      s.push(await sluice(topic));
      if (s.at(-1).rows !== ROWS)
        throw new Error(`sluice applied ${s.at(-1).rows} rows, expected ${ROWS}`);
    }
    const sluiceRate = median(s.map((x) => x.rows / x.seconds));
    const ceilingRate = median(c.map((x) => x.rows / x.seconds));
    const inProcessRate = median(w.map((x) => x.rows / x.seconds));
    const warm = (x) => x.warmRows / x.warmSeconds;
    const sluiceWarmRate = median(s.map(warm));
    const ceilingWarmRate = median(c.map(warm));
    const baselineRate = b.length > 0 ? median(b.map((x) => x.rows / x.seconds)) : undefined;
    results.push({
      partitions,
      // The ratio of each round to its own ceiling (the ceiling swings between rounds too).
      ratioPerRound: s.map((x, i) => +(x.rows / x.seconds / (c[i].rows / c[i].seconds)).toFixed(2)),
      rowsPerRound: s.map((x, i) => [c[i], w[i], x].map((y) => Math.round(y.rows / y.seconds))),
      rows: ROWS,
      messages,
      mib: +(bytes / 2 ** 20).toFixed(1),
      sluiceRowsPerSec: Math.round(sluiceRate),
      ceilingRowsPerSec: Math.round(ceilingRate),
      ratio: +(sluiceRate / ceilingRate).toFixed(2),
      // Past the first quarter of the rows (warm-up excluded on both sides).
      sluiceWarmRowsPerSec: Math.round(sluiceWarmRate),
      ceilingWarmRowsPerSec: Math.round(ceilingWarmRate),
      warmRatio: +(sluiceWarmRate / ceilingWarmRate).toFixed(2),
      warmRatioPerRound: s.map((x, i) => +(warm(x) / warm(c[i])).toFixed(2)),
      inProcessCeilingRowsPerSec: Math.round(inProcessRate),
      ratioToInProcessCeiling: +(sluiceRate / inProcessRate).toFixed(2),
      ceilingCpuSeconds: c.map((x) => +x.cpuSeconds.toFixed(2)),
      sluiceCpuSeconds: s.map((x) => +x.cpuSeconds.toFixed(2)),
      sluiceWallSeconds: +median(s.map((x) => x.wall)).toFixed(2),
      sluicePeakRssMiB: Math.round(Math.max(...s.map((x) => x.rssMiB))),
      ...(baselineRate === undefined
        ? {}
        : {
            baselineRowsPerSec: Math.round(baselineRate),
            baselineRatio: +(baselineRate / ceilingRate).toFixed(2),
            baselinePeakRssMiB: Math.round(Math.max(...b.map((x) => x.rssMiB))),
            baselineWarmRatio: +(median(b.map(warm)) / ceilingWarmRate).toFixed(2),
            // Per round (rows/s of ceiling, baseline, sluice), so a reader sees the spread.
            perRound: c.map((x, i) => [x, b[i], s[i]].map((y) => Math.round(y.rows / y.seconds))),
            // CPU seconds of the whole process per round (start-up included), baseline/sluice.
            cpuSeconds: b.map((x, i) => [x.cpuSeconds, s[i].cpuSeconds].map((y) => +y.toFixed(2))),
          }),
      rounds: ROUNDS,
    });
  }
} finally {
  await admin.deleteTopics({ topics }).catch(() => {});
  await producer.disconnect();
  await admin.disconnect();
}

const machine = { nproc: cpus().length, cpu: cpus()[0]?.model ?? 'unknown', node: process.version };
if (opts.json) console.log(JSON.stringify({ machine, results }, null, 2));
else {
  console.log(
    `machine: ${machine.nproc} cpus, ${machine.cpu}, node ${machine.node}; ${ROWS} rows in ${PER_MESSAGE}-row messages; median of ${ROUNDS}`,
  );
  console.log(
    'partitions | sluice rows/s | ceiling rows/s (kafkajs + JSON.parse, fresh process) | ratio | in-process ceiling rows/s | ratio to it | sluice wall s (incl. start, join, shutdown) | sluice peak RSS MiB (max of rounds)',
  );
  for (const r of results) {
    console.log(
      `${r.partitions} | ${r.sluiceRowsPerSec} | ${r.ceilingRowsPerSec} | ${r.ratio} | ${r.inProcessCeilingRowsPerSec} | ${r.ratioToInProcessCeiling} | ${r.sluiceWallSeconds} | ${r.sluicePeakRssMiB}`,
    );
    console.log(`  sluice/ceiling per round: ${r.ratioPerRound.join(', ')}`);
    console.log(
      `  past the first quarter of the rows (warm): sluice ${r.sluiceWarmRowsPerSec} rows/s, ceiling ${r.ceilingWarmRowsPerSec}, ratio ${r.warmRatio}; per round ${r.warmRatioPerRound.join(', ')}`,
    );
    console.log(
      `  per round rows/s ceiling/in-process ceiling/sluice: ${r.ratioPerRound.map((_, i) => r.rowsPerRound[i].join('/')).join(', ')}; process CPU s ceiling/sluice (start-up included): ${r.ceilingCpuSeconds.map((x, i) => `${x}/${r.sluiceCpuSeconds[i]}`).join(', ')}`,
    );
    if (r.baselineRowsPerSec !== undefined)
      console.log(
        `  baseline ${BASELINE}${BASELINE_NODE_ARGS ? ` with node args "${BASELINE_NODE_ARGS.join(' ')}"` : ''}: ${r.baselineRowsPerSec} rows/s, ratio ${r.baselineRatio} (warm ${r.baselineWarmRatio}), peak RSS ${r.baselinePeakRssMiB} MiB; per round ceiling/baseline/sluice: ${r.perRound.map((x) => x.join('/')).join(', ')}; process CPU s baseline/sluice: ${r.cpuSeconds.map((x) => x.join('/')).join(', ')}`,
      );
  }
}
