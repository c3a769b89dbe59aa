import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { SLUICE_HEAP_GROWING_PERCENT } from '../src/heapGrowth.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const bin = fileURLToPath(new URL('../dist/bin.js', import.meta.url));

// The workload the setting is for: JSON.parse of short (internalized) string values. Prints the number of full GCs. With argv[1], the flag is
// set at run time exactly as the binary sets it (setFlagsFromString after start-up).
const workload = `
import { setFlagsFromString } from 'node:v8';
import { PerformanceObserver, constants } from 'node:perf_hooks';
if (process.argv[1]) setFlagsFromString('--heap-growing-percent=' + process.argv[1]);
let majors = 0;
// Held until the end: an observer nobody references is collected and stops counting.
const observer = new PerformanceObserver((list) => {
  for (const e of list.getEntries()) if (e.detail.kind === constants.NODE_PERFORMANCE_GC_MAJOR) majors++;
});
observer.observe({ entryTypes: ['gc'] });
let n = 0;
for (let r = 0; r < 1500; r++) {
  let t = '[';
  for (let i = 0; i < 5000; i++) t += (i ? ',"' : '"') + (r * 5000 + i).toString(36) + '"';
  n += JSON.parse(t + ']').length;
}
await new Promise((r) => setTimeout(r, 50));
observer.disconnect();
console.log(JSON.stringify({ majors, n }));
`;

function fullGcs(percent?: number): Promise<number> {
  const child = spawn(
    process.execPath,
    ['--input-type=module', '-e', workload, ...(percent === undefined ? [] : [String(percent)])],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  return new Promise((resolve, reject) =>
    child.on('exit', (code) =>
      code === 0
        ? resolve((JSON.parse(out) as { majors: number }).majors)
        : reject(new Error(`exit ${code}`)),
    ),
  );
}

describe('V8 old-generation growth', () => {
  // Guards the mechanism on the running Node: were V8 to freeze its flags after start-up or
  // drop this one, the binary's setting would do nothing, silently.
  it('set at run time, makes full GCs come sooner on short-string JSON', async () => {
    // Two fixed factors, both set at run time (V8's own factor varies with the machine's
    // speed; these do not): 2× and 11× the survivors. Ignored, both runs would count the same.
    const [tuned, loose] = await Promise.all([fullGcs(SLUICE_HEAP_GROWING_PERCENT), fullGcs(1000)]);
    // Node 20, AMD EPYC, three such processes at once on 2 cores: 11 against 5, every time.
    expect(tuned).toBeGreaterThanOrEqual(loose + 3);
  }, 60_000);

  it('is in force in `sluice start` and said in its first log line', () => {
    const start = (nodeArgs: string[], env: Record<string, string> = {}) =>
      spawnSync(process.execPath, [...nodeArgs, bin, 'start', '--config', 'config', '--once'], {
        cwd: root,
        encoding: 'utf8',
        timeout: 60_000,
        env: { ...process.env, SLUICE_LOG_FORMAT: 'json', ...env },
      });
    const own = start([]);
    expect(own.status, own.stderr).toBe(0);
    expect(own.stderr).toMatch(
      /"heapGrowingPercent":100,"heapGrowingPercentSetBy":"sluice".*Starting Sluice\./,
    );
    const node = start(['--heap-growing-percent=20'], { SLUICE_HEAP_GROWING_PERCENT: '50' });
    expect(node.stderr).toMatch(/"heapGrowingPercent":20,"heapGrowingPercentSetBy":"node"/);
    expect(node.stderr).toContain(
      'SLUICE_HEAP_GROWING_PERCENT=50 is ignored: node was started with its own --heap-growing-percent, which wins.',
    );
    expect(own.stderr).not.toContain('is ignored');
    const env = start([], { SLUICE_HEAP_GROWING_PERCENT: '0' });
    expect(env.stderr).toMatch(/"heapGrowingPercent":0,"heapGrowingPercentSetBy":"env"/);
  }, 60_000);

  it('refuses a malformed SLUICE_HEAP_GROWING_PERCENT before any command runs, but still helps', () => {
    const sluice = (args: string[]) =>
      spawnSync(process.execPath, [bin, ...args], {
        cwd: root,
        encoding: 'utf8',
        timeout: 30_000,
        env: { ...process.env, SLUICE_HEAP_GROWING_PERCENT: 'lots' },
      });
    for (const args of [
      ['validate', '--config', 'config'],
      ['start', '--once'],
    ]) {
      const run = sluice(args);
      expect(run.status, args.join(' ')).toBe(2);
      expect(run.stdout).toBe('');
      expect(run.stderr).toBe(
        `sluice: SLUICE_HEAP_GROWING_PERCENT must be an integer from 0 to 10000 (0: V8's own choice), got "lots".\n`,
      );
    }
    // The help says how to set it; the version is asked for when reporting a problem.
    const version = sluice(['--version']);
    expect([version.status, version.stdout]).toEqual([0, expect.stringMatching(/^sluice \d/)]);
    const help = sluice(['start', '--help']);
    expect(help.status).toBe(0);
    expect(sluice(['--help']).stdout).toContain('SLUICE_HEAP_GROWING_PERCENT=N');
  });
});
