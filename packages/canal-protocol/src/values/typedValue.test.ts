import type { RowChangeEvent } from '@sluice/plugin-api';
import { describe, expect, it } from 'vitest';
import { DecodeError } from '../decodeError.js';
import { parseMysqlType } from './mysqlType.js';
import { readColumn, typedValue } from './typedValue.js';

describe('parseMysqlType', () => {
  it.each([
    [
      'bigint(20) unsigned',
      { name: 'bigint', family: 'integer', unsigned: true, bits: 64, args: [20] },
    ],
    ['int unsigned zerofill', { name: 'int', family: 'integer', unsigned: true, bits: 32 }],
    ['INT(11)', { name: 'int', family: 'integer', unsigned: false, bits: 32 }],
    ['tinyint(1)', { family: 'integer', bits: 8 }],
    ['mediumint', { family: 'integer', bits: 24 }],
    ['decimal(10,2)', { family: 'decimal', args: [10, 2] }],
    ['double', { family: 'float' }],
    ['float(7,4)', { family: 'float', args: [7, 4] }],
    ['bit(64)', { family: 'bit', bits: 64 }],
    ['bit', { family: 'bit', bits: 1 }],
    ['datetime(3)', { family: 'datetime', args: [3] }],
    ['timestamp(6)', { family: 'timestamp' }],
    ['year(4)', { family: 'year' }],
    ['varchar(40)', { family: 'text' }],
    ['longblob', { family: 'binary' }],
    ['geometry', { family: 'binary' }],
    ['json', { family: 'json' }],
    ['vector(3)', { family: 'unknown' }],
    ['', { family: 'unknown', name: '' }],
  ])('%s', (text, expected) => {
    expect(parseMysqlType(text)).toMatchObject(expected);
  });

  it('parses ENUM/SET members with quotes, commas, parentheses and unicode', () => {
    expect(parseMysqlType("enum('a','b,c','it''s','x)y','Zoë 🚀')").members).toEqual([
      'a',
      'b,c',
      "it's",
      'x)y',
      'Zoë 🚀',
    ]);
    expect(parseMysqlType("set('')").members).toEqual(['']);
    // As canal's table meta writes it (druid's parse, then its printChars): uppercase name, no
    // space after commas; spaces and "…" quoting tolerated.
    expect(parseMysqlType("ENUM('small','medium','large')").members).toEqual([
      'small',
      'medium',
      'large',
    ]);
    expect(parseMysqlType("set( 'a' , 'b' )").members).toEqual(['a', 'b']);
    expect(parseMysqlType('enum("a","say ""hi""")').members).toEqual(['a', 'say "hi"']);
  });

  it("reads members as canal prints them: only '' is an escape, a backslash is itself", () => {
    // The label a\b (one backslash) is printed by druid as 'a\b'; a raw newline stays raw.
    expect(parseMysqlType("enum('a\\b','c\\')").members).toEqual(['a\\b', 'c\\']);
    expect(parseMysqlType("enum('two\nlines','x')").members).toEqual(['two\nlines', 'x']);
    expect(parseMysqlType("enum('it''s','''')").members).toEqual(["it's", "'"]);
  });

  it('says the members are unknown (null) when mysqlType does not list them or is malformed', () => {
    for (const t of [
      'enum',
      'ENUM',
      'set',
      'enum()',
      "enum('a'",
      "enum('a',)",
      "enum('a' 'b')",
      'enum(a,b)',
      String.raw`enum('it\'s')`,
    ])
      expect(parseMysqlType(t).members, t).toBeNull();
    expect(parseMysqlType('int').members).toEqual([]);
  });
});

