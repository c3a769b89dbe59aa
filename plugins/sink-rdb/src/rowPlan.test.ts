import { describe, expect, it, vi } from 'vitest';
import type { ColumnMeta, RowChangeEvent, RowImage } from '@sluice/plugin-api';
import type { ConvertOptions } from './convert.js';
import type * as FastConvertModule from './fastConvert.js';
import type * as RouteModule from './route.js';
import { routeOf, type Route } from './route.js';
import { planRow, planRowReference, rowPlanner } from './rowPlan.js';
import type { RdbMapping } from './schemas.js';
import { targetTable, type TargetColumn, type TargetFamily } from './targetTypes.js';

// Counts what the fast path must not need: the reference's by-name resolution (route.ts) and
// compiling converters (a shape compiled again). Behaviour is unchanged.
const calls = vi.hoisted(() => ({ reference: 0, compiled: 0 }));
vi.mock('./route.js', async (importOriginal) => {
  const original = await importOriginal<typeof RouteModule>();
  const counted =
    <A extends unknown[], R>(f: (...args: A) => R) =>
    (...args: A): R => {
      calls.reference++;
      return f(...args);
    };
  return {
    ...original,
    targetKey: counted(original.targetKey),
    targetRow: counted(original.targetRow),
    sourceKeyText: counted(original.sourceKeyText),
  };
});
vi.mock('./fastConvert.js', async (importOriginal) => {
  const original = await importOriginal<typeof FastConvertModule>();
  return {
    ...original,
    converterFor: (...args: Parameters<typeof original.converterFor>) => {
      calls.compiled++;
      return original.converterFor(...args);
    },
  };
});

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

const { id: _id, ...withoutId } = base;

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
  // One key column in the row, one appended; two appended; a source feeding a row column and the key.
  keyHalfInRow: route({
    targetColumns: { label: 'name', id: '' },
    targetPk: { id: 'id', code: 'code' },
  }),
  keysAppended: route({ targetColumns: { label: 'name' }, targetPk: { id: 'id', code: 'code' } }),
  keySourceTwice: route({ targetColumns: { label: 'id' }, targetPk: { id: 'id' } }),
  ciRenamed: route({ mapAll: true, caseInsensitive: true, targetColumns: { label: 'name' } }),
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
  ['insert, key only', event('INSERT', image({ id: '4' }))],
  ['insert, key column upper case', event('INSERT', image({ ...withoutId, ID: '1' }))],
  ['insert, source named like a target', event('INSERT', image({ ...base, label: 'L' }))],
  [
    'insert, non-text text value',
    event('INSERT', { ...base, name: 5 as unknown as string } as unknown as RowImage),
  ],
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

/** Names of CASES that reached the reference, planned twice (the second time is measured). */
function referenceCases(r: Route, o: ConvertOptions, name = '`f`'): string[] {
  for (const [, e] of CASES) run(() => planRow(e, r, table, name, o));
  const slow: string[] = [];
  for (const [caseName, e] of CASES) {
    calls.reference = 0;
    run(() => planRow(e, r, table, name, o));
    if (calls.reference > 0) slow.push(caseName);
  }
  return slow;
}

/** Times `f` compiled a converter (a shape compiled) and asked the reference. */
function counted(f: () => unknown): { compiled: number; reference: number } {
  calls.compiled = 0;
  calls.reference = 0;
  f();
  return { compiled: calls.compiled, reference: calls.reference };
}

// The reference throws for these (or, for the last two, has no key to take), on every route.
const THROWS = [
  'insert, key missing',
  'insert, bad integer',
  'insert, non-text value',
  'update, before of another shape',
  'delete, no image',
];
const BAD_VALUES = [
  'insert, out of range',
  'insert, bad decimal',
  'insert, bad datetime',
  'insert, bad json bytes',
];
const ordered = (names: string[]) => CASES.map(([n]) => n).filter((n) => names.includes(n));

