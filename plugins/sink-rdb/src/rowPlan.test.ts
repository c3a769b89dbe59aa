import { describe, expect, it } from 'vitest';
import type { ColumnMeta, RowChangeEvent, RowImage } from '@sluice/plugin-api';
import type { ConvertOptions } from './convert.js';
import { routeOf, type Route } from './route.js';
import { planRow, planRowReference } from './rowPlan.js';
import type { RdbMapping } from './schemas.js';
import { targetTable, type TargetColumn, type TargetFamily } from './targetTypes.js';

const mysql: ConvertOptions = { kind: 'mysql', instantsFromZone: undefined };
const pg: ConvertOptions = { kind: 'postgresql', instantsFromZone: undefined };

const tcol = (name: string, family: TargetFamily, bitWidth = 0): TargetColumn => ({
  name,
  dataType: family,
  family,
  bitWidth,
  fixedBits: false,
});
const table = targetTable('db', 't', [
  tcol('id', 'integer'),
  tcol('code', 'text'),
  tcol('name', 'text'),
  tcol('amount', 'decimal'),
  tcol('created', 'datetime'),
  tcol('updated', 'timestamp'),
  tcol('flags', 'bit', 8),
  tcol('kind', 'enum'),
  tcol('tags', 'set'),
  tcol('doc', 'json'),
  tcol('data', 'binary'),
  tcol('big', 'integer'),
  tcol('Upper', 'text'),
  tcol('__proto__', 'text'),
  tcol('label', 'text'),
]);

const META: Record<string, ColumnMeta> = {
  id: { mysqlType: 'bigint(20)', sqlType: -5 },
  code: { mysqlType: 'varchar(8)', sqlType: 12 },
  name: { mysqlType: 'varchar(64)', sqlType: 12 },
  amount: { mysqlType: 'decimal(12,2)', sqlType: 3 },
  created: { mysqlType: 'datetime', sqlType: 93 },
  updated: { mysqlType: 'timestamp', sqlType: 93 },
  flags: { mysqlType: 'bit(8)', sqlType: -7 },
  kind: { mysqlType: "enum('a','b')", sqlType: 4 },
  tags: { mysqlType: "set('x','y')", sqlType: -7 },
  doc: { mysqlType: 'json', sqlType: 2004 },
  data: { mysqlType: 'varbinary(8)', sqlType: 2004 },
  big: { mysqlType: 'bigint(20) unsigned', sqlType: -5 },
  UPPER: { mysqlType: 'varchar(8)', sqlType: 12 },
  ['__proto__']: { mysqlType: 'varchar(8)', sqlType: 12 },
  extra: { mysqlType: 'int(11)', sqlType: 4 },
};
const latin1 = (s: string) => Buffer.from(s, 'utf8').toString('latin1');

