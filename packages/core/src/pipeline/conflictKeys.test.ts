import { describe, expect, it } from 'vitest';
import type { ChangeEvent, DdlChangeEvent, RowChangeEvent, RowImage } from '@sluice/plugin-api';
import { changesPrimaryKey, conflictKeys, hashString, rowHash, rowKey } from './conflictKeys.js';

function row(
  type: RowChangeEvent['type'],
  images: { before?: RowImage; after?: RowImage },
  extra: Partial<RowChangeEvent> = {},
): RowChangeEvent {
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
    changed: [],
    position: { source: 'd', partition: '0', offset: '1', index: 0 },
    ...images,
    ...extra,
  };
}
const ins = (after: RowImage, extra: Partial<RowChangeEvent> = {}) =>
  row('INSERT', { after }, extra);
const ddl = (table = 't'): DdlChangeEvent => ({
  kind: 'ddl',
  type: 'ALTER',
  sql: `ALTER TABLE ${table} ADD c INT`,
  destination: 'd',
  database: 'db',
  table,
  pkNames: [],
  columns: {},
  executedAt: 0,
  producedAt: 0,
  position: { source: 'd', partition: '0', offset: '2', index: 0 },
});
const keysOf = (e: ChangeEvent, ordering: 'per-key' | 'table' | 'partition' = 'per-key') =>
  conflictKeys(e, ordering).keys;

describe('rowKey', () => {
  it('is prefixed by database and table: equal primary keys of two tables or databases differ', () => {
    const a = ins({ id: '1' });
    expect(rowKey(a, a.after)).not.toBe(rowKey(ins({ id: '1' }, { table: 'u' }), { id: '1' }));
    expect(rowKey(a, a.after)).not.toBe(rowKey(ins({ id: '1' }, { database: 'db2' }), { id: '1' }));
    // Names may contain dots (quoted identifiers): database `a` table `b.c` is not `a.b`.`c`.
    expect(rowKey(ins({ id: '1' }, { database: 'a', table: 'b.c' }), { id: '1' })).not.toBe(
      rowKey(ins({ id: '1' }, { database: 'a.b', table: 'c' }), { id: '1' }),
    );
  });

  it('separates composite key values: (1, 23) and (12, 3) are two rows', () => {
    const e = ins({ a: '1', b: '23' }, { pkNames: ['a', 'b'] });
    expect(rowKey(e, { a: '1', b: '23' })).not.toBe(rowKey(e, { a: '12', b: '3' }));
    expect(rowKey(e, { a: '1', b: '23' })).toBe(rowKey(e, { a: '1', b: '23', other: 'x' }));
  });

  it('tells NULL from the strings "null", "undefined" and "", and a missing column is NULL', () => {
    const e = ins({ id: null });
    const nul = rowKey(e, { id: null });
    expect(nul).not.toBe(rowKey(e, { id: 'null' }));
    expect(nul).not.toBe(rowKey(e, { id: '' }));
    expect(rowKey(e, {})).toBe(nul);
    expect(rowKey(e, undefined)).toBe(nul);
    expect(rowKey(e, {})).not.toBe(rowKey(e, { id: 'undefined' }));
  });

  it('is the table alone for a table without primary key', () => {
    expect(rowKey(ins({ v: '1' }, { pkNames: [] }), { v: '1' })).toBe('db.t');
  });
});

describe('changesPrimaryKey', () => {
  it('is true only for an UPDATE whose key values differ', () => {
    expect(changesPrimaryKey(row('UPDATE', { before: { id: '1' }, after: { id: '2' } }))).toBe(
      true,
    );
    expect(
      changesPrimaryKey(row('UPDATE', { before: { id: '1', v: 'a' }, after: { id: '1', v: 'b' } })),
    ).toBe(false);
    expect(changesPrimaryKey(row('INSERT', { after: { id: '1' } }))).toBe(false);
    expect(changesPrimaryKey(row('DELETE', { before: { id: '1' } }))).toBe(false);
    expect(
      changesPrimaryKey(row('UPDATE', { before: { v: '1' }, after: { v: '2' } }, { pkNames: [] })),
    ).toBe(false);
    expect(changesPrimaryKey(ddl())).toBe(false);
    // Composite: one of two columns changes.
    expect(
      changesPrimaryKey(
        row(
          'UPDATE',
          { before: { a: '1', b: '2' }, after: { a: '1', b: '3' } },
          { pkNames: ['a', 'b'] },
        ),
      ),
    ).toBe(true);
  });
});

