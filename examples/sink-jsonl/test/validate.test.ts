import { existsSync } from 'node:fs';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '@sluice/cli';

const pkgDir = dirname(dirname(fileURLToPath(import.meta.url)));

async function validate(configDir: string): Promise<{ code: number; out: string }> {
  let out = '';
  const code = await main(['validate', '--config', configDir], {
    stdout: (t) => void (out += t),
    stderr: (t) => void (out += t),
  });
  return { code, out };
}

// The jsonl sink's mapping files (jsonl/*.yml: database, table, targetFile) are a format only the
// plugin knows: the core finds them through the plugin's MappingSpec and reports their problems
// with file and line like its own.
describe('sluice validate with the jsonl sink mapping files', () => {
  let conf: string;
  beforeAll(async () => {
    if (!existsSync(join(pkgDir, 'dist', 'index.js')))
      throw new Error('Build the example first: pnpm --filter sluice-sink-jsonl build.');
    conf = join(await mkdtemp(join(tmpdir(), 'sluice-jsonl-validate-')), 'conf');
    await cp(join(pkgDir, 'conf'), conf, { recursive: true });
    // The copy lives elsewhere: point its relative paths back at the originals (validate checks
    // that file.path exists, as start does).
    const yml = (await readFile(join(conf, 'application.yml'), 'utf8'))
      .replace('    - ..  ', `    - ${pkgDir}  `)
      .replace('../../../config/samples', join(pkgDir, '../../config/samples'));
    await writeFile(join(conf, 'application.yml'), yml);
  });
  afterAll(() => rm(dirname(conf), { recursive: true, force: true }));

  it('accepts the example configuration and its mapping file', async () => {
    const { code, out } = await validate(conf);
    expect(out).not.toMatch(/error/);
    expect(code).toBe(0);
  });

  it("reports the plugin's own checks and schema problems with file:line", async () => {
    await writeFile(
      join(conf, 'jsonl', 'bad.yml'),
      [
        'destination: example',
        'groupId: g1',
        'outerAdapterKey: jsonl-out',
        'database: mytest',
        'table: "*"',
        'targetFile: ../escape.txt',
        '',
      ].join('\n'),
    );
    await writeFile(
      join(conf, 'jsonl', 'typo.yml'),
      [
        'destination: example',
        'groupId: g1',
        'outerAdapterKey: jsonl-out',
        'database: mytest',
        'table: user',
        'targetFil: user.jsonl',
        '',
      ].join('\n'),
    );
    const { code, out } = await validate(conf);
    expect(code).toBe(1);
    expect(out).toContain('jsonl/bad.yml:5: error: table: The jsonl sink keeps one table per file');
    expect(out).toContain('jsonl/bad.yml:6: error: targetFile: targetFile "../escape.txt" must be');
    expect(out).toContain('jsonl/typo.yml:1: error: targetFile: missing');
    expect(out).toMatch(/jsonl\/typo\.yml:6: warning: targetFil: unknown key.*"targetFile"/);
  });
});
