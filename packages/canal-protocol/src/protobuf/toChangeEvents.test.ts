import { readFileSync } from 'node:fs';
import type { RowChangeEvent } from '@sluice/plugin-api';
import { describe, expect, it } from 'vitest';
import { DecodeError } from '../decodeError.js';
import { decodeFlatMessage, type FlatMessage } from '../flatMessage.js';
import { flatMessageToChangeEvents } from '../toChangeEvents.js';
import { decodeCanalMessages, encodeAckPacket, encodeCanalMessages } from './canalProtocol.js';
import {
  EntryType,
  EventType,
  decodeEntry,
  decodeRowChange,
  decodeTransactionBegin,
  decodeTransactionEnd,
  encodeEntry,
  encodeRowChange,
  encodeTransactionBegin,
  encodeTransactionEnd,
  type CanalColumn,
  type CanalEntry,
  type CanalHeader,
} from './entryProtocol.js';
import { flatMessageToEntry } from './fromFlatMessage.js';
import { canalMessagesToChangeEvents, decodeProtobufMessage } from './toChangeEvents.js';
import { ProtoWriter, WireType } from './wire.js';

const hex = (s: string) =>
  Uint8Array.from(
    s
      .trim()
      .split(/\s+/)
      .map((b) => parseInt(b, 16)),
  );
const toHex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const origin = { destination: 'example', partition: '2', offset: '9007199254740993' };
// Lines are read at load, decoded in the tests: a codec run outside any test makes its mutants
// "static", which Stryker cannot apply (docs/testing.md).
const lines = (name: string) =>
  readFileSync(new URL(name, import.meta.url), 'utf8')
    .trim()
    .split('\n');
const referenceLines = lines('../../test/fixtures/reference-examples.jsonl');
const sampleLines = lines('../../../../config/samples/mytest_user.jsonl');
const firstReference = () => decodeFlatMessage(referenceLines[0]!);

const header = (fields: Partial<CanalHeader> = {}): CanalHeader => ({
  version: 1,
  logfileName: 'mysql-bin.000003',
  logfileOffset: 4n,
  serverId: 1n,
  serverenCode: 'UTF-8',
  executeTime: 1718000000000n,
  sourceType: 2,
  schemaName: 'shop',
  tableName: 'orders',
  eventLength: 42n,
  eventType: EventType.INSERT,
  props: [],
  gtid: '',
  ...fields,
});

const column = (
  name: string,
  value: string | null,
  fields: Partial<CanalColumn> = {},
): CanalColumn => ({
  index: 0,
  sqlType: 12,
  name,
  isKey: false,
  updated: false,
  isNull: value === null,
  props: [],
  value: value ?? '',
  length: 0,
  mysqlType: 'varchar(10)',
  ...fields,
});

const begin: CanalEntry = {
  header: header({ eventType: EventType.UPDATE, schemaName: '', tableName: '' }),
  entryType: EntryType.TRANSACTIONBEGIN,
  storeValue: encodeTransactionBegin({
    executeTime: 0n,
    transactionId: '',
    props: [],
    threadId: 77n,
  }),
};
const end: CanalEntry = {
  header: header({ eventType: EventType.UPDATE, schemaName: '', tableName: '' }),
  entryType: EntryType.TRANSACTIONEND,
  storeValue: encodeTransactionEnd({ executeTime: 0n, transactionId: '1234', props: [] }),
};