describe('conflictKeys', () => {
  it('per-key: INSERT by its after image, DELETE by its before image', () => {
    expect(conflictKeys(ins({ id: '1' }), 'per-key')).toEqual({
      table: 'db.t',
      barrier: false,
      keys: [hashString(rowKey(ins({ id: '1' }), { id: '1' }))],
    });
    expect(conflictKeys(row('DELETE', { before: { id: '1' } }), 'per-key')).toEqual({
      table: 'db.t',
      barrier: false,
      keys: keysOf(ins({ id: '1' })),
    });
  });

  it('per-key: an UPDATE has one key, two (old, new) when it changes the key', () => {
    const same = row('UPDATE', { before: { id: '1', v: 'a' }, after: { id: '1', v: 'b' } });
    expect(conflictKeys(same, 'per-key')).toEqual({
      table: 'db.t',
      barrier: false,
      keys: keysOf(ins({ id: '1' })),
    });
    const change = row('UPDATE', { before: { id: '1' }, after: { id: '2' } });
    expect(conflictKeys(change, 'per-key')).toEqual({
      table: 'db.t',
      barrier: false,
      keys: [...keysOf(ins({ id: '1' })), ...keysOf(ins({ id: '2' }))],
    });
    // An UPDATE without a before image is keyed by its after image alone.
    expect(keysOf(row('UPDATE', { after: { id: '3' } }))).toEqual(keysOf(ins({ id: '3' })));
  });

  it('a DDL is a barrier of its table under per-key and table ordering', () => {
    for (const ordering of ['per-key', 'table'] as const)
      expect(conflictKeys(ddl('u'), ordering)).toEqual({ table: 'db.u', barrier: true, keys: [] });
  });

  it('table ordering and tables without a primary key: the table is the key', () => {
    expect(conflictKeys(ins({ id: '1' }), 'table')).toEqual({
      table: 'db.t',
      barrier: false,
      keys: [hashString('db.t')],
    });
    expect(conflictKeys(ins({ v: '1' }, { pkNames: [] }), 'per-key')).toEqual({
      table: 'db.t',
      barrier: false,
      keys: [hashString('db.t')],
    });
  });

  it('partition ordering: one non-empty key shared by every event, DDLs included, no barrier', () => {
    const events: ChangeEvent[] = [
      ins({ id: '1' }),
      ins({ id: '2' }, { table: 'u' }),
      ins({ id: '2' }, { database: 'other' }),
      row('UPDATE', { before: { id: '1' }, after: { id: '9' } }),
      ddl('t'),
      ddl('v'),
    ];
    const all = events.map((e) => conflictKeys(e, 'partition'));
    for (const ck of all) {
      expect(ck.barrier).toBe(false);
      expect(ck.keys).toHaveLength(1);
      expect(ck.keys).toEqual(all[0]!.keys);
    }
    expect(all[1]!.table).toBe('db.u');
  });
});

describe('rowHash', () => {
  it('is hashString of rowKey, without building the key', () => {
    const cases: [RowChangeEvent, RowImage | undefined][] = [
      [ins({ id: '1' }), { id: '1' }],
      // The same database, another table, then back: the remembered table prefix must follow.
      [ins({ id: '1' }, { table: 'u' }), { id: '1' }],
      [ins({ id: '2' }), { id: '2' }],
      [ins({ id: '1' }, { database: 'a', table: 'b.c' }), { id: '1' }],
      [ins({ id: '1' }, { database: 'a', table: 'b' }), { id: '1' }],
      // …and another database, the same table.
      [ins({ id: '1' }, { database: 'x', table: 'b' }), { id: '1' }],
      [ins({ a: '1', b: '23' }, { pkNames: ['a', 'b'] }), { a: '1', b: '23' }],
      [ins({ a: '1', b: null }, { pkNames: ['a', 'b'] }), { a: '1', b: null }],
      [ins({ id: null }), {}],
      [ins({ id: null }), undefined],
      [ins({ id: '' }), { id: '' }],
      [ins({ id: '中文 😀' }, { database: 'bäse', table: '表' }), { id: '中文 😀' }],
    ];
    for (const [event, image] of cases)
      expect(rowHash(event, image)).toBe(hashString(rowKey(event, image)));
    // Distinct keys here, distinct hashes (order, NULL and '' included).
    expect(new Set(cases.map(([e, i]) => rowHash(e, i))).size).toBe(cases.length - 1);
  });
});

describe('hashString', () => {
  it('is 32-bit FNV-1a', () => {
    expect(hashString('')).toBe(0x811c9dc5);
    expect(hashString('a')).toBe(0xe40c292c);
    expect(hashString('foobar')).toBe(0xbf9cf968);
  });
});
