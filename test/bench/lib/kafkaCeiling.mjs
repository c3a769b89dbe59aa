// The ceiling of the Kafka pipeline benchmarks: a bare kafkajs consumer (eachBatch, no commits)
// reading a topic from the beginning and JSON.parse-ing every value, rows/s from the first batch
// to the last. Two ways to run it:
//   - in the benchmark's own process (`kafkaCeiling(…)`): a process that produced the topic and
//     may have run earlier rounds, so its JIT and heap are warm;
//   - as a trivial script in a fresh process (`freshKafkaCeiling(…)`, which runs this file as
//     `node kafkaCeiling.mjs '<json>'` and reads one JSON line back), started and measured as
//     Sluice is: the same conditions (DESIGN.md §9: "a trivial script").
// In one process the ceiling keeps speeding up over rounds (1M rows, three rounds, AMD EPYC:
// 332k → 452k → 502k rows/s), which a fresh Sluice process never gets; BENCHMARKS.md, session 15.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const { Kafka, logLevel } = require('kafkajs');

/**
 * Consumes `rows` rows of `topic` (all `partitions` concurrently) and JSON.parses each value.
 *
 * @param {{ broker: string, topic: string, rows: number, partitions: number, mark?: number }} o
 *   `mark`: a row count past warm-up, from which `warmRows`/`warmSeconds` are counted as well.
 * @returns {Promise<{ rows: number, seconds: number, warmRows?: number, warmSeconds?: number }>}
 *   rows counted (`data.length` of each message) and seconds from the first batch to the last;
 *   with `mark`, rows and seconds from the end of the first batch that reached `mark` rows to the
 *   last (that batch and those before excluded), as the Sluice side counts them.
 */
export async function kafkaCeiling(o) {
  const kafka = new Kafka({
    clientId: 'sluice-bench-ceiling',
    brokers: [o.broker],
    logLevel: logLevel.NOTHING,
  });
  const consumer = kafka.consumer({
    groupId: `bench_ceiling_${process.pid.toString(36)}_${Math.random().toString(36).slice(2, 8)}`,
    maxWaitTimeInMs: 100,
  });
  await consumer.connect();
  await consumer.subscribe({ topic: o.topic, fromBeginning: true });
  let rows = 0;
  let first = 0;
  let last = 0;
  let markMs = 0;
  let markRows = 0;
  let done;
  const finished = new Promise((r) => (done = r));
  await consumer.run({
    autoCommit: false,
    partitionsConsumedConcurrently: o.partitions,
    eachBatch: async ({ batch }) => {
      if (first === 0) first = performance.now();
      for (const m of batch.messages) rows += JSON.parse(m.value.toString('utf8')).data.length;
      last = performance.now();
      if (o.mark && markMs === 0 && rows >= o.mark) {
        markMs = last;
        markRows = rows;
      }
      if (rows >= o.rows) done();
    },
  });
  await finished;
  await consumer.disconnect();
  return {
    rows,
    seconds: (last - first) / 1000,
    ...(markMs > 0 ? { warmRows: rows - markRows, warmSeconds: (last - markMs) / 1000 } : {}),
  };
}

/**
 * {@link kafkaCeiling} in a fresh `node` process (no options), as Sluice is run.
 *
 * @returns {Promise<{ rows: number, seconds: number, cpuSeconds: number, rssMiB: number }>}
 *   plus the child's process CPU (start-up included) and peak RSS.
 * @throws Error with the child's stderr when it exits non-zero.
 */
export async function freshKafkaCeiling(o) {
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), JSON.stringify(o)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const code = await new Promise((r) => child.on('exit', r));
  if (code !== 0) throw new Error(`the ceiling process exited ${code}:\n${stderr.slice(-3000)}`);
  return JSON.parse(stdout.trim().split('\n').at(-1));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const result = await kafkaCeiling(JSON.parse(process.argv[2]));
  const cpu = process.cpuUsage();
  console.log(
    JSON.stringify({
      ...result,
      cpuSeconds: (cpu.user + cpu.system) / 1e6,
      rssMiB: process.resourceUsage().maxRSS / 1024,
    }),
  );
}
