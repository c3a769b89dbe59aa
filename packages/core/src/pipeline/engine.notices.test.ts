import { describe, expect, it } from 'vitest';
import { MetricsRegistry } from '../metrics.js';
import {
  MemoryDeadLetters,
  MemorySource,
  RecordingSink,
  flat,
  quietLogger,
} from '../../test/support/pipeline.js';
import { PipelineEngine } from './engine.js';

describe('PipelineEngine: statement-format DML (issue #10 item 5)', () => {
  it('warns once per table that the binlog is not ROW, applies the rest and commits past it', async () => {
    // canal sends statement-format DML (binlog_format STATEMENT/MIXED) with `data: null`.
    const statement = (table: string) =>
      flat({ type: 'UPDATE', table, sql: `UPDATE ${table} SET v = v + 1` });
    const source = new MemorySource(
      {
        p: [
          statement('orders'),
          flat({ type: 'INSERT', table: 'orders', data: [{ id: '1', v: 'a' }] }),
          statement('orders'),
          statement('items'),
          flat({ type: 'UPDATE', database: 'mysql', table: 'ha_health_check', sql: 'REPLACE …' }),
        ],
      },
      { batchSize: 10, firstOffset: 0n },
    );
    const sink = new RecordingSink();
    const lines: string[] = [];
    const engine = new PipelineEngine({
      destination: 'example',
      groupId: 'g1',
      format: 'flat',
      source,
      sinks: [{ key: 's', instance: sink }],
      deadLetter: new MemoryDeadLetters(),
      logger: quietLogger(lines),
      metrics: new MetricsRegistry(),
      settings: { commitIntervalMs: 0, retryBaseMs: 0, retryMaxMs: 0 },
    });
    await engine.run({ once: true, signal: new AbortController().signal });
    const warnings = lines.filter((l) => l.includes('Statement-format'));
    expect(warnings).toEqual([
      expect.stringMatching(
        /^warn Statement-format UPDATE on "db\.orders" skipped: the source binlog is not in ROW format/,
      ),
      expect.stringMatching(/^warn Statement-format UPDATE on "db\.items" skipped/),
    ]);
    expect(sink.applied).toHaveLength(1);
    expect(source.committed.get('p')).toBe('5');
  });
});
