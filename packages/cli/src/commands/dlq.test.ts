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
    expect(run.out.join('')).toMatch(/Replayed 2 dead letter\(s\); 1 failed again/);
    const again = (await readFile(file, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(again).toHaveLength(1);
    expect(again[0]).toMatchObject({
      partition: first[0]!['partition'],
      offset: '2',
      payload: '{broken',
    });
    expect((await readdir(dlq)).some((f) => f.startsWith('example.jsonl.replayed-'))).toBe(true);
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
      /Replayed 1 dead letter\(s\), wrote 2 of other sinks back unchanged; 0 failed again/,
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
