import { describe, expect, it } from 'vitest';
import { DecodeError } from './decodeError.js';
import {
  decodeFlatMessage,
  encodeFlatMessage,
  flatMessageFromJson,
  jsonErrorReason,
  type FlatMessage,
} from './flatMessage.js';
import { preview } from './preview.js';

/** How a 60-character string shows in a message: cut to 40 characters. */
const LONG = preview('y'.repeat(60), 40);

const insert: FlatMessage = {
  id: 3,
  database: 'shop',
  table: 'orders',
  pkNames: ['id'],
  isDdl: false,
  type: 'INSERT',
  es: 1718000000000,
  ts: 1718000000412,
  sql: '',
  sqlType: { id: -5, note: 2005 },
  mysqlType: { id: 'bigint', note: 'text' },
  data: [{ id: '1001', note: null }],
  old: null,
  gtid: '',
};

function decodeError(input: unknown): DecodeError {
  try {
    decodeFlatMessage(typeof input === 'string' ? input : JSON.stringify(input));
  } catch (error) {
    expect(error).toBeInstanceOf(DecodeError);
    return error as DecodeError;
  }
  throw new Error('expected a DecodeError');
}

describe('decodeFlatMessage: tolerant of what real producers emit', () => {
  it('decodes a canal 1.1.8 message with every key', () => {
    expect(decodeFlatMessage(encodeFlatMessage(insert))).toEqual(insert);
  });

  it('accepts a message without gtid (canal before 1.1.7) and keeps it absent', () => {
    const { gtid: _gtid, ...older } = insert;
    const decoded = decodeFlatMessage(JSON.stringify(older));
    expect('gtid' in decoded).toBe(false);
    expect(encodeFlatMessage(decoded)).not.toContain('gtid');
  });

  it('treats null and absent maps, strings and numbers alike', () => {
    const decoded = decodeFlatMessage(
      '{"type":"QUERY","isDdl":true,"sql":"CREATE DATABASE x","database":"x","table":null}',
    );
    expect(decoded).toEqual({
      id: 0,
      database: 'x',
      table: '',
      pkNames: null,
      isDdl: true,
      type: 'QUERY',
      es: 0,
      ts: 0,
      sql: 'CREATE DATABASE x',
      sqlType: null,
      mysqlType: null,
      data: null,
      old: null,
    });
  });

  it('accepts "" database on QUERY events (MariaDB annotate rows)', () => {
    const m = decodeFlatMessage(
      '{"data":null,"database":"","es":1,"gtid":"","id":1,"isDdl":false,"mysqlType":null,"old":null,"pkNames":null,"sql":"insert into t values (1)","sqlType":null,"table":"","ts":2,"type":"QUERY"}',
    );
    expect(m.database).toBe('');
    expect(m.type).toBe('QUERY');
  });

  it('decodes UTF-8 bytes, ignores a byte-order mark, keeps unicode and latin-1 binary text', () => {
    const message = { ...insert, data: [{ id: '1', note: 'Zoë 🚀 张三 \u0000\u00ff' }] };
    const bytes = new TextEncoder().encode('\uFEFF' + encodeFlatMessage(message));
    expect(decodeFlatMessage(bytes).data).toEqual([{ id: '1', note: 'Zoë 🚀 张三 \u0000\u00ff' }]);
  });

  it('keeps a column named __proto__ as an ordinary column', () => {
    const m = decodeFlatMessage('{"type":"INSERT","data":[{"__proto__":"x","id":"1"}],"old":null}');
    const row = m.data![0]!;
    expect(Object.keys(row)).toEqual(['__proto__', 'id']);
    expect(Object.getPrototypeOf(row)).toBe(Object.prototype);
    expect(JSON.parse(encodeFlatMessage(m)).data[0]).toEqual(
      JSON.parse('{"__proto__":"x","id":"1"}'),
    );
  });

  it('handles multi-megabyte rows and deeply nested JSON values without stack overflow', () => {
    const big = 'x'.repeat(8 * 1024 * 1024);
    expect(
      decodeFlatMessage(JSON.stringify({ ...insert, data: [{ id: '1', note: big }] })).data![0]![
        'note'
      ],
    ).toHaveLength(big.length);
    const deep = '['.repeat(200_000) + ']'.repeat(200_000);
    const e = decodeError(`{"type":"INSERT","data":[{"id":${deep}}]}`);
    expect(e.path).toBe('data[0].id');
  });
});

