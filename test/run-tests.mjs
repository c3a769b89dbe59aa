#!/usr/bin/env node
// `pnpm test`: brings the testbed up when needed (real Kafka, Elasticsearch, MariaDB, PostgreSQL,
// Redis), then runs the whole vitest suite. Extra arguments go to vitest.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const run = (cmd, args) =>
  spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env: process.env }).status ?? 1;

const up = run(process.execPath, ['test/testbed/cli.mjs', 'up']);
if (up !== 0) {
  console.error('The testbed did not come up (see above); no test was run.');
  process.exit(up);
}
process.exit(run(process.execPath, ['node_modules/vitest/vitest.mjs', 'run', ...process.argv.slice(2)]));
