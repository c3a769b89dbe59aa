/**
 * route.ts on its own: where a mapping file sends a table (`routeOf`), the exact MappingError a
 * row gets when it cannot be written, the key identities coalescing compares, and the raw key
 * text that tells a key-moving UPDATE. rowPlan.test.ts compares the compiled planner with these
 * functions, so it cannot see a fault they share.
 */
import type { ColumnMeta, RowChangeEvent, RowImage } from '@sluice/plugin-api';
import { describe, expect, it } from 'vitest';
import { toParam, ValueError, type ConvertOptions } from './convert.js';
import {
  keyId,
  looseKeyId,
  MappingError,
  routeOf,
  sourceKeyText,
  targetKey,
  targetRow,
  type Route,
} from './route.js';
import type { RdbMapping } from './schemas.js';
import { targetTable, type TargetFamily } from './targetTypes.js';

const mysql: ConvertOptions = { kind: 'mysql', instantsFromZone: undefined };
const mapping = (db: Partial<NonNullable<RdbMapping['dbMapping']>>): RdbMapping =>
  ({ dbMapping: { database: 'src', table: 't', ...db } }) as RdbMapping;

const table = targetTable(
  'dst',
  'orders',
  (
    [
      ['id', 'integer'],
      ['Code', 'text'],
      ['note', 'text'],
      ['doc', 'json'],
    ] as [string, TargetFamily][]
  ).map(([name, family]) => ({ name, dataType: family, family, bitWidth: 0, fixedBits: false })),
);
const META: Record<string, ColumnMeta> = {
  id: { mysqlType: 'int(11)', sqlType: 4 },
  code: { mysqlType: 'varchar(8)', sqlType: 12 },
  note: { mysqlType: 'varchar(8)', sqlType: 12 },
  doc: { mysqlType: 'json', sqlType: 2004 },
};
const event = (image: RowImage, pkNames: string[] = ['id']): RowChangeEvent => ({
  kind: 'row',
  type: 'INSERT',
  destination: 'd',
  database: 'src',
  table: 'orders',
  pkNames,
  columns: META,
  executedAt: 0,
  producedAt: 0,
  position: { source: 's', partition: '0', offset: '1', index: 0 },
  after: image,
  changed: [],
});
const route = (db: Partial<NonNullable<RdbMapping['dbMapping']>>): Route =>
  routeOf(mapping({ targetTable: 'orders', ...db }), 't');
const thrown = (f: () => unknown): string => {
  try {
    f();
  } catch (error) {
    return `${(error as Error).name}: ${(error as Error).message}`;
  }
  return 'nothing thrown';
};

describe('routeOf', () => {
  it('a mirrorDb mapping: every table under its own name, all columns, the event keys', () => {
    expect(routeOf(mapping({ mirrorDb: true }), 'orders')).toEqual({
      schema: 'src',
      table: 'orders',
      columns: [],
      mapAll: true,
      key: [],
      caseInsensitive: false,
      mirror: true,
    });
    const m = mapping({ mirrorDb: true, targetDb: 'copy', caseInsensitive: true });
    expect(routeOf(m, 'items')).toMatchObject({ schema: 'copy', caseInsensitive: true });
    expect(routeOf(mapping({ mirrorDb: true, targetDb: '' }), 'x').schema).toBe('src');
  });

  it('a table mapping: its columns and key (an empty source is the same name), defaults off', () => {
    expect(route({})).toEqual({
      schema: undefined,
      table: 'orders',
      columns: [],
      mapAll: false,
      key: [],
      caseInsensitive: false,
      mirror: false,
    });
    const r = route({
      mirrorDb: false,
      targetColumns: { id: '', label: 'note' },
      targetPk: { id: '', code: 'Code' },
      mapAll: true,
      caseInsensitive: true,
    });
    expect(r.columns).toEqual([
      ['id', 'id'],
      ['label', 'note'],
    ]);
    expect(r.key).toEqual([
      ['id', 'id'],
      ['code', 'Code'],
    ]);
    expect([r.mapAll, r.caseInsensitive, r.mirror]).toEqual([true, true, false]);
    // Without targetTable: the source table's name.
    expect(routeOf(mapping({}), 'items').table).toBe('items');
  });

  it('targetTable "db.table" is split unless targetDb is set; a dot at either end is a name', () => {
    const where = (db: Partial<NonNullable<RdbMapping['dbMapping']>>) => {
      const r = routeOf(mapping(db), 't');
      return [r.schema, r.table];
    };
    expect(where({ targetTable: 'a.b' })).toEqual(['a', 'b']);
    expect(where({ targetTable: 'a.b.c' })).toEqual(['a', 'b.c']);
    expect(where({ targetDb: '', targetTable: 'a.b' })).toEqual(['a', 'b']);
    expect(where({ targetDb: 'd', targetTable: 'a.b' })).toEqual(['d', 'a.b']);
    expect(where({ targetTable: '.b' })).toEqual([undefined, '.b']);
    expect(where({ targetTable: 'a.' })).toEqual([undefined, 'a.']);
    expect(where({ targetTable: 'ab' })).toEqual([undefined, 'ab']);
  });
});

