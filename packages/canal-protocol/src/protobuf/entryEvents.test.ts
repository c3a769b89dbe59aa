/**
 * appendEntryEvents on its own: the checked path's events of one ROWDATA entry, and the events
 * the fast path leaves to it (DDL, noise, statement-format DML), pinned exactly — the fast
 * path's differential tests cannot see a change both paths share.
 */
import type { ChangeEvent, RowChangeEvent } from '@sluice/plugin-api';
import { describe, expect, it } from 'vitest';
import type { DecodeNotice } from '../notices.js';
import { appendEntryEvents } from './entryEvents.js';
import { EventType, type CanalColumn, type CanalRowChange } from './entryProtocol.js';

const origin = { destination: 'dest', partition: '4', offset: '12' };

const col = (
  name: string,
  value: string | null,
  fields: Partial<CanalColumn> = {},
): CanalColumn => ({
  index: 0,
  sqlType: 12,
  name,
  isKey: false,
  updated: false,
  isNull: value === null,
  props: [],
  value: value ?? '',
  length: 0,
  mysqlType: 'varchar(8)',
  ...fields,
});

const rc = (fields: Partial<CanalRowChange>): CanalRowChange => ({
  tableId: 1n,
  eventType: EventType.INSERT,
  isDdl: false,
  sql: '',
  rowDatas: [],
  props: [],
  ddlSchemaName: '',
  ...fields,
});

function run(
  change: CanalRowChange,
  opts: { gtid?: string; o?: typeof origin & { producedAt?: number }; before?: number } = {},
): { events: ChangeEvent[]; notices: DecodeNotice[] } {
  const events: ChangeEvent[] = [];
  for (let i = 0; i < (opts.before ?? 0); i++) events.push({} as ChangeEvent);
  const notices: DecodeNotice[] = [];
  appendEntryEvents(
    events,
    '`shop`',
    '`orders`',
    1_700_000_000_000,
    opts.gtid ?? '',
    change,
    opts.o ?? origin,
    notices,
  );
  return { events: events.slice(opts.before ?? 0), notices };
}

describe('DDL', () => {
  it('is one event with the exact fields, names unquoted, position after earlier events', () => {
    const { events, notices } = run(
      rc({ isDdl: true, eventType: EventType.ALTER, sql: 'ALTER TABLE orders ADD c int' }),
      { gtid: 'u:1-3', before: 2 },
    );
    expect(notices).toEqual([]);
    expect(events).toHaveLength(1);
    const ddl = events[0]!;
    expect(Object.keys(ddl)).toEqual([
      'kind',
      'type',
      'destination',
      'database',
      'table',
      'pkNames',
      'columns',
      'executedAt',
      'producedAt',
      'gtid',
      'sql',
      'position',
    ]);
    expect(ddl).toEqual({
      kind: 'ddl',
      type: 'ALTER',
      destination: 'dest',
      database: 'shop',
      table: 'orders',
      pkNames: [],
      columns: {},
      executedAt: 1_700_000_000_000,
      producedAt: 1_700_000_000_000,
      gtid: 'u:1-3',
      sql: 'ALTER TABLE orders ADD c int',
      position: { source: 'dest', partition: '4', offset: '12', index: 2 },
    });
    expect(Object.isFrozen(ddl.pkNames)).toBe(true);
    expect(Object.isFrozen(ddl.columns)).toBe(true);
  });

  it('has no gtid key without a GTID; producedAt from the origin; any event type is named', () => {
    const { events } = run(rc({ isDdl: true, eventType: 99, sql: 'X' }), {
      o: { ...origin, producedAt: 5 },
    });
    expect('gtid' in events[0]!).toBe(false);
    expect(events[0]).toMatchObject({ type: 'EVENTTYPE_99', producedAt: 5, executedAt: 1.7e12 });
    // DDL wins over a row event type, and rows (canal sends none) are not read.
    const withRows = run(
      rc({
        isDdl: true,
        eventType: EventType.INSERT,
        sql: 'CREATE TABLE t (id int)',
        rowDatas: [{ beforeColumns: [], afterColumns: [col('id', '1')], props: [] }],
      }),
    ).events;
    expect(withRows).toHaveLength(1);
    expect(withRows[0]).toMatchObject({ kind: 'ddl', type: 'INSERT' });
  });
});