function image(values: Record<string, string | null>): RowImage {
  const out: Record<string, string | null> = {};
  for (const [k, v] of Object.entries(values))
    Object.defineProperty(out, k, {
      value: v,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  return out;
}

const base = {
  id: '1',
  code: 'Ab ',
  name: '😀 ünïcode',
  amount: '12.30',
  created: '0000-00-00 00:00:00',
  updated: '2024-06-01 12:00:00.5',
  flags: '5',
  kind: '2',
  tags: '3',
  doc: latin1('{"k":"ä"}'),
  data: '\u0000\u00ff',
  big: '18446744073709551615',
};

function event(
  type: RowChangeEvent['type'],
  after: RowImage | undefined,
  before?: RowImage,
  extra: Partial<RowChangeEvent> = {},
): RowChangeEvent {
  return {
    kind: 'row',
    type,
    destination: 'd',
    database: 'db',
    table: 't',
    pkNames: ['id'],
    columns: META,
    executedAt: 0,
    producedAt: 0,
    position: { source: 's', partition: '0', offset: '1', index: 0 },
    ...(after ? { after } : {}),
    ...(before ? { before } : {}),
    changed: [],
    ...extra,
  };
}

const route = (db: Partial<NonNullable<RdbMapping['dbMapping']>>): Route =>
  routeOf(
    { dbMapping: { database: 'db', table: 't', targetTable: 't', ...db } } as RdbMapping,
    't',
  );

const ROUTES: Record<string, Route> = {
  mapAll: route({ mapAll: true }),
  mapAllPk: route({ mapAll: true, targetPk: { id: 'id' } }),
  renamed: route({ targetColumns: { id: '', label: 'name', amount: 'amount' } }),
  renamedNoKey: route({ targetColumns: { label: 'name' }, targetPk: { id: 'id' } }),
  mapAllRenamed: route({ mapAll: true, targetColumns: { label: 'name' } }),
  ci: route({ mapAll: true, caseInsensitive: true }),
  textKey: route({ mapAll: true, targetPk: { code: 'code' } }),
  twoKeys: route({ mapAll: true, targetPk: { id: 'id', code: 'code' } }),
  keyFromOther: route({ targetColumns: { id: 'big', name: '' }, targetPk: { id: 'id' } }),
  unknownTarget: route({ targetColumns: { nope: 'name' }, targetPk: { id: 'id' } }),
};

type Result = { ok: true; ops: unknown } | { ok: false; error: string };
const run = (f: () => unknown): Result => {
  try {
    return { ok: true, ops: f() };
  } catch (error) {
    return { ok: false, error: `${(error as Error).name}: ${(error as Error).message}` };
  }
};

const CASES: [string, RowChangeEvent][] = [
  ['insert', event('INSERT', image(base))],
  ['insert with NULLs', event('INSERT', image({ ...base, name: null, amount: null, data: null }))],
  ['insert, NULL key', event('INSERT', image({ ...base, id: null }))],
  ['insert, columns missing', event('INSERT', image({ id: '2', name: 'x' }))],
  ['insert, key missing', event('INSERT', image({ name: 'x' }))],
  ['insert, extra source column', event('INSERT', image({ ...base, extra: '7' }))],
  ['insert, upper-case source', event('INSERT', image({ ...base, UPPER: 'u' }))],
  ['insert, __proto__ column', event('INSERT', image({ ...base, ['__proto__']: 'p' }))],
  ['insert, bad integer', event('INSERT', image({ ...base, id: '1.5' }))],
  ['insert, out of range', event('INSERT', image({ ...base, big: '-1' }))],
  ['insert, bad decimal', event('INSERT', image({ ...base, amount: '1e3' }))],
  ['insert, bad datetime', event('INSERT', image({ ...base, created: '2024-06-01' }))],
  ['insert, bad json bytes', event('INSERT', image({ ...base, doc: 'Ā' }))],
  ['insert, no pkNames', event('INSERT', image(base), undefined, { pkNames: [] })],
  ['insert, PK upper case', event('INSERT', image(base), undefined, { pkNames: ['ID'] })],
  ['insert, no column types', event('INSERT', image(base), undefined, { columns: {} })],
  [
    'insert, non-text value',
    event('INSERT', { ...base, id: 5 as unknown as string } as unknown as RowImage),
  ],
  ['update, same key', event('UPDATE', image(base), image({ ...base, name: 'old' }))],
  ['update, key moved', event('UPDATE', image(base), image({ ...base, id: '9', code: 'zz' }))],
  ['update, text key moved', event('UPDATE', image(base), image({ ...base, code: 'ab' }))],
  ['update, key from NULL', event('UPDATE', image(base), image({ ...base, id: null }))],
  ['update, no before', event('UPDATE', image(base))],
  ['update, before of another shape', event('UPDATE', image(base), image({ id: '3' }))],
  ['update, moved, bad old key', event('UPDATE', image(base), image({ ...base, id: 'x' }))],
  ['delete', event('DELETE', undefined, image(base))],
  ['delete, key only', event('DELETE', undefined, image({ id: '4' }))],
  ['delete, no image', event('DELETE', undefined)],
  ['delete, bad key', event('DELETE', undefined, image({ ...base, id: '' }))],
];

describe('planRow', () => {
  it('plans every event exactly as planRowReference does (values, keys, errors)', () => {
    let compared = 0;
    for (const o of [mysql, pg, { kind: 'mysql' as const, instantsFromZone: 'Asia/Shanghai' }])
      for (const [routeName, r] of Object.entries(ROUTES))
        // Twice: the first plan compiles the shape, the second reuses it.
        for (let round = 0; round < 2; round++)
          for (const [name, e] of CASES) {
            const expected = run(() => planRowReference(e, r, table, '`t`', o));
            const actual = run(() => planRow(e, r, table, '`t`', o));
            expect(actual, `${o.kind} ${routeName} ${name} (round ${round})`).toEqual(expected);
            compared++;
          }
    expect(compared).toBeGreaterThan(1000);
  });

  it('shares one column list between rows of the same shape and converts the key once', () => {
    const r = ROUTES['mapAllPk']!;
    const a = planRow(event('INSERT', image(base)), r, table, '`t`', mysql)[0]!;
    const b = planRow(event('INSERT', image({ ...base, id: '2' })), r, table, '`t`', mysql)[0]!;
    if (a.kind !== 'upsert' || b.kind !== 'upsert') throw new Error('expected upserts');
    expect(b.row.columns).toBe(a.row.columns);
    expect(b.key.values).toEqual([2]);
    expect(b.key.id).toBe('n2');
    expect(b.row.values[0]).toBe(2);
  });

  it('follows a change of column types (a new shape), also when the column map is a new object', () => {
    const r = ROUTES['mapAll']!;
    planRow(event('INSERT', image(base)), r, table, '`t`', mysql);
    const asText = { ...META, big: { mysqlType: 'varchar(30)', sqlType: 12 } };
    const e = event('INSERT', image({ ...base, big: '-1' }), undefined, { columns: asText });
    expect(planRow(e, r, table, '`t`', mysql)).toEqual(planRowReference(e, r, table, '`t`', mysql));
    const copy = event('INSERT', image({ ...base, big: '-1' }), undefined, {
      columns: { ...META },
    });
    expect(() => planRow(copy, r, table, '`t`', mysql)).toThrow(/in range/);
  });
});
