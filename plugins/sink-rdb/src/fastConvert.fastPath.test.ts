/**
 * Which values a compiled converter handles itself and which it hands to the typed accessor
 * (`toParam`): the fast pairs of fastConvert.ts's module comment, value by value. The result is
 * the same either way (fastConvert.test.ts's sweep); this pins the speed contract, so a fast
 * path that silently stops being taken fails a test.
 */
import type { ColumnMeta } from '@sluice/plugin-api';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type * as ConvertModule from './convert.js';
import type { ConvertOptions } from './convert.js';
import type { TargetColumn, TargetFamily } from './targetTypes.js';

const calls = vi.hoisted(() => ({ n: 0 }));
vi.mock('./convert.js', async (importOriginal) => {
  const original = await importOriginal<typeof ConvertModule>();
  return {
    ...original,
    toParam: (...args: Parameters<typeof original.toParam>) => {
      calls.n++;
      return original.toParam(...args);
    },
  };
});
const { converterFor, isGenericConverter } = await import('./fastConvert.js');
const { toParam } = await import('./convert.js');

const mysql: ConvertOptions = { kind: 'mysql', instantsFromZone: undefined };
const shanghai: ConvertOptions = { kind: 'mysql', instantsFromZone: 'Asia/Shanghai' };
const target = (family: TargetFamily): TargetColumn => ({
  name: 'c',
  dataType: family,
  family,
  bitWidth: 0,
  fixedBits: false,
});

/** Converts each value; returns those that reached the typed accessor. */
function slowOnes(
  meta: ColumnMeta | undefined,
  family: TargetFamily,
  values: readonly string[],
  o = mysql,
): string[] {
  const convert = converterFor(meta, target(family), o, 'src');
  const slow: string[] = [];
  for (const raw of values) {
    calls.n = 0;
    let result: unknown;
    try {
      result = convert(raw);
    } catch {
      result = 'threw';
    }
    if (calls.n > 0) slow.push(raw);
    else {
      // Handled without the accessor: still exactly what it would give.
      calls.n = 0;
      expect(result).toEqual(toParam(raw, meta, target(family), o, 'src'));
    }
  }
  return slow;
}

beforeEach(() => {
  calls.n = 0;
});