describe('Packet / Messages', () => {
  it('decodes the empty MESSAGES reply of the reference (§3.9): batch -1, no entries', () => {
    expect(decodeCanalMessages(hex('10 01 18 07 2A 0B 08 FF FF FF FF FF FF FF FF FF 01'))).toEqual({
      batchId: -1n,
      entries: [],
    });
  });

  it("writes both of canal's layouts and reads them back", () => {
    const entries = [begin, flatMessageToEntry(firstReference()), end];
    const raw = encodeCanalMessages({ batchId: 42n, entries }, 'raw');
    const builder = encodeCanalMessages({ batchId: 0n, entries }, 'builder');
    expect(toHex(raw.subarray(0, 3))).toBe('18072a');
    expect(toHex(builder.subarray(0, 5))).toBe('100118072a');
    expect(decodeCanalMessages(raw)).toEqual({ batchId: 42n, entries });
    expect(decodeCanalMessages(builder)).toEqual({ batchId: 0n, entries });
    // Entries given already serialized give the same bytes.
    expect(encodeCanalMessages({ batchId: 42n, entries: entries.map(encodeEntry) }, 'raw')).toEqual(
      raw,
    );
  });

  it('accepts an explicitly empty body and compression NONE', () => {
    expect(decodeCanalMessages(hex('18 07 20 01 2A 00'))).toEqual({ batchId: 0n, entries: [] });
  });

  it.each([
    [
      'an ACK packet',
      encodeAckPacket(400, 'auth failed for user:canal'),
      /ACK packet, not MESSAGES: error 400 "auth failed for user:canal"/,
    ],
    [
      'a HANDSHAKE packet',
      hex('10 01 18 01 2A 0A 12 08 01 02 03 04 05 06 07 08'),
      /packet type 1, expected MESSAGES/,
    ],
    ['an empty payload', new Uint8Array(0), /packet type 0/],
    ['ZLIB compression', hex('18 07 20 02 2A 00'), /compression 2 is not supported/],
    ['FlatMessage JSON', new TextEncoder().encode('{"type":"INSERT"}'), /unsupported start-group/],
    ['type as a string', hex('1A 01 07'), /type: has length-delimited encoding, expected varint/],
  ])('rejects %s', (_name, bytes, reason) => {
    expect(() => decodeCanalMessages(bytes)).toThrow(reason);
  });

  it('names the broken entry in the path', () => {
    const good = encodeEntry(flatMessageToEntry(firstReference()));
    const bad = good.slice(0, good.length - 3);
    try {
      decodeCanalMessages(encodeCanalMessages({ batchId: 1n, entries: [good, bad] }));
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(DecodeError);
      expect((error as DecodeError).path).toMatch(/^body\.messages\[1\]/);
    }
  });
});

