/**
 * The second, independent path: protobufjs loads .proto files written from the reference (same
 * field numbers as canal's) and encodes/decodes the same messages as the hand-written codec.
 */
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import {
  EntryType,
  EventType,
  decodeCanalMessages,
  decodeProtobufMessage,
  decodeRowChange,
  encodeCanalMessages,
  encodeEntry,
  encodeRowChange,
  flatMessageToEntry,
  decodeFlatMessage,
  flatMessageToChangeEvents,
  type CanalColumn,
  type CanalEntry,
  type CanalHeader,
  type CanalPair,
  type CanalRowChange,
} from '@sluice/canal-protocol';

const root = protobuf.loadSync([
  fileURLToPath(new URL('fixtures/EntryProtocol.proto', import.meta.url)),
  fileURLToPath(new URL('fixtures/CanalProtocol.proto', import.meta.url)),
]);
const type = (name: string) => root.lookupType(`com.alibaba.otter.canal.protocol.${name}`);
const Packet = type('Packet');
const Messages = type('Messages');
const Entry = type('Entry');
const RowChange = type('RowChange');

type Obj = Record<string, unknown>;
const toObject = (t: protobuf.Type, bytes: Uint8Array): Obj =>
  t.toObject(t.decode(bytes), { longs: String, enums: Number, bytes: Array }) as Obj;
const big = (v: unknown) => BigInt((v as string | undefined) ?? '0');
const pairs = (v: unknown): CanalPair[] =>
  ((v as Obj[] | undefined) ?? []).map((p) => ({
    key: (p['key'] as string) ?? '',
    value: (p['value'] as string) ?? '',
  }));

// protobufjs object → our shape, applying the proto2 defaults canal's Java runtime applies (§2.1).
function column(o: Obj): CanalColumn {
  return {
    index: (o['index'] as number) ?? 0,
    sqlType: (o['sqlType'] as number) ?? 0,
    name: (o['name'] as string) ?? '',
    isKey: (o['isKey'] as boolean) ?? false,
    updated: (o['updated'] as boolean) ?? false,
    isNull: (o['isNull'] as boolean) ?? false,
    props: pairs(o['props']),
    value: (o['value'] as string) ?? '',
    length: (o['length'] as number) ?? 0,
    mysqlType: (o['mysqlType'] as string) ?? '',
  };
}
function rowChange(o: Obj): CanalRowChange {
  return {
    tableId: big(o['tableId']),
    eventType: (o['eventType'] as number) ?? EventType.UPDATE,
    isDdl: (o['isDdl'] as boolean) ?? false,
    sql: (o['sql'] as string) ?? '',
    rowDatas: ((o['rowDatas'] as Obj[] | undefined) ?? []).map((r) => ({
      beforeColumns: ((r['beforeColumns'] as Obj[] | undefined) ?? []).map(column),
      afterColumns: ((r['afterColumns'] as Obj[] | undefined) ?? []).map(column),
      props: pairs(r['props']),
    })),
    props: pairs(o['props']),
    ddlSchemaName: (o['ddlSchemaName'] as string) ?? '',
  };
}
function header(o: Obj | undefined): CanalHeader {
  const h = o ?? {};
  return {
    version: (h['version'] as number) ?? 1,
    logfileName: (h['logfileName'] as string) ?? '',
    logfileOffset: big(h['logfileOffset']),
    serverId: big(h['serverId']),
    serverenCode: (h['serverenCode'] as string) ?? '',
    executeTime: big(h['executeTime']),
    sourceType: (h['sourceType'] as number) ?? 2,
    schemaName: (h['schemaName'] as string) ?? '',
    tableName: (h['tableName'] as string) ?? '',
    eventLength: big(h['eventLength']),
    eventType: (h['eventType'] as number) ?? EventType.UPDATE,
    props: pairs(h['props']),
    gtid: (h['gtid'] as string) ?? '',
  };
}

// Our shape → protobufjs plain object (int64 as decimal strings).
const s = (v: bigint) => v.toString();
function pbRowChange(rc: CanalRowChange): Obj {
  return {
    tableId: s(rc.tableId),
    eventType: rc.eventType,
    isDdl: rc.isDdl,
    sql: rc.sql,
    rowDatas: rc.rowDatas.map((r) => ({
      beforeColumns: r.beforeColumns.map((c) => ({ ...c })),
      afterColumns: r.afterColumns.map((c) => ({ ...c })),
      props: r.props,
    })),
    props: rc.props,
    ddlSchemaName: rc.ddlSchemaName,
  };
}
function pbEntry(e: CanalEntry): Obj {
  const h = e.header;
  return {
    header: {
      ...h,
      logfileOffset: s(h.logfileOffset),
      serverId: s(h.serverId),
      executeTime: s(h.executeTime),
      eventLength: s(h.eventLength),
    },
    entryType: e.entryType,
    storeValue: e.storeValue,
  };
}
const pbEncode = (t: protobuf.Type, o: Obj) => t.encode(t.fromObject(o)).finish();

