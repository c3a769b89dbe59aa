import { describe, expect, it } from 'vitest';
import { typedValue } from '@sluice/canal-protocol';
import { applyObjField, parseJsonExact, parseObjFieldSpec, toEsValue } from './esValue.js';

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
