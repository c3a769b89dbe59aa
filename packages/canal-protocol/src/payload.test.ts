import { describe, expect, it } from 'vitest';
import { DecodeError } from './decodeError.js';
import { encodeFlatMessage, type FlatMessage } from './flatMessage.js';
import { unquoteName } from './names.js';
import type { DecodeNotice } from './notices.js';
import { decodeCanalPayload, type PayloadFormat } from './payload.js';
import { printable, preview } from './preview.js';
import { encodeCanalMessages } from './protobuf/canalProtocol.js';
import { flatMessageToEntry } from './protobuf/fromFlatMessage.js';

const origin = { destination: 'd', partition: '0', offset: '7' };

const message = (fields: Partial<FlatMessage>): FlatMessage => ({
  id: 1,
  database: 'shop',
  table: 'orders',
  pkNames: ['id'],
  isDdl: false,
  type: 'INSERT',
  es: 1000,
  ts: 2000,
  sql: '',
  sqlType: { id: 4 },
  mysqlType: { id: 'int' },
  data: [{ id: '1' }],
  old: null,
  ...fields,
});

const asProtobuf = (...messages: FlatMessage[]): Uint8Array =>
  encodeCanalMessages({ batchId: 1n, entries: messages.map((m) => flatMessageToEntry(m)) });

/** The message of the DecodeError `decode` throws. */
function failure(decode: () => unknown): string {
  try {
    decode();
  } catch (error) {
    expect(error).toBeInstanceOf(DecodeError);
    return (error as Error).message;
  }
  throw new Error('expected a DecodeError');
}

/** No raw control character, line break or bidi control in a log line. */
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

describe('preview and printable', () => {
  it('escape line breaks, terminal escapes, bidi controls, lone surrogates; quote text', () => {
    expect(preview('a\nb\r\t"\\\u001b[2J\u202e\u2028x')).toBe(
      String.raw`"a\nb\r\t\"\\\u001b[2J\u202e\u2028x"`,
    );
    expect(preview('\ud800x\udc00')).toBe(String.raw`"\ud800x\udc00"`);
    expect(preview('中文 😀')).toBe('"中文 😀"');
  });

  it('cut long text at a character boundary and say how much was left', () => {
    expect(preview('x'.repeat(100), 10)).toBe(`"${'x'.repeat(10)}"…(+90 chars)`);
    expect(preview('😀😀😀', 2)).toBe('"😀😀"…(+2 chars)');
  });

  it('show binary as hex, UTF-8 text as text', () => {
    expect(preview(Uint8Array.from([0x18, 0x07, 0x2a, 0x00, 0xff]))).toBe('<18 07 2a 00 ff>');
    expect(preview(new Uint8Array(100).fill(1), 9)).toBe('<01 01 01 …(+97 bytes)>');
    expect(preview(Buffer.from('hello\nworld'))).toBe(String.raw`"hello\nworld"`);
    expect(preview(Buffer.from('ü'.repeat(100)), 3)).toBe('"üüü"…(200 bytes in all)');
  });

  it('printable keeps quotes and backslashes (already-escaped text stays as it is)', () => {
    expect(printable('a "b" \\n\nc')).toBe(String.raw`a "b" \n\nc`);
    expect(printable(printable('x\u0000'))).toBe(String.raw`x\u0000`);
    expect(printable('y'.repeat(20), 5)).toBe('yyyyy…(+15 chars)');
  });
});