describe('Entry and RowChange: round trips and proto2 defaults', () => {
  it('encode → decode is identity for every message', () => {
    const rowChange = {
      tableId: 108n,
      eventType: EventType.UPDATE,
      isDdl: false,
      sql: '',
      rowDatas: [
        {
          beforeColumns: [
            column('id', '3', { isKey: true, sqlType: -5, mysqlType: 'bigint' }),
            column('note', null),
          ],
          afterColumns: [
            column('id', '30', { isKey: true, updated: true, sqlType: -5, mysqlType: 'bigint' }),
            column('note', 'Zoë 🚀', { updated: true, props: [{ key: 'k', value: 'v' }] }),
          ],
          props: [],
        },
      ],
      props: [{ key: 'XA_TYPE', value: 'XA START' }],
      ddlSchemaName: 'shop',
    };
    expect(decodeRowChange(encodeRowChange(rowChange))).toEqual(rowChange);
    const entry: CanalEntry = {
      header: header({
        props: [{ key: 'rowsCount', value: '1' }],
        gtid: 'uuid:1-5',
        logfileOffset: 2n ** 40n,
      }),
      entryType: EntryType.ROWDATA,
      storeValue: encodeRowChange(rowChange),
    };
    expect(decodeEntry(encodeEntry(entry))).toEqual(entry);
    const tb = {
      executeTime: 5n,
      transactionId: 'x',
      props: [{ key: 'XA_XID', value: 'abc' }],
      threadId: 99n,
    };
    expect(decodeTransactionBegin(encodeTransactionBegin(tb))).toEqual(tb);
    const te = { executeTime: 0n, transactionId: '0', props: [] };
    expect(decodeTransactionEnd(encodeTransactionEnd(te))).toEqual(te);
  });

  it("applies the proto2 defaults canal's Java runtime applies when fields are absent", () => {
    expect(decodeEntry(new Uint8Array(0))).toMatchObject({
      entryType: EntryType.ROWDATA,
      header: { version: 1, sourceType: 2, eventType: EventType.UPDATE },
    });
    expect(decodeRowChange(new Uint8Array(0))).toMatchObject({
      eventType: EventType.UPDATE,
      isDdl: false,
      rowDatas: [],
    });
    // A Column with only name and value: isNull=false, updated=false.
    const col = new ProtoWriter()
      .tag(3, WireType.lengthDelimited)
      .string('a')
      .tag(8, WireType.lengthDelimited)
      .string('1')
      .finish();
    const rowData = new ProtoWriter().tag(2, WireType.lengthDelimited).bytes(col).finish();
    const rc = decodeRowChange(
      new ProtoWriter().tag(12, WireType.lengthDelimited).bytes(rowData).finish(),
    );
    expect(rc.rowDatas[0]!.afterColumns[0]).toMatchObject({
      name: 'a',
      value: '1',
      isNull: false,
      updated: false,
      isKey: false,
    });
  });

  it('skips unknown fields (a newer canal) and keeps unknown enum values', () => {
    const w = new ProtoWriter()
      .tag(2, WireType.varint)
      .int32(99)
      .tag(15, WireType.lengthDelimited)
      .string('future')
      .tag(16, WireType.varint)
      .uint32(1);
    expect(decodeRowChange(w.finish())).toMatchObject({ eventType: 99 });
  });

  it('reports a wrong wire type for a known field with its path', () => {
    const col = new ProtoWriter().tag(2, WireType.lengthDelimited).string('4').finish();
    const rowData = new ProtoWriter().tag(1, WireType.lengthDelimited).bytes(col).finish();
    expect(() =>
      decodeRowChange(new ProtoWriter().tag(12, WireType.lengthDelimited).bytes(rowData).finish()),
    ).toThrow(
      'rowDatas[0].beforeColumns[0].sqlType: has length-delimited encoding, expected varint',
    );
  });
});

