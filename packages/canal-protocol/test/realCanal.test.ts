/**
 * Golden test against real canal 1.1.8 output (fixtures/real-canal, see its README.md): the same
 * MariaDB 10.11 binlog written by canal as FlatMessage JSON and as protobuf must decode to the
 * same events, and the typed values must be what workload.sql wrote.
 */
import { readFileSync } from 'node:fs';
import type { ChangeEvent, RowChangeEvent } from '@sluice/plugin-api';
import { describe, expect, it } from 'vitest';
import {
  decodeCanalPayload,
  readColumn,
  typedValue,
  type DecodeNotice,
  type TypedValue,
} from '@sluice/canal-protocol';

const fixture = (name: string): Buffer =>
  readFileSync(new URL(`fixtures/real-canal/${name}`, import.meta.url));

/** Every event of a fixture, with the index of the Kafka record it came from. */
function flatEvents(name: string): { events: ChangeEvent[]; record: number[] } {
  const events: ChangeEvent[] = [];
  const record: number[] = [];
  fixture(name)
    .toString('utf8')
    .split('\n')
    .filter((line) => line !== '')
    .forEach((line, i) => {
      for (const event of decodeCanalPayload(Buffer.from(line, 'utf8'), 'flat', origin(i))) {
        events.push(event);
        record.push(i);
      }
    });
  return { events, record };
}

function protobufEvents(): ChangeEvent[] {
  const bytes = fixture('protobuf.lpb');
  const events: ChangeEvent[] = [];
  let pos = 0;
  for (let i = 0; pos < bytes.length; i++) {
    const length = bytes.readUInt32BE(pos);
    const frame = bytes.subarray(pos + 4, pos + 4 + length);
    // Both decoders: 'auto' must see protobuf too.
    events.push(...decodeCanalPayload(frame, i === 0 ? 'protobuf' : 'auto', origin(i)));
    pos += 4 + length;
  }
  return events;
}

const origin = (i: number) => ({ destination: 'canalfx', partition: '0', offset: String(i) });

/**
 * The fixtures' events, decoded in each test that reads them: decoding at module load would run
 * the codecs outside any test, and Stryker cannot apply the mutants of code it sees run there
 * (docs/testing.md, "static" mutants). Not memoized: under Stryker each run must decode anew.
 */
const real = () => ({ flat: flatEvents('flat.jsonl'), protobuf: protobufEvents() });

/** The event without what differs by format by design: position and produce time. */
const comparable = ({ position: _p, producedAt: _t, columns: _c, ...rest }: ChangeEvent) => rest;

describe('real canal 1.1.8 output (MariaDB 10.11): flat and protobuf', () => {
  it('decode to the same events, in the same order', () => {
    const { flat, protobuf } = real();
    expect(flat.events.length).toBe(48);
    expect(protobuf.length).toBe(flat.events.length);
    for (let i = 0; i < flat.events.length; i++)
      expect(comparable(protobuf[i]!), `event ${i}`).toEqual(comparable(flat.events[i]!));
  });

  it("have the same column types, but for canal's one sqlType per flat message (last row wins)", () => {
    const { flat, protobuf } = real();
    for (let i = 0; i < flat.events.length; i++) {
      const f = flat.events[i]!;
      const p = protobuf[i]!;
      expect(Object.keys(p.columns), `event ${i}`).toEqual(Object.keys(f.columns));
      for (const [name, meta] of Object.entries(f.columns))
        expect(p.columns[name]!.mysqlType, `event ${i} ${name}`).toBe(meta.mysqlType);
      // The flat map is the one of the message's last row, which protobuf has per row.
      const last = i + 1 === flat.events.length || flat.record[i + 1] !== flat.record[i];
      if (last) expect(p.columns, `event ${i}`).toEqual(f.columns);
    }
    // The known difference exists in this fixture: a NULL SET is 2004 where a value is -7.
    const differs = flat.events.some(
      (f, i) => JSON.stringify(f.columns) !== JSON.stringify(protobuf[i]!.columns),
    );
    expect(differs).toBe(true);
  });

  it('report no statement-format DML: the workload ran with binlog_format=ROW', () => {
    const notices: DecodeNotice[] = [];
    for (const line of fixture('flat.jsonl').toString('utf8').trim().split('\n'))
      decodeCanalPayload(line, 'flat', origin(0), notices);
    expect(notices).toEqual([]);
  });
});

