import { spawn } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const repo = fileURLToPath(new URL('../../../', import.meta.url));
const bin = join(repo, 'packages/cli/dist/bin.js');

// Field trial: `sluice inspect FILE | head -2` ended in an unhandled EPIPE stack trace.
it('stops quietly when the reader of stdout goes away (| head)', async () => {
  const sample = await readFile(join(repo, 'config/samples/mytest_user.jsonl'), 'utf8');
  const line = sample.split('\n').find((l) => l.includes('"INSERT"'))!;
  const dir = await mkdtemp(join(tmpdir(), 'sluice-epipe-'));
  const file = join(dir, 'many.jsonl');
  await writeFile(file, (line + '\n').repeat(20_000));
  const child = spawn(process.execPath, [bin, 'inspect', file], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  // Read the first chunk, then close the pipe like `head` does.
  await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
  child.stdout.destroy();
  const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
  expect(stderr).not.toMatch(/EPIPE|Unhandled|at /);
  expect(code).toBe(0);
});
