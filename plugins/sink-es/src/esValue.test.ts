import { describe, expect, it } from 'vitest';
import { typedValue } from '@sluice/canal-protocol';
import { applyObjField, parseJsonExact, parseObjFieldSpec, textOf, toEsValue } from './esValue.js';

describe('toEsValue', () => {
  const v = (text: string | null, type: string) => toEsValue(typedValue(text, type));
  it('keeps integers exact: numbers up to 2^53 − 1, text beyond', () => {
    expect(v('9007199254740991', 'bigint(20)')).toBe(9007199254740991);
    expect(v('9007199254740993', 'bigint(20)')).toBe('9007199254740993');
    expect(v('18446744073709551615', 'bigint(20) unsigned')).toBe('18446744073709551615');
    expect(v('-12', 'int(11)')).toBe(-12);
  });
  it('gives DECIMAL as text, dates ISO without zone, zero dates null, NULL null', () => {
    expect(v('19.90', 'decimal(10,2)')).toBe('19.90');
    expect(v('2020-01-02', 'date')).toBe('2020-01-02');
    expect(v('2020-01-02 03:04:05.120', 'datetime(3)')).toBe('2020-01-02T03:04:05.120');
    expect(v('2020-01-02 03:04:05', 'timestamp')).toBe('2020-01-02T03:04:05');
    expect(v('0000-00-00 00:00:00', 'datetime')).toBeNull();
    expect(v(null, 'int(11)')).toBeNull();
    expect(v('2', "enum('a','b')")).toBe('b');
    expect(v('3', "set('a','b','c')")).toBe('a,b');
  });
});

describe('objFields', () => {
  it('reads array:<regex>, object… and json, and refuses anything else', () => {
    expect(parseObjFieldSpec('array:\\|')).toEqual({ kind: 'array', separator: /\|/ });
    expect(parseObjFieldSpec('object')).toEqual({ kind: 'object' });
    expect(parseObjFieldSpec('json')).toEqual({ kind: 'object' });
    expect(parseObjFieldSpec('array:')).toMatch(/needs a separator/);
    expect(parseObjFieldSpec('obj:x')).toMatch(/unknown objFields spec/);
  });
  it('splits and parses, keeping big integers exact and strings untouched', () => {
    expect(applyObjField({ kind: 'array', separator: /;/ }, 'a;b')).toEqual(['a', 'b']);
    expect(applyObjField({ kind: 'array', separator: /;/ }, '')).toEqual([]);
    expect(applyObjField({ kind: 'object' }, null)).toBeNull();
    expect(
      parseJsonExact(
        '{"n":12345678901234567890,"m":-9007199254740993,"s":"12345678901234567890","f":1.5,"i":3}',
      ),
    ).toEqual({
      n: '12345678901234567890',
      m: '-9007199254740993',
      s: '12345678901234567890',
      f: 1.5,
      i: 3,
    });
    expect(parseJsonExact('["a\\"b 99999999999999999999"]')).toEqual(['a"b 99999999999999999999']);
    expect(() => parseJsonExact('{not json')).toThrow(SyntaxError);
  });
});

