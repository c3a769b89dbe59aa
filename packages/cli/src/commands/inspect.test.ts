import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import {
  decodeFlatMessage,
  encodeCanalMessages,
  encodeFlatMessage,
  flatMessageToEntry,
} from '@sluice/canal-protocol';
import { describe, expect, it } from 'vitest';
import { main } from '../main.js';
import { inspectCommand } from './inspect.js';

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
    expect(err).toContain(
      'message 2 (line 3): neither FlatMessage JSON nor canal protobuf: the payload is plain text: "not json"',
    );
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

  it('plain text is "neither FlatMessage JSON nor canal protobuf", not a protobuf wire error', async () => {
    for (const format of ['auto', 'flat', 'protobuf']) {
      const { code, err } = await run('--format', format, file('text.txt', 'hello world\nbye\n'));
      expect(code, format).toBe(1);
      expect(err, format).toContain('neither FlatMessage JSON nor canal protobuf');
      expect(err, format).not.toMatch(/end-group|wire type|runs past/);
    }
  });

  it('protobuf under --format flat gets the canal.conf.flatMessage hint; no raw bytes on stderr', async () => {
    const payload = encodeCanalMessages({
      batchId: 1n,
      entries: [flatMessageToEntry(messages[0]!)],
    });
    const { code, err } = await run('--format', 'flat', file('pb-as-flat.bin', payload));
    expect(code).toBe(1);
    expect(err).toMatch(/is canal\.conf\.flatMessage set right\?/);
    // One line per message plus the summary: no payload byte broke a line or sent an escape.
    // eslint-disable-next-line no-control-regex -- finding control characters is the point
    expect(err.replaceAll('\n', '')).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
  });

  it('a length prefix beyond 256 MiB stops the stream with a clear error instead of buffering', async () => {
    const first = encodeCanalMessages({ batchId: 1n, entries: [flatMessageToEntry(messages[0]!)] });
    const bytes = Buffer.concat([framed([first]), Uint8Array.from([0x7f, 0xff, 0xff, 0xff, 1, 2])]);
    const { code, err, events } = await run('-f', 'protobuf', file('huge.bin', bytes));
    expect(code).toBe(1);
    expect(events).toHaveLength(1);
    expect(err).toMatch(/message 1 \(byte \d+\): frame length 2147483647 exceeds 268435456 bytes/);
  });

  it('decodes real canal 1.1.8 output: flat.jsonl and protobuf.lpb give the same 48 events', async () => {
    const fixtures = new URL('../../../canal-protocol/test/fixtures/real-canal/', import.meta.url);
    const flat = await run(new URL('flat.jsonl', fixtures).pathname);
    const protobuf = await run(new URL('protobuf.lpb', fixtures).pathname);
    expect(flat.err).toBe('');
    expect(protobuf.err).toBe('');
    expect(flat.events).toHaveLength(48);
    const strip = (events: Record<string, unknown>[]) =>
      events.map(({ producedAt: _p, position: _pos, columns: _c, ...e }) => e);
    expect(strip(protobuf.events)).toEqual(strip(flat.events));
  });
});

describe('sluice inspect streams its input', () => {
  /** A controllable input: chunks written by the test, ended or destroyed on demand. */
  function controlledInput() {
    const input = new PassThrough();
    return { input, open: () => input };
  }

  async function until(check: () => boolean): Promise<void> {
    for (let i = 0; i < 500 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
    expect(check()).toBe(true);
  }

  it('prints each JSON line as it arrives, before the input ends', async () => {
    const { input, open } = controlledInput();
    let out = '';
    const done = inspectCommand(
      [],
      { stdout: (t) => (out += t), stderr: () => {} },
      new AbortController().signal,
      open,
    );
    const lines = samples.trim().split('\n');
    input.write(`${lines[0]}\n`);
    await until(() => out.split('\n').length === 2);
    // Half a line prints nothing yet; its end prints it (lines[2]: two INSERT rows).
    input.write(lines[2]!.slice(0, 20));
    await new Promise((r) => setTimeout(r, 50));
    expect(out.split('\n')).toHaveLength(2);
    input.write(`${lines[2]!.slice(20)}\n`);
    await until(() => out.split('\n').length > 2);
    input.end();
    expect(await done).toBe(0);
  });

  it('prints each length-prefixed protobuf frame as it arrives, even split across chunks', async () => {
    const { input, open } = controlledInput();
    let out = '';
    const done = inspectCommand(
      ['-f', 'protobuf'],
      { stdout: (t) => (out += t), stderr: () => {} },
      new AbortController().signal,
      open,
    );
    const stream = framed(
      messages.map((m) => encodeCanalMessages({ batchId: 1n, entries: [flatMessageToEntry(m)] })),
    );
    const firstFrame = 4 + new DataView(stream.buffer, stream.byteOffset).getUint32(0);
    input.write(stream.subarray(0, 2));
    input.write(stream.subarray(2, firstFrame));
    await until(() => out !== '');
    expect(out.trim().split('\n')).toHaveLength(1);
    input.write(stream.subarray(firstFrame));
    input.end();
    expect(await done).toBe(0);
    expect(out.trim().split('\n')).toHaveLength(7);
  });

  it('stops at once when the signal aborts, exit code 130, input closed', async () => {
    const { input, open } = controlledInput();
    const controller = new AbortController();
    let out = '';
    const done = inspectCommand(
      [],
      { stdout: (t) => (out += t), stderr: () => {} },
      controller.signal,
      open,
    );
    input.write(`${samples.split('\n')[0]}\n`);
    await until(() => out !== '');
    controller.abort();
    expect(await done).toBe(130);
    expect(input.destroyed).toBe(true);
  });
});

describe('sluice inspect as a process (dist/bin.js)', () => {
  const bin = fileURLToPath(new URL('../../dist/bin.js', import.meta.url));

  it('prints from stdin before stdin closes, and the first SIGINT ends it', async () => {
    const child = spawn(process.execPath, [bin, 'inspect'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) =>
      child.on('exit', (code) => resolve(code)),
    );
    const lines = samples.trim().split('\n');
    child.stdin.write(`${lines[0]}\n`);
    for (let i = 0; i < 1000 && !out.includes('\n'); i++)
      await new Promise((r) => setTimeout(r, 10));
    expect(out.split('\n')[0]).toContain('"type":"INSERT"');
    child.stdin.write(`${lines[2]}\n`);
    for (let i = 0; i < 1000 && out.split('\n').length < 4; i++)
      await new Promise((r) => setTimeout(r, 10));
    expect(out.trim().split('\n')).toHaveLength(3);
    // stdin stays open (as under tail -f): one SIGINT must end the process.
    child.kill('SIGINT');
    const timeout = new Promise<'hung'>((resolve) => setTimeout(() => resolve('hung'), 10_000));
    const code = await Promise.race([exited, timeout]);
    if (code === 'hung') child.kill('SIGKILL');
    expect(code).toBe(130);
  }, 30_000);
});