describe('canalMessagesToChangeEvents', () => {
  const insertRows: CanalEntry = {
    header: header({ eventType: EventType.INSERT, gtid: 'uuid:1-7' }),
    entryType: EntryType.ROWDATA,
    storeValue: encodeRowChange({
      tableId: 1n,
      eventType: EventType.INSERT,
      isDdl: false,
      sql: '',
      rowDatas: ['1', '2'].map((id) => ({
        beforeColumns: [],
        afterColumns: [
          column('id', id, { isKey: true, updated: true, sqlType: -5, mysqlType: 'bigint' }),
          column('note', null, { updated: true, sqlType: 2005, mysqlType: 'text' }),
        ],
        props: [],
      })),
      props: [],
      ddlSchemaName: '',
    }),
  };
  const pkChange: CanalEntry = {
    header: header({ eventType: EventType.UPDATE, executeTime: 1718000001000n }),
    entryType: EntryType.ROWDATA,
    storeValue: encodeRowChange({
      tableId: 1n,
      eventType: EventType.UPDATE,
      isDdl: false,
      sql: '',
      rowDatas: [
        {
          beforeColumns: [
            column('id', '3', { isKey: true, sqlType: -5, mysqlType: 'bigint' }),
            column('note', 'a', { sqlType: 2005, mysqlType: 'text' }),
          ],
          afterColumns: [
            column('id', '30', { isKey: true, updated: true, sqlType: -5, mysqlType: 'bigint' }),
            column('note', 'a', { sqlType: 2005, mysqlType: 'text' }),
          ],
          props: [],
        },
      ],
      props: [],
      ddlSchemaName: '',
    }),
  };
  const ddl: CanalEntry = {
    header: header({ eventType: EventType.ALTER, executeTime: 1718000002000n }),
    entryType: EntryType.ROWDATA,
    storeValue: encodeRowChange({
      tableId: 0n,
      eventType: EventType.ALTER,
      isDdl: true,
      sql: 'ALTER TABLE orders ADD c int',
      rowDatas: [],
      props: [],
      ddlSchemaName: 'shop',
    }),
  };
  const annotate: CanalEntry = {
    header: header({ eventType: EventType.QUERY, schemaName: '', tableName: '' }),
    entryType: EntryType.ROWDATA,
    storeValue: encodeRowChange({
      tableId: 0n,
      eventType: EventType.QUERY,
      isDdl: false,
      sql: 'insert into orders values (1)',
      rowDatas: [],
      props: [],
      ddlSchemaName: '',
    }),
  };

  it('skips BEGIN/END and rows-query noise, keeps DDL, numbers events across entries', () => {
    const bytes = encodeCanalMessages({
      batchId: 7n,
      entries: [begin, annotate, insertRows, pkChange, end, begin, ddl, end],
    });
    const events = decodeProtobufMessage(bytes, origin);
    expect(events.map((e) => [e.kind, e.type, e.position.index, e.position.offset])).toEqual([
      ['row', 'INSERT', 0, '9007199254740993'],
      ['row', 'INSERT', 1, '9007199254740993'],
      ['row', 'UPDATE', 2, '9007199254740993'],
      ['ddl', 'ALTER', 3, '9007199254740993'],
    ]);
    expect(events[0]).toEqual({
      kind: 'row',
      type: 'INSERT',
      destination: 'example',
      database: 'shop',
      table: 'orders',
      pkNames: ['id'],
      executedAt: 1718000000000,
      producedAt: 1718000000000,
      gtid: 'uuid:1-7',
      after: { id: '1', note: null },
      changed: [],
      columns: {
        id: { mysqlType: 'bigint', sqlType: -5 },
        note: { mysqlType: 'text', sqlType: 2005 },
      },
      position: { source: 'example', partition: '2', offset: '9007199254740993', index: 0 },
    });
    expect(events[0]!.columns).toBe(events[1]!.columns);
    expect(events[2]).toMatchObject({
      before: { id: '3', note: 'a' },
      after: { id: '30', note: 'a' },
      changed: ['id'],
      pkNames: ['id'],
    });
    expect(events[3]).toMatchObject({
      sql: 'ALTER TABLE orders ADD c int',
      database: 'shop',
      table: 'orders',
      columns: {},
      pkNames: [],
    });
  });

  it('uses origin.producedAt when the source knows the record time', () => {
    const [event] = decodeProtobufMessage(
      encodeCanalMessages({ batchId: 1n, entries: [insertRows] }),
      { ...origin, producedAt: 1718000000555 },
    );
    expect(event!.producedAt).toBe(1718000000555);
  });

  it('DELETE: before image and its keys; UPDATE without keys in the after image falls back to the before image', () => {
    const entry = (
      eventType: number,
      rowData: { beforeColumns: CanalColumn[]; afterColumns: CanalColumn[] },
    ): CanalEntry => ({
      header: header({ eventType }),
      entryType: EntryType.ROWDATA,
      storeValue: encodeRowChange({
        tableId: 1n,
        eventType,
        isDdl: false,
        sql: '',
        rowDatas: [{ ...rowData, props: [] }],
        props: [],
        ddlSchemaName: '',
      }),
    });
    const [del] = canalMessagesToChangeEvents(
      {
        batchId: 1n,
        entries: [
          entry(EventType.DELETE, {
            beforeColumns: [column('id', '9', { isKey: true })],
            afterColumns: [],
          }),
        ],
      },
      origin,
    ) as RowChangeEvent[];
    expect(del).toMatchObject({
      type: 'DELETE',
      before: { id: '9' },
      pkNames: ['id'],
      changed: [],
    });
    expect(del!.after).toBeUndefined();
    const [upd] = canalMessagesToChangeEvents(
      {
        batchId: 1n,
        entries: [
          entry(EventType.UPDATE, {
            beforeColumns: [column('id', '9', { isKey: true })],
            afterColumns: [column('name', 'x', { updated: true })],
          }),
        ],
      },
      origin,
    ) as RowChangeEvent[];
    expect(upd).toMatchObject({
      pkNames: ['id'],
      before: { id: '9' },
      after: { name: 'x' },
      changed: ['name'],
    });
    expect(upd!.columns).toEqual({
      id: { mysqlType: 'varchar(10)', sqlType: 12 },
      name: { mysqlType: 'varchar(10)', sqlType: 12 },
    });
  });

  it('reports a broken storeValue with the entry index', () => {
    const broken: CanalEntry = { ...insertRows, storeValue: insertRows.storeValue.subarray(0, 20) };
    expect(() =>
      decodeProtobufMessage(encodeCanalMessages({ batchId: 1n, entries: [begin, broken] }), origin),
    ).toThrow(/^messages\[1\]\.storeValue\.rowDatas\[0\]/);
  });

  it('says when the bytes are FlatMessage JSON', () => {
    expect(() =>
      decodeProtobufMessage(new TextEncoder().encode('{"type":"INSERT"}'), origin),
    ).toThrow(/like FlatMessage JSON/);
  });
});

