import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const bin = fileURLToPath(new URL('../dist/bin.js', import.meta.url));

/** What the README promises `pnpm start -- --once` prints on the embedded default. */
const expected = [
  'mytest.user INSERT [id=1] name="Eric" role_id="1" c_time="2024-11-21 09:30:00.120" score="88.50" avatar=NULL',
  'mytest.user INSERT [id=2] name="张三" role_id=NULL c_time="2024-11-21 09:31:00.000" score="91.00" avatar=NULL',
  'mytest.user INSERT [id=3] name="Zoë 🚀" role_id="2" c_time="2024-11-21 09:31:00.000" score="75.25" avatar=0x00ff89504e47',
  'mytest.user UPDATE [id=1] name: "Eric" → "Eric Liu", role_id: "1" → "3"',
  'mytest.user ALTER ALTER TABLE `user` ADD COLUMN `email` varchar(64) NULL AFTER `name`',
  'mytest.user UPDATE [id=3→30] id: "3" → "30"',
  'mytest.user DELETE [id=2]',
];

describe('the embedded default configuration', () => {
  it('is built (pnpm test builds before running)', () => {
    expect(existsSync(bin), `${bin} is missing: run pnpm build`).toBe(true);
  });

  it('prints every sample change in file order with `sluice start --once` and exits 0', () => {
    const run = spawnSync(process.execPath, [bin, 'start', '--config', 'config', '--once'], {
      cwd: root,
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout.trimEnd().split('\n')).toEqual(expected);
    expect(run.stderr).not.toMatch(/"level":"(warn|error)"|ERROR|WARN/);
  });

  it('validates without errors or warnings', () => {
    const run = spawnSync(process.execPath, [bin, 'validate', '--config', 'config'], {
      cwd: root,
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(run.status, run.stdout + run.stderr).toBe(0);
    expect(run.stdout + run.stderr).not.toMatch(/warning/i);
  });
});
