import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  decodeFlatMessage,
  encodeCanalMessages,
  encodeFlatMessage,
  flatMessageToEntry,
} from '@sluice/canal-protocol';
import { describe, expect, it } from 'vitest';
import { main } from '../main.js';

const dir = mkdtempSync(join(tmpdir(), 'sluice-inspect-'));
const samplesPath = new URL('../../../../config/samples/mytest_user.jsonl', import.meta.url);
const samples = readFileSync(samplesPath, 'utf8');
const messages = samples
  .trim()
  .split('\n')
  .map((line) => decodeFlatMessage(line));

function file(name: string, content: string | Uint8Array): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

async function run(
  ...args: string[]
): Promise<{ code: number; out: string; err: string; events: Record<string, unknown>[] }> {
  let out = '';
  let err = '';
  const code = await main(['inspect', ...args], {
    stdout: (t) => (out += t),
    stderr: (t) => (err += t),
  });
  const events = out
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
  return { code, out, err, events };
}

function framed(payloads: Uint8Array[]): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const p of payloads) {
    const prefix = new Uint8Array(4);
    new DataView(prefix.buffer).setUint32(0, p.length);
    parts.push(prefix, p);
  }
  return Buffer.concat(parts);
}

describe('sluice inspect', () => {
  it('prints one ChangeEvent per line for the bundled samples (7 changes from 7 messages)', async () => {
    const { code, events, err } = await run(samplesPath.pathname);
    expect(err).toBe('');
    expect(code).toBe(0);
    expect(
      events.map(
        (e) =>
          `${e['type']}:${(e['position'] as { offset: string; index: number }).offset}.${(e['position'] as { index: number }).index}`,
      ),
    ).toEqual([
      'INSERT:0.0',
      'INSERT:2.0',
      'INSERT:2.1',
      'UPDATE:3.0',
      'ALTER:4.0',
      'UPDATE:5.0',
      'DELETE:6.0',
    ]);
    expect(events[0]).toMatchObject({
      destination: 'inspect',
      database: 'mytest',
      table: 'user',
      position: { source: samplesPath.pathname, partition: '0' },
    });
  });

  it('reads a single pretty-printed document and a JSON array', async () => {
    const one = await run(
      '--format',
      'flat',
      file('one.json', JSON.stringify(JSON.parse(samples.split('\n')[0]!), null, 2)),
    );
    expect(one.code).toBe(0);
    expect(one.events).toHaveLength(1);
    const array = await run(file('array.json', `[${samples.trim().split('\n').join(',')}]`));
    expect(array.code).toBe(0);
    expect(array.events).toHaveLength(7);
  });

  it('decodes the same changes from protobuf: one message, or a 4-byte length-prefixed stream', async () => {
    const flat = await run(samplesPath.pathname);
    const payloads = messages.map((m) =>
      encodeCanalMessages({ batchId: 1n, entries: [flatMessageToEntry(m)] }),
    );
    const stream = await run('--destination', 'inspect', file('stream.bin', framed(payloads)));
    expect(stream.err).toBe('');
    expect(stream.code).toBe(0);
    const strip = (events: Record<string, unknown>[]) =>
      events.map(({ producedAt: _p, position: _pos, ...e }) => e);
    expect(strip(stream.events)).toEqual(strip(flat.events));
    const single = await run(
      '-f',
      'protobuf',
      file(
        'one.bin',
        encodeCanalMessages({ batchId: 1n, entries: messages.map((m) => flatMessageToEntry(m)) }),
      ),
    );
    expect(single.code).toBe(0);
    expect(single.events.map((e) => (e['position'] as { index: number }).index)).toEqual([
      0, 1, 2, 3, 4, 5, 6,
    ]);
  });

  it('reports bad messages with their index and reason on stderr, prints the rest, exits 1', async () => {
    const lines = samples.trim().split('\n');
    lines.splice(1, 0, '{"type":"INSERT","data":[{"id":1}]}', 'not json');
    const { code, events, err } = await run(file('bad.jsonl', lines.join('\n')));
    expect(code).toBe(1);
    expect(events).toHaveLength(7);
    expect(err).toContain(
      'message 1 (line 2): data[0].id: expected a string or null, got a number (1)',
    );
    expect(err).toContain('message 2 (line 3): not valid JSON');
    expect(err).toContain('2 of 9 flat messages could not be decoded');
  });

  it('reports a truncated protobuf stream', async () => {
    const payload = encodeCanalMessages({
      batchId: 1n,
      entries: [flatMessageToEntry(messages[0]!)],
    });
    const bytes = framed([payload, payload]);
    const { code, events, err } = await run(file('cut.bin', bytes.subarray(0, bytes.length - 5)));
    expect(code).toBe(1);
    expect(events).toHaveLength(1);
    expect(err).toMatch(/message 1 \(byte \d+\): frame of \d+ bytes runs past the end/);
  });

  it('handles an empty input and a file that does not exist', async () => {
    expect((await run(file('empty.jsonl', ''))).code).toBe(0);
    const missing = await run(join(dir, 'nope.jsonl'));
    expect(missing.code).toBe(1);
    expect(missing.err).toMatch(/cannot read .*nope\.jsonl/);
  });

  it('usage errors exit 2', async () => {
    expect((await run('--format', 'xml', 'x')).code).toBe(2);
    expect((await run('a', 'b')).code).toBe(2);
    expect((await run('--bogus')).code).toBe(2);
    const help = await run('--help');
    expect(help.code).toBe(0);
    expect(help.out).toContain('4-byte big-endian');
  });

  it('a FlatMessage fed as protobuf says so', async () => {
    const { code, err } = await run(
      '--format',
      'protobuf',
      file('flat-as-pb.json', encodeFlatMessage(messages[0]!)),
    );
    expect(code).toBe(1);
    expect(err).toMatch(/like FlatMessage JSON/);
  });
});