describe('decodeFlatMessage: strict about what makes data wrong', () => {
  it.each([
    ['not JSON', '{"type":', undefined, /not valid JSON/],
    ['empty input', '', undefined, /not valid JSON/],
    ['an array', '[]', undefined, /expected a FlatMessage object, got an array/],
    ['null', 'null', undefined, /got null/],
    ['missing type', '{}', 'type', /missing event type/],
    ['empty type', '{"type":""}', 'type', /non-empty string/],
    ['numeric type', '{"type":1}', 'type', /non-empty string, got a number/],
    ['isDdl as string', '{"type":"ALTER","isDdl":"true"}', 'isDdl', /expected a boolean/],
    ['pkNames as string', '{"type":"INSERT","pkNames":"id"}', 'pkNames', /array of column names/],
    [
      'pkNames entry as number',
      '{"type":"INSERT","pkNames":["id",2]}',
      'pkNames[1]',
      /column name, got a number/,
    ],
    [
      'data as object',
      '{"type":"INSERT","data":{"id":"1"}}',
      'data',
      /array of rows, got an object/,
    ],
    ['row as array', '{"type":"INSERT","data":[["1"]]}', 'data[0]', /row object, got an array/],
    [
      'row as string',
      '{"type":"INSERT","data":[{"id":"1"},"x"]}',
      'data[1]',
      /row object, got a string/,
    ],
    [
      'value as number',
      '{"type":"INSERT","data":[{"id":18446744073709551615}]}',
      'data[0].id',
      /string or null, got a number/,
    ],
    ['value as boolean', '{"type":"INSERT","data":[{"ok":true}]}', 'data[0].ok', /got a boolean/],
    ['value as object', '{"type":"INSERT","data":[{"j":{"a":1}}]}', 'data[0].j', /got an object/],
    [
      'old longer than data',
      '{"type":"UPDATE","data":[{"a":"1"}],"old":[{},{}]}',
      'old',
      /not aligned/,
    ],
    ['old without data', '{"type":"UPDATE","old":[{}]}', 'old', /not aligned/],
    [
      'old column missing from row',
      '{"type":"UPDATE","data":[{"a":"1"}],"old":[{"b":"2"}]}',
      'old[0].b',
      /not in data\[0\]/,
    ],
    [
      'old value as number',
      '{"type":"UPDATE","data":[{"a":"1"}],"old":[{"a":1}]}',
      'old[0].a',
      /got a number/,
    ],
    [
      'sqlType not integer',
      '{"type":"INSERT","sqlType":{"a":"4"}}',
      'sqlType.a',
      /integer java.sql.Types code/,
    ],
    ['sqlType fractional', '{"type":"INSERT","sqlType":{"a":4.5}}', 'sqlType.a', /integer/],
    [
      'mysqlType not string',
      '{"type":"INSERT","mysqlType":{"a":4}}',
      'mysqlType.a',
      /column type string/,
    ],
    [
      'mysqlType as array',
      '{"type":"INSERT","mysqlType":[]}',
      'mysqlType',
      /expected an object, got an array/,
    ],
    ['es as string', '{"type":"INSERT","es":"1"}', 'es', /expected a number/],
    ['database as number', '{"type":"INSERT","database":5}', 'database', /expected a string/],
    ['gtid as number', '{"type":"INSERT","gtid":5}', 'gtid', /expected a string/],
  ])('rejects %s', (_name, input, path, reason) => {
    const error = decodeError(input);
    expect(error.path).toBe(path);
    expect(error.message).toMatch(reason);
    expect(error.code).toBe('SLUICE_ERR_DECODE');
  });

  it('says which field of which row in the message text', () => {
    expect(
      decodeError('{"type":"INSERT","data":[{"id":"1"},{"id":"2","amount":19.9}]}').message,
    ).toBe('data[1].amount: expected a string or null, got a number (19.9)');
  });

  it('says exactly what it found, with the value (strings quoted, at most 40 characters)', () => {
    const cases: [string, string][] = [
      ['{"type":1}', 'type: expected a non-empty string, got a number (1)'],
      ['\ufeff{"type":1}', 'type: expected a non-empty string, got a number (1)'],
      ['{"type":"ALTER","isDdl":"yes"}', 'isDdl: expected a boolean, got a string ("yes")'],
      ['{"type":"ALTER","isDdl":0}', 'isDdl: expected a boolean, got a number (0)'],
      [
        '{"type":"INSERT","pkNames":"id"}',
        'pkNames: expected an array of column names, got a string ("id")',
      ],
      ['{"type":"INSERT","es":true}', 'es: expected a number, got a boolean (true)'],
      ['{"type":"INSERT","es":1e999}', 'es: expected a number, got a number (Infinity)'],
      ['{"type":"INSERT","ts":"5"}', 'ts: expected a number, got a string ("5")'],
      ['{"type":"INSERT","gtid":false}', 'gtid: expected a string, got a boolean (false)'],
      ['{"type":"UPDATE","old":[{}]}', 'old: has 1 rows but data has 0: rows are not aligned'],
      [
        '{"type":"UPDATE","data":[{"a":"1"}],"old":[{},{}]}',
        'old: has 2 rows but data has 1: rows are not aligned',
      ],
      ['"just a string"', 'expected a FlatMessage object, got a string ("just a string")'],
      ['12', 'expected a FlatMessage object, got a number (12)'],
      ['true', 'expected a FlatMessage object, got a boolean (true)'],
      [
        `{"type":"ALTER","isDdl":"${'y'.repeat(60)}"}`,
        `isDdl: expected a boolean, got a string (${LONG})`,
      ],
    ];
    for (const [input, message] of cases) expect(decodeError(input).message).toBe(message);
    expect(() => flatMessageFromJson(undefined)).toThrow(
      /^expected a FlatMessage object, got undefined$/,
    );
  });

  it('gives the JSON parser’s reason without the piece of input it quotes, and an escaped preview', () => {
    expect(decodeError('{"a":\n x}').message).toBe(
      `not valid JSON (Unexpected token 'x'): "{\\"a\\":\\n x}"`,
    );
    // V8's wording (Node 20–24): the quoted input, newlines and all, is dropped.
    expect(
      jsonErrorReason(new SyntaxError('Unexpected token \'x\', "{\n x}" is not valid JSON')),
    ).toBe("Unexpected token 'x'");
    // Other reasons are kept, escaped, without the preview's surrounding quotes.
    expect(jsonErrorReason(new SyntaxError('Unexpected end of JSON input'))).toBe(
      'Unexpected end of JSON input',
    );
    expect(jsonErrorReason(new SyntaxError('bad "x"\ny'))).toBe('bad \\"x\\"\\ny');
    expect(jsonErrorReason('"quoted"')).toBe('\\"quoted\\"');
  });

  it('flatMessageFromJson checks an already-parsed value the same way', () => {
    expect(() => flatMessageFromJson({ type: 'INSERT', data: [{ id: 1 }] })).toThrow(DecodeError);
    expect(flatMessageFromJson(JSON.parse(encodeFlatMessage(insert)))).toEqual(insert);
  });
});