describe('typed values are what workload.sql wrote', () => {
  const formats = {
    flat: () => real().flat.events,
    protobuf: () => real().protobuf,
  };

  /** The row event of `all_types` with primary key `id`, by type (the first one). */
  function row(events: ChangeEvent[], type: string, id: string, table = 'all_types') {
    const found = events.find(
      (e): e is RowChangeEvent =>
        e.kind === 'row' &&
        e.table === table &&
        e.type === type &&
        (e.type === 'DELETE' ? e.before : e.after)?.['id'] === id,
    );
    if (found === undefined) throw new Error(`no ${type} of ${table} id ${id}`);
    return (column: string): TypedValue | undefined => readColumn(found, column);
  }

  const bytes = (...values: number[]) => ({ kind: 'bytes', value: Uint8Array.from(values) });
  const text = (value: string) => ({ kind: 'text', value });
  const json = (value: string) => ({ kind: 'json', text: value, partial: false });

  for (const [format, eventsOf] of Object.entries(formats)) {
    describe(format, () => {
      it('row 1: every type, unicode, bytes, extremes', () => {
        const events = eventsOf();
        const col = row(events, 'INSERT', '1');
        expect(col('id')).toEqual({ kind: 'integer', value: 1 });
        expect(col('c_tinyint')).toEqual({ kind: 'integer', value: -128 });
        expect(col('c_utinyint')).toEqual({ kind: 'integer', value: 255 });
        expect(col('c_smallint')).toEqual({ kind: 'integer', value: -32768 });
        expect(col('c_mediumint')).toEqual({ kind: 'integer', value: -8388608 });
        expect(col('c_int')).toEqual({ kind: 'integer', value: -2147483648 });
        expect(col('c_uint')).toEqual({ kind: 'integer', value: 4294967295 });
        expect(col('c_bigint')).toEqual({ kind: 'integer', value: -9223372036854775808n });
        expect(col('c_ubigint')).toEqual({ kind: 'integer', value: 18446744073709551615n });
        expect(col('c_decimal')).toEqual({ kind: 'decimal', value: '-12345678901234.123456' });
        expect(col('c_float')).toEqual({ kind: 'float', value: 3.14159 });
        expect(col('c_double')).toEqual({ kind: 'float', value: 2.718281828459045 });
        expect(col('c_date')).toMatchObject({ kind: 'date', year: 2024, month: 2, day: 29 });
        expect(col('c_datetime')).toMatchObject({
          kind: 'datetime',
          text: '2024-02-29 13:14:15.123',
          hour: 13,
          fraction: '123',
        });
        expect(col('c_ts')).toMatchObject({
          kind: 'timestamp',
          text: '2024-02-29 13:14:15.654321',
        });
        expect(col('c_time')).toMatchObject({ kind: 'time', negative: true, hour: 838 });
        expect(col('c_year')).toEqual({ kind: 'year', value: 2024 });
        expect(col('c_char')).toEqual(text('abc'));
        expect(col('c_varchar')).toEqual(text('中文字符 😀 emoji'));
        expect(col('c_text')).toEqual(text('long text 长文本 🚀'));
        expect(col('c_blob')).toEqual(bytes(0x00, 0xff, 0x7f, 0x80, 0xc3));
        expect(col('c_varbinary')).toEqual(bytes(0xde, 0xad, 0xbe, 0xef, 0x00));
        expect(col('c_binary')).toEqual(bytes(1, 2, 3, 4));
        // MariaDB JSON: canal sends its UTF-8 bytes as latin-1 ("中" as "ä¸\u00ad").
        expect(col('c_json')).toEqual(
          json('{"k": "v", "n": 1, "arr": [1, 2.5, null, true], "u": "中"}'),
        );
        expect(col('c_bit')).toEqual({ kind: 'bit', value: 0b10100101, width: 8 });
        expect(col('c_enum')).toEqual({ kind: 'enum', index: 2, label: 'medium' });
        expect(col('c_set')).toEqual({ kind: 'set', mask: 5, labels: ['a', 'c'] });
      });

      it('rows 2, 3 and 2^53+1: NULL, empty and zero values, big keys', () => {
        const events = eventsOf();
        const nulls = row(events, 'INSERT', '2');
        for (const c of ['c_tinyint', 'c_varchar', 'c_text', 'c_blob', 'c_json', 'c_enum', 'c_set'])
          expect(nulls(c), c).toEqual({ kind: 'null' });
        const empty = row(events, 'INSERT', '3');
        expect(empty('c_varchar')).toEqual(text(''));
        expect(empty('c_char')).toEqual(text(''));
        expect(empty('c_text')).toEqual(text(''));
        expect(empty('c_blob')).toEqual(bytes());
        expect(empty('c_varbinary')).toEqual(bytes());
        expect(empty('c_json')).toEqual(json('{}'));
        expect(empty('c_enum')).toEqual({ kind: 'enum', index: 1, label: 'small' });
        expect(empty('c_set')).toEqual({ kind: 'set', mask: 0, labels: [] });
        expect(empty('c_ubigint')).toEqual({ kind: 'integer', value: 9007199254740993n });
        expect(empty('c_decimal')).toEqual({ kind: 'decimal', value: '0.000001' });
        const big = row(events, 'INSERT', '9007199254740993');
        expect(big('id')).toEqual({ kind: 'integer', value: 9007199254740993n });
        expect(big('c_blob')).toEqual(bytes(0x80));
        expect(big('c_varbinary')).toEqual(bytes(0xff));
        expect(big('c_json')).toEqual(json('[]'));
        expect(big('c_enum')).toEqual({ kind: 'enum', index: 3, label: 'large' });
        expect(big('c_set')).toEqual({ kind: 'set', mask: 15, labels: ['a', 'b', 'c', 'd'] });
        expect(big('c_bigint')).toEqual({ kind: 'integer', value: -1 });
        expect(big('c_decimal')).toEqual({ kind: 'decimal', value: '99999999999999.999999' });
      });

      it('rows 4 and 5: time zones, odd floats, zero BIT, YEAR limits', () => {
        const events = eventsOf();
        const tz = row(events, 'INSERT', '4');
        // Written as 08:00 under +08:00; canal renders TIMESTAMP in its JVM zone (UTC here).
        expect(tz('c_ts')).toMatchObject({ text: '2024-06-01 00:00:00.000001' });
        expect(tz('c_datetime')).toMatchObject({ text: '2024-06-01 08:00:00.999' });
        expect(tz('c_date')).toMatchObject({ year: 1000, month: 1, day: 1 });
        expect(tz('c_year')).toEqual({ kind: 'year', value: 1901 });
        const odd = row(events, 'INSERT', '5');
        expect(odd('c_float')).toEqual({ kind: 'float', value: -0.0001 });
        expect(odd('c_double')).toEqual({ kind: 'float', value: 1e308 });
        expect(odd('c_time')).toMatchObject({ kind: 'time', negative: false, hour: 838 });
        expect(odd('c_bit')).toEqual({ kind: 'bit', value: 0, width: 8 });
        expect(odd('c_year')).toEqual({ kind: 'year', value: 2155 });
      });

      it('updates: binary update, NULLed JSON, PK change, unicode in other tables', () => {
        const events = eventsOf();
        const updates = events.filter(
          (e): e is RowChangeEvent => e.kind === 'row' && e.type === 'UPDATE',
        );
        const binary = updates.find((e) => e.after?.['id'] === '1' && e.changed.includes('c_blob'));
        expect(readColumn(binary!, 'c_blob')).toEqual(bytes(0x00, 0x01, 0xfe, 0xff));
        expect(readColumn(binary!, 'c_varbinary')).toEqual(bytes(0xc3, 0x28));
        const nulled = row(events, 'UPDATE', '3');
        expect(nulled('c_json')).toEqual({ kind: 'null' });
        const moved = row(events, 'UPDATE', '100');
        expect(moved('id')).toEqual({ kind: 'integer', value: 100 });
        const tenant = events.find(
          (e): e is RowChangeEvent =>
            e.kind === 'row' && e.table === 'composite_pk' && e.after?.['tenant'] === 't2',
        );
        expect(readColumn(tenant!, 'payload')).toEqual(text('租户二'));
      });

      it('values on the events stay exactly as canal sent them', () => {
        const events = eventsOf();
        const col = events.find(
          (e): e is RowChangeEvent => e.kind === 'row' && e.after?.['id'] === '1',
        )!;
        expect(col.after!['c_json']).toContain('"u": "ä¸\u00ad"');
        expect(col.after!['c_enum']).toBe('2');
        expect(col.after!['c_set']).toBe('5');
        expect(col.after!['c_bit']).toBe('165');
        expect(typedValue(col.after!['c_enum']!, col.columns['c_enum']!)).toMatchObject({
          label: 'medium',
        });
      });
    });
  }
});

describe('DDL names keep no identifier quotes (real canal: CREATE DATABASE `mytest`)', () => {
  it('flat: database "`mytest`" becomes "mytest"', () => {
    const { events } = flatEvents('flat-createdb.jsonl');
    expect(events.map((e) => `${e.kind}:${e.type}:${e.database}:${e.table}`)).toEqual([
      'ddl:QUERY:mytest:',
      'ddl:QUERY:sluice_target:',
      'ddl:QUERY:mytest:',
      'ddl:QUERY:sluice_target:',
    ]);
    // The statement text is canal's, untouched.
    expect((events[0] as { sql: string }).sql).toBe('CREATE DATABASE IF NOT EXISTS `mytest`');
  });
});
