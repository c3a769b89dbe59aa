import { appendFile, mkdtemp, readFile, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { FileDeadLetterDepth } from './fileDepth.js';
import { FileDeadLetterQueue, rewriteDeadLetterFile } from './fileQueue.js';
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

it('counts the records waiting per destination through writes, replays (rewrites) and drops', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-depth-'));
  const queue = new FileDeadLetterQueue(dir);
  const depth = new FileDeadLetterDepth(
    new Map([
      ['orders', queue.fileFor('orders')],
      ['users', queue.fileFor('users')],
    ]),
  );
  // No file yet: nothing waits.
  expect(await depth.refresh()).toEqual(
    new Map([
      ['orders', 0],
      ['users', 0],
    ]),
  );
  for (const o of ['1', '2', '3']) await queue.write(letter(o), signal());
  await queue.write(letter('9', 'users'), signal());
  expect(await depth.refresh()).toEqual(
    new Map([
      ['orders', 3],
      ['users', 1],
    ]),
  );
  // Appended by another process: counted from where the last count stopped.
  await queue.write(letter('4'), signal());
  expect((await depth.refresh()).get('orders')).toBe(4);
  // A torn last line (a writer mid-append) counts once complete.
  await appendFile(queue.fileFor('orders'), JSON.stringify(letter('5')).slice(0, 20));
  expect((await depth.refresh()).get('orders')).toBe(4);
  await appendFile(
    queue.fileFor('orders'),
    JSON.stringify(letter('5')).slice(20) + '\n' + JSON.stringify(letter('6')) + '\n',
  );
  expect((await depth.refresh()).get('orders')).toBe(6);
  // `dlq replay`/`drop` rewrite the file (a new inode): counted again from the start.
  await rewriteDeadLetterFile(queue.fileFor('orders'), (r) => r.offset === '2');
  expect((await depth.refresh()).get('orders')).toBe(1);
  expect((await readFile(queue.fileFor('orders'), 'utf8')).split('\n')).toHaveLength(2);
  // Replaced (between two refreshes) by a larger file: a fresh count, not an increment from the
  // old size.
  await queue.write({ ...letter('long'), payload: 'x'.repeat(600) }, signal());
  expect((await depth.refresh()).get('orders')).toBe(2);
  await rewriteDeadLetterFile(queue.fileFor('orders'), (r) => r.offset === '2');
  const short = Array.from({ length: 10 }, (_, i) => JSON.stringify(letter(`s${i}`)) + '\n');
  await appendFile(queue.fileFor('orders'), short.join(''));
  expect((await depth.refresh()).get('orders')).toBe(11);
  // Deleted: nothing waits.
  await unlink(queue.fileFor('users'));
  expect(await depth.refresh()).toEqual(
    new Map([
      ['orders', 11],
      ['users', 0],
    ]),
  );
  expect(depth.current().get('orders')).toBe(11);
});

it('joins a refresh already running instead of counting twice', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-depth-'));
  const queue = new FileDeadLetterQueue(dir);
  await queue.write(letter('1'), signal());
  const depth = new FileDeadLetterDepth(new Map([['orders', queue.fileFor('orders')]]));
  const [a, b] = await Promise.all([depth.refresh(), depth.refresh()]);
  expect(a).toBe(b);
  expect(a.get('orders')).toBe(1);
});
