import { describe, expect, it } from 'vitest';
import { typedValue } from '@sluice/canal-protocol';
import { hashValue, jsonOf, jsonValue, MissingColumnError } from './rowValue.js';

const j = (text: string | null, type: string) => jsonOf(typedValue(text, type));

describe('jsonOf', () => {
  it('maps every typed value to exact JSON', () => {
    expect(j(null, 'int')).toBeNull();
    expect(j('42', 'int')).toBe(42);
    expect(j('9007199254740993', 'bigint')).toBe('9007199254740993');
    expect(j('5', 'bit(3)')).toBe(5);
    expect(j('18446744073709551615', 'bit(64)')).toBe('18446744073709551615');
    expect(j('19.90', 'decimal(4,2)')).toBe('19.90');
    expect(j('1.5', 'double')).toBe(1.5);
    expect(j('NaN', 'double')).toBe('NaN');
    expect(j('-Infinity', 'double')).toBe('-Infinity');
    expect(j('2', "enum('a','b')")).toBe('b');
    expect(j('5', "set('a','b','c')")).toBe('a,c');
    expect(j('2024-01-02', 'date')).toBe('2024-01-02');
    expect(j('2024-01-02 03:04:05.25', 'datetime(2)')).toBe('2024-01-02 03:04:05.25');
    expect(j('2024-01-02 03:04:05', 'timestamp')).toBe('2024-01-02 03:04:05');
    expect(j('-01:02:03', 'time')).toBe('-01:02:03');
    expect(j('2024', 'year')).toBe(2024);
    expect(j('{"a":[1,2]}', 'json')).toEqual({ a: [1, 2] });
    expect(j('not json', 'json')).toBe('not json');
    expect(j("JSON_REPLACE(@, '$.a', 1)", 'json')).toBe("JSON_REPLACE(@, '$.a', 1)");
    expect(j('"quoted"', 'json')).toBe('quoted');
    expect(j('héllo', 'varchar(5)')).toBe('héllo');
    expect(j('\u0000\u00ff', 'blob')).toBe('AP8=');
    expect(j('x', 'geometry')).toBe('eA==');
    expect(j('x', 'mystery_type')).toBe('x');
  });

  it('ENUM/SET without members: the index / bitmask, never a dropped field', () => {
    expect(j('2', 'enum')).toBe(2);
    expect(j('5', 'set')).toBe(5);
    expect(j('18446744073709551615', 'set')).toBe('18446744073709551615');
    expect(
      JSON.parse(
        jsonValue(
          { e: '2', s: '5' },
          { e: { mysqlType: 'enum', sqlType: 4 }, s: { mysqlType: 'set', sqlType: -7 } },
          undefined,
        ),
      ),
    ).toEqual({ e: 2, s: 5 });
  });
});

describe('jsonValue', () => {
  const columns = {
    id: { mysqlType: 'int', sqlType: 4 },
    name: { mysqlType: 'varchar(10)', sqlType: 12 },
    at: { mysqlType: 'datetime', sqlType: 93 },
  };
  const row = { id: '7', name: 'ann', at: null };

  it('all columns by name, typed, when no fields are projected', () => {
    expect(jsonValue(row, columns, undefined)).toBe('{"id":7,"name":"ann","at":null}');
  });

  it('projected fields: field names, in the projection order', () => {
    expect(
      jsonValue(row, columns, [
        ['n', 'name'],
        ['key', 'id'],
      ]),
    ).toBe('{"n":"ann","key":7}');
  });

  it('a column without type information is its text; a projected column missing from the image throws', () => {
    expect(jsonValue({ x: '1' }, {}, undefined)).toBe('{"x":"1"}');
    expect(() => jsonValue(row, columns, [['z', 'zz']])).toThrow(MissingColumnError);
    expect(() => jsonValue(row, columns, [['z', 'toString']])).toThrow(
      /"toString" is not in the row image/,
    );
    expect(jsonValue({ toString: '1' }, {}, [['t', 'toString']])).toBe('{"t":"1"}');
  });

  it('a value that does not fit its type is a DecodeError', () => {
    expect(() => jsonValue({ id: 'x' }, columns, undefined)).toThrow(/not an integer/);
  });
});

describe('hashValue', () => {
  it('flattens field/value pairs as canal text, leaving NULLs out', () => {
    expect(hashValue({ id: '7', name: null, v: '1.0' }, undefined)).toEqual([
      'id',
      '7',
      'v',
      '1.0',
    ]);
    expect(
      hashValue({ id: '7', name: 'a' }, [
        ['n', 'name'],
        ['i', 'id'],
      ]),
    ).toEqual(['n', 'a', 'i', '7']);
    expect(() => hashValue({ id: '7' }, [['n', 'name']])).toThrow(MissingColumnError);
  });
});

describe('MissingColumnError', () => {
  it('names the column and itself', () => {
    const e = new MissingColumnError('phone');
    expect(e.name).toBe('MissingColumnError');
    expect(e.message).toBe('Column "phone" is not in the row image.');
  });
});