describe('planRow fast path (speed contract: which events it plans without the reference)', () => {
  // The results are the same either way (the test above); this pins that the fast path is taken,
  // so a fast path that silently stops being used fails here.
  // Every key-moving UPDATE whose old key fails, every DELETE whose key fails, and a text
  // column given a number go to the reference too (routes that have such columns and keys).
  const MOVED = ['update, moved, bad old key', 'delete, bad key'];
  const MAP_ALL = [
    ...THROWS,
    ...BAD_VALUES,
    ...MOVED,
    // 'extra' is a source column the table lacks: the reference's MappingError.
    'insert, extra source column',
    'insert, no pkNames',
    'insert, non-text text value',
  ];
  // Key columns the image lacks (or has under another case, looked up exactly): MappingError.
  const NO_KEY = ['insert, key only', 'insert, key column upper case'];
  // Two key columns (id, code) and a renamed row: code is in no row column, so a key-only image
  // cannot be planned.
  const TWO_KEYS_RENAMED = [
    ...THROWS,
    ...MOVED,
    ...NO_KEY,
    'insert, columns missing',
    'insert, non-text text value',
    'delete, key only',
  ];
  const EXPECTED: Record<string, string[]> = {
    mapAll: MAP_ALL,
    mapAllRenamed: MAP_ALL,
    ci: MAP_ALL,
    ciRenamed: MAP_ALL,
    mapAllPk: [
      ...THROWS,
      ...BAD_VALUES,
      ...MOVED,
      'insert, extra source column',
      'insert, key column upper case',
      'insert, non-text text value',
    ],
    renamed: [
      ...THROWS,
      ...MOVED,
      'insert, bad decimal',
      'insert, no pkNames',
      'insert, non-text text value',
    ],
    renamedNoKey: [...THROWS, ...MOVED, ...NO_KEY, 'insert, non-text text value'],
    textKey: [
      ...THROWS,
      ...BAD_VALUES,
      'insert, columns missing',
      'insert, extra source column',
      'insert, key only',
      'insert, non-text text value',
      'delete, key only',
    ],
    twoKeys: [
      ...THROWS,
      ...BAD_VALUES,
      ...MOVED,
      ...NO_KEY,
      'insert, columns missing',
      'insert, extra source column',
      'insert, non-text text value',
      'delete, key only',
    ],
    keyFromOther: [
      ...THROWS,
      ...MOVED,
      ...NO_KEY,
      'insert, out of range',
      'insert, non-text text value',
    ],
    keyHalfInRow: TWO_KEYS_RENAMED,
    keysAppended: TWO_KEYS_RENAMED,
    keySourceTwice: [...THROWS, ...MOVED, 'insert, key column upper case'],
    // No row can be built: only deletes with a good key are planned without the reference.
    unknownTarget: CASES.map(([n]) => n).filter((n) => n !== 'delete' && n !== 'delete, key only'),
  };

  for (const [routeName, expected] of Object.entries(EXPECTED))
    it(`route ${routeName}`, () => {
      const r = ROUTES[routeName]!;
      expect(referenceCases(r, mysql)).toEqual(ordered(expected));
    });

  it('is taken the same way for PostgreSQL and for instants read in a zone', () => {
    for (const o of [pg, { kind: 'mysql' as const, instantsFromZone: 'Asia/Shanghai' }])
      expect(referenceCases(ROUTES['mapAllPk']!, o), o.kind).toEqual(
        referenceCases(ROUTES['mapAllPk']!, mysql),
      );
  });

  it('compiles each row shape once: every case planned again compiles nothing', () => {
    for (const [routeName, r] of Object.entries(ROUTES))
      for (const [name, e] of CASES) {
        run(() => planRow(e, r, table, '`again`', mysql));
        const again = counted(() => run(() => planRow(e, r, table, '`again`', mysql)));
        expect(again.compiled, `${routeName} ${name}`).toBe(0);
      }
  });

  it('keeps a shape when the column map is a new object with the same types, or pkNames a new equal list', () => {
    const r = ROUTES['mapAll']!;
    planRow(event('INSERT', image(base)), r, table, '`m`', mysql);
    const copied = event('INSERT', image(base), undefined, { columns: { ...META } });
    expect(counted(() => planRow(copied, r, table, '`m`', mysql))).toEqual({
      compiled: 0,
      reference: 0,
    });
    // And again with that new map, now the shape's own.
    expect(counted(() => planRow(copied, r, table, '`m`', mysql)).compiled).toBe(0);
    // Equal types in new ColumnMeta objects; then a column map without types, new each time.
    const cloned = event('INSERT', image(base), undefined, { columns: structuredClone(META) });
    expect(counted(() => planRow(cloned, r, table, '`m`', mysql)).compiled).toBe(0);
    planRow(event('INSERT', image(base), undefined, { columns: {} }), r, table, '`m`', mysql);
    const untyped = event('INSERT', image(base), undefined, { columns: {} });
    expect(counted(() => planRow(untyped, r, table, '`m`', mysql)).compiled).toBe(0);
    const pkCopy = event('INSERT', image(base), undefined, { pkNames: ['id'] });
    expect(counted(() => planRow(pkCopy, r, table, '`m`', mysql))).toEqual({
      compiled: 0,
      reference: 0,
    });
  });

  it('compiles a new shape for other column types, other pkNames, other keys', () => {
    const r = ROUTES['mapAll']!;
    const plan = (e: RowChangeEvent) => counted(() => planRow(e, r, table, '`n`', mysql));
    plan(event('INSERT', image(base)));
    const asText = { ...META, big: { mysqlType: 'varchar(30)', sqlType: 12 } };
    expect(plan(event('INSERT', image(base), undefined, { columns: asText })).compiled).toBe(12);
    const otherSql = { ...META, big: { mysqlType: 'bigint(20) unsigned', sqlType: 12 } };
    expect(plan(event('INSERT', image(base), undefined, { columns: otherSql })).compiled).toBe(12);
    // A column the map does not type any more.
    const { big: _big, ...untyped } = META;
    expect(plan(event('INSERT', image(base), undefined, { columns: untyped })).compiled).toBe(12);
    const twoPk = event('INSERT', image(base), undefined, { pkNames: ['id', 'code'] });
    expect(plan(twoPk).compiled).toBeGreaterThan(0);
    const fewer = { ...base } as Record<string, string>;
    delete fewer['big'];
    expect(plan(event('INSERT', image(fewer))).compiled).toBe(11);
    // With targetPk the event's pkNames do not matter.
    const rPk = ROUTES['mapAllPk']!;
    planRow(event('INSERT', image(base)), rPk, table, '`n`', mysql);
    expect(counted(() => planRow(twoPk, rPk, table, '`n`', mysql)).compiled).toBe(0);
  });

  it('keeps the 8 shapes used last, the one just used first', () => {
    const r = ROUTES['mapAll']!;
    const keys = Object.keys(base);
    // Shape i: base without its i-th column.
    const shape = (i: number) => {
      const img = { ...base } as Record<string, string>;
      delete img[keys[i]!];
      return event('INSERT', image(img));
    };
    const plan = (i: number) => counted(() => planRow(shape(i), r, table, '`lru`', mysql)).compiled;
    for (let i = 1; i <= 8; i++) expect(plan(i), `first ${i}`).toBeGreaterThan(0);
    expect(plan(1)).toBe(0); // all 8 kept; 1 is now the newest
    expect(plan(9)).toBeGreaterThan(0); // evicts 2, the oldest
    expect(plan(1)).toBe(0);
    expect(plan(3)).toBe(0);
    expect(plan(2)).toBeGreaterThan(0);
  });

  it('keeps shapes per target name and per conversion options', () => {
    const r = ROUTES['mapAll']!;
    const e = event('INSERT', image(base));
    planRow(e, r, table, '`x1`', mysql);
    expect(counted(() => planRow(e, r, table, '`x1`', mysql)).compiled).toBe(0);
    for (const [name, o] of [
      ['`x2`', mysql],
      ['`x1`', pg],
      ['`x1`', { kind: 'mysql', instantsFromZone: 'Asia/Shanghai' }],
    ] as const) {
      const c = counted(() => {
        const [op] = planRow(e, r, table, name, o);
        expect(op?.table).toBe(name);
      });
      expect(c.compiled, `${name} ${o.kind} ${o.instantsFromZone}`).toBeGreaterThan(0);
    }
  });

  it('rowPlanner shares the shapes of planRow for the same arguments and falls back the same way', () => {
    const r = ROUTES['mapAllPk']!;
    const e = event('INSERT', image(base));
    planRow(e, r, table, '`rp`', mysql);
    const planner = rowPlanner(r, table, '`rp`', { ...mysql });
    expect(counted(() => planner(e))).toEqual({ compiled: 0, reference: 0 });
    const bad = event('INSERT', image({ ...base, id: '1.5' }));
    expect(() => planner(bad)).toThrow(/integer/);
    // Whatever the fast path hands back is planned by the reference with the planner's options.
    const options = { kind: 'postgresql' as const, instantsFromZone: 'Asia/Shanghai' };
    const pgPlanner = rowPlanner(r, table, '`rp`', options);
    for (const [name, e] of CASES)
      expect(
        run(() => pgPlanner(e)),
        name,
      ).toEqual(run(() => planRowReference(e, r, table, '`rp`', options)));
  });
});
