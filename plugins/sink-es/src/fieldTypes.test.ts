import { describe, expect, it } from 'vitest';
import { DocumentError } from './document.js';
import { convertDocument, convertValue, fieldTypes, type FieldType } from './fieldTypes.js';

const t = (type: string, format?: string): FieldType => ({ type, format });
const bad = (type: FieldType, v: unknown) => () =>
  convertValue('f', type, v as string | number | boolean | null);

describe('fieldTypes', () => {
  it('reads top-level types; sub-properties without a type are object', () => {
    expect(
      fieldTypes({
        n: { type: 'long' },
        d: { type: 'date', format: 'yyyy/MM/dd' },
        o: { properties: { x: { type: 'keyword' } } },
        weird: {},
      }),
    ).toEqual(
      new Map([
        ['n', t('long')],
        ['d', t('date', 'yyyy/MM/dd')],
        ['o', t('object')],
      ]),
    );
  });
});

describe('convertValue (canal ESSyncUtil.typeConvert, with errors instead of nulls)', () => {
  it('integers: numbers, integral text (exact beyond 2^53), booleans; range-checked', () => {
    expect(convertValue('f', t('long'), '42')).toBe(42);
    expect(convertValue('f', t('long'), ' -7 ')).toBe(-7);
    expect(convertValue('f', t('long'), '19.00')).toBe(19);
    expect(convertValue('f', t('long'), '9223372036854775807')).toBe('9223372036854775807');
    expect(convertValue('f', t('integer'), true)).toBe(1);
    expect(convertValue('f', t('unsigned_long'), '18446744073709551615')).toBe(
      '18446744073709551615',
    );
    expect(bad(t('long'), 'abc')).toThrow('field "f" (long): "abc" is not an integer');
    expect(bad(t('long'), 1.5)).toThrow(/is not an integer/);
    expect(bad(t('long'), '12.5')).toThrow(/is not an integer/);
    expect(bad(t('byte'), '200')).toThrow('field "f" (byte): 200 is out of range [-128, 127]');
    expect(bad(t('long'), '9223372036854775808')).toThrow(/out of range/);
    expect(bad(t('unsigned_long'), -1)).toThrow(DocumentError);
  });

  it('floats: numbers and numeric text', () => {
    expect(convertValue('f', t('double'), '3.5')).toBe(3.5);
    expect(convertValue('f', t('scaled_float'), '19.90')).toBe(19.9);
    expect(convertValue('f', t('float'), '1e3')).toBe(1000);
    expect(convertValue('f', t('half_float'), 2)).toBe(2);
    expect(bad(t('double'), 'n/a')).toThrow('field "f" (double): "n/a" is not a number');
  });

  it('boolean: tinyint(1) numbers, true/false/1/0 text', () => {
    expect(convertValue('f', t('boolean'), 1)).toBe(true);
    expect(convertValue('f', t('boolean'), 0)).toBe(false);
    expect(convertValue('f', t('boolean'), 2)).toBe(true);
    expect(convertValue('f', t('boolean'), 'TRUE')).toBe(true);
    expect(convertValue('f', t('boolean'), '0')).toBe(false);
    expect(bad(t('boolean'), 'yes')).toThrow(/"yes" is not a boolean/);
  });

  it('date: ISO kept, SQL datetime text gets a T, epoch kept, zero dates null, custom format untouched', () => {
    expect(convertValue('f', t('date'), '2026-12-01')).toBe('2026-12-01');
    expect(convertValue('f', t('date'), '2026-12-01T08:00:00.123')).toBe('2026-12-01T08:00:00.123');
    expect(convertValue('f', t('date'), '2026-12-01T08:00:00+08:00')).toBe(
      '2026-12-01T08:00:00+08:00',
    );
    expect(convertValue('f', t('date'), '2026-12-01 08:00:00')).toBe('2026-12-01T08:00:00');
    expect(convertValue('f', t('date_nanos'), '2026-12-01 08:00:00.123456')).toBe(
      '2026-12-01T08:00:00.123456',
    );
    expect(convertValue('f', t('date'), 1764576000000)).toBe(1764576000000);
    expect(convertValue('f', t('date'), '0000-00-00 00:00:00')).toBeNull();
    expect(convertValue('f', t('date', 'yyyy/MM/dd'), '2026/12/01')).toBe('2026/12/01');
    expect(bad(t('date'), '01/12/2026')).toThrow(
      /field "f" \(date\): "01\/12\/2026" is not a date Elasticsearch reads with the default format/,
    );
    expect(bad(t('date'), '10:00:00')).toThrow(DocumentError);
  });

  it('object: JSON text parsed (empty → {}), other values as they are', () => {
    expect(convertValue('f', t('object'), '{"a":1,"b":[2]}')).toEqual({ a: 1, b: [2] });
    expect(convertValue('f', t('nested'), '[{"a":1}]')).toEqual([{ a: 1 }]);
    expect(convertValue('f', t('object'), '')).toEqual({});
    expect(bad(t('object'), '{nope')).toThrow(/field "f" \(object\): the value is not JSON/);
    expect(bad(t('object'), '"s"')).toThrow(/not a JSON object or array/);
  });

  it('keyword, text, unknown types, unmapped fields and NULL keep the source value', () => {
    expect(convertValue('f', t('keyword'), 42)).toBe(42);
    expect(convertValue('f', t('text'), '007')).toBe('007');
    expect(convertValue('f', t('geo_point'), '1,2')).toBe('1,2');
    expect(convertValue('f', undefined, '42')).toBe('42');
    expect(convertValue('f', t('long'), null)).toBeNull();
  });

  it('arrays are converted element by element', () => {
    expect(convertValue('f', t('long'), ['1', '2'])).toEqual([1, 2]);
  });
});

describe('convertDocument', () => {
  it('converts every field except those the mapping file shapes', () => {
    const types = new Map([
      ['n', t('long')],
      ['tags', t('long')],
      ['rel', t('join')],
    ]);
    expect(
      convertDocument({ n: '1', tags: ['x'], rel: { name: 'a' } }, types, new Set(['tags'])),
    ).toEqual({ n: 1, tags: ['x'], rel: { name: 'a' } });
  });
});
