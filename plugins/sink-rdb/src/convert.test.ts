import { describe, expect, it } from 'vitest';
import type { ColumnMeta } from '@sluice/plugin-api';
import { toParam, ValueError, type ConvertOptions } from './convert.js';
import type { TargetColumn, TargetFamily } from './targetTypes.js';

const mysql: ConvertOptions = { kind: 'mysql', instantsFromZone: undefined };
const pg: ConvertOptions = { kind: 'postgresql', instantsFromZone: undefined };
const col = (family: TargetFamily, extra: Partial<TargetColumn> = {}): TargetColumn => ({
  name: 'c',
  dataType: family,
  family,
  bitWidth: 0,
  fixedBits: false,
  ...extra,
});
const meta = (mysqlType: string, sqlType = 12): ColumnMeta => ({ mysqlType, sqlType });
const param = (
  raw: string | null,
  mysqlType: string,
  target: TargetColumn,
  o: ConvertOptions = mysql,
  sqlType?: number,
) => toParam(raw, meta(mysqlType, sqlType), target, o, 'src');
const latin1 = (s: string) => Buffer.from(s, 'utf8').toString('latin1');

describe('toParam', () => {
  it('NULL is null for every target', () => {
    for (const family of ['integer', 'text', 'bit', 'json', 'binary'] as const)
      expect(param(null, 'int', col(family))).toBeNull();
  });

  it('integer and year targets: numbers, bigint as text, ENUM index, SET mask, YEAR, DECIMAL text', () => {
    const int = col('integer');
    expect(param('42', 'int', int)).toBe(42);
    expect(param('-9223372036854775808', 'bigint', int)).toBe('-9223372036854775808');
    expect(param('5', 'bit(8)', int)).toBe(5);
    expect(param('18446744073709551615', 'bit(64)', int)).toBe('18446744073709551615');
    expect(param('2', "enum('a','b')", int)).toBe(2);
    expect(param('2', 'enum', int)).toBe('2');
    expect(param('5', "set('a','b','c')", int)).toBe(5);
    const wide = `set(${Array.from({ length: 64 }, (_, i) => `'m${i}'`).join(',')})`;
    expect(param('9223372036854775808', wide, int)).toBe('9223372036854775808');
    expect(param('2024', 'year', col('year'))).toBe(2024);
    expect(param('19.90', 'decimal(10,2)', int)).toBe('19.90');
    expect(param('12', 'varchar(5)', int)).toBe('12');
    expect(param('7', 'blob', int, mysql, 2004)).toBe('7');
    expect(() => param('\u00ff', 'blob', int, mysql, 2004)).toThrow(ValueError);
    expect(param('1.5', 'double', int)).toBe('1.5');
  });

  it('boolean targets: non-zero numbers are true', () => {
    const b = col('boolean');
    expect(param('1', 'tinyint(1)', b, pg)).toBe('true');
    expect(param('0', 'tinyint(1)', b, pg)).toBe('false');
    expect(param('-3', 'int', b, pg)).toBe('true');
    expect(param('1', 'bit(1)', b, pg)).toBe('true');
    expect(param('0', 'bit(1)', b, pg)).toBe('false');
    expect(param('0.0', 'decimal(3,1)', b, pg)).toBe('false');
    expect(param('0.5', 'decimal(3,1)', b, pg)).toBe('true');
    expect(param('0.0', 'double', b, pg)).toBe('false');
    expect(param('2.5', 'float', b, pg)).toBe('true');
    expect(param('yes', 'varchar(3)', b, pg)).toBe('yes');
  });

  it('decimal and float targets: exact text', () => {
    for (const family of ['decimal', 'float'] as const) {
      const d = col(family);
      expect(param('9007199254740993', 'bigint', d)).toBe('9007199254740993');
      expect(param('42', 'int', d)).toBe('42');
      expect(param('6', 'bit(4)', d)).toBe('6');
      expect(param('2', "enum('a','b')", d)).toBe('2');
      expect(param('3', "set('a','b')", d)).toBe('3');
      expect(param('1999', 'year', d)).toBe('1999');
      expect(param('1.0E10', 'double', d)).toBe('1.0E10');
      expect(param('19.90', 'decimal(10,2)', d)).toBe('19.90');
    }
  });

  it('BIT targets on MySQL: big-endian bytes of the column width (64 when unknown)', () => {
    expect(param('5', 'bit(3)', col('bit', { bitWidth: 3 }))).toEqual(Buffer.from([5]));
    expect(param('258', 'bit(16)', col('bit', { bitWidth: 16 }))).toEqual(Buffer.from([1, 2]));
    expect(param('1', 'bit(9)', col('bit', { bitWidth: 9 }))).toEqual(Buffer.from([0, 1]));
    expect(param('1', 'int', col('bit', { bitWidth: 0 }))).toEqual(
      Buffer.from([0, 0, 0, 0, 0, 0, 0, 1]),
    );
    expect(param('18446744073709551615', 'bit(64)', col('bit', { bitWidth: 64 }))).toEqual(
      Buffer.alloc(8, 0xff),
    );
    expect(() => param('256', 'int', col('bit', { bitWidth: 8 }))).toThrow(
      /256 does not fit in BIT\(8\)/,
    );
    expect(() => param('-1', 'int', col('bit', { bitWidth: 8 }))).toThrow(/negative number/);
    expect(param('5', "set('a','b','c')", col('bit', { bitWidth: 8 }))).toEqual(Buffer.from([5]));
    expect(param('5', 'set', col('bit', { bitWidth: 8 }))).toEqual(Buffer.from([5]));
    expect(param('\u0001\u0002', 'binary(2)', col('bit', { bitWidth: 16 }), mysql, 2004)).toEqual(
      Buffer.from([1, 2]),
    );
    expect(param('x', 'varchar(1)', col('bit', { bitWidth: 8 }))).toBe('x');
  });

  it('BIT targets on PostgreSQL: 0/1 text, padded to a fixed bit(n)', () => {
    expect(param('5', 'bit(3)', col('bit', { bitWidth: 3 }), pg)).toBe('101');
    expect(param('5', 'bit(3)', col('bit', { bitWidth: 6, fixedBits: true }), pg)).toBe('000101');
    expect(param('5', 'bit(3)', col('bit', { bitWidth: 6, fixedBits: false }), pg)).toBe('101');
    expect(param('5', 'bit(3)', col('bit', { bitWidth: 0, fixedBits: true }), pg)).toBe('101');
    expect(param('7', 'bit(3)', col('bit', { bitWidth: 3, fixedBits: true }), pg)).toBe('111');
    expect(() => param('8', 'int', col('bit', { bitWidth: 3, fixedBits: true }), pg)).toThrow(
      /8 does not fit in bit\(3\)/,
    );
    expect(param('\u0001', 'binary(1)', col('bit', { bitWidth: 8 }), pg, 2004)).toBe('\u0001');
  });

  it('ENUM targets: the label, or the index when canal gave no members', () => {
    expect(param('2', "enum('a','b')", col('enum'))).toBe('b');
    expect(param('0', "enum('a','b')", col('enum'))).toBe('');
    expect(param('2', 'enum', col('enum'))).toBe(2);
    expect(param('b', 'varchar(1)', col('enum'))).toBe('b');
  });

  it('SET targets: the labels, or the bitmask when canal gave no members', () => {
    expect(param('5', "set('a','b','c')", col('set'))).toBe('a,c');
    expect(param('0', "set('a','b','c')", col('set'))).toBe('');
    expect(param('5', 'set', col('set'))).toBe(5);
    expect(param('18446744073709551615', 'set', col('set'))).toBe('18446744073709551615');
    expect(param('a,b', 'varchar(3)', col('set'))).toBe('a,b');
  });

  it('text targets: labels, never an index or a mask whose labels are unknown', () => {
    const text = col('text');
    expect(param('2', "enum('a','b')", text)).toBe('b');
    expect(() => param('2', 'enum', text)).toThrow(/ENUM index 2 .* label is unknown/);
    expect(param('3', "set('a','b')", text)).toBe('a,b');
    expect(param('0', 'set', text)).toBe('');
    expect(() => param('3', 'set', text)).toThrow(/SET bitmask 3 .* labels are unknown/);
    expect(() => param('2', 'enum', col('json'))).toThrow(ValueError);
  });

  it('text targets: every typed value as its text', () => {
    const text = col('text');
    expect(param('héllo', 'varchar(10)', text)).toBe('héllo');
    expect(param('{"a":1}', 'json', col('json'))).toBe('{"a":1}');
    expect(param(latin1('{"é":1}'), 'json', col('json'), mysql, 2004)).toBe('{"é":1}');
    expect(param(latin1('ünï'), 'blob', text, mysql, 2004)).toBe('ünï');
    expect(() => param('\u00ff\u00fe', 'blob', text, mysql, 2004)).toThrow(/not UTF-8 text/);
    expect(param('9007199254740993', 'bigint', text)).toBe('9007199254740993');
    expect(param('5', 'bit(3)', text)).toBe('5');
    expect(param('1.50', 'decimal(3,2)', text)).toBe('1.50');
    expect(param('2024-01-02', 'date', col('date'))).toBe('2024-01-02');
    expect(param('2024-01-02 03:04:05.5', 'datetime(1)', col('datetime'))).toBe(
      '2024-01-02 03:04:05.5',
    );
    expect(param('2024-01-02 03:04:05', 'timestamp', text)).toBe('2024-01-02 03:04:05');
    expect(param('-838:59:59', 'time', col('time'))).toBe('-838:59:59');
    expect(param('01:00:00', 'time', col('interval'))).toBe('01:00:00');
    expect(param('1.0E10', 'double', text)).toBe('1.0E10');
    expect(param('2024', 'year', col('other'))).toBe('2024');
    expect(param('POINT', 'geometry', col('other'))).toBe('POINT');
  });

  it('instant targets: wall clock read in sourceTimeZone becomes UTC text (MySQL); otherwise as sent', () => {
    const zoned: ConvertOptions = { kind: 'mysql', instantsFromZone: '+08:00' };
    const ts = col('timestamp');
    expect(param('2024-01-02 03:04:05', 'timestamp', ts, zoned)).toBe('2024-01-01 19:04:05');
    expect(param('2024-01-02 03:04:05', 'datetime', ts, zoned)).toBe('2024-01-01 19:04:05');
    expect(param('2024-01-02 03:04:05', 'timestamp', ts, mysql)).toBe('2024-01-02 03:04:05');
    expect(param('2024-01-02', 'date', ts, zoned)).toBe('2024-01-02');
  });

  it('binary targets: the original bytes, or the UTF-8 of the text', () => {
    const bin = col('binary');
    const out = param('\u0000\u00ff\u0010', 'blob', bin, mysql, 2004);
    expect(Buffer.isBuffer(out)).toBe(true);
    expect([...(out as Buffer)]).toEqual([0, 255, 16]);
    expect(param('é', 'varchar(2)', bin)).toEqual(Buffer.from('é', 'utf8'));
    expect(param('2', "enum('a','b')", bin)).toEqual(Buffer.from('b'));
  });

  it('reads the source by its mysqlType: a value that is not of its type is a DecodeError', () => {
    expect(() => param('abc', 'int', col('integer'))).toThrow(/src: value "abc" is not an integer/);
    expect(toParam('abc', undefined, col('text'), mysql, 'src')).toBe('abc');
  });

  it('text canal sent as latin-1 bytes is decoded for text targets', () => {
    expect(param(latin1('héllo'), 'text', col('text'), mysql, 2004)).toBe('héllo');
    expect(param(latin1('héllo'), 'varchar(10)', col('enum'), mysql, -3)).toBe('héllo');
  });

  it('a value that cannot be converted is a ValueError (named so in logs and dead letters)', () => {
    let error: unknown;
    try {
      param('2', 'enum', col('text'));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ValueError);
    expect((error as Error).name).toBe('ValueError');
  });

  it('BIT targets take 0 (not negative)', () => {
    expect(param('0', 'int', col('bit', { bitWidth: 8 }))).toEqual(Buffer.from([0]));
    expect(param('0', 'int', col('bit', { bitWidth: 4, fixedBits: true }), pg)).toBe('0000');
  });

  it('instant targets: only DATETIME/TIMESTAMP sources are instants; text goes as sent', () => {
    const zoned: ConvertOptions = { kind: 'mysql', instantsFromZone: '+08:00' };
    const ts = col('timestamp');
    expect(param('2024-01-02 03:04:05', 'varchar(19)', ts, zoned)).toBe('2024-01-02 03:04:05');
    expect(param('2', "enum('a','b')", ts, zoned)).toBe('b');
  });

  it('instant targets without sourceTimeZone: as sent, whatever the process time zone', () => {
    const saved = process.env['TZ'];
    process.env['TZ'] = 'Asia/Tokyo';
    try {
      expect(param('2024-01-02 03:04:05', 'timestamp', col('timestamp'))).toBe(
        '2024-01-02 03:04:05',
      );
      expect(param('2024-01-02 03:04:05', 'datetime', col('timestamp'))).toBe(
        '2024-01-02 03:04:05',
      );
    } finally {
      if (saved === undefined) delete process.env['TZ'];
      else process.env['TZ'] = saved;
    }
  });

  it('integer targets: YEAR as a number, the rest of the non-integers as sent', () => {
    expect(param('1999', 'year', col('integer'))).toBe(1999);
    expect(param('2024-01-02', 'date', col('integer'))).toBe('2024-01-02');
  });

  it('integers as text lose leading zeros and the sign of zero (as the fast path does)', () => {
    for (const family of ['decimal', 'float', 'text'] as const) {
      expect(param('007', 'int', col(family))).toBe('7');
      expect(param('-0', 'int', col(family))).toBe('0');
      expect(param('007', 'bit(8)', col(family))).toBe('7');
    }
    expect(param('02', "enum('a','b')", col('decimal'))).toBe('2');
    expect(param('05', "set('a','b','c')", col('decimal'))).toBe('5');
    expect(param('0999', 'year', col('decimal'))).toBe('999');
  });
});
