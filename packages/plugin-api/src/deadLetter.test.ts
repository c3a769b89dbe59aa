import { describe, expect, it } from 'vitest';
import { parseDeadLetterRecord, type DeadLetterRecord } from './deadLetter.js';
import { classifyError } from './errors.js';

const full: DeadLetterRecord = {
  at: '2026-01-01T00:00:00.000Z',
  destination: 'orders',
  groupId: 'g1',
  partition: '3',
  offset: '12',
  index: 0,
  sink: 'rdb1',
  mapping: 'rdb/orders.yml',
  reason: 'duplicate key',
  attempts: 2,
  payload: 'AAE=',
  payloadEncoding: 'base64',
};

describe('parseDeadLetterRecord', () => {
  it('reads a record as written', () => {
    expect(parseDeadLetterRecord(JSON.stringify(full), 'x')).toEqual(full);
  });

  it('fills at/reason/attempts of records written before they were required', () => {
    const { at: _a, reason: _r, attempts: _n, ...old } = full;
    expect(parseDeadLetterRecord(JSON.stringify(old), 'x')).toEqual({
      ...old,
      at: '',
      reason: '',
      attempts: 1,
    });
  });

  it('refuses what is not a dead letter, fatally and naming where it was', () => {
    const cases = [
      'not json',
      '[]',
      JSON.stringify({ ...full, offset: 12 }),
      JSON.stringify({ ...full, payloadEncoding: 'hex' }),
      JSON.stringify({ ...full, attempts: '2' }),
      JSON.stringify({ destination: 'orders' }),
    ];
    for (const text of cases) {
      let error: unknown;
      try {
        parseDeadLetterRecord(text, 'topic "orders.dlq" partition 0 offset 7');
      } catch (e) {
        error = e;
      }
      expect(classifyError(error), text).toBe('fatal');
      expect((error as Error).message).toMatch(/^topic "orders\.dlq" partition 0 offset 7: /);
    }
  });
});
