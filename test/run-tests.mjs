#!/usr/bin/env node
// `pnpm test`: brings the testbed up when needed (real Kafka, Elasticsearch, MariaDB, PostgreSQL,
// Redis), then runs the whole vitest suite. Extra arguments go to vitest. Ends with one plain
// summary line ("Tests: N passed, N failed, N skipped") and vitest's exit code.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const run = (cmd, args) =>
  spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env: process.env }).status ?? 1;

const up = run(process.execPath, ['test/testbed/cli.mjs', 'up']);
if (up !== 0) {
  console.error('The testbed did not come up (see above); no test was run.');
  process.exit(up);
}

const out = mkdtempSync(join(tmpdir(), 'sluice-vitest-'));
const report = join(out, 'report.json');
const status = run(process.execPath, [
  'node_modules/vitest/vitest.mjs',
  'run',
  '--reporter=default',
  '--reporter=json',
  `--outputFile.json=${report}`,
  ...process.argv.slice(2),
]);
try {
  const r = JSON.parse(readFileSync(report, 'utf8'));
  const skipped = (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
  console.log(
    `\nTests: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${skipped} skipped`,
  );
  if (r.numTotalTests === 0) {
    console.error('No test ran.');
    process.exit(1);
  }
} catch (error) {
  console.error(`No vitest report (${error.message}).`);
} finally {
  rmSync(out, { recursive: true, force: true });
}
process.exit(status);
