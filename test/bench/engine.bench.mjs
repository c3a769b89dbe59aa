#!/usr/bin/env node
// The pipeline engine in one process, without a broker: the Kafka benchmark's messages (canal
// FlatMessage INSERTs of shop.orders, 20 rows each, test/bench/lib/orders.mjs) delivered from
// memory in source batches of 1000 messages, as the Kafka source hands them over, through the
// whole engine (decode, route, conflict keys, lanes, batch writer, ack tracker, commits, metrics)
// into a no-op sink. Beside it, in the same process and rounds, the ceiling: JSON.parse of the
// same payloads in a loop. Kafka's own cost and its run-to-run noise are left out, so a change to
// the engine shows here first; the Kafka benchmark says what a user gets.
//
// Prints the median µs a row of both, their ratio, the fastest round of each (on a shared VM the
// least disturbed one: steadier than the median for an A/B of two builds) and the process CPU a
// row (all threads, the GC's helpers too; time stolen by the VM's neighbours is not counted).
//
// Usage: pnpm build && node test/bench/engine.bench.mjs [--rows N] [--rounds N]
//        [--max-in-flight N] [--json]
// Node options (e.g. --max-semi-space-size=64) go before the file name.
import { availableParallelism, cpus } from 'node:os';
import { parseArgs } from 'node:util';
import { orderMessagesByPartition } from './lib/orders.mjs';
import { median } from './lib/noopRun.mjs';

const load = async (pkg) =>
  import(new URL(`../../packages/${pkg}/dist/index.js`, import.meta.url).href).catch((error) => {
    console.error(
      `Cannot load @sluice/${pkg} from dist: run "pnpm build" first.\n${error.message}`,
    );
    process.exit(2);
  });
const protocol = await load('canal-protocol');
await load('core'); // a clear message when the build is missing
const { runEngineOnce } = await import('./lib/engineRun.mjs');

const { values: opts } = parseArgs({
  options: {
    rows: { type: 'string', default: '200000' },
    rounds: { type: 'string', default: '7' },
    'max-in-flight': { type: 'string' },
    json: { type: 'boolean', default: false },
  },
});
const ROWS = Number(opts.rows);
const ROUNDS = Number(opts.rounds);
const SOURCE_BATCH = 1000; // kafka.max.poll.records of the Kafka benchmark

const [values] = orderMessagesByPartition(protocol, ROWS, 20, 1);
const payloads = values.map((v) => Buffer.from(v));

/** The ceiling: JSON.parse of every payload (what the Kafka ceiling does besides kafkajs). */
function parse() {
  const t0 = performance.now();
  let rows = 0;
  for (const p of payloads) rows += JSON.parse(p.toString('utf8')).data.length;
  const ms = performance.now() - t0;
  if (rows !== ROWS) throw new Error(`parsed ${rows} rows, expected ${ROWS}`);
  return ms;
}

const ceiling = [];
const sluice = [];
// Process CPU time (all threads: the GC's helpers too) per round: steadier than the wall clock on
// a VM whose neighbours take the CPU now and then (stolen time is not counted).
const ceilingCpu = [];
const sluiceCpu = [];
const cpuMs = (start) => {
  const u = process.cpuUsage(start);
  return (u.user + u.system) / 1000;
};
for (let r = 0; r < ROUNDS; r++) {
  let c = process.cpuUsage();
  ceiling.push(parse());
  ceilingCpu.push(cpuMs(c));
  c = process.cpuUsage();
  sluice.push(
    await runEngineOnce(payloads, {
      sourceBatch: SOURCE_BATCH,
      settings: opts['max-in-flight'] ? { maxInFlight: Number(opts['max-in-flight']) } : {},
    }),
  );
  sluiceCpu.push(cpuMs(c));
}
const us = (ms) => (ms * 1000) / ROWS;
const result = {
  rows: ROWS,
  rounds: ROUNDS,
  ceilingUsPerRow: us(median(ceiling)),
  engineUsPerRow: us(median(sluice)),
  // The fastest round: on a shared VM the least disturbed one, steadier than the median for A/B.
  engineMinUsPerRow: us(Math.min(...sluice)),
  ceilingMinUsPerRow: us(Math.min(...ceiling)),
  engineCpuUsPerRow: us(median(sluiceCpu)),
  ceilingCpuUsPerRow: us(median(ceilingCpu)),
  ratio: median(ceiling) / median(sluice),
  perRound: sluice.map((s, i) => ceiling[i] / s),
};
if (opts.json) console.log(JSON.stringify(result));
else {
  console.log(
    `machine: ${availableParallelism()} cpus, ${cpus()[0]?.model ?? 'unknown'}, node ${process.version}` +
      `${process.execArgv.length ? ` ${process.execArgv.join(' ')}` : ''}; ${ROWS} rows in 20-row messages; median of ${ROUNDS}`,
  );
  console.log(
    `engine → no-op sink: ${result.engineUsPerRow.toFixed(3)} µs/row (${Math.round(1e6 / result.engineUsPerRow)} rows/s)`,
  );
  console.log(
    `ceiling JSON.parse:  ${result.ceilingUsPerRow.toFixed(3)} µs/row (${Math.round(1e6 / result.ceilingUsPerRow)} rows/s)`,
  );
  console.log(
    `process CPU (median): engine ${result.engineCpuUsPerRow.toFixed(3)} µs/row, ceiling ${result.ceilingCpuUsPerRow.toFixed(3)} µs/row\n` +
      `fastest round: engine ${result.engineMinUsPerRow.toFixed(3)} µs/row, ceiling ${result.ceilingMinUsPerRow.toFixed(3)} µs/row\n` +
      `ratio ${result.ratio.toFixed(2)}; per round ${result.perRound.map((x) => x.toFixed(2)).join(', ')}`,
  );
}