describe('what gives no event', () => {
  it('rows-query noise and other non-row types: nothing, no notice', () => {
    for (const eventType of [EventType.QUERY, EventType.GTID, 0, 42]) {
      const r = run(
        rc({
          eventType,
          sql: 'insert into orders values (1)',
          rowDatas: [{ beforeColumns: [], afterColumns: [col('id', '1')], props: [] }],
        }),
      );
      expect(r).toEqual({ events: [], notices: [] });
    }
  });

  it('statement-format DML: a notice with the names, type and SQL; none without a list', () => {
    for (const [eventType, type] of [
      [EventType.INSERT, 'INSERT'],
      [EventType.UPDATE, 'UPDATE'],
      [EventType.DELETE, 'DELETE'],
    ] as const) {
      const r = run(rc({ eventType, sql: 'update orders set a=1' }));
      expect(r.events).toEqual([]);
      expect(r.notices).toEqual([
        {
          kind: 'statement-dml',
          database: 'shop',
          table: 'orders',
          type,
          sql: 'update orders set a=1',
        },
      ]);
    }
    const events: ChangeEvent[] = [];
    appendEntryEvents(events, 's', 't', 1, '', rc({ sql: 'insert ...' }), origin);
    expect(events).toEqual([]);
  });
});

describe('row events', () => {
  it('INSERT: after image, NULLs, keys, no changed columns, positions counting on', () => {
    const { events } = run(
      rc({
        rowDatas: [1, 2].map((i) => ({
          beforeColumns: [],
          afterColumns: [
            col('id', String(i), { isKey: true, updated: true, sqlType: 4, mysqlType: 'int' }),
            col('note', null, { updated: true }),
          ],
          props: [],
        })),
      }),
      { before: 3 },
    );
    const [a, b] = events as RowChangeEvent[];
    expect(a).toEqual({
      kind: 'row',
      type: 'INSERT',
      destination: 'dest',
      database: 'shop',
      table: 'orders',
      pkNames: ['id'],
      columns: {
        id: { mysqlType: 'int', sqlType: 4 },
        note: { mysqlType: 'varchar(8)', sqlType: 12 },
      },
      executedAt: 1.7e12,
      producedAt: 1.7e12,
      position: { source: 'dest', partition: '4', offset: '12', index: 3 },
      after: { id: '1', note: null },
      changed: [],
    });
    expect('before' in a!).toBe(false);
    expect('gtid' in a!).toBe(false);
    expect(b!.position.index).toBe(4);
    expect(b!.after).toEqual({ id: '2', note: null });
    // The same frozen column map and pkNames for rows of the same shape.
    expect(b!.columns).toBe(a!.columns);
    expect(b!.pkNames).toBe(a!.pkNames);
    expect(Object.isFrozen(a!.columns)).toBe(true);
    expect(Object.isFrozen(a!.columns.id)).toBe(true);
    expect(Object.isFrozen(a!.pkNames)).toBe(true);
    expect(Object.isFrozen(a)).toBe(false);
  });

  it('DELETE: before image and its keys; an after image is ignored', () => {
    const { events } = run(
      rc({
        eventType: EventType.DELETE,
        rowDatas: [
          {
            beforeColumns: [col('id', '7', { isKey: true }), col('v', 'x')],
            afterColumns: [col('other', '1', { isKey: true })],
            props: [],
          },
        ],
      }),
      { gtid: 'g:9' },
    );
    expect(events[0]).toEqual({
      kind: 'row',
      type: 'DELETE',
      destination: 'dest',
      database: 'shop',
      table: 'orders',
      pkNames: ['id'],
      columns: {
        id: { mysqlType: 'varchar(8)', sqlType: 12 },
        v: { mysqlType: 'varchar(8)', sqlType: 12 },
      },
      executedAt: 1.7e12,
      producedAt: 1.7e12,
      position: { source: 'dest', partition: '4', offset: '12', index: 0 },
      before: { id: '7', v: 'x' },
      changed: [],
      gtid: 'g:9',
    });
    expect('after' in events[0]!).toBe(false);
  });

  it('UPDATE: changed columns in after order, keys from the after image, else the before image', () => {
    const { events } = run(
      rc({
        eventType: EventType.UPDATE,
        rowDatas: [
          {
            beforeColumns: [col('id', '1', { isKey: true }), col('a', 'x'), col('b', 'y')],
            afterColumns: [
              col('id', '1', { isKey: true }),
              col('a', 'x2', { updated: true }),
              col('b', null, { updated: true }),
            ],
            props: [],
          },
          {
            beforeColumns: [col('id', '2', { isKey: true }), col('a', 'x'), col('b', 'y')],
            afterColumns: [col('id', '2'), col('a', 'x'), col('b', 'y')],
            props: [],
          },
          {
            beforeColumns: [col('id', '3'), col('a', 'x'), col('b', 'y')],
            afterColumns: [col('id', '3'), col('a', 'x'), col('b', 'y')],
            props: [],
          },
        ],
      }),
    );
    const [u1, u2, u3] = events as RowChangeEvent[];
    expect(u1).toMatchObject({
      type: 'UPDATE',
      before: { id: '1', a: 'x', b: 'y' },
      after: { id: '1', a: 'x2', b: null },
      changed: ['a', 'b'],
      pkNames: ['id'],
    });
    expect(u2!.changed).toEqual([]);
    expect(Object.isFrozen(u2!.changed)).toBe(true);
    expect(u2!.pkNames).toEqual(['id']);
    expect(u2!.pkNames).toBe(u1!.pkNames);
    expect(u3!.pkNames).toEqual([]);
    expect(Object.isFrozen(u3!.pkNames)).toBe(true);
    expect(u3!.columns).toBe(u1!.columns);
  });

  it('keys only in the after image of a DELETE or before image of an INSERT do not count', () => {
    const del = run(
      rc({
        eventType: EventType.DELETE,
        rowDatas: [{ beforeColumns: [col('id', '1')], afterColumns: [], props: [] }],
      }),
    ).events[0] as RowChangeEvent;
    expect(del.pkNames).toEqual([]);
    const ins = run(
      rc({
        eventType: EventType.INSERT,
        rowDatas: [
          {
            beforeColumns: [col('id', '1', { isKey: true })],
            afterColumns: [col('id', '1')],
            props: [],
          },
        ],
      }),
    ).events[0] as RowChangeEvent;
    expect(ins.pkNames).toEqual([]);
  });

  it('UPDATE with a MINIMAL after image: before-only columns join the column map, first', () => {
    const { events } = run(
      rc({
        eventType: EventType.UPDATE,
        rowDatas: [
          {
            beforeColumns: [
              col('id', '1', { isKey: true, sqlType: 4, mysqlType: 'int' }),
              col('blob', 'b', { sqlType: 2004, mysqlType: 'blob' }),
            ],
            afterColumns: [col('id', '1', { isKey: true, sqlType: 4, mysqlType: 'int' })],
            props: [],
          },
          // Same length as the before image, other names: still before-only columns.
          {
            beforeColumns: [col('id', '2', { sqlType: 4, mysqlType: 'int' }), col('z', 'q')],
            afterColumns: [col('id', '2', { sqlType: 4, mysqlType: 'int' }), col('w', 'r')],
            props: [],
          },
        ],
      }),
    );
    const [m1, m2] = events as RowChangeEvent[];
    expect(Object.keys(m1!.columns)).toEqual(['blob', 'id']);
    expect(m1!.columns.blob).toEqual({ mysqlType: 'blob', sqlType: 2004 });
    expect(m1!.after).toEqual({ id: '1' });
    expect(m1!.before).toEqual({ id: '1', blob: 'b' });
    expect(Object.keys(m2!.columns)).toEqual(['z', 'id', 'w']);
    expect(m2!.after).toEqual({ id: '2', w: 'r' });
  });

  it('builds a new column map when a type, a count or a name changes between rows', () => {
    const row = (cols: CanalColumn[]) => ({ beforeColumns: [], afterColumns: cols, props: [] });
    const { events } = run(
      rc({
        rowDatas: [
          row([col('id', '1'), col('a', '1')]),
          row([col('id', '1'), col('a', '1', { mysqlType: 'text' })]),
          row([col('id', '1'), col('a', '1', { mysqlType: 'text', sqlType: 2005 })]),
          row([col('id', '1')]),
          row([col('id', '1'), col('b', '1', { mysqlType: 'text', sqlType: 2005 })]),
          row([col('id', '1'), col('b', '1', { mysqlType: 'text', sqlType: 2005 })]),
        ],
      }),
    );
    const maps = (events as RowChangeEvent[]).map((e) => e.columns);
    expect(maps[1]).not.toBe(maps[0]);
    expect(maps[1]!.a).toEqual({ mysqlType: 'text', sqlType: 12 });
    expect(maps[2]!.a).toEqual({ mysqlType: 'text', sqlType: 2005 });
    expect(Object.keys(maps[3]!)).toEqual(['id']);
    expect(Object.keys(maps[4]!)).toEqual(['id', 'b']);
    expect(maps[5]).toBe(maps[4]);
  });

  it('a column named __proto__ is an own property of the image and the column map', () => {
    const { events } = run(
      rc({
        rowDatas: [
          {
            beforeColumns: [],
            afterColumns: [col('__proto__', 'p'), col('toString', null), col('id', '1')],
            props: [],
          },
        ],
      }),
    );
    const e = events[0] as RowChangeEvent;
    expect(Object.keys(e.after!)).toEqual(['__proto__', 'toString', 'id']);
    expect(Object.getOwnPropertyDescriptor(e.after, '__proto__')?.value).toBe('p');
    expect(Object.getPrototypeOf(e.after)).toBe(Object.prototype);
    expect(e.after!.toString).toBeNull();
    expect(Object.keys(e.columns)).toEqual(['__proto__', 'toString', 'id']);
    expect(Object.getOwnPropertyDescriptor(e.columns, '__proto__')?.value).toEqual({
      mysqlType: 'varchar(8)',
      sqlType: 12,
    });
  });

  it('a column map from a `__proto__` or inherited name is never mistaken for a match', () => {
    const row = (cols: CanalColumn[]) => ({ beforeColumns: [], afterColumns: cols, props: [] });
    const { events } = run(
      rc({
        rowDatas: [row([col('a', '1')]), row([col('constructor', '1')])],
      }),
    );
    const maps = (events as RowChangeEvent[]).map((e) => e.columns);
    expect(Object.keys(maps[1]!)).toEqual(['constructor']);
    expect(maps[1]!.constructor).toEqual({ mysqlType: 'varchar(8)', sqlType: 12 });
  });
});

