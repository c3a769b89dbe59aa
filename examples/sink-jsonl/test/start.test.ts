import { existsSync } from 'node:fs';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '@sluice/cli';

const pkgDir = dirname(dirname(fileURLToPath(import.meta.url)));
const repo = join(pkgDir, '..', '..');

/** Runs `sluice start --once` on `configDir` and returns the exit code and output. */
async function start(configDir: string): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const originalWrite = process.stdout.write.bind(process.stdout);
  // The logger sink prints to process.stdout; capture it for the assertions.
  process.stdout.write = ((chunk: string | Uint8Array) => (
    (stdout += String(chunk)),
    true
  )) as typeof process.stdout.write;
  try {
    const code = await main(['start', '--config', configDir, '--once'], {
      stdout: (t) => void (stdout += t),
      stderr: (t) => void (stderr += t),
    });
    return { code, stdout, stderr };
  } finally {
    process.stdout.write = originalWrite;
  }
}

describe('sluice start --once with the jsonl sink loaded through sluice.plugins', () => {
  let work: string;
  beforeAll(async () => {
    if (!existsSync(join(pkgDir, 'dist', 'index.js'))) {
      throw new Error(
        'Build the example first: pnpm --filter sluice-sink-jsonl build (pnpm test does it).',
      );
    }
    work = await mkdtemp(join(tmpdir(), 'sluice-jsonl-start-'));
  });
  afterAll(() => rm(work, { recursive: true, force: true }));

  it('applies the embedded default samples to one file per table', async () => {
    // The example's own configuration, pointed at a scratch output directory.
    const conf = join(work, 'conf');
    await cp(join(pkgDir, 'conf'), conf, { recursive: true });
    const yml = (await readFile(join(conf, 'application.yml'), 'utf8'))
      .replace(
        'file.path: ../../../config/samples',
        `file.path: ${join(repo, 'config', 'samples')}`,
      )
      .replace('dir: ../out', `dir: ${join(work, 'out')}`)
      .replace('    - ..  ', `    - ${pkgDir}  `);
    expect(yml).toContain(pkgDir);
    await writeFile(
      join(conf, 'application.yml'),
      yml + `  deadLetter:\n    dir: ${join(work, 'dlq')}\n`,
    );

    const { code, stdout, stderr } = await start(conf);
    expect(stderr).not.toMatch(/ERROR|sluice:/);
    expect(code).toBe(0);
    expect(stdout).toContain('mytest.user INSERT [id=1]');

    const text = await readFile(join(work, 'out', 'users.jsonl'), 'utf8');
    const rows = new Map(
      text
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { key: string[]; row: Record<string, string | null> })
        .map((r) => [r.key.join(','), r.row]),
    );
    // The samples insert 1, 2, 3, rename 1, change 3's key to 30, then delete 2.
    expect([...rows.keys()].sort()).toEqual(['1', '30']);
    expect(rows.get('1')?.['name']).toBe('Eric Liu');
    expect(rows.get('30')?.['name']).toBe('Zoë 🚀');
  });

  it('fails with a clear message when sluice.plugins points at nothing', async () => {
    const conf = join(work, 'broken');
    await cp(join(pkgDir, 'conf'), conf, { recursive: true });
    const yml = (await readFile(join(conf, 'application.yml'), 'utf8')).replace(
      '    - ..  ',
      '    - ./no-such-plugin.js  ',
    );
    await writeFile(join(conf, 'application.yml'), yml);
    const { code, stderr } = await start(conf);
    expect(code).toBe(1);
    expect(stderr).toContain('"./no-such-plugin.js"');
    expect(stderr).toContain('does not exist');
  });
});
