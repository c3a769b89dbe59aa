import { describe, expect, it } from 'vitest';
import { MemoryDeadLetters, quietLogger } from '../../test/support/pipeline.js';
import { DeadLetterWriter } from './writer.js';

function writer(queue: MemoryDeadLetters, lines?: string[]) {
  return new DeadLetterWriter({
    destination: 'orders',
    groupId: 'g1',
    queue,
    logger: quietLogger(lines),
    clock: { now: () => Date.UTC(2026, 0, 2, 3, 4, 5) },
    retry: { baseMs: 1, maxMs: 2 },
  });
}

describe('DeadLetterWriter', () => {
  it('builds a record: origin, pipeline, first dead-lettering, payload kept exactly', () => {
    const w = writer(new MemoryDeadLetters());
    expect(
      w.record({ partition: '3', offset: '42', payload: new Uint8Array([0xff, 0x00]) }, 'bad', {
        sink: 'es1',
        index: 2,
        mapping: 'es/a.yml',
      }),
    ).toEqual({
      at: '2026-01-02T03:04:05.000Z',
      destination: 'orders',
      groupId: 'g1',
      partition: '3',
      offset: '42',
      index: 2,
      sink: 'es1',
      mapping: 'es/a.yml',
      reason: 'bad',
      attempts: 1,
      payload: '/wA=',
      payloadEncoding: 'base64',
    });
  });

  it('retries a failing queue until the record is durable, logging each failure', async () => {
    const queue = new MemoryDeadLetters();
    queue.failures = 3;
    const lines: string[] = [];
    const w = writer(queue, lines);
    const record = w.record({ partition: '0', offset: '1', payload: 'x' }, 'r');
    expect(await w.write(record, AbortSignal.timeout(5_000))).toBe(true);
    expect(queue.attempts).toBe(4);
    expect(queue.records).toEqual([record]);
    expect(
      lines.filter((l) => l.startsWith('error Writing to the dead-letter queue failed')),
    ).toHaveLength(3);
  });

  it('gives up (false, nothing written) when the signal aborts', async () => {
    const queue = new MemoryDeadLetters();
    queue.failures = Number.POSITIVE_INFINITY;
    const w = writer(queue);
    const stop = new AbortController();
    const pending = w.write(
      w.record({ partition: '0', offset: '1', payload: 'x' }, 'r'),
      stop.signal,
    );
    setTimeout(() => stop.abort(new Error('stop')), 20);
    expect(await pending).toBe(false);
    expect(queue.records).toEqual([]);
  });
});