describe('toEsValue, every kind', () => {
  const v = (text: string | null, type: string) => toEsValue(typedValue(text, type));
  it('converts each typed value as documented', () => {
    expect(v('5', 'bit(3)')).toBe(5);
    expect(v('18446744073709551615', 'bit(64)')).toBe('18446744073709551615');
    expect(v('-9007199254740991', 'bigint')).toBe(-9007199254740991);
    expect(v('-9007199254740993', 'bigint')).toBe('-9007199254740993');
    expect(v('1.5', 'double')).toBe(1.5);
    expect(v('NaN', 'double')).toBe('NaN');
    expect(v('Infinity', 'float')).toBe('Infinity');
    expect(v('2', 'enum')).toBe(2);
    expect(v('0', "enum('a')")).toBe('');
    expect(v('5', 'set')).toBe(5);
    expect(v('18446744073709551615', 'set')).toBe('18446744073709551615');
    expect(v('0', "set('a')")).toBe('');
    expect(v('0000-00-00', 'date')).toBeNull();
    expect(v('2020-00-10', 'date')).toBeNull();
    expect(v('2020-10-00', 'date')).toBeNull();
    expect(v('0010-01-02', 'date')).toBe('0010-01-02');
    expect(v('2020-01-00 00:00:00', 'datetime')).toBeNull();
    expect(v('2020-00-01 00:00:00', 'timestamp')).toBeNull();
    expect(v('0001-02-03 04:05:06', 'datetime')).toBe('0001-02-03T04:05:06');
    expect(v('-838:59:59.5', 'time(1)')).toBe('-838:59:59.5');
    expect(v('1999', 'year')).toBe(1999);
    expect(v('{"a":1}', 'json')).toBe('{"a":1}');
    expect(v('héllo', 'varchar(5)')).toBe('héllo');
    expect(v('\u0000\u00ff', 'blob')).toBe('AP8=');
    expect(v('x', 'mystery')).toBe('x');
  });

  it('textOf gives objFields the text: JSON/character text as sent, bytes as UTF-8, others via toEsValue', () => {
    const t = (text: string | null, type: string) => textOf(typedValue(text, type));
    expect(t(null, 'varchar(3)')).toBeNull();
    expect(t('[1,2]', 'json')).toBe('[1,2]');
    expect(t('a;b', 'varchar(3)')).toBe('a;b');
    expect(t(Buffer.from('é;ü', 'utf8').toString('latin1'), 'blob')).toBe('é;ü');
    expect(t('42', 'int')).toBe('42');
    expect(t('0000-00-00', 'date')).toBeNull();
    expect(t('5', "set('a','b','c')")).toBe('a,c');
  });

  it('objFields specs: object… prefixes, array separators as regular expressions', () => {
    expect(parseObjFieldSpec('objectish')).toEqual({ kind: 'object' });
    expect(parseObjFieldSpec('jsonx')).toMatch(/unknown objFields spec "jsonx"/);
    expect(parseObjFieldSpec('array:(')).toMatch(
      /array separator "\(" is not a valid regular expression/,
    );
    expect(applyObjField({ kind: 'array', separator: /[,;]/ }, 'a,b;c')).toEqual(['a', 'b', 'c']);
    expect(applyObjField({ kind: 'object' }, '[1,"2"]')).toEqual([1, '2']);
    expect(parseJsonExact('[9007199254740991,-9007199254740991,2.5e3]')).toEqual([
      9007199254740991, -9007199254740991, 2500,
    ]);
    expect(parseJsonExact('[12345678901234567890.5]')).toEqual([12345678901234567000]);
  });
});

describe('zero dates', () => {
  const v = (text: string, type: string) => toEsValue(typedValue(text, type));
  it('a year, month or day of 0 is null (not a date Elasticsearch can read)', () => {
    expect(v('0000-01-01', 'date')).toBeNull();
    expect(v('2024-00-01', 'date')).toBeNull();
    expect(v('2024-01-00', 'date')).toBeNull();
    expect(v('0000-01-01 10:00:00', 'datetime')).toBeNull();
    expect(v('2024-01-00 10:00:00', 'timestamp')).toBeNull();
    expect(v('2024-01-02 10:00:00', 'datetime')).toBe('2024-01-02T10:00:00');
  });

  it('textOf: JSON and character text as sent, NULL as null, bytes as UTF-8', () => {
    expect(textOf(typedValue(null, 'json'))).toBeNull();
    expect(textOf(typedValue('{"a": 1}', 'json'))).toBe('{"a": 1}');
    expect(textOf(typedValue('a;b', 'varchar(5)'))).toBe('a;b');
    expect(textOf(typedValue('5', 'int'))).toBe('5');
  });
});
