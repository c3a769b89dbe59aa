import { appendFile, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  FileDeadLetterQueue,
  FileDeadLetterReader,
  deadLetterFileName,
  deadLetterFiles,
  rewriteDeadLetterFile,
} from './fileQueue.js';
import type { DeadLetterRecord } from './record.js';

const letter = (offset: string, destination = 'orders'): DeadLetterRecord => ({
  at: '2026-01-01T00:00:00.000Z',
  destination,
  groupId: 'g1',
  partition: '0',
  offset,
  reason: 'r',
  attempts: 1,
  payload: `p${offset}`,
  payloadEncoding: 'utf8',
});

const signal = () => AbortSignal.timeout(5_000);

async function lines(file: string): Promise<string[]> {
  return (await readFile(file, 'utf8'))
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => (JSON.parse(l) as DeadLetterRecord).offset);
}

describe('FileDeadLetterQueue', () => {
  it('appends one JSONL line per record to the file of its destination', async () => {
    const dir = join(await mkdtemp(join(tmpdir(), 'sluice-fq-')), 'nested', 'dlq');
    const queue = new FileDeadLetterQueue(dir);
    await queue.write(letter('1'), signal());
    await queue.write(letter('2', 'a/b c'), signal());
    await queue.write(letter('3'), signal());
    expect(await readdir(dir)).toEqual(['a_b_c.jsonl', 'orders.jsonl']);
    expect(await lines(join(dir, 'orders.jsonl'))).toEqual(['1', '3']);
    expect(deadLetterFileName('')).toBe('default.jsonl');
    expect(await deadLetterFiles(dir)).toEqual([
      join(dir, 'a_b_c.jsonl'),
      join(dir, 'orders.jsonl'),
    ]);
    expect(await deadLetterFiles(join(dir, 'missing'))).toEqual([]);
  });
});

describe('rewriteDeadLetterFile', () => {
  it('filters only the prefix read and keeps what was appended after it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sluice-fq-'));
    const queue = new FileDeadLetterQueue(dir);
    for (const o of ['1', '2', '3']) await queue.write(letter(o), signal());
    const reader = new FileDeadLetterReader(dir, async () => [queue.fileFor('orders')]);
    const batch = await reader.read();
    expect(batch.records.map((r) => r.offset)).toEqual(['1', '2', '3']);
    await queue.write(letter('4'), signal()); // a running pipeline appends meanwhile
    await batch.commit(signal());
    expect(await lines(queue.fileFor('orders'))).toEqual(['4']);
    // no temporary or backup file is left
    expect(await readdir(dir)).toEqual(['orders.jsonl']);
    // emptied: the file stays, empty
    const again = await reader.read();
    await again.commit(signal());
    expect(await readFile(queue.fileFor('orders'), 'utf8')).toBe('');
  });

  it('removes the records keep rejects, in order, and reports counts', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sluice-fq-'));
    const file = join(dir, 'x.jsonl');
    await writeFile(
      file,
      ['1', '2', '3', '4'].map((o) => JSON.stringify(letter(o))).join('\n') + '\n',
    );
    expect(await rewriteDeadLetterFile(file, (r) => r.offset !== '2' && r.offset !== '4')).toEqual({
      removed: 2,
      kept: 2,
    });
    expect(await lines(file)).toEqual(['1', '3']);
  });

  it('leaves a torn last line (a write in progress) for later, and refuses a bad line', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sluice-fq-'));
    const file = join(dir, 'x.jsonl');
    await writeFile(file, JSON.stringify(letter('1')) + '\n' + '{"destination":');
    const reader = new FileDeadLetterReader(file, async () => [file]);
    const batch = await reader.read();
    expect(batch.records).toHaveLength(1);
    await batch.commit(signal());
    expect(await readFile(file, 'utf8')).toBe('{"destination":');
    await appendFile(file, '\n');
    await expect(reader.read()).rejects.toThrow(/x\.jsonl:1: not JSON/);
  });

  it('a missing file holds no dead letters', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sluice-fq-'));
    const reader = new FileDeadLetterReader(dir, async () => [join(dir, 'none.jsonl')]);
    expect((await reader.read()).records).toEqual([]);
  });
});
