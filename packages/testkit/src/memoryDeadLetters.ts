import type { DeadLetterQueue, DeadLetterRecord } from '@sluice/plugin-api';

/**
 * A dead-letter queue in memory: keeps every record written. Set `failures` to make the next N
 * writes reject (an unavailable queue), to test that the core retries until a dead letter is
 * durable.
 */
export class MemoryDeadLetters implements DeadLetterQueue {
  readonly location = 'memory';
  /** The records written, in order. */
  readonly records: DeadLetterRecord[] = [];
  /** How many of the next writes reject. */
  failures = 0;
  /** Every write call, successful or not. */
  attempts = 0;
  closed = false;

  async write(record: DeadLetterRecord): Promise<void> {
    this.attempts += 1;
    if (this.failures > 0) {
      this.failures -= 1;
      throw new Error('dead-letter queue unavailable');
    }
    this.records.push(record);
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}
