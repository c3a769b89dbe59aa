import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// `pnpm start` / `pnpm sluice` build first through scripts/build.mjs: progress on stderr when
// something is compiled, nothing when the build is cached, and never anything on stdout (the
// README's `pnpm start -- --once` output, and `pnpm -s sluice inspect … | jq`, stay clean).
const root = fileURLToPath(new URL('../../../', import.meta.url));
const script = fileURLToPath(new URL('../../../scripts/build.mjs', import.meta.url));

function build(shell: string) {
  return spawnSync(process.execPath, [script, '--', 'sh', '-c', shell], {
    cwd: root,
    encoding: 'utf8',
    timeout: 30_000,
  });
}

describe('the build before pnpm start', () => {
  it('shows a notice and the progress on stderr as soon as something is compiled', () => {
    const run = build(
      'echo "   • Running build in 2 packages"; echo "@sluice/core:build: cache miss, executing 1a2b"; echo "@sluice/cli:build: cache miss, executing 3c4d"',
    );
    expect(run.status).toBe(0);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/^Building Sluice \(the first run takes about a minute\)…\n/);
    expect(run.stderr).toContain('@sluice/core:build: cache miss');
    expect(run.stderr).toContain('@sluice/cli:build: cache miss');
    expect(run.stderr.trimEnd().endsWith('Built.')).toBe(true);
  });

  it('prints nothing when everything comes from the cache', () => {
    const run = build('echo "@sluice/core:build: cache hit, replaying logs 1a2b"');
    expect(run.status).toBe(0);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe('');
  });

  it('prints the whole output on stderr and fails when the build fails', () => {
    const run = build('echo "src/x.ts(1,1): error TS2307"; exit 2');
    expect(run.status).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain('error TS2307');
  });
});