describe('fast paths taken, value by value', () => {
  it('text and JSON sent as text, and unknown types: every value, every target but binary', () => {
    const values = ['', 'abc', '12', '2024-01-01', '{"a":1}', 'é😀'];
    for (const family of ['text', 'json', 'integer', 'boolean', 'date', 'other'] as const) {
      expect(slowOnes({ mysqlType: 'varchar(10)', sqlType: 12 }, family, values)).toEqual([]);
      expect(slowOnes({ mysqlType: 'json', sqlType: 12 }, family, values)).toEqual([]);
      expect(slowOnes({ mysqlType: '', sqlType: 12 }, family, values)).toEqual([]);
    }
    // Sent as bytes, or into a binary column: always the accessor.
    expect(slowOnes({ mysqlType: 'json', sqlType: 2004 }, 'json', ['x'])).toEqual(['x']);
    expect(slowOnes({ mysqlType: 'text', sqlType: -4 }, 'text', ['x'])).toEqual(['x']);
    expect(slowOnes({ mysqlType: 'varchar(9)', sqlType: 12 }, 'binary', ['x'])).toEqual(['x']);
    // A malformed column map: the accessor decides.
    expect(slowOnes({ mysqlType: 5, sqlType: 12 } as never, 'text', ['x'])).toEqual(['x']);
    expect(slowOnes({ mysqlType: 'int', sqlType: '4' } as never, 'text', ['5'])).toEqual(['5']);
    expect(slowOnes('int' as never, 'text', ['x'])).toEqual(['x']);
    // No column map at all: an unknown type, taken as sent.
    expect(slowOnes(undefined, 'text', ['x'])).toEqual([]);
  });

  it('integers: up to 15 digits within the type, into integer, year, decimal, float and text', () => {
    const values = [
      '0',
      '-0',
      '7',
      '-7',
      '2147483647',
      '-2147483648',
      '2147483648',
      '-2147483649',
      '',
      '-',
      '+5',
      '1.5',
      '1e3',
      ' 1',
      '12a',
      '/',
      ':',
    ];
    const slow = ['2147483648', '-2147483649', '', '-', '+5', '1.5', '1e3', ' 1', '12a', '/', ':'];
    for (const family of ['integer', 'year', 'decimal', 'float', 'text'] as const)
      expect(slowOnes({ mysqlType: 'int(11)', sqlType: 4 }, family, values)).toEqual(slow);
    expect(
      slowOnes({ mysqlType: 'tinyint(3) unsigned', sqlType: -6 }, 'integer', [
        '0',
        '255',
        '256',
        '-1',
      ]),
    ).toEqual(['256', '-1']);
    expect(
      slowOnes({ mysqlType: 'bigint(20)', sqlType: -5 }, 'integer', [
        '999999999999999',
        '-999999999999999',
        '1000000000000000',
        '-1000000000000000',
        '9223372036854775807',
      ]),
    ).toEqual(['1000000000000000', '-1000000000000000', '9223372036854775807']);
    // Other targets, and integer types of other widths (BIT-like), take the accessor.
    expect(slowOnes({ mysqlType: 'int(11)', sqlType: 4 }, 'boolean', ['1'])).toEqual(['1']);
    expect(slowOnes({ mysqlType: 'int(11)', sqlType: 4 }, 'date', ['1'])).toEqual(['1']);
  });

  it('DECIMAL and FLOAT: texts of the accessor’s shape, not into a boolean', () => {
    const dec = ['1', '-12.30', '0.5', '.5', '5.', '1e3', 'NaN', '', '+1'];
    for (const family of ['decimal', 'float', 'text', 'integer'] as const)
      expect(slowOnes({ mysqlType: 'decimal(12,2)', sqlType: 3 }, family, dec)).toEqual([
        '.5',
        '5.',
        '1e3',
        'NaN',
        '',
        '+1',
      ]);
    expect(slowOnes({ mysqlType: 'decimal(12,2)', sqlType: 3 }, 'boolean', ['1'])).toEqual(['1']);
    const flt = [
      '1',
      '-1.5',
      '.25',
      '5.',
      '1E10',
      '-1e-3',
      'Infinity',
      '-Infinity',
      'NaN',
      '',
      'e3',
      '+1',
    ];
    for (const family of ['float', 'decimal', 'text'] as const)
      expect(slowOnes({ mysqlType: 'double', sqlType: 8 }, family, flt)).toEqual(['', 'e3', '+1']);
    expect(slowOnes({ mysqlType: 'float', sqlType: 7 }, 'boolean', ['1'])).toEqual(['1']);
  });

  it('DATE, TIME, DATETIME, TIMESTAMP and YEAR', () => {
    expect(
      slowOnes({ mysqlType: 'date', sqlType: 91 }, 'date', [
        '2024-06-01',
        '2024-6-1',
        '0000-00-00',
        'x',
      ]),
    ).toEqual(['2024-6-1', 'x']);
    expect(
      slowOnes({ mysqlType: 'time', sqlType: 92 }, 'time', [
        '12:30:00',
        '-838:59:59',
        '12:30:00.5',
        '12:30',
        '1:00:00',
      ]),
    ).toEqual(['12:30', '1:00:00']);
    const dt = [
      '2024-06-01 12:00:00',
      '2024-06-01T12:00:00',
      '2024-06-01 12:00:00.123456',
      '2024-06-01 12:00',
      'x',
    ];
    for (const type of ['datetime', 'timestamp(3)'])
      for (const family of ['datetime', 'timestamp', 'text'] as const)
        expect(slowOnes({ mysqlType: type, sqlType: 93 }, family, dt)).toEqual([
          '2024-06-01 12:00',
          'x',
        ]);
    // An instant target with a source zone: converted to UTC without the accessor.
    expect(slowOnes({ mysqlType: 'timestamp', sqlType: 93 }, 'timestamp', dt, shanghai)).toEqual([
      '2024-06-01 12:00',
      'x',
    ]);
    // A source zone changes only instant targets: a DATETIME column takes the text as sent.
    expect(slowOnes({ mysqlType: 'timestamp', sqlType: 93 }, 'datetime', dt, shanghai)).toEqual([
      '2024-06-01 12:00',
      'x',
    ]);
    expect(
      slowOnes({ mysqlType: 'year', sqlType: 91 }, 'integer', ['2024', '0000', '99', 'x']),
    ).toEqual(['99', 'x']);
    expect(slowOnes({ mysqlType: 'year(4)', sqlType: 91 }, 'year', ['2024'])).toEqual([]);
    expect(slowOnes({ mysqlType: 'year', sqlType: 91 }, 'text', ['2024'])).toEqual(['2024']);
  });

  it('says which converters always take the accessor', () => {
    const text = { mysqlType: 'varchar(9)', sqlType: 12 };
    expect(isGenericConverter(converterFor(text, target('text'), mysql, 'c'))).toBe(false);
    expect(isGenericConverter(converterFor(text, target('binary'), mysql, 'c'))).toBe(true);
    expect(isGenericConverter((raw: string) => raw)).toBe(false);
  });

  it('BIT, ENUM and SET always take the accessor', () => {
    expect(slowOnes({ mysqlType: 'bit(3)', sqlType: -7 }, 'bit', ['5'])).toEqual(['5']);
    expect(slowOnes({ mysqlType: "enum('a','b')", sqlType: 4 }, 'enum', ['1'])).toEqual(['1']);
    expect(slowOnes({ mysqlType: "set('a','b')", sqlType: -7 }, 'set', ['3'])).toEqual(['3']);
  });
});
