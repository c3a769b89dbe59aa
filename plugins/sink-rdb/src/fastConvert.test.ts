import { describe, expect, it } from 'vitest';
import type { ColumnMeta } from '@sluice/plugin-api';
import { toParam, type ConvertOptions } from './convert.js';
import { converterFor, isGenericConverter } from './fastConvert.js';
import type { Param } from './statementSql.js';
import type { TargetColumn, TargetFamily } from './targetTypes.js';

const FAMILIES: readonly TargetFamily[] = [
  'integer',
  'boolean',
  'decimal',
  'float',
  'bit',
  'enum',
  'set',
  'date',
  'datetime',
  'timestamp',
  'time',
  'interval',
  'year',
  'json',
  'text',
  'binary',
  'other',
];
const TARGETS: TargetColumn[] = FAMILIES.flatMap((family) =>
  (family === 'bit' ? [0, 8, 64] : [0]).flatMap((bitWidth) =>
    (family === 'bit' ? [false, true] : [false]).map((fixedBits) => ({
      name: 'c',
      dataType: family,
      family,
      bitWidth,
      fixedBits,
    })),
  ),
);
const OPTIONS: ConvertOptions[] = [
  { kind: 'mysql', instantsFromZone: undefined },
  { kind: 'mysql', instantsFromZone: 'Asia/Shanghai' },
  { kind: 'postgresql', instantsFromZone: undefined },
];
const TYPES = [
  'tinyint(4)',
  'tinyint(3) unsigned',
  'tinyint(1)',
  'smallint(6)',
  'smallint(5) unsigned',
  'mediumint(9)',
  'mediumint(8) unsigned',
  'int(11)',
  'int(10) unsigned',
  'int(10) unsigned zerofill',
  'bigint(20)',
  'bigint(20) unsigned',
  'bool',
  'serial',
  'decimal(12,2)',
  'decimal(65,30) unsigned',
  'float',
  'double',
  'date',
  'datetime',
  'datetime(6)',
  'timestamp',
  'timestamp(3)',
  'time',
  'time(1)',
  'year',
  'year(4)',
  'varchar(64)',
  'char(3)',
  'text',
  'longtext',
  'json',
  "enum('a','b')",
  'enum',
  "set('x','y')",
  'set',
  'bit(1)',
  'bit(12)',
  'bit(64)',
  'binary(4)',
  'varbinary(8)',
  'blob',
  'geometry',
  'point',
  '',
];
const latin1 = (s: string) => Buffer.from(s, 'utf8').toString('latin1');
const VALUES = [
  '0',
  '-0',
  '1',
  '-1',
  '5',
  '-3',
  '127',
  '128',
  '-128',
  '-129',
  '255',
  '256',
  '32767',
  '65535',
  '65536',
  '8388607',
  '16777215',
  '16777216',
  '2147483647',
  '2147483648',
  '-2147483648',
  '-2147483649',
  '4294967295',
  '4294967296',
  '007',
  '-007',
  '+5',
  '',
  '-',
  ' 1',
  '1 ',
  '1.5',
  '1e3',
  '12.30',
  '-0.00',
  '.5',
  '5.',
  'NaN',
  'Infinity',
  '-Infinity',
  '999999999999999',
  '-999999999999999',
  '1000000000000000',
  '9999999999999999',
  '9007199254740993',
  '9223372036854775807',
  '9223372036854775808',
  '-9223372036854775808',
  '-9223372036854775809',
  '18446744073709551615',
  '18446744073709551616',
  '0000-00-00',
  '2024-06-01',
  '2024-6-1',
  '2024-06-01 12:00:00',
  '0000-00-00 00:00:00',
  '2024-06-01T12:00:00',
  '2024-06-01 12:00:00.123456',
  '2024-06-01 12:00:00.1234567890',
  '2024-06-01 12:00',
  '24:00:00',
  '838:59:59',
  '-838:59:59',
  '-12:30:00.5',
  '12:30',
  '2024',
  '0000',
  '99',
  'abc',
  'é',
  '😀 emoji',
  '{"a":1}',
  'JSON_REPLACE(x)',
  'a,b',
  latin1('ä😀'),
  latin1('\u00ff'),
  '\u0000\u00ff',
  'Ā',
  'true',
];
const METAS = (mysqlType: string): (ColumnMeta | undefined)[] => [
  { mysqlType, sqlType: 12 },
  { mysqlType, sqlType: 2004 },
  ...(mysqlType === '' ? [undefined] : []),
];

