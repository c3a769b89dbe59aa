import { describe, expect, it } from 'vitest';
import { DocumentError } from './document.js';
import { convertDocument, convertValue, fieldTypes, type FieldType } from './fieldTypes.js';
import type { FieldMapping } from './searchApi.js';

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

describe('convertValue: every branch, with the exact message a user reads', () => {
  const msg = (type: FieldType, v: unknown): string => {
    try {
      bad(type, v)();
    } catch (e) {
      expect(e).toBeInstanceOf(DocumentError);
      return (e as Error).message;
    }
    throw new Error(`no error for ${JSON.stringify(v)}`);
  };

  it('a date format that is not a string (from the server’s JSON) is ignored', () => {
    expect(fieldTypes({ d: { type: 'date', format: 5 } as unknown as FieldMapping })).toEqual(
      new Map([['d', t('date')]]),
    );
  });

  it('shows a value as JSON, cut to 57 characters and "..." beyond 60', () => {
    const long = 'x'.repeat(70);
    expect(msg(t('long'), long)).toBe(
      `field "f" (long): ${JSON.stringify(long).slice(0, 57)}... is not an integer`,
    );
    const sixty = 'y'.repeat(58); // 60 characters with its quotes: shown whole
    expect(msg(t('long'), sixty)).toBe(`field "f" (long): "${sixty}" is not an integer`);
  });

  it('integers: JSON numbers, booleans both ways, padded text, the exact bounds', () => {
    expect(convertValue('f', t('long'), 42)).toBe(42);
    expect(convertValue('f', t('long'), -3)).toBe(-3);
    expect(convertValue('f', t('long'), false)).toBe(0);
    expect(convertValue('f', t('long'), ' 19.00 ')).toBe(19);
    expect(msg(t('long'), 1.5)).toBe('field "f" (long): 1.5 is not an integer');
    expect(msg(t('long'), { a: 1 })).toBe('field "f" (long): {"a":1} is not an integer');
    expect(convertValue('f', t('byte'), '-128')).toBe(-128);
    expect(convertValue('f', t('byte'), '127')).toBe(127);
    expect(msg(t('byte'), -129)).toBe('field "f" (byte): -129 is out of range [-128, 127]');
    // Exact as a JSON number up to ±(2^53 − 1), as text beyond.
    expect(convertValue('f', t('long'), '9007199254740991')).toBe(9007199254740991);
    expect(convertValue('f', t('long'), '-9007199254740991')).toBe(-9007199254740991);
    expect(convertValue('f', t('long'), '9007199254740992')).toBe('9007199254740992');
    expect(convertValue('f', t('long'), '-9007199254740992')).toBe('-9007199254740992');
  });

  it('floats: booleans both ways, padded text; anything else is an error', () => {
    expect(convertValue('f', t('double'), true)).toBe(1);
    expect(convertValue('f', t('double'), false)).toBe(0);
    expect(convertValue('f', t('double'), ' 3.5 ')).toBe(3.5);
    expect(msg(t('float'), { a: 1 })).toBe('field "f" (float): {"a":1} is not a number');
  });

  it('booleans: as they are, padded text of any case, empty text false', () => {
    expect(convertValue('f', t('boolean'), true)).toBe(true);
    expect(convertValue('f', t('boolean'), false)).toBe(false);
    expect(convertValue('f', t('boolean'), ' True ')).toBe(true);
    expect(convertValue('f', t('boolean'), '1')).toBe(true);
    expect(convertValue('f', t('boolean'), 'FALSE')).toBe(false);
    expect(convertValue('f', t('boolean'), '')).toBe(false);
    expect(msg(t('boolean'), 'no')).toBe(
      'field "f" (boolean): "no" is not a boolean (expected true/false or a number)',
    );
    expect(msg(t('boolean'), { a: 1 })).toMatch(
      /^field "f" \(boolean\): \{"a":1\} is not a boolean/,
    );
  });

  it('dates: zero year, month or day → null only at the start; padded text; epoch text of any length', () => {
    expect(convertValue('f', t('date'), '0000-01-01')).toBeNull();
    expect(convertValue('f', t('date'), '2026-00-15')).toBeNull();
    expect(convertValue('f', t('date'), '2026-12-00 10:00:00')).toBeNull();
    expect(convertValue('f', t('date'), ' 2026-12-01 ')).toBe('2026-12-01');
    expect(convertValue('f', t('date'), '1764576000000')).toBe('1764576000000');
    expect(convertValue('f', t('date'), '-86400000')).toBe('-86400000');
    expect(convertValue('f', t('date'), '7')).toBe('7');
    for (const v of ['12026-00-01', 'x2026-12-00', 'x0000-01-01', { a: 1 }])
      expect(msg(t('date'), v)).toMatch(/is not a date Elasticsearch reads/);
  });

  it('objects: non-text as it is, blank text {}, JSON null or a scalar is an error', () => {
    expect(convertValue('f', t('object'), 5)).toBe(5);
    expect(convertValue('f', t('flattened'), '  ')).toEqual({});
    expect(msg(t('object'), 'null')).toBe(
      'field "f" (object): "null" is not a JSON object or array',
    );
    expect(msg(t('nested'), '5')).toBe('field "f" (nested): "5" is not a JSON object or array');
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