const text = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 12 }),
  fc.string({
    unit: fc.integer({ min: 0, max: 255 }).map((c) => String.fromCharCode(c)),
    maxLength: 12,
  }),
  fc.constantFrom('', '0', '-1', '18446744073709551615', '2024-06-10 14:13:20.123', 'Zoë 🚀 张三'),
);
const int32 = fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 });
const int64 = fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n });
const pair = fc.record({ key: text, value: text });
const columnArb: fc.Arbitrary<CanalColumn> = fc
  .record({
    index: int32,
    sqlType: fc.constantFrom(-7, -6, -5, 3, 4, 5, 7, 8, 12, 91, 92, 93, 1111, 2004, 2005),
    name: text,
    isKey: fc.boolean(),
    updated: fc.boolean(),
    isNull: fc.boolean(),
    props: fc.array(pair, { maxLength: 1 }),
    value: text,
    length: fc.constantFrom(0, 0, -42, 2 ** 31 - 1),
    mysqlType: fc.constantFrom(
      'bigint(20) unsigned',
      'varchar(40)',
      "enum('a','b')",
      'json',
      'blob',
      '',
    ),
  })
  .map((c) => (c.isNull ? { ...c, value: '' } : c));
const rowChangeArb: fc.Arbitrary<CanalRowChange> = fc.record({
  tableId: int64,
  eventType: fc.integer({ min: 1, max: 15 }),
  isDdl: fc.boolean(),
  sql: text,
  rowDatas: fc.array(
    fc.record({
      beforeColumns: fc.array(columnArb, { maxLength: 4 }),
      afterColumns: fc.array(columnArb, { maxLength: 4 }),
      props: fc.array(pair, { maxLength: 1 }),
    }),
    { maxLength: 3 },
  ),
  props: fc.array(pair, { maxLength: 2 }),
  ddlSchemaName: text,
});

describe('protobufjs (independent path) and the hand-written codec agree', () => {
  it('RowChange: protobufjs bytes decode the same with ours, and ours decode the same with protobufjs', () => {
    fc.assert(
      fc.property(rowChangeArb, (rc) => {
        expect(decodeRowChange(pbEncode(RowChange, pbRowChange(rc)))).toEqual(rc);
        expect(rowChange(toObject(RowChange, encodeRowChange(rc)))).toEqual(rc);
      }),
      { numRuns: 300 },
    );
  });

  it('a whole MQ payload built by protobufjs (builder layout) gives the same entries and events', () => {
    const flat = decodeFlatMessage(
      '{"data":[{"id":"1","name":"Zoë 🚀","avatar":"\\u0000ÿPNG","amount":"-1.50"},{"id":"18446744073709551615","name":null,"avatar":null,"amount":"0.00"}],"database":"shop","es":1718000000000,"gtid":"","id":3,"isDdl":false,"mysqlType":{"id":"bigint unsigned","name":"varchar(40)","avatar":"blob","amount":"decimal(10,2)"},"old":[{"name":"x"},{"name":"y"}],"pkNames":["id"],"sql":"","sqlType":{"id":3,"name":12,"avatar":2004,"amount":3},"table":"t","ts":1718000000412,"type":"UPDATE"}',
    );
    const begin: CanalEntry = {
      header: header({ executeTime: '1718000000000' }),
      entryType: EntryType.TRANSACTIONBEGIN,
      storeValue: new Uint8Array(0),
    };
    const entries = [
      begin,
      flatMessageToEntry(flat, { logfileOffset: 2n ** 40n }),
      flatMessageToEntry({
        ...flat,
        type: 'ALTER',
        isDdl: true,
        sql: 'ALTER TABLE t ADD c int',
        data: null,
        old: null,
      }),
    ];
    const body = pbEncode(Messages, { messages: entries.map((e) => pbEncode(Entry, pbEntry(e))) });
    const bytes = pbEncode(Packet, { version: 1, type: 7, body });
    expect(Buffer.from(bytes.subarray(0, 5)).toString('hex')).toBe('100118072a');
    expect(decodeCanalMessages(bytes)).toEqual({ batchId: 0n, entries });
    const origin = { destination: 'd', partition: '0', offset: '5', producedAt: flat.ts };
    const events = decodeProtobufMessage(bytes, origin);
    expect(events).toEqual(
      decodeProtobufMessage(encodeCanalMessages({ batchId: 0n, entries }, 'builder'), origin),
    );
    expect(events.slice(0, 2)).toEqual(flatMessageToChangeEvents(flat, origin));
    expect(events[2]).toMatchObject({ kind: 'ddl', type: 'ALTER', position: { index: 2 } });
  });

  it('our raw-layout payload decodes with protobufjs to the same entries', () => {
    const flat = decodeFlatMessage(
      '{"data":[{"id":"1"}],"database":"shop","es":1718000000000,"id":1,"isDdl":false,"mysqlType":{"id":"int"},"old":null,"pkNames":["id"],"sql":"","sqlType":{"id":4},"table":"t","ts":1,"type":"INSERT"}',
    );
    const entry = flatMessageToEntry(flat);
    const packet = toObject(Packet, encodeCanalMessages({ batchId: -1n, entries: [entry] }, 'raw'));
    expect(packet['type']).toBe(7);
    expect(packet['version']).toBeUndefined();
    const messages = toObject(Messages, Uint8Array.from(packet['body'] as number[]));
    expect(messages['batchId']).toBe('-1');
    const decoded = toObject(Entry, Uint8Array.from((messages['messages'] as number[][])[0]!));
    expect(header(decoded['header'] as Obj)).toEqual(entry.header);
    expect(
      rowChange(toObject(RowChange, Uint8Array.from(decoded['storeValue'] as number[]))),
    ).toEqual(decodeRowChange(entry.storeValue));
    expect(Uint8Array.from(encodeEntry(entry))).toEqual(
      Uint8Array.from((messages['messages'] as number[][])[0]!),
    );
  });
});