type Outcome = { ok: true; value: Param } | { ok: false; type: string; message: string };
function outcome(f: () => Param): Outcome {
  try {
    return { ok: true, value: f() };
  } catch (error) {
    return { ok: false, type: (error as Error).name, message: (error as Error).message };
  }
}
function same(a: Outcome, b: Outcome): boolean {
  if (!a.ok || !b.ok) return JSON.stringify(a) === JSON.stringify(b);
  if (Buffer.isBuffer(a.value) || Buffer.isBuffer(b.value))
    return Buffer.isBuffer(a.value) && Buffer.isBuffer(b.value) && a.value.equals(b.value);
  return Object.is(a.value, b.value);
}

describe('converterFor', () => {
  it('returns exactly what toParam returns (or throws what it throws) for every type pair and edge value', () => {
    const mismatches: string[] = [];
    let compared = 0;
    for (const type of TYPES)
      for (const meta of METAS(type))
        for (const col of TARGETS)
          // The kind and the source zone change toParam's result for these targets only.
          for (const o of ['timestamp', 'bit', 'boolean'].includes(col.family)
            ? OPTIONS
            : OPTIONS.slice(0, 1)) {
            const convert = converterFor(meta, col, o, 'src');
            for (const raw of VALUES) {
              const expected = outcome(() => toParam(raw, meta, col, o, 'src'));
              const actual = outcome(() => convert(raw));
              compared++;
              if (!same(expected, actual))
                mismatches.push(
                  `${o.kind}/${o.instantsFromZone ?? '-'} ${type}/${meta?.sqlType ?? '-'} → ${col.family}(${col.bitWidth}${col.fixedBits ? 'f' : ''}) ${JSON.stringify(raw)}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`,
                );
            }
          }
    expect(compared).toBeGreaterThan(200_000);
    expect(mismatches.slice(0, 20)).toEqual([]);
  }, 120_000);

  it('takes the fast path for the common pairs (integers, decimals, text, dates into the same family)', () => {
    const o = OPTIONS[0]!;
    const col = (family: TargetFamily): TargetColumn => TARGETS.find((t) => t.family === family)!;
    const fast = (mysqlType: string, family: TargetFamily, sqlType = 12) =>
      !isGenericConverter(converterFor({ mysqlType, sqlType }, col(family), o, 'src'));
    expect(fast('bigint(20)', 'integer', -5)).toBe(true);
    expect(fast('int(10) unsigned', 'integer', 4)).toBe(true);
    expect(fast('decimal(12,2)', 'decimal', 3)).toBe(true);
    expect(fast('varchar(64)', 'text')).toBe(true);
    expect(fast('json', 'json')).toBe(true);
    expect(fast('datetime', 'datetime', 93)).toBe(true);
    expect(fast('timestamp', 'timestamp', 93)).toBe(true);
    expect(fast('date', 'date', 91)).toBe(true);
    // Bytes, BIT, ENUM and SET always take the typed accessor.
    expect(fast('json', 'json', 2004)).toBe(false);
    expect(fast('varbinary(8)', 'binary', 2004)).toBe(false);
    expect(fast('bit(3)', 'bit', -7)).toBe(false);
    expect(fast("enum('a')", 'enum', 4)).toBe(false);
    expect(fast('varchar(8)', 'binary')).toBe(false);
  });

  it('fast integers: numbers exactly as the typed accessor gives them', () => {
    const o = OPTIONS[0]!;
    const int = TARGETS.find((t) => t.family === 'integer')!;
    const c = converterFor({ mysqlType: 'int(11)', sqlType: 4 }, int, o, 'src');
    expect(c('42')).toBe(42);
    expect(Object.is(c('-0'), 0)).toBe(true);
    expect(c('007')).toBe(7);
    expect(() => c('2147483648')).toThrow(/in range/);
    expect(() => c('1.5')).toThrow(/integer/);
    const big = converterFor({ mysqlType: 'bigint(20) unsigned', sqlType: -5 }, int, o, 'src');
    expect(big('18446744073709551615')).toBe('18446744073709551615');
    expect(big('999999999999999')).toBe(999999999999999);
    expect(() => big('-1')).toThrow(/in range/);
  });
});