describe('decode errors never carry raw payload bytes', () => {
  const nasty = '{"type":"INSERT",\n"data": oops}\nINJECTED: fake log line\u001b[31m';
  for (const format of ['flat', 'auto'] as PayloadFormat[]) {
    it(`invalid JSON (${format}): escaped, bounded preview; no newline`, () => {
      const text = failure(() => decodeCanalPayload(Buffer.from(nasty), format, origin));
      expect(text).toMatch(/^not valid JSON \(/);
      expect(text).not.toMatch(UNSAFE);
      expect(text).toContain(String.raw`\nINJECTED`);
      const huge = failure(() =>
        decodeCanalPayload(`{"a": ${'1'.repeat(1_000_000)}\n`, format, origin),
      );
      expect(huge.length).toBeLessThan(400);
    });
  }

  it("V8's quoted piece of the input is dropped from JSON.parse's reason", () => {
    // V8: `Unexpected token 'h', "hello\nworld" is not valid JSON`, with a raw newline.
    const text = failure(() => decodeCanalPayload('{hello\nworld', 'flat', origin));
    expect(text).not.toMatch(UNSAFE);
    expect(text).not.toContain('is not valid JSON');
  });

  it('column names from the payload are escaped in paths', () => {
    const text = failure(() =>
      decodeCanalPayload(
        JSON.stringify(message({ data: [{ 'a\nb': 1 as never }] })),
        'flat',
        origin,
      ),
    );
    expect(text).toBe(String.raw`data[0].a\nb: expected a string or null, got a number (1)`);
  });
});

describe('payloads of the wrong format say what they look like', () => {
  it('protobuf under flat: "is canal.conf.flatMessage set right?"', () => {
    const bytes = asProtobuf(message({}));
    const text = failure(() => decodeCanalPayload(bytes, 'flat', origin));
    expect(text).toMatch(
      /^not FlatMessage JSON: it is binary, like a canal protobuf Packet \(is canal\.conf\.flatMessage set right\?\): <(18|10) /,
    );
    expect(text).not.toMatch(UNSAFE);
  });

  it('JSON under protobuf, also after whitespace or as an array: the same hint', () => {
    for (const json of [
      encodeFlatMessage(message({})),
      ` \n${encodeFlatMessage(message({}))}`,
      '[{}]',
    ])
      expect(failure(() => decodeCanalPayload(Buffer.from(json), 'protobuf', origin))).toMatch(
        /^not a canal protobuf Packet: it is JSON text, like FlatMessage JSON \(is canal\.conf\.flatMessage set right\?\)/,
      );
  });

  it('plain text is neither, whatever the format', () => {
    for (const format of ['flat', 'protobuf', 'auto'] as PayloadFormat[]) {
      const text = failure(() =>
        decodeCanalPayload(Buffer.from('hello world\nsecond line\n'), format, origin),
      );
      expect(text, format).toBe(
        String.raw`neither FlatMessage JSON nor canal protobuf: the payload is plain text: "hello world\nsecond line\n"`,
      );
    }
    expect(failure(() => decodeCanalPayload('hello', 'flat', origin))).toMatch(/^neither/);
  });

  it('random binary under protobuf keeps the wire error (with its path)', () => {
    expect(
      failure(() =>
        decodeCanalPayload(Uint8Array.from([0x18, 7, 0x2a, 5, 1, 2, 3]), 'auto', origin),
      ),
    ).toMatch(/runs past the end/);
  });
});

describe('statement-format DML is reported, not silently skipped', () => {
  const statement = message({
    type: 'UPDATE',
    data: null,
    pkNames: null,
    sqlType: null,
    mysqlType: null,
    sql: 'UPDATE orders SET n = n + 1',
  });
  const expected: DecodeNotice = {
    kind: 'statement-dml',
    database: 'shop',
    table: 'orders',
    type: 'UPDATE',
    sql: 'UPDATE orders SET n = n + 1',
  };

  it('flat and protobuf report it as a notice, and yield no event', () => {
    for (const [format, payload] of [
      ['flat', encodeFlatMessage(statement)],
      ['protobuf', asProtobuf(statement)],
      ['auto', Buffer.from(encodeFlatMessage(statement))],
      ['auto', asProtobuf(message({}), statement, message({}))],
    ] as const) {
      const notices: DecodeNotice[] = [];
      const events = decodeCanalPayload(payload, format, origin, notices);
      expect(notices, format).toEqual([expected]);
      expect(events.every((e) => e.kind === 'row' && e.type === 'INSERT')).toBe(true);
    }
  });

  it('not for system schemas and heartbeat tables, nor for annotate QUERY messages or DDL', () => {
    for (const [database, table] of [
      ['mysql', 'ha_health_check'],
      ['MYSQL', 'user'],
      ['information_schema', 'x'],
      ['performance_schema', 'x'],
      ['sys', 'x'],
      ['test', 'heartbeat'],
      ['percona', 'heartbeat'],
    ]) {
      const m = { ...statement, database: database!, table: table! };
      for (const payload of [encodeFlatMessage(m), asProtobuf(m)]) {
        const notices: DecodeNotice[] = [];
        decodeCanalPayload(payload, 'auto', origin, notices);
        expect(notices, `${database}.${table}`).toEqual([]);
      }
    }
    const notices: DecodeNotice[] = [];
    const query = message({ type: 'QUERY', data: null, database: '', table: '', sql: 'INSERT …' });
    const ddl = message({ type: 'ALTER', isDdl: true, data: null, sql: 'ALTER TABLE orders …' });
    for (const m of [query, ddl]) {
      decodeCanalPayload(encodeFlatMessage(m), 'flat', origin, notices);
      decodeCanalPayload(asProtobuf(m), 'protobuf', origin, notices);
    }
    expect(notices).toEqual([]);
  });

  it('nothing is reported when decoding fails', () => {
    const notices: DecodeNotice[] = [];
    const bad = asProtobuf(statement);
    expect(() =>
      decodeCanalPayload(bad.subarray(0, bad.length - 1), 'protobuf', origin, notices),
    ).toThrow(DecodeError);
    expect(notices).toEqual([]);
  });
});

describe('identifier quotes in names', () => {
  it('unquoteName removes enclosing backticks and undoubles inner ones only', () => {
    expect(unquoteName('`mytest`')).toBe('mytest');
    expect(unquoteName('`my``db`')).toBe('my`db');
    expect(unquoteName('mytest')).toBe('mytest');
    expect(unquoteName('`a`.`b`')).toBe('`a`.`b`');
    expect(unquoteName('`')).toBe('`');
    expect(unquoteName('``')).toBe('');
    expect(unquoteName('`x')).toBe('`x');
  });

  it('flat and protobuf events, DDL and rows, get plain names', () => {
    const ddl = message({
      type: 'QUERY',
      isDdl: true,
      data: null,
      database: '`mytest`',
      table: '',
      sql: 'CREATE DATABASE IF NOT EXISTS `mytest`',
    });
    const rows = message({ database: '`my``db`', table: '`orders`' });
    for (const payload of [encodeFlatMessage(ddl), asProtobuf(ddl)]) {
      const [event] = decodeCanalPayload(payload, 'auto', origin);
      expect(event).toMatchObject({ kind: 'ddl', database: 'mytest', table: '' });
    }
    for (const payload of [encodeFlatMessage(rows), asProtobuf(rows)]) {
      const [event] = decodeCanalPayload(payload, 'auto', origin);
      expect(event).toMatchObject({ kind: 'row', database: 'my`db', table: 'orders' });
    }
  });
});
