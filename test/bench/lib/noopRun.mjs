// `sluice start --once` into the no-op sink (test/bench/kafka-noop-sink.mjs), as the pipeline
// benchmarks of every source run it: a temporary config directory, the built CLI, the sink's
// JSON report read back. Each bench supplies only its canal.conf source settings.
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sluiceNodeArgs } from './launch.mjs';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const bin = join(root, 'packages/cli/dist/bin.js');

/** The median of a list of numbers (the upper one of an even count). */
export const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/**
 * Runs `sluice start --once` with the no-op sink until the source is drained.
 *
 * @param {{ conf: string, instance: string, groupId?: string, bin?: string, mark?: number }} o
 *   `conf`: the `canal.conf` keys before `canalAdapters` (mode, flatMessage, syncBatchSize,
 *   consumerProperties, …), indented by two spaces, one per line; `mark`: an event count past
 *   warm-up, from which `warmRows`/`warmSeconds` are counted as well.
 * @returns {Promise<{ report: { events: number, rows?: number, kinds?: object, firstMs: number,
 *   lastMs: number, maxRssKiB: number }, wall: number, rows: number, seconds: number,
 *   rssMiB: number, cpuSeconds: number, warmRows?: number, warmSeconds?: number }>} the sink's
 *   report; `wall` is the process's whole life in seconds (start, join and shutdown included);
 *   `rows`/`seconds` count events from the sink's first write to its last; with `mark`,
 *   `warmRows`/`warmSeconds` count them from the first write that reached `mark` events to the
 *   last (the events of that write and before excluded).
 * @throws Error with the end of sluice's stderr when it exits non-zero.
 */
export async function runSluiceIntoNoop(o) {
  // o.bin: another build's bin.js (a baseline compared in the same run); default this tree's.
  // o.nodeArgs: node options instead of the launch lines' (lib/launch.mjs).
  const dir = await mkdtemp(join(tmpdir(), 'sluice-bench-'));
  const report = join(dir, 'report.json');
  await writeFile(
    join(dir, 'application.yml'),
    `canal.conf:
${o.conf.replace(/\n+$/, '')}
  canalAdapters:
  - instance: ${o.instance}
    groups:
    - groupId: ${o.groupId ?? 'g1'}
      outerAdapters:
      - name: noop
        key: noop
        properties:
          report: ${JSON.stringify(report)}${o.mark ? `\n          mark: ${o.mark}` : ''}
sluice:
  plugins:
  - ${JSON.stringify(join(root, 'test/bench/kafka-noop-sink.mjs'))}
  admin:
    enabled: false
`,
  );
  const started = performance.now();
  const child = spawn(
    process.execPath,
    [...(o.nodeArgs ?? sluiceNodeArgs()), o.bin ?? bin, 'start', '--config', dir, '--once'],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const code = await new Promise((r) => child.on('exit', r));
  const wall = (performance.now() - started) / 1000;
  if (code !== 0) throw new Error(`sluice exited ${code}:\n${stderr.slice(-3000)}`);
  const r = JSON.parse(await readFile(report, 'utf8'));
  await rm(dir, { recursive: true, force: true });
  return {
    report: r,
    wall,
    rows: r.events,
    seconds: (r.lastMs - r.firstMs) / 1000,
    rssMiB: r.maxRssKiB / 1024,
    cpuSeconds: ((r.cpuUserUs ?? 0) + (r.cpuSystemUs ?? 0)) / 1e6,
    ...(r.markMs > 0
      ? { warmRows: r.events - r.markEvents, warmSeconds: (r.lastMs - r.markMs) / 1000 }
      : {}),
  };
}
