#!/usr/bin/env node
// `pnpm bench`: builds, brings the testbed up (the Kafka benchmark needs it), then runs every
// benchmark in turn. `pnpm bench decode applier` runs only those. Results go to stdout; copy
// them into BENCHMARKS.md with the command and the machine.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const benches = {
  decode: { file: 'test/bench/decode.bench.mjs', testbed: [] },
  applier: { file: 'test/bench/applier.bench.mjs', testbed: [] },
  engine: { file: 'test/bench/engine.bench.mjs', testbed: [] },
  'kafka-pipeline': { file: 'test/bench/kafka-pipeline.bench.mjs', testbed: ['kafka'] },
  'redis-sink': { file: 'test/bench/redis-sink.bench.mjs', testbed: ['redis'] },
  'rabbitmq-pipeline': { file: 'test/bench/rabbitmq-pipeline.bench.mjs', testbed: ['rabbitmq'] },
  'rocketmq-pipeline': { file: 'test/bench/rocketmq-pipeline.bench.mjs', testbed: ['rocketmq'] },
  'tcp-pipeline': { file: 'test/bench/tcp-pipeline.bench.mjs', testbed: ['mysql', 'canal'] },
  latency: { file: 'test/bench/latency.bench.mjs', testbed: ['kafka', 'mysql'] },
  'rdb-pipeline': { file: 'test/bench/rdb-pipeline.bench.mjs', testbed: ['kafka', 'mysql', 'pg'] },
  'rdb-plan': { file: 'test/bench/rdb-plan.bench.mjs', testbed: [] },
  'rdb-etl': { file: 'test/bench/rdb-etl.bench.mjs', testbed: ['mysql', 'pg'] },
  'es-sink': { file: 'test/bench/es-sink.bench.mjs', testbed: ['kafka', 'mysql', 'es'] },
};
const wanted = process.argv.slice(2);
for (const name of wanted) {
  if (!(name in benches)) {
    console.error(`Unknown benchmark "${name}"; known: ${Object.keys(benches).join(', ')}.`);
    process.exit(2);
  }
}
const selected = Object.entries(benches).filter(
  ([name]) => wanted.length === 0 || wanted.includes(name),
);
const run = (args) =>
  spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit' }).status ?? 1;

const services = [...new Set(selected.flatMap(([, b]) => b.testbed))];
if (services.length > 0 && run(['test/testbed/cli.mjs', 'up', ...services]) !== 0) process.exit(1);
let failed = 0;
for (const [name, bench] of selected) {
  console.log(`\n== ${name} (${bench.file}) ==`);
  if (run([bench.file]) !== 0) failed += 1;
}
process.exit(failed === 0 ? 0 : 1);
