import { readFileSync } from 'node:fs';
import type { ChangeEvent, ColumnMeta, RowChangeEvent } from '@sluice/plugin-api';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeFlatMessage, type FlatMessage } from './flatMessage.js';
// A static import: a module first loaded inside a test makes Stryker attribute its module-level
// code to that one test, and such mutants cannot be applied (they survive whatever the tests).
import { decodeCanalPayload } from './payload.js';
import { flatMessageToChangeEvents } from './toChangeEvents.js';

const origin = { destination: 'example', partition: '0', offset: '41' };
const [insertExample, updateExample, ddlExample] = readFileSync(
  new URL('../test/fixtures/reference-examples.jsonl', import.meta.url),
  'utf8',
)
  .trim()
  .split('\n')
  .map((line) => decodeFlatMessage(line));

const ordersColumns = {
  id: { mysqlType: 'bigint', sqlType: -5 },
  user_id: { mysqlType: 'int unsigned', sqlType: 4 },
  amount: { mysqlType: 'decimal(10,2)', sqlType: 3 },
  status: { mysqlType: "enum('new','paid','shipped')", sqlType: 4 },
  flags: { mysqlType: 'bit(3)', sqlType: -7 },
  note: { mysqlType: 'text', sqlType: 2005 },
  attrs: { mysqlType: 'json', sqlType: 12 },
  created_at: { mysqlType: 'datetime(3)', sqlType: 93 },
  updated_at: { mysqlType: 'timestamp', sqlType: 93 },
};

function rowMessage(
  type: string,
  data: FlatMessage['data'],
  old: FlatMessage['old'] = null,
  extra: Partial<FlatMessage> = {},
): FlatMessage {
  return {
    id: 1,
    database: 'shop',
    table: 't',
    pkNames: ['id'],
    isDdl: false,
    type,
    es: 1000,
    ts: 2000,
    sql: '',
    sqlType: { id: -5, name: 12 },
    mysqlType: { id: 'bigint', name: 'varchar(10)' },
    data,
    old,
    ...extra,
  };
}

describe('flatMessageToChangeEvents: golden events from the reference examples (§1.8)', () => {
  it('(a) multi-row INSERT: one event per row, after image only, shared column types', () => {
    const events = flatMessageToChangeEvents(insertExample!, origin);
    expect(events).toEqual([
      {
        kind: 'row',
        type: 'INSERT',
        destination: 'example',
        database: 'shop',
        table: 'orders',
        pkNames: ['id'],
        executedAt: 1718000000000,
        producedAt: 1718000000412,
        after: insertExample!.data![0],
        changed: [],
        columns: ordersColumns,
        position: { source: 'example', partition: '0', offset: '41', index: 0 },
      },
      {
        kind: 'row',
        type: 'INSERT',
        destination: 'example',
        database: 'shop',
        table: 'orders',
        pkNames: ['id'],
        executedAt: 1718000000000,
        producedAt: 1718000000412,
        after: insertExample!.data![1],
        changed: [],
        columns: ordersColumns,
        position: { source: 'example', partition: '0', offset: '41', index: 1 },
      },
    ]);
    expect('before' in events[0]!).toBe(false);
    expect('gtid' in events[0]!).toBe(false);
    expect(events[0]!.columns).toBe(events[1]!.columns);
    expect(Object.isFrozen(events[0]!.columns)).toBe(true);
    expect(Object.isFrozen(events[0]!.pkNames)).toBe(true);
  });

  it('(b) UPDATE: before = after overlaid with old; changed = keys of old', () => {
    const [event] = flatMessageToChangeEvents(updateExample!, origin) as RowChangeEvent[];
    expect(event!.type).toBe('UPDATE');
    expect(event!.after).toEqual(updateExample!.data![0]);
    expect(event!.before).toEqual({
      ...updateExample!.data![0],
      status: '1',
      note: null,
      updated_at: '2024-06-10 14:13:20',
    });
    expect(event!.changed).toEqual(['status', 'note', 'updated_at']);
  });

  it('(c) DDL: one event with the statement, no rows, no columns', () => {
    expect(flatMessageToChangeEvents(ddlExample!, origin)).toEqual([
      {
        kind: 'ddl',
        type: 'ALTER',
        destination: 'example',
        database: 'shop',
        table: 'orders',
        pkNames: [],
        executedAt: 1718000120000,
        producedAt: 1718000120087,
        sql: 'ALTER TABLE orders ADD COLUMN coupon varchar(32) NULL AFTER amount',
        columns: {},
        position: { source: 'example', partition: '0', offset: '41', index: 0 },
      },
    ]);
  });
});