describe('both formats give the same events', () => {
  const viaProtobuf = (m: FlatMessage) =>
    decodeProtobufMessage(
      encodeCanalMessages({ batchId: 1n, entries: [begin, flatMessageToEntry(m), end] }),
      { ...origin, producedAt: m.ts },
    );
  it.each([...referenceLines, ...sampleLines].map((line, i) => [i, line] as const))(
    'message %d',
    (_i, line) => {
      const message = decodeFlatMessage(line);
      expect(viaProtobuf(message)).toEqual(flatMessageToChangeEvents(message, origin));
    },
  );
});

describe('decodeProtobufMessage: notices and errors, fast path or checked', () => {
  const statementInsert = (table: string): CanalEntry => ({
    header: header({ eventType: EventType.INSERT, tableName: table }),
    entryType: EntryType.ROWDATA,
    storeValue: encodeRowChange({
      tableId: 1n,
      eventType: EventType.INSERT,
      isDdl: false,
      sql: `insert into ${table} values (1)`,
      rowDatas: [],
      props: [],
      ddlSchemaName: '',
    }),
  });
  const rows: CanalEntry = {
    header: header({ eventType: EventType.INSERT }),
    entryType: EntryType.ROWDATA,
    storeValue: encodeRowChange({
      tableId: 1n,
      eventType: EventType.INSERT,
      isDdl: false,
      sql: '',
      rowDatas: [{ beforeColumns: [], afterColumns: [column('id', '1')], props: [] }],
      props: [],
      ddlSchemaName: '',
    }),
  };
  const notice = (table: string) => ({
    kind: 'statement-dml',
    database: 'shop',
    table,
    type: 'INSERT',
    sql: `insert into ${table} values (1)`,
  });

  it('adds the notices of a payload to the list given, after what it held', () => {
    const bytes = encodeCanalMessages({
      batchId: 1n,
      entries: [statementInsert('a'), rows, statementInsert('b')],
    });
    const notices: unknown[] = [{ earlier: true }];
    const events = decodeProtobufMessage(bytes, origin, notices as never);
    expect(events).toHaveLength(1);
    expect(notices).toEqual([{ earlier: true }, notice('a'), notice('b')]);
    // Without a list: the same events, nothing thrown.
    expect(decodeProtobufMessage(bytes, origin)).toEqual(events);
  });

  it('the checked path reports the notice of each statement-format entry, in order', () => {
    const notices: unknown[] = [];
    const events = canalMessagesToChangeEvents(
      { batchId: 1n, entries: [statementInsert('a'), rows, statementInsert('b')] },
      origin,
      notices as never,
    );
    expect(events).toHaveLength(1);
    expect(notices).toEqual([notice('a'), notice('b')]);
  });

  it('a payload neither path reads adds no notices and throws the checked decoder’s error', () => {
    const good = encodeCanalMessages({ batchId: 1n, entries: [statementInsert('a'), rows] });
    const broken = encodeCanalMessages({
      batchId: 1n,
      entries: [statementInsert('a'), { ...rows, storeValue: rows.storeValue.subarray(0, 9) }],
    });
    const notices: unknown[] = [];
    expect(() => decodeProtobufMessage(broken, origin, notices as never)).toThrow(
      /^messages\[1\]\.storeValue\.rowDatas\[0\]: embedded message of \d+ bytes at byte \d+ runs past the end/,
    );
    expect(notices).toEqual([]);
    expect(decodeProtobufMessage(good, origin, notices as never)).toHaveLength(1);
    expect(notices).toEqual([notice('a')]);
  });

  it('says what the payload is when it is not protobuf at all', () => {
    const text = (s: string) => new TextEncoder().encode(s);
    const message = (bytes: Uint8Array): string => {
      try {
        decodeProtobufMessage(bytes, origin);
      } catch (error) {
        expect(error).toBeInstanceOf(DecodeError);
        return (error as Error).message;
      }
      throw new Error('did not throw');
    };
    expect(message(text('  [{"type":"INSERT"}]'))).toBe(
      'not a canal protobuf Packet: it is JSON text, like FlatMessage JSON (is canal.conf.flatMessage set right?): "  [{\\"type\\":\\"INSERT\\"}]"',
    );
    expect(message(text('hello world'))).toBe(
      'neither FlatMessage JSON nor canal protobuf: the payload is plain text: "hello world"',
    );
    // Binary that is not a Packet: the wire error itself.
    expect(message(Uint8Array.of(0x18, 0x07, 0x2a, 0x09, 0x01))).toMatch(
      /runs past the end of its message/,
    );
    expect(message(Uint8Array.of(0x18, 0x07, 0x2a, 0x09, 0x01))).not.toMatch(/plain text|JSON/);
  });

  it('skips entries that are not ROWDATA, whatever their storeValue holds', () => {
    const junk = Uint8Array.of(0xff, 0xff);
    const bytes = encodeCanalMessages({
      batchId: 1n,
      entries: [
        { ...begin, storeValue: junk },
        { ...rows, entryType: EntryType.HEARTBEAT, storeValue: junk },
        { ...rows, entryType: EntryType.GTIDLOG, storeValue: junk },
        rows,
        { ...end, storeValue: junk },
      ],
    });
    expect(decodeProtobufMessage(bytes, origin)).toHaveLength(1);
    expect(
      canalMessagesToChangeEvents(decodeCanalMessages(bytes), origin).map((e) => e.type),
    ).toEqual(['INSERT']);
  });

  it('numbers the events of all entries on, and reads each header of the checked path', () => {
    const other: CanalEntry = {
      ...rows,
      header: header({
        eventType: EventType.INSERT,
        schemaName: '`crm`',
        tableName: '`users`',
        executeTime: 1718000009000n,
        gtid: 'g:2',
      }),
    };
    const events = canalMessagesToChangeEvents(
      { batchId: 1n, entries: [rows, other] },
      { ...origin, producedAt: undefined },
    );
    expect(events.map((e) => [e.database, e.table, e.executedAt, e.position.index])).toEqual([
      ['shop', 'orders', 1718000000000, 0],
      ['crm', 'users', 1718000009000, 1],
    ]);
    expect(events[1]).toMatchObject({ gtid: 'g:2', producedAt: 1718000009000 });
    expect('gtid' in events[0]!).toBe(false);
  });
});
