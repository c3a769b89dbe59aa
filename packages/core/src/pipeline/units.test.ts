import { describe, expect, it } from 'vitest';
import type { ChangeEvent, RowChangeEvent } from '@sluice/plugin-api';
import { AckTracker } from './ackTracker.js';
import { coalesce, type CoalesceItem } from './coalesce.js';
import { changesPrimaryKey, conflictKeys, hashString } from './conflictKeys.js';
import { resolvePipelineSettings } from './settings.js';

let seq = 0;
function row(
  type: RowChangeEvent['type'],
  id: string,
  extra: Partial<RowChangeEvent> = {},
): RowChangeEvent {
  const image = { id, v: `v${seq}` };
  return {
    kind: 'row',
    type,
    destination: 'd',
    database: 'db',
    table: 't',
    pkNames: ['id'],
    columns: {},
    executedAt: 0,
    producedAt: 0,
    changed: type === 'UPDATE' ? ['v'] : [],
    ...(type === 'DELETE'
      ? { before: image }
      : type === 'UPDATE'
        ? { before: { ...image, v: 'old' }, after: image }
        : { after: image }),
    position: { source: 'd', partition: '0', offset: String(seq++), index: 0 },
    ...extra,
  };
}
const ddl: ChangeEvent = {
  kind: 'ddl',
  type: 'ALTER',
  sql: 'ALTER TABLE t ADD c INT',
  destination: 'd',
  database: 'db',
  table: 't',
  pkNames: [],
  columns: {},
  executedAt: 0,
  producedAt: 0,
  position: { source: 'd', partition: '0', offset: '99', index: 0 },
};
const item = (event: ChangeEvent): CoalesceItem => ({
  event,
  mapping: undefined,
  coalescible: true,
});

describe('conflictKeys', () => {
  it('keys rows by table and primary key, a PK change by both keys, a DDL as a table barrier', () => {
    expect(conflictKeys(row('INSERT', '1'), 'per-key').keys).toHaveLength(1);
    expect(conflictKeys(row('INSERT', '1'), 'per-key').keys).toEqual(
      conflictKeys(row('DELETE', '1'), 'per-key').keys,
    );
    expect(conflictKeys(row('INSERT', '1'), 'per-key').keys).not.toEqual(
      conflictKeys(row('INSERT', '2'), 'per-key').keys,
    );
    const pkChange = row('UPDATE', '2', { before: { id: '1', v: 'a' } });
    expect(changesPrimaryKey(pkChange)).toBe(true);
    expect(conflictKeys(pkChange, 'per-key').keys).toEqual([
      ...conflictKeys(row('INSERT', '1'), 'per-key').keys,
      ...conflictKeys(row('INSERT', '2'), 'per-key').keys,
    ]);
    expect(conflictKeys(ddl, 'per-key')).toEqual({ table: 'db.t', barrier: true, keys: [] });
    expect(conflictKeys(row('INSERT', '1', { pkNames: [] }), 'per-key').keys).toEqual([
      hashString('db.t'),
    ]);
    expect(conflictKeys(row('INSERT', '1'), 'table').keys).toEqual([hashString('db.t')]);
    expect(conflictKeys(row('INSERT', '1'), 'partition').keys).toEqual(
      conflictKeys(row('INSERT', '1', { table: 'x' }), 'partition').keys,
    );
  });
});

describe('coalesce', () => {
  it('final image wins; insert-then-update becomes an insert; insert-then-delete a delete', () => {
    const out = coalesce([
      item(row('INSERT', '1')),
      item(row('UPDATE', '1')),
      item(row('INSERT', '2')),
      item(row('UPDATE', '2')),
      item(row('DELETE', '2')),
    ]);
    expect(out).toHaveLength(2);
    expect(out[0]!.record?.event).toMatchObject({ type: 'INSERT', after: { id: '1' } });
    expect(out[0]!.members).toHaveLength(2);
    // Never cancelled: a replay after a crash may find the insert applied already.
    expect(out[1]!.record?.event).toMatchObject({ type: 'DELETE', before: { id: '2' } });
    expect(out[1]!.members).toHaveLength(3);
  });

  it('merges updates keeping the first before image and the union of changed columns', () => {
    const a = row('UPDATE', '1', { changed: ['a'] });
    const b = row('UPDATE', '1', { changed: ['b'] });
    const [w] = coalesce([item(a), item(b)]);
    expect(w!.record?.event).toMatchObject({
      type: 'UPDATE',
      before: a.before,
      after: b.after,
      changed: ['a', 'b'],
    });
  });

  it('never merges across a primary-key change or a DDL', () => {
    const pkChange = row('UPDATE', '2', { before: { id: '1', v: 'a' } });
    const out = coalesce([
      item(row('UPDATE', '1')),
      item(pkChange),
      item(row('UPDATE', '2')),
      item(ddl),
      item(row('UPDATE', '2')),
    ]);
    expect(out.map((w) => w.members.length)).toEqual([1, 1, 1, 1, 1]);
  });
});

describe('AckTracker', () => {
  it('advances to the end of the done prefix only, with offsets beyond 2^53', () => {
    const advances: bigint[] = [];
    const t = new AckTracker((n) => advances.push(n));
    const base = 2n ** 60n;
    const [a, b, c] = [0n, 1n, 5n].map((d) => t.open((base + d).toString(), 1));
    for (const x of [a, b, c]) t.add(x!, 1);
    for (const x of [a, b, c]) t.release(x!);
    t.complete(c!);
    t.complete(b!);
    expect(t.committable).toBeUndefined();
    t.complete(a!);
    expect(advances).toEqual([base + 6n]);
    expect(t.inFlight).toBe(0);
    expect(t.accepts((base + 5n).toString())).toBe(false);
    expect(() => t.open(base.toString(), 1)).toThrow(/does not follow/);
  });

  it('completes a message with no records when its routing hold is released', () => {
    const t = new AckTracker();
    t.release(t.open('3', 0));
    expect(t.committable).toBe(4n);
  });
});

describe('resolvePipelineSettings', () => {
  it('fills defaults and clamps nonsense', () => {
    const s = resolvePipelineSettings({ lanes: 0, batchSize: undefined });
    expect(s.lanes).toBe(1);
    expect(s.batchSize).toBe(1000);
    expect(s.ordering).toBe('per-key');
  });
});