describe('flatMessageToChangeEvents: every event type', () => {
  it('DELETE: before image only', () => {
    const [event] = flatMessageToChangeEvents(
      rowMessage('DELETE', [{ id: '7', name: null }]),
      origin,
    ) as RowChangeEvent[];
    expect(event).toMatchObject({ type: 'DELETE', before: { id: '7', name: null }, changed: [] });
    expect(event!.after).toBeUndefined();
  });

  it('UPDATE that changes the primary key: both keys are visible', () => {
    const [event] = flatMessageToChangeEvents(
      rowMessage('UPDATE', [{ id: '30', name: 'z' }], [{ id: '3' }]),
      origin,
    ) as RowChangeEvent[];
    expect(event!.before).toEqual({ id: '3', name: 'z' });
    expect(event!.after).toEqual({ id: '30', name: 'z' });
    expect(event!.changed).toEqual(['id']);
  });

  it('multi-row UPDATE: canal accumulates old columns across rows; changed keeps only real changes', () => {
    // Row 0 changes name; row 1 changes nothing but name, so old[1] repeats name with its unchanged value (§1.6).
    const message = rowMessage(
      'UPDATE',
      [
        { id: '1', name: 'b' },
        { id: '2', name: 'same' },
      ],
      [{ name: 'a' }, { name: 'same' }],
    );
    const events = flatMessageToChangeEvents(message, origin) as RowChangeEvent[];
    expect(events.map((e) => e.changed)).toEqual([['name'], []]);
    expect(events[1]!.before).toEqual({ id: '2', name: 'same' });
    expect(events.map((e) => e.position.index)).toEqual([0, 1]);
  });

  it('UPDATE with an empty old map (MINIMAL image) and with old: null', () => {
    const [a] = flatMessageToChangeEvents(
      rowMessage('UPDATE', [{ id: '1' }], [{}]),
      origin,
    ) as RowChangeEvent[];
    expect(a).toMatchObject({ before: { id: '1' }, after: { id: '1' }, changed: [] });
    const [b] = flatMessageToChangeEvents(
      rowMessage('UPDATE', [{ id: '1' }], null),
      origin,
    ) as RowChangeEvent[];
    expect(b).toMatchObject({ before: { id: '1' }, after: { id: '1' }, changed: [] });
  });

  it('UPDATE setting a value to NULL and back', () => {
    const events = flatMessageToChangeEvents(
      rowMessage(
        'UPDATE',
        [
          { id: '1', name: null },
          { id: '2', name: 'x' },
        ],
        [{ name: 'x' }, { name: null }],
      ),
      origin,
    ) as RowChangeEvent[];
    expect(events.map((e) => [e.before, e.changed])).toEqual([
      [{ id: '1', name: 'x' }, ['name']],
      [{ id: '2', name: null }, ['name']],
    ]);
  });

  it.each(['CREATE', 'ALTER', 'RENAME', 'CINDEX', 'DINDEX', 'ERASE', 'TRUNCATE', 'QUERY'])(
    '%s with isDdl: one DDL event',
    (type) => {
      const events = flatMessageToChangeEvents(
        { ...rowMessage(type, null), isDdl: true, sql: `${type} ...`, pkNames: null },
        origin,
      );
      expect(events).toHaveLength(1);
      expect(events[0]).toMatchObject({ kind: 'ddl', type, sql: `${type} ...` });
    },
  );

  it('CREATE DATABASE (QUERY, table "") is a DDL event', () => {
    const events = flatMessageToChangeEvents(
      decodeFlatMessage(
        '{"data":null,"database":"x","es":1,"gtid":"","id":1,"isDdl":true,"mysqlType":null,"old":null,"pkNames":null,"sql":"CREATE DATABASE x","sqlType":null,"table":"","ts":2,"type":"QUERY"}',
      ),
      origin,
    );
    expect(events).toMatchObject([{ kind: 'ddl', type: 'QUERY', database: 'x', table: '' }]);
  });

  it.each([
    [
      'MariaDB annotate / MySQL rows-query (QUERY, isDdl false)',
      { type: 'QUERY', data: null, database: '', table: '', sql: 'INSERT INTO t VALUES (1)' },
    ],
    [
      'statement-format DML without rows',
      { type: 'INSERT', data: null, sql: 'INSERT INTO t VALUES (1)' },
    ],
    ['XACOMMIT', { type: 'XACOMMIT', data: null, sql: "XA COMMIT 'x'" }],
    ['XAROLLBACK', { type: 'XAROLLBACK', data: null }],
    ['an unknown type', { type: 'SOMETHINGNEW', data: [{ id: '1' }] }],
    ['a rows event with no rows', { type: 'INSERT', data: [] }],
  ])('%s yields no event', (_name, fields) => {
    expect(
      flatMessageToChangeEvents(
        { ...rowMessage('INSERT', null), ...fields } as FlatMessage,
        origin,
      ),
    ).toEqual([]);
  });

  it('carries gtid when canal sends one, and the source name when given', () => {
    const [event] = flatMessageToChangeEvents(
      rowMessage('INSERT', [{ id: '1', name: 'a' }], null, {
        gtid: '3e11fa47-71ca-11e1-9e33-c80aa9429562:1-1234',
      }),
      {
        ...origin,
        source: 'kafka:example',
      },
    );
    expect(event!.gtid).toBe('3e11fa47-71ca-11e1-9e33-c80aa9429562:1-1234');
    expect(event!.position.source).toBe('kafka:example');
  });

  it('fills missing sqlType with OTHER (1111) and keeps columns only in sqlType', () => {
    const [event] = flatMessageToChangeEvents(
      rowMessage('INSERT', [{ id: '1' }], null, {
        sqlType: { extra: 4 },
        mysqlType: { id: 'bigint' },
      }),
      origin,
    );
    expect(event!.columns).toEqual({
      id: { mysqlType: 'bigint', sqlType: 1111 },
      extra: { mysqlType: '', sqlType: 4 },
    });
  });

  it('keeps a column named __proto__ as data in images and column types', () => {
    const message = decodeFlatMessage(
      '{"type":"UPDATE","data":[{"__proto__":"new","id":"1"}],"old":[{"__proto__":"old"}],"mysqlType":{"__proto__":"text","id":"int"}}',
    );
    const [event] = flatMessageToChangeEvents(message, origin) as RowChangeEvent[];
    expect(Object.keys(event!.before!)).toEqual(['__proto__', 'id']);
    expect(Object.getOwnPropertyDescriptor(event!.before, '__proto__')?.value).toBe('old');
    expect(Object.getOwnPropertyDescriptor(event!.columns, '__proto__')?.value).toEqual({
      mysqlType: 'text',
      sqlType: 1111,
    });
    expect(event!.changed).toEqual(['__proto__']);
  });

  it('images are copies: mutating the message afterwards does not change events', () => {
    const message = rowMessage('INSERT', [{ id: '1', name: 'a' }]);
    const [event] = flatMessageToChangeEvents(message, origin) as ChangeEvent[] as RowChangeEvent[];
    message.data![0]!['name'] = 'changed';
    expect(event!.after).toEqual({ id: '1', name: 'a' });
  });
});