describe('column maps of MINIMAL images and stray images', () => {
  it('UPDATE rows of one MINIMAL shape share one column map (before-only columns counted)', () => {
    const row = (id: string) => ({
      beforeColumns: [
        col('id', id, { isKey: true, sqlType: 4, mysqlType: 'int' }),
        col('blob', 'b', { sqlType: 2004, mysqlType: 'blob' }),
        col('c', 'x'),
      ],
      afterColumns: [col('id', id, { isKey: true, sqlType: 4, mysqlType: 'int' })],
      props: [],
    });
    const { events } = run(rc({ eventType: EventType.UPDATE, rowDatas: [row('1'), row('2')] }));
    const [a, b] = events as RowChangeEvent[];
    expect(Object.keys(a!.columns)).toEqual(['blob', 'c', 'id']);
    expect(b!.columns).toBe(a!.columns);
  });

  it('an INSERT with a before image, a DELETE with an after image: only the main image counts', () => {
    const ins = run(
      rc({
        eventType: EventType.INSERT,
        rowDatas: [
          {
            beforeColumns: [col('id', '1'), col('ghost', 'g')],
            afterColumns: [col('id', '1')],
            props: [],
          },
        ],
      }),
    ).events[0] as RowChangeEvent;
    expect(Object.keys(ins.columns)).toEqual(['id']);
    const del = run(
      rc({
        eventType: EventType.DELETE,
        rowDatas: [
          {
            beforeColumns: [col('id', '1')],
            afterColumns: [col('id', '1'), col('ghost', 'g')],
            props: [],
          },
        ],
      }),
    ).events[0] as RowChangeEvent;
    expect(Object.keys(del.columns)).toEqual(['id']);
  });
});