describe('typedValue', () => {
  it('NULL is null whatever the type', () => {
    for (const t of ['int', 'json', 'blob', "enum('a')", ''])
      expect(typedValue(null, t)).toEqual({ kind: 'null' });
  });

  it('integers: numbers up to 2^53, bigint beyond, ranges checked by type and sign', () => {
    expect(typedValue('-5', 'int')).toEqual({ kind: 'integer', value: -5 });
    expect(typedValue('9007199254740991', 'bigint')).toEqual({
      kind: 'integer',
      value: 9007199254740991,
    });
    expect(typedValue('9007199254740993', 'bigint')).toEqual({
      kind: 'integer',
      value: 9007199254740993n,
    });
    expect(typedValue('18446744073709551615', 'bigint(20) unsigned')).toEqual({
      kind: 'integer',
      value: 18446744073709551615n,
    });
    expect(typedValue('-9223372036854775808', 'bigint')).toEqual({
      kind: 'integer',
      value: -9223372036854775808n,
    });
    expect(typedValue('4294967295', 'int unsigned')).toEqual({
      kind: 'integer',
      value: 4294967295,
    });
    expect(typedValue('255', 'tinyint unsigned')).toEqual({ kind: 'integer', value: 255 });
    expect(typedValue('1', 'tinyint(1)')).toEqual({ kind: 'integer', value: 1 });
    expect(() => typedValue('256', 'tinyint unsigned')).toThrow(/in range for unsigned tinyint/);
    expect(() => typedValue('128', 'tinyint')).toThrow(DecodeError);
    expect(() => typedValue('-1', 'int unsigned')).toThrow(DecodeError);
    expect(() => typedValue('18446744073709551616', 'bigint unsigned')).toThrow(DecodeError);
    for (const bad of ['', '1.0', '1e3', ' 1', '+1', '0x10', 'abc', '١٢'])
      expect(() => typedValue(bad, 'int', 'qty')).toThrow(/^qty: value .* is not an integer/);
  });

  it('DECIMAL stays exact text', () => {
    expect(typedValue('19.90', 'decimal(10,2)')).toEqual({ kind: 'decimal', value: '19.90' });
    expect(typedValue('-12345678901234567890.123456789', 'decimal(30,9)')).toEqual({
      kind: 'decimal',
      value: '-12345678901234567890.123456789',
    });
    for (const bad of ['1e5', '', '1.', '.5', 'NaN'])
      expect(() => typedValue(bad, 'decimal(10,2)')).toThrow(DecodeError);
  });

  it('FLOAT/DOUBLE read Java toString forms', () => {
    expect(typedValue('1.1', 'float')).toEqual({ kind: 'float', value: 1.1 });
    expect(typedValue('1.0E10', 'float')).toEqual({ kind: 'float', value: 1e10 });
    expect(typedValue('-4.9E-324', 'double')).toEqual({ kind: 'float', value: -5e-324 });
    expect(typedValue('Infinity', 'double')).toEqual({ kind: 'float', value: Infinity });
    expect(() => typedValue('1,5', 'double')).toThrow(DecodeError);
  });

  it("BIT is canal's unsigned decimal of the bits, checked against the width", () => {
    expect(typedValue('5', 'bit(3)')).toEqual({ kind: 'bit', value: 5, width: 3 });
    expect(typedValue('18446744073709551615', 'bit(64)')).toEqual({
      kind: 'bit',
      value: 18446744073709551615n,
      width: 64,
    });
    expect(() => typedValue('8', 'bit(3)')).toThrow(/at most 3 bits/);
    expect(() => typedValue('-1', 'bit(3)')).toThrow(DecodeError);
  });

  it("ENUM: 1-based index → label; 0 is MySQL's empty error value", () => {
    const t = "enum('new','paid','shipped')";
    expect(typedValue('2', t)).toEqual({ kind: 'enum', index: 2, label: 'paid' });
    expect(typedValue('0', t)).toEqual({ kind: 'enum', index: 0, label: '' });
    expect(typedValue('3', 'enum')).toEqual({ kind: 'enum-index', index: 3 });
    expect(typedValue('3', "enum('a','b'")).toEqual({ kind: 'enum-index', index: 3 });
    expect(() => typedValue('65536', 'enum')).toThrow(DecodeError);
    expect(() => typedValue('4', t, 'status')).toThrow(/^status: .*between 0 and 3/);
    expect(() => typedValue('paid', t)).toThrow(DecodeError);
  });

  it('SET: bitmask → labels in declaration order', () => {
    const t = "set('a','b','c')";
    expect(typedValue('5', t)).toEqual({ kind: 'set', mask: 5, labels: ['a', 'c'] });
    expect(typedValue('0', t)).toEqual({ kind: 'set', mask: 0, labels: [] });
    expect(() => typedValue('8', t)).toThrow(/at most 3 bits/);
    expect(typedValue('5', 'set')).toEqual({ kind: 'set-mask', mask: 5 });
    expect(typedValue('5', "set('a','b'")).toEqual({ kind: 'set-mask', mask: 5 });
    const wide = `set(${Array.from({ length: 64 }, (_, i) => `'m${i}'`).join(',')})`;
    expect(typedValue('9223372036854775808', wide)).toEqual({
      kind: 'set',
      mask: 9223372036854775808n,
      labels: ['m63'],
    });
  });

  it('DATE/DATETIME/TIMESTAMP/TIME as wall-clock parts, fractions kept, zero dates allowed, no time zone', () => {
    expect(typedValue('2024-06-10', 'date')).toEqual({
      kind: 'date',
      text: '2024-06-10',
      year: 2024,
      month: 6,
      day: 10,
    });
    expect(typedValue('0000-00-00', 'date')).toMatchObject({ year: 0, month: 0, day: 0 });
    expect(typedValue('2024-06-10 14:13:20.123', 'datetime(3)')).toEqual({
      kind: 'datetime',
      text: '2024-06-10 14:13:20.123',
      year: 2024,
      month: 6,
      day: 10,
      hour: 14,
      minute: 13,
      second: 20,
      fraction: '123',
    });
    expect(typedValue('2024-06-10 14:13:20.000001', 'timestamp(6)')).toMatchObject({
      kind: 'timestamp',
      fraction: '000001',
    });
    expect(typedValue('0000-00-00 00:00:00', 'timestamp')).toMatchObject({
      kind: 'timestamp',
      year: 0,
      fraction: '',
    });
    expect(typedValue('-838:59:59.000000', 'time(6)')).toEqual({
      kind: 'time',
      text: '-838:59:59.000000',
      negative: true,
      hour: 838,
      minute: 59,
      second: 59,
      fraction: '000000',
    });
    expect(typedValue('12:00:01', 'time')).toMatchObject({
      negative: false,
      hour: 12,
      fraction: '',
    });
    for (const [bad, type] of [
      ['2024-6-10', 'date'],
      ['2024-06-10T14:13:20Z', 'datetime'],
      ['14:13', 'time'],
      ['2024-06-10', 'datetime'],
    ]) {
      expect(() => typedValue(bad!, type!)).toThrow(DecodeError);
    }
  });

  it('YEAR', () => {
    expect(typedValue('2024', 'year(4)')).toEqual({ kind: 'year', value: 2024 });
    expect(typedValue('0000', 'year')).toEqual({ kind: 'year', value: 0 });
    expect(() => typedValue('24', 'year')).toThrow(DecodeError);
  });

  it('JSON text, empty value and PARTIAL_JSON diffs', () => {
    expect(typedValue('{"gift": true}', 'json')).toEqual({
      kind: 'json',
      text: '{"gift": true}',
      partial: false,
    });
    expect(typedValue('', 'json')).toEqual({ kind: 'json', text: '', partial: false });
    expect(typedValue("JSON_REPLACE(attrs, '$.gift', false)", 'json')).toMatchObject({
      partial: true,
    });
  });

  it('character types are text, unicode intact', () => {
    expect(typedValue('Zoë 🚀 张三', 'varchar(40)')).toEqual({
      kind: 'text',
      value: 'Zoë 🚀 张三',
    });
    expect(typedValue('', 'text')).toEqual({ kind: 'text', value: '' });
  });

  /** What canal sends for a text column it treats as binary: the UTF-8 bytes, one char each. */
  const asCanalBlob = (text: string): string => Buffer.from(text, 'utf8').toString('latin1');

  it('character columns canal sent as bytes (sqlType BLOB) come back as their UTF-8 text', () => {
    const json = '{"k": "v", "u": "中", "e": "😀"}';
    // MariaDB JSON (a LONGTEXT alias): real canal sends mysqlType "JSON", sqlType 2004.
    expect(asCanalBlob('中')).toBe('ä¸\u00ad');
    expect(typedValue(asCanalBlob(json), { mysqlType: 'JSON', sqlType: 2004 })).toEqual({
      kind: 'json',
      text: json,
      partial: false,
    });
    // Every text-family type canal does not recognise as TEXT goes out the same way.
    for (const mysqlType of ['TEXT(100)', 'LONG', 'varchar(10)', 'mediumtext'])
      for (const sqlType of [2004, -2, -3, -4])
        expect(typedValue(asCanalBlob('中文 🚀'), { mysqlType, sqlType })).toEqual({
          kind: 'text',
          value: '中文 🚀',
        });
    expect(typedValue('', { mysqlType: 'JSON', sqlType: 2004 })).toEqual({
      kind: 'json',
      text: '',
      partial: false,
    });
    expect(typedValue(null, { mysqlType: 'JSON', sqlType: 2004 })).toEqual({ kind: 'null' });
  });

  it('text canal already decoded is never decoded twice', () => {
    // MySQL 8 native JSON (sqlType 12, or 1111 on a NULL row of the same flat message), TEXT
    // (CLOB 2005), VARCHAR: the value is the text, even when it looks like UTF-8 read as latin-1.
    const mojibakeLooking = asCanalBlob('中');
    for (const sqlType of [12, 1111, 2005, 1, -1])
      expect(typedValue(mojibakeLooking, { mysqlType: 'json', sqlType })).toEqual({
        kind: 'json',
        text: mojibakeLooking,
        partial: false,
      });
    expect(typedValue('中', { mysqlType: 'TEXT', sqlType: 2005 })).toEqual({
      kind: 'text',
      value: '中',
    });
    // Without a sqlType nothing says the text was sent as bytes: it is returned as sent.
    expect(typedValue(mojibakeLooking, 'JSON')).toMatchObject({ text: mojibakeLooking });
    // Binary columns stay bytes whatever the sqlType.
    expect(typedValue('\u00ff', { mysqlType: 'BLOB', sqlType: 2004 })).toMatchObject({
      kind: 'bytes',
      value: Uint8Array.from([0xff]),
    });
  });

  it('bytes that are not UTF-8, or not latin-1 text, are a DecodeError, not mojibake', () => {
    expect(() => typedValue('\u00ff\u00fe', { mysqlType: 'JSON', sqlType: 2004 }, 'doc')).toThrow(
      /^doc: .*UTF-8 text/,
    );
    expect(() => typedValue('中', { mysqlType: 'JSON', sqlType: 2004 }, 'doc')).toThrow(
      /^doc: .*latin-1/,
    );
  });

  it('BLOB/BINARY: latin-1 text back to the original bytes; non-latin-1 text is rejected', () => {
    const bytes = Uint8Array.from({ length: 256 }, (_, i) => i);
    const text = String.fromCharCode(...bytes);
    const value = typedValue(text, 'blob');
    expect(value.kind).toBe('bytes');
    expect(Uint8Array.from((value as { value: Uint8Array }).value)).toEqual(bytes);
    expect(typedValue('\u0000ÿPNG', 'varbinary(16)')).toMatchObject({
      value: Uint8Array.from([0, 0xff, 0x50, 0x4e, 0x47]),
    });
    expect(() => typedValue('🚀', 'blob', 'avatar')).toThrow(/^avatar: .*latin-1/);
  });

  it('BINARY(n) gets back the trailing 0x00 padding the binlog drops; VARBINARY/BLOB do not', () => {
    expect(typedValue('\u0080ÿ', 'binary(4)')).toEqual({
      kind: 'bytes',
      value: Uint8Array.from([0x80, 0xff, 0, 0]),
    });
    expect(typedValue('', 'binary(4)')).toEqual({ kind: 'bytes', value: new Uint8Array(4) });
    expect(typedValue('', 'binary')).toEqual({ kind: 'bytes', value: new Uint8Array(1) });
    expect(typedValue('\u0001\u0002\u0003\u0004', 'binary(4)')).toEqual({
      kind: 'bytes',
      value: Uint8Array.from([1, 2, 3, 4]),
    });
    expect(typedValue('\u0080ÿ', 'varbinary(4)')).toEqual({
      kind: 'bytes',
      value: Uint8Array.from([0x80, 0xff]),
    });
    expect(typedValue('', 'blob')).toEqual({ kind: 'bytes', value: new Uint8Array(0) });
  });

  it('unknown types keep the text', () => {
    expect(typedValue('x', 'vector(3)')).toEqual({
      kind: 'unknown',
      text: 'x',
      mysqlType: 'vector(3)',
    });
  });

  it('error messages truncate huge values and escape control characters', () => {
    expect(() => typedValue('9'.repeat(100_000), 'int')).toThrow(/9{40}"…\(\+99960 chars\)/);
    expect(() => typedValue('1\n2\u001b[31m', 'int', 'col\nX')).toThrow(
      String.raw`col\nX: value "1\n2\u001b[31m" is not an integer (mysqlType "int")`,
    );
  });
});

describe('readColumn', () => {
  const event: RowChangeEvent = {
    kind: 'row',
    type: 'UPDATE',
    destination: 'd',
    database: 'shop',
    table: 'orders',
    pkNames: ['id'],
    columns: {
      id: { mysqlType: 'bigint unsigned', sqlType: -5 },
      status: { mysqlType: "enum('new','paid')", sqlType: 4 },
    },
    executedAt: 0,
    producedAt: 0,
    before: { id: '18446744073709551615', status: '1' },
    after: { id: '18446744073709551615', status: '2' },
    changed: ['status'],
    position: { source: 'd', partition: '0', offset: '0', index: 0 },
  };

  it('reads the current image by default, the other on request', () => {
    expect(readColumn(event, 'status')).toEqual({ kind: 'enum', index: 2, label: 'paid' });
    expect(readColumn(event, 'status', 'before')).toEqual({ kind: 'enum', index: 1, label: 'new' });
    expect(readColumn(event, 'id')).toEqual({ kind: 'integer', value: 18446744073709551615n });
    expect(readColumn({ ...event, type: 'DELETE', after: undefined }, 'status')).toMatchObject({
      label: 'new',
    });
  });

  it('is undefined for a column not in the image', () => {
    expect(readColumn(event, 'missing')).toBeUndefined();
    expect(readColumn(event, 'toString')).toBeUndefined();
  });
});

describe('typedValue: bounds, anchors and empty member lists', () => {
  it('checks signed lower bounds and unsigned upper bounds of every integer width', () => {
    const cases: [string, string, string, string][] = [
      ['tinyint', '-128', '127', '255'],
      ['smallint', '-32768', '32767', '65535'],
      ['mediumint', '-8388608', '8388607', '16777215'],
      ['int', '-2147483648', '2147483647', '4294967295'],
      ['bigint', '-9223372036854775808', '9223372036854775807', '18446744073709551615'],
    ];
    for (const [type, min, max, umax] of cases) {
      expect(() => typedValue(min, type)).not.toThrow();
      expect(() => typedValue(max, type)).not.toThrow();
      expect(() => typedValue(String(BigInt(min) - 1n), type), `${type} below`).toThrow(
        /in range for /,
      );
      expect(() => typedValue(String(BigInt(max) + 1n), type), `${type} above`).toThrow(
        /in range for /,
      );
      expect(typedValue('0', `${type} unsigned`)).toEqual({ kind: 'integer', value: 0 });
      expect(() => typedValue(umax, `${type} unsigned`)).not.toThrow();
      expect(() => typedValue(String(BigInt(umax) + 1n), `${type} unsigned`)).toThrow(
        /in range for unsigned /,
      );
    }
    expect(typedValue('-9007199254740991', 'bigint')).toEqual({
      kind: 'integer',
      value: -9007199254740991,
    });
    expect(typedValue('-9007199254740992', 'bigint')).toEqual({
      kind: 'integer',
      value: -9007199254740992n,
    });
    expect(typedValue('9007199254740992', 'bigint')).toEqual({
      kind: 'integer',
      value: 9007199254740992n,
    });
  });

  it('DECIMAL without a fraction, and anchored both ends', () => {
    expect(typedValue('100', 'decimal(10,0)')).toEqual({ kind: 'decimal', value: '100' });
    expect(typedValue('-7', 'decimal(10,0)')).toEqual({ kind: 'decimal', value: '-7' });
    for (const bad of ['x1.5', '1.5x', '1.5.5', '--1', '1 ', '-'])
      expect(() => typedValue(bad, 'decimal(10,2)'), bad).toThrow(/not a decimal number/);
  });

  it('FLOAT with several integer digits, only an exponent, or only a fraction; anchored', () => {
    for (const [text, value] of [
      ['123.5', 123.5],
      ['1E10', 1e10],
      ['1e-7', 1e-7],
      ['2.5E+3', 2500],
      ['.25', 0.25],
      ['-.25', -0.25],
      ['10.', 10],
      ['-0.0', -0],
      ['-Infinity', -Infinity],
    ] as const)
      expect(typedValue(text, 'double'), text).toEqual({ kind: 'float', value });
    expect(typedValue('NaN', 'float')).toEqual({ kind: 'float', value: NaN });
    for (const bad of ['x1.5', '1.5x', '1e', 'e5', '.', '', 'Infinityx', 'xNaN', '-NaN', '1 '])
      expect(() => typedValue(bad, 'double'), bad).toThrow(/not a floating-point number/);
  });

  it('date and time patterns are anchored at both ends', () => {
    for (const [bad, type] of [
      ['x2024-06-10', 'date'],
      ['2024-06-10x', 'date'],
      ['x2024-06-10 14:13:20', 'datetime'],
      ['2024-06-10 14:13:20x', 'datetime'],
      ['2024-06-10 14:13:20.', 'timestamp'],
      ['2024-06-10 14:13:20.1234567890', 'datetime(6)'],
      ['x12:00:00', 'time'],
      ['12:00:00x', 'time'],
      ['1:00:00', 'time'],
      ['1234:00:00', 'time'],
      ['12:00:00.', 'time'],
      ['x2024', 'year'],
      ['2024x', 'year'],
      ['20245', 'year'],
    ])
      expect(() => typedValue(bad!, type!), `${type} ${bad}`).toThrow(DecodeError);
    expect(typedValue('2024-06-10T14:13:20', 'datetime')).toMatchObject({ hour: 14 });
    expect(typedValue('123:04:05.5', 'time')).toMatchObject({
      negative: false,
      hour: 123,
      minute: 4,
      second: 5,
      fraction: '5',
    });
  });

  it('ENUM: negative, over-long and out-of-range indexes; lists without members', () => {
    const t = "enum('a','b')";
    for (const bad of ['-1', '-0', '000001', '1.0', ''])
      expect(() => typedValue(bad, t), bad).toThrow(/not an ENUM index/);
    expect(typedValue('00002', t)).toEqual({ kind: 'enum', index: 2, label: 'b' });
    expect(() => typedValue('3', t)).toThrow(/between 0 and 2/);
    expect(typedValue('65535', 'enum')).toEqual({ kind: 'enum-index', index: 65535 });
    expect(() => typedValue('65536', 'enum')).toThrow(/between 0 and 65535/);
    expect(typedValue('0', 'enum')).toEqual({ kind: 'enum-index', index: 0 });
    expect(typedValue('1', "enum('')")).toEqual({ kind: 'enum', index: 1, label: '' });
  });

  it('SET: masks beyond the members, negative masks; 64 bits when the members are unknown', () => {
    expect(() => typedValue('-1', "set('a')")).toThrow(/not a SET bitmask/);
    expect(() => typedValue('2', "set('a')")).toThrow(/at most 1 bits/);
    expect(typedValue('18446744073709551615', 'set')).toEqual({
      kind: 'set-mask',
      mask: 18446744073709551615n,
    });
    expect(() => typedValue('18446744073709551616', 'set')).toThrow(/at most 64 bits/);
    expect(typedValue('6', "set('a','b','c')")).toEqual({
      kind: 'set',
      mask: 6,
      labels: ['b', 'c'],
    });
  });

  it('BIT widths: exactly n bits fit, n+1 do not', () => {
    expect(typedValue('1', 'bit(1)')).toEqual({ kind: 'bit', value: 1, width: 1 });
    expect(() => typedValue('2', 'bit(1)')).toThrow(/at most 1 bits/);
    expect(typedValue('255', 'bit(8)')).toEqual({ kind: 'bit', value: 255, width: 8 });
    expect(() => typedValue('256', 'bit(8)')).toThrow(/at most 8 bits/);
    expect(() => typedValue('1.0', 'bit(8)')).toThrow(/not a BIT value/);
  });

  it('takes a parsed type or column metadata as well as the type text', () => {
    expect(typedValue('5', parseMysqlType('int'))).toEqual({ kind: 'integer', value: 5 });
    expect(typedValue('5', { mysqlType: 'int', sqlType: 4 }, 'n')).toEqual({
      kind: 'integer',
      value: 5,
    });
    expect(() => typedValue('x', { mysqlType: 'int', sqlType: 4 }, 'n')).toThrow(/^n: /);
    expect(() => typedValue('x', 'int')).toThrow(/^value "x" is not an integer/);
  });
});