/** The column map as built per message before it was remembered per table (the reference). */
function referenceColumns(message: FlatMessage): Record<string, ColumnMeta> {
  const columns: Record<string, ColumnMeta> = {};
  const set = (name: string, meta: ColumnMeta): void => {
    Object.defineProperty(columns, name, {
      value: meta,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  };
  const mysqlTypes = message.mysqlType ?? {};
  const sqlTypes = message.sqlType ?? {};
  for (const name in mysqlTypes) {
    set(name, {
      mysqlType: mysqlTypes[name]!,
      sqlType: Object.prototype.hasOwnProperty.call(sqlTypes, name) ? sqlTypes[name]! : 1111,
    });
  }
  for (const name in sqlTypes) {
    if (!Object.prototype.hasOwnProperty.call(columns, name))
      set(name, { mysqlType: '', sqlType: sqlTypes[name]! });
  }
  return columns;
}

/** Column names and their types, in key order. */
const entriesOf = (columns: Readonly<Record<string, ColumnMeta>>): [string, ColumnMeta][] =>
  Object.keys(columns).map((name) => [
    name,
    Object.getOwnPropertyDescriptor(columns, name)!.value as ColumnMeta,
  ]);

describe('column maps and pkNames are remembered per table across messages', () => {
  const insert = (extra: Partial<FlatMessage>): RowChangeEvent =>
    flatMessageToChangeEvents(
      rowMessage('INSERT', [{ id: '1', name: 'a' }], null, { table: 'remembered', ...extra }),
      origin,
    )[0] as RowChangeEvent;

  it('shares one frozen map and pkNames between messages with the same types and key', () => {
    const a = insert({});
    const b = insert({});
    expect(b.columns).toBe(a.columns);
    expect(b.pkNames).toBe(a.pkNames);
    expect(Object.isFrozen(a.columns)).toBe(true);
    expect(Object.isFrozen(a.columns['id'])).toBe(true);
    expect(Object.isFrozen(a.pkNames)).toBe(true);
    // The same types of another table: that table's own map, equal.
    const other = insert({ table: 'other' });
    expect(other.columns).not.toBe(a.columns);
    expect(other.columns).toEqual(a.columns);
  });

  it('builds a new map when the types, their order or the key change, and keeps the old one', () => {
    const a = insert({});
    const snapshot = entriesOf(a.columns);
    const cases: Partial<FlatMessage>[] = [
      { mysqlType: { id: 'bigint', name: 'varchar(20)' } },
      { sqlType: { id: -5, name: 2005 } },
      { mysqlType: { name: 'varchar(10)', id: 'bigint' }, sqlType: { name: 12, id: -5 } },
      { mysqlType: { id: 'bigint', name: 'varchar(10)', extra: 'int' } },
      { mysqlType: { id: 'bigint' } },
      { sqlType: { name: 12, id: -5 } },
      { sqlType: { id: -5 } },
      { sqlType: { id: -5, name: 12, extra: 4 } },
      { sqlType: null },
      { mysqlType: null },
      { mysqlType: null, sqlType: null },
      { mysqlType: {}, sqlType: {} },
      {},
    ];
    for (const extra of cases) {
      insert({}); // each case right after the usual types
      const message = rowMessage('INSERT', [{ id: '1' }], null, { table: 'remembered', ...extra });
      const [event] = flatMessageToChangeEvents(message, origin) as RowChangeEvent[];
      expect(entriesOf(event!.columns)).toEqual(entriesOf(referenceColumns(message)));
    }
    expect(entriesOf(a.columns)).toEqual(snapshot);
    expect(insert({ pkNames: ['id', 'name'] }).pkNames).toEqual(['id', 'name']);
    expect(insert({ pkNames: ['name'] }).pkNames).toEqual(['name']);
    expect(insert({ pkNames: [] }).pkNames).toEqual([]);
    expect(insert({ pkNames: null }).pkNames).toEqual([]);
    expect(insert({}).pkNames).toEqual(['id']);
  });

  it('gives every message the map built from its own types (generated message sequences)', () => {
    const names = fc.constantFrom('id', 'name', '__proto__', 'toString', '0', '10', 'Zoë', '');
    // A few fixed maps (so that consecutive messages often differ in one type or in order) and
    // generated ones.
    const mysqlTypes = fc.oneof(
      fc.constantFrom(
        { id: 'int', name: 'text' },
        { id: 'int', name: 'int' },
        { name: 'text', id: 'int' },
        { id: 'int' },
        {},
      ),
      fc.dictionary(names, fc.constantFrom('int', 'text', ''), { maxKeys: 4 }),
    );
    const sqlTypes = fc.oneof(
      fc.constantFrom({ id: 4, name: 12 }, { id: 4, name: 4 }, { name: 12, id: 4 }, { id: 4 }, {}),
      fc.dictionary(names, fc.constantFrom(4, 12, 1111), { maxKeys: 4 }),
    );
    const typeMaps = fc.record({
      mysqlType: fc.option(mysqlTypes, { nil: null }),
      sqlType: fc.option(sqlTypes, { nil: null }),
      table: fc.constantFrom('t1', 't2'),
      pkNames: fc.option(fc.uniqueArray(names, { maxLength: 2 }), { nil: null }),
    });
    fc.assert(
      fc.property(fc.array(typeMaps, { minLength: 1, maxLength: 12 }), (list) => {
        for (const { mysqlType, sqlType, table, pkNames } of list) {
          // Through JSON, as from the wire (own __proto__ keys and all).
          const message = decodeFlatMessage(
            JSON.stringify({ type: 'INSERT', database: 'gen', table, data: [{}] }).replace(
              /}$/,
              `,"mysqlType":${JSON.stringify(mysqlType)},"sqlType":${JSON.stringify(sqlType)},"pkNames":${JSON.stringify(pkNames)}}`,
            ),
          );
          const [event] = flatMessageToChangeEvents(message, origin) as RowChangeEvent[];
          expect(entriesOf(event!.columns)).toEqual(entriesOf(referenceColumns(message)));
          expect(event!.pkNames).toEqual(pkNames ?? []);
          expect(Object.isFrozen(event!.pkNames)).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('decodeCanalPayload (the pipeline path) adopts rows instead of copying', () => {
  it('gives the same events as flatMessageToChangeEvents', () => {
    const line = readFileSync(
      new URL('../test/fixtures/reference-examples.jsonl', import.meta.url),
      'utf8',
    ).split('\n')[1]!;
    expect(decodeCanalPayload(Buffer.from(line), 'flat', origin)).toEqual(
      flatMessageToChangeEvents(decodeFlatMessage(line), origin),
    );
    expect(decodeCanalPayload(line, 'auto', origin)).toEqual(
      flatMessageToChangeEvents(decodeFlatMessage(line), origin),
    );
    expect(() => decodeCanalPayload(line, 'protobuf', origin)).toThrow(/must be bytes/);
  });
});