describe('targetRow and targetKey', () => {
  const image = { id: '7', code: 'Ab', note: null };

  it('map by name, case-insensitively only when asked; own properties only', () => {
    const exact = route({ targetColumns: { id: '', note: 'code' } });
    expect(targetRow(event(image), image, exact, table, mysql)).toEqual({
      columns: ['id', 'note'],
      values: [7, 'Ab'],
    });
    const byCase = route({ targetColumns: { note: 'CODE' }, caseInsensitive: true });
    expect(targetRow(event(image), image, byCase, table, mysql).values).toEqual(['Ab']);
    const noCase = route({ targetColumns: { note: 'CODE', id: '' } });
    expect(targetRow(event(image), image, noCase, table, mysql).columns).toEqual(['id']);
    // `toString` is on every object's prototype, not in the image.
    const inherited = route({ targetColumns: { note: 'toString', id: '' } });
    expect(targetRow(event(image), image, inherited, table, mysql).columns).toEqual(['id']);
  });

  it('mapAll adds the image columns no explicit mapping names, once each (catalog spelling)', () => {
    const r = route({ mapAll: true, targetColumns: { note: 'code' } });
    expect(targetRow(event(image), image, r, table, mysql)).toEqual({
      columns: ['note', 'id'],
      values: ['Ab', 7],
    });
    const ci = route({ mapAll: true, caseInsensitive: true, targetColumns: { note: 'CODE' } });
    expect(targetRow(event(image), image, ci, table, mysql).columns).toEqual(['note', 'id']);
    // `code` and `Code` name one target column: the first wins.
    const twice = { id: '1', code: 'a', Code: 'b' };
    expect(targetRow(event(twice), twice, route({ mapAll: true }), table, mysql)).toEqual({
      columns: ['id', 'Code'],
      values: [1, 'a'],
    });
  });

  it('says which column or table is the problem', () => {
    const unknown = route({ targetColumns: { nope: 'id' } });
    expect(thrown(() => targetRow(event(image), image, unknown, table, mysql))).toBe(
      'MappingError: Target column "nope" does not exist in dst.orders.',
    );
    const none = route({ targetColumns: { note: 'missing' } });
    expect(thrown(() => targetRow(event(image), image, none, table, mysql))).toBe(
      'MappingError: No mapped column of src.orders is in the row image.',
    );
    const noKey = route({});
    expect(thrown(() => targetKey(event(image, []), image, noKey, table, mysql))).toBe(
      'MappingError: src.orders has no primary key and the mapping no targetPk: the rdb sink writes rows by key.',
    );
    const keyMissing = route({ targetPk: { id: 'ID' } });
    expect(thrown(() => targetKey(event(image), image, keyMissing, table, mysql))).toBe(
      'MappingError: Key column "ID" is not in the row image.',
    );
    expect(new MappingError('x')).toBeInstanceOf(Error);
  });

  it('values that do not convert are ValueErrors naming the column', () => {
    const bad = { id: '1.5', doc: '\u0100' };
    const r = route({ targetColumns: { id: '' } });
    // Another error of toParam (here the typed value's DecodeError) becomes a ValueError.
    const decodeError = thrown(() => toParam('1.5', META['id'], table.column('id')!, mysql, 'id'));
    expect(decodeError).toMatch(/^DecodeError: /);
    expect(thrown(() => targetRow(event(bad), bad, r, table, mysql))).toBe(
      `ValueError: Column id: ${decodeError.replace(/^DecodeError: /, '')}`,
    );
    // Its own ValueError stays as it is (not wrapped again).
    const enumMeta = { mysqlType: 'enum', sqlType: 4 };
    const enumIndex = { ...event({ note: '2' }), columns: { note: enumMeta } };
    const valueError = thrown(() => toParam('2', enumMeta, table.column('note')!, mysql, 'note'));
    expect(valueError).toMatch(/^ValueError: Column note: canal sent ENUM index 2/);
    const noteOnly = route({ targetColumns: { note: '' } });
    expect(thrown(() => targetRow(enumIndex, { note: '2' }, noteOnly, table, mysql))).toBe(
      valueError,
    );
    const json = route({ targetColumns: { doc: '' }, targetPk: { id: 'id' } });
    const error = (() => {
      try {
        targetRow(event(bad), bad, json, table, mysql);
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(ValueError);
    expect((error as Error).message).toMatch(/^Column doc: /);
  });

  it('the key: targetPk by exact name unless caseInsensitive, pkNames by any case', () => {
    const r = route({ targetPk: { id: 'ID' }, caseInsensitive: true });
    expect(targetKey(event(image), image, r, table, mysql)).toEqual({
      columns: ['id'],
      values: [7],
      id: 'n7',
      looseId: 'n7',
    });
    const byPkNames = targetKey(event(image, ['ID', 'CODE']), image, route({}), table, mysql);
    expect(byPkNames).toEqual({
      columns: ['ID', 'CODE'].map((n) => table.column(n)!.name),
      values: [7, 'Ab'],
      id: 'n7\u0001sAb',
      looseId: 'n7\u0001sab',
    });
  });
});

describe('key identities', () => {
  it('keyId: each value typed and marked, NULL apart from "null", parts joined', () => {
    expect(keyId([7])).toBe('n7');
    expect(keyId([7n])).toBe('n7');
    expect(keyId(['7'])).toBe('s7');
    expect(keyId([null])).toBe('\u0000');
    expect(keyId(['null'])).toBe('snull');
    expect(keyId([Buffer.from([0, 255])])).toBe('x00ff');
    expect(keyId([1, 'a', null])).toBe('n1\u0001sa\u0001\u0000');
    expect(keyId(['1', '23'])).not.toBe(keyId(['12', '3']));
  });

  it('looseKeyId folds case and trailing blanks of text only; the exact id when there is none', () => {
    const id = keyId([7, null]);
    expect(looseKeyId([7, null], id)).toBe(id);
    expect(looseKeyId(['AbC \t', 7], 'ignored')).toBe('sabc\u0001n7');
    expect(looseKeyId([' a b '], 'ignored')).toBe('s a b');
    expect(looseKeyId([Buffer.from('A')], 'exact')).toBe('exact');
  });

  it('sourceKeyText: the raw key values, NULL and absent alike, by targetPk or pkNames', () => {
    const image = { id: '7', code: null, note: 'n' };
    expect(sourceKeyText(event(image, ['ID', 'code']), image, route({}))).toBe('s7\u0001\u0000');
    expect(sourceKeyText(event(image), image, route({ targetPk: { a: 'note', b: 'gone' } }))).toBe(
      'sn\u0001\u0000',
    );
    // targetPk names are exact unless caseInsensitive.
    expect(sourceKeyText(event(image), image, route({ targetPk: { a: 'NOTE' } }))).toBe('\u0000');
    const ci = route({ targetPk: { a: 'NOTE' }, caseInsensitive: true });
    expect(sourceKeyText(event(image), image, ci)).toBe('sn');
    // An absent key column is not read under any other name (not even "undefined").
    const odd = { ...image, undefined: 'u' };
    expect(sourceKeyText(event(odd), odd, route({ targetPk: { a: 'gone' } }))).toBe('\u0000');
  });
});
