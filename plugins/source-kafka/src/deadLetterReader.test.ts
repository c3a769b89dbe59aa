import { describe, expect, it } from 'vitest';
import { deadLetterTopic } from './deadLetterQueue.js';

describe('deadLetterTopic', () => {
  it('is sluice.deadLetter.topic when set, else <instance>.dlq', () => {
    expect(deadLetterTopic('orders', undefined)).toBe('orders.dlq');
    expect(deadLetterTopic(' orders ', '  ')).toBe('orders.dlq');
    expect(deadLetterTopic('orders', 'all-dead-letters')).toBe('all-dead-letters');
  });
});
