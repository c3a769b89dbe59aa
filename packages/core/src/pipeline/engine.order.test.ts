import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeFlatMessage, flatMessageToChangeEvents } from '@sluice/canal-protocol';
import { comparePositions, type ChangeEvent } from '@sluice/plugin-api';
import { MetricsRegistry } from '../metrics.js';
import {
  MemoryDeadLetters,
  MemorySource,
  RecordingSink,
  flat,
  quietLogger,
  sequentialState,
  type Row,
} from '../../test/support/pipeline.js';
import { PipelineEngine } from './engine.js';

type Op =
  | { kind: 'INSERT' | 'DELETE'; id: number; rows: number }
  | { kind: 'UPDATE'; id: number; to: number; rows: number }
  | { kind: 'ALTER' };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constantFrom('INSERT' as const, 'DELETE' as const),
      id: fc.integer({ min: 0, max: 4 }),
      rows: fc.integer({ min: 1, max: 3 }),
    }),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('UPDATE' as const),
      id: fc.integer({ min: 0, max: 4 }),
      to: fc.integer({ min: 0, max: 4 }),
      rows: fc.integer({ min: 1, max: 2 }),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: 'ALTER' as const }) },
);

/** One canal message per op; several rows per message on consecutive ids. */
function toMessage(op: Op, seq: number, table: string): string {
  if (op.kind === 'ALTER')
    return flat({ type: 'ALTER', table, sql: `ALTER TABLE ${table} ADD c${seq} INT` });
  const rows = Array.from({ length: op.rows }, (_, r) => r);
  if (op.kind === 'UPDATE') {
    return flat({
      type: 'UPDATE',
      table,
      data: rows.map((r) => ({ id: String((op.to + r) % 5), v: `u${seq}.${r}` })),
      old: rows.map((r): Row => (op.to === op.id ? { v: 'old' } : { id: String((op.id + r) % 5) })),
    });
  }
  return flat({
    type: op.kind,
    table,
    data: rows.map((r) => ({ id: String((op.id + r) % 5), v: `${op.kind[0]}${seq}.${r}` })),
  });
}

function decodeAll(partition: string, payloads: readonly string[]): ChangeEvent[] {
  return payloads.flatMap((p, i) =>
    flatMessageToChangeEvents(decodeFlatMessage(p), {
      destination: 'example',
      partition,
      offset: String(i),
    }),
  );
}

describe('PipelineEngine ordering', () => {
  it('applies a random stream over hot keys with 8 lanes exactly like the sequential loop', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(opArb, { maxLength: 40 }), { minLength: 1, maxLength: 3 }),
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 6 }),
        fc.boolean(),
        fc.integer(),
        async (streams, batchSize, sourceBatch, sharedTable, seed) => {
          let x = seed | 1;
          const random = () =>
            ((x = Math.imul(x ^ (x >>> 15), 0x2c1b3c6d) ^ (x + 0x6d2b79f5)) >>> 0) / 2 ** 32;
          const partitions: Record<string, string[]> = {};
          streams.forEach((ops, p) => {
            // Partitions own disjoint rows (as canal's pk hash gives), but may share a table.
            const table = sharedTable ? 't' : `t${p}`;
            partitions[`p${p}`] = ops.map((op, i) =>
              toMessage(op, i, table).replace(/"id":"(\d)"/g, `"id":"${p}-$1"`),
            );
          });
          const sink = new RecordingSink({ random });
          const source = new MemorySource(partitions, { batchSize: sourceBatch });
          const engine = new PipelineEngine({
            destination: 'example',
            groupId: 'g1',
            format: 'flat',
            source,
            sinks: [{ key: 'rec', instance: sink }],
            deadLetter: new MemoryDeadLetters(),
            logger: quietLogger(),
            metrics: new MetricsRegistry(),
            settings: { lanes: 8, batchSize, commitIntervalMs: 0, lingerMs: 0 },
          });
          await engine.run({ once: true, signal: new AbortController().signal });

          expect(sink.violations).toEqual([]);
          const expected = new Map<string, unknown>();
          for (const [p, payloads] of Object.entries(partitions)) {
            for (const [k, v] of await sequentialState(decodeAll(p, payloads))) expected.set(k, v);
            if (payloads.length > 0) expect(source.committed.get(p)).toBe(String(payloads.length));
          }
          expect(new Map([...sink.state].sort())).toEqual(new Map([...expected].sort()));
          // Per key (either image), applied positions increase: source order per row.
          const lastByKey = new Map<string, ChangeEvent>();
          for (const { event } of sink.applied) {
            const keys =
              event.kind === 'ddl'
                ? [`${event.table}#DDL`]
                : [...new Set([event.before?.['id'], event.after?.['id']].filter(Boolean))].map(
                    (id) => `${event.table}#${id}`,
                  );
            for (const k of keys) {
              const prev = lastByKey.get(k);
              if (prev && prev.position.partition === event.position.partition)
                expect(comparePositions(prev.position, event.position)).toBeLessThan(0);
              lastByKey.set(k, event);
            }
          }
          expect(sink.applied.length).toBe(
            Object.entries(partitions).reduce((n, [p, ps]) => n + decodeAll(p, ps).length, 0),
          );
        },
      ),
      { numRuns: 150 },
    );
  });
});
