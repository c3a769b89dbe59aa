import { mkdtemp, mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../main.js';
import type { CliIo } from '../io.js';

const good = JSON.stringify({
  data: [{ id: '1', name: 'a' }],
  database: 'db',
  es: 1,
  id: 1,
  isDdl: false,
  mysqlType: { id: 'int', name: 'varchar(10)' },
  old: null,
  pkNames: ['id'],
  sql: '',
  sqlType: { id: 4, name: 12 },
  table: 't',
  ts: 2,
  type: 'INSERT',
});

async function configDir(): Promise<{ dir: string; dlq: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-dlq-'));
  const dlq = join(dir, 'dlq');
  await mkdir(join(dir, 'samples'));
  await writeFile(join(dir, 'samples', 'a.jsonl'), `${good}\n{broken\n`);
  await writeFile(
    join(dir, 'application.yml'),
    `canal.conf:
  mode: file
  flatMessage: true
  consumerProperties:
    file.path: samples
  canalAdapters:
  - instance: example
    groups:
    - groupId: g1
      outerAdapters:
      - name: logger
        key: log1
        properties:
          output: stderr
sluice:
  deadLetter:
    dir: ${dlq}
`,
  );
  return { dir, dlq };
}

function io(): CliIo & { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return {
    out,
    err,
    stdout: (t: string) => void out.push(t),
    stderr: (t: string) => void err.push(t),
  } as CliIo & { out: string[]; err: string[] };
}

describe('sluice dlq replay', () => {
  it('replays dead letters; records that fail again go back to the dead-letter queue', async () => {
    const { dir, dlq } = await configDir();
    expect(await main(['start', '--config', dir, '--once'], io())).toBe(0);
    const file = join(dlq, 'example.jsonl');
    const first = (await readFile(file, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(first).toHaveLength(1);
    expect(first[0]).toMatchObject({
      destination: 'example',
      groupId: 'g1',
      offset: '2',
      payload: '{broken',
    });

    // Add a dead letter of the sink that now applies fine.
    await writeFile(
      file,
      (await readFile(file, 'utf8')) +
        JSON.stringify({
          ...first[0],
          offset: '1',
          payload: good,
          sink: 'log1',
          index: 0,
          reason: 'x',
        }) +
        '\n',
    );
    const run = io();
    expect(await main(['dlq', 'replay', '--config', dir], run)).toBe(1);
    // The message names the real file read and written back to (issue #10 item 16).
    expect(run.out.join('')).toContain(
      `Replayed 2 dead letter(s) from ${file}; 1 failed again and went back to ${file}.`,
    );
    expect(run.err.join('')).toContain(`Reading dead letters from ${file}.`);
    const again = (await readFile(file, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(again).toHaveLength(1);
    expect(again[0]).toMatchObject({
      partition: first[0]!['partition'],
      offset: '2',
      payload: '{broken',
      attempts: 2,
    });
    // Rewritten in place: no copy is left behind per replay.
    expect(await readdir(dlq)).toEqual(['example.jsonl']);

    // Each failed replay counts one more attempt.
    expect(await main(['dlq', 'replay', '--config', dir], io())).toBe(1);
    const third = (await readFile(file, 'utf8')).trim().split('\n');
    expect(third).toHaveLength(1);
    expect(JSON.parse(third[0]!)).toMatchObject({ offset: '2', attempts: 3 });
    expect(await readdir(dlq)).toEqual(['example.jsonl']);
  });

  it('replays only one sink with --sink and writes every other record back unchanged', async () => {
    const { dir, dlq } = await configDir();
    await mkdir(dlq);
    const from = join(dlq, 'in.jsonl');
    const base = {
      at: 'x',
      destination: 'example',
      groupId: 'g1',
      partition: 'p',
      offset: '1',
      index: 0,
      reason: 'r',
      attempts: 1,
      payload: good,
      payloadEncoding: 'utf8',
    };
    const other = { ...base, offset: '2', sink: 'other' };
    const undecodable = {
      at: 'x',
      destination: 'example',
      groupId: 'g1',
      partition: 'p',
      offset: '3',
      reason: 'undecodable message',
      attempts: 1,
      payload: '{broken',
      payloadEncoding: 'utf8',
    };
    await writeFile(
      from,
      [
        JSON.stringify({ ...base, sink: 'log1' }),
        JSON.stringify(other),
        JSON.stringify(undecodable),
      ].join('\n') + '\n',
    );
    const run = io();
    expect(
      await main(['dlq', 'replay', '--config', dir, '--from', from, '--sink', 'log1'], run),
    ).toBe(0);
    expect(run.out.join('')).toMatch(
      /Replayed 1 dead letter\(s\) from .*in\.jsonl, wrote 2 not matching back unchanged; 0 failed again\./,
    );
    // Nothing is lost: the records not replayed are pending in the dead-letter queue again.
    const pending = (await readFile(join(dlq, 'example.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(pending).toEqual([other, undecodable]);
    expect(
      await main(['dlq', 'replay', '--config', dir, '--from', 'a', '--topic', 'b'], io()),
    ).toBe(2);
    expect(await main(['dlq', 'nope', '--config', dir], io())).toBe(2);
  });
});

describe('sluice dlq replay: where it looks (issue #10 item 6)', () => {
  async function relativeConfig(): Promise<string> {
    const { dir } = await configDir();
    const yml = join(dir, 'application.yml');
    await writeFile(yml, (await readFile(yml, 'utf8')).replace(/dir: .*/, 'dir: dead-letters'));
    return dir;
  }

  it('resolves a relative sluice.deadLetter.dir against the configuration directory', async () => {
    const dir = await relativeConfig();
    // Run from somewhere else than the configuration directory (as an operator would).
    expect(process.cwd()).not.toBe(dir);
    expect(await main(['start', '--config', dir, '--once'], io())).toBe(0);
    const file = join(dir, 'dead-letters', 'example.jsonl');
    expect((await readFile(file, 'utf8')).trim().split('\n')).toHaveLength(1);
    const run = io();
    expect(await main(['dlq', 'replay', '--config', dir], run)).toBe(1);
    expect(run.out.join('')).toMatch(/Replayed 1 dead letter\(s\) from .*; 1 failed again/);
    expect(run.err.join('')).toContain(`Reading dead letters from ${file}.`);
  });

  it('fails, naming the directory, when the configured dead-letter directory does not exist', async () => {
    const dir = await relativeConfig();
    const run = io();
    expect(await main(['dlq', 'replay', '--config', dir], run)).toBe(1);
    expect(run.err.join('')).toContain(
      `there is no dead-letter directory ${join(dir, 'dead-letters')}`,
    );
    expect(run.out.join('')).not.toMatch(/Replayed/);
  });

  it('fails when the directory holds no file of a configured instance, listing what it holds', async () => {
    const dir = await relativeConfig();
    await mkdir(join(dir, 'dead-letters'));
    await writeFile(join(dir, 'dead-letters', 'other.jsonl'), '');
    const run = io();
    expect(await main(['dlq', 'replay', '--config', dir], run)).toBe(1);
    expect(run.err.join('')).toMatch(/none of the configured instances \(example\)/);
    expect(run.err.join('')).toContain(join(dir, 'dead-letters', 'other.jsonl'));
  });

  it('an existing but empty queue replays nothing and succeeds', async () => {
    const dir = await relativeConfig();
    await mkdir(join(dir, 'dead-letters'));
    await writeFile(join(dir, 'dead-letters', 'example.jsonl'), '');
    const run = io();
    expect(await main(['dlq', 'replay', '--config', dir], run)).toBe(0);
    expect(run.out.join('')).toMatch(/Replayed 0 dead letter\(s\) from .*example\.jsonl/);
  });
});

describe('sluice dlq list|show|drop (issue #10 item 16)', () => {
  const record = (over: Record<string, unknown>) => ({
    at: '2026-01-01T00:00:00.000Z',
    destination: 'example',
    groupId: 'g1',
    partition: '0',
    offset: '1',
    index: 0,
    sink: 'log1',
    mapping: 'es/a.yml',
    reason: 'Duplicate entry',
    attempts: 1,
    payload: good,
    payloadEncoding: 'utf8',
    ...over,
  });
  const letters = [
    record({ offset: '5' }),
    record({ offset: '7', sink: 'log2', mapping: 'es/b.yml', reason: 'timeout' }),
    record({ offset: '9', reason: 'mapper_parsing_exception' }),
    record({
      offset: '12',
      sink: undefined,
      index: undefined,
      mapping: undefined,
      reason: 'undecodable message: bad',
      payload: '\u001b[31mred\u0007' + 'x'.repeat(50),
    }),
    record({
      offset: '13',
      sink: undefined,
      index: undefined,
      mapping: undefined,
      reason: 'undecodable message: binary',
      payload: Buffer.from([0xff, 0x00, 0x01]).toString('base64'),
      payloadEncoding: 'base64',
    }),
  ];

  async function withLetters(): Promise<{ dir: string; file: string }> {
    const { dir, dlq } = await configDir();
    await mkdir(dlq);
    const file = join(dlq, 'example.jsonl');
    await writeFile(file, letters.map((l) => JSON.stringify(l)).join('\n') + '\n');
    return { dir, file };
  }

  it('list filters by sink, mapping, reason substring and offset range', async () => {
    const { dir } = await withLetters();
    const list = async (...filters: string[]) => {
      const run = io();
      expect(await main(['dlq', 'list', '--config', dir, ...filters], run)).toBe(0);
      return run.out.join('');
    };
    expect(await list()).toMatch(/5 of 5 dead letter\(s\) match/);
    expect(await list('--sink', 'log2')).toMatch(
      /offset 7 row 0 sink log2 mapping es\/b\.yml attempts 1 .*: timeout\n1 of 5/,
    );
    expect(await list('--sink', '-')).toMatch(/2 of 5/);
    expect(await list('--mapping', 'es/a.yml')).toMatch(/2 of 5/);
    expect(await list('--reason', 'MAPPER_PARSING')).toMatch(/offset 9 .*\n1 of 5/);
    expect(await list('--offset', '6..12')).toMatch(/3 of 5/);
    expect(await list('--offset', '..5')).toMatch(/1 of 5/);
    expect(await list('--offset', '12')).toMatch(/1 of 5/);
    expect(await list('--destination', 'nope')).toMatch(/0 of 5/);
    expect(await list('--limit', '2')).toMatch(/5 of 5 dead letter\(s\) match \(2 shown\)/);
    expect(await main(['dlq', 'list', '--config', dir, '--offset', '9..3'], io())).toBe(2);
    expect(await main(['dlq', 'list', '--config', dir, '--offset', 'x'], io())).toBe(2);
  });

  it('show prints full records with an escaped, truncated payload preview', async () => {
    const { dir } = await withLetters();
    const run = io();
    expect(
      await main(['dlq', 'show', '--config', dir, '--offset', '12..13', '--preview', '10'], run),
    ).toBe(0);
    const out = run.out.join('');
    expect(out).not.toContain('\u001b');
    expect(out).not.toContain('\u0007');
    expect(out).toContain('  \\u001b[31mred\\u0007x… (49 more characters)\n');
    expect(out).toContain('sink:        - (undecodable message)');
    expect(out).toContain('payload:     binary, 3 bytes (hex)\n  ff0001');
    expect(out).toContain('reason:      undecodable message: binary');
    expect(out).toMatch(/2 of 5 dead letter\(s\) match/);
  });

  it('drop needs --yes, then removes only the matching records, rewriting the file', async () => {
    const { dir, file } = await withLetters();
    const refused = io();
    expect(await main(['dlq', 'drop', '--config', dir, '--sink', 'log1'], refused)).toBe(1);
    expect(refused.err.join('')).toMatch(/2 dead letter\(s\) match; nothing was deleted/);
    expect((await readFile(file, 'utf8')).trim().split('\n')).toHaveLength(5);

    const run = io();
    expect(await main(['dlq', 'drop', '--config', dir, '--sink', 'log1', '--yes'], run)).toBe(0);
    expect(run.out.join('')).toMatch(/Dropped 2 dead letter\(s\) from .*example\.jsonl/);
    const left = (await readFile(file, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { offset: string });
    expect(left.map((l) => l.offset)).toEqual(['7', '12', '13']);
    expect(await readdir(join(file, '..'))).toEqual(['example.jsonl']);
  });
});
