/**
 * canal's `EntryProtocol.proto` (package com.alibaba.otter.canal.protocol, Java class
 * `CanalEntry`): Entry, Header, Column, RowData, RowChange, TransactionBegin/End, Pair.
 * Same field numbers as canal's file; see shared/reference/canal-wire-formats.md §2.3.
 *
 * canal's Java runtime for these messages is proto2-generated, so absent fields read back as
 * the proto2 defaults (§2.1): `Entry.entryType` = ROWDATA, `Header.version` = 1,
 * `Header.sourceType` = MYSQL, `Header.eventType` = UPDATE, `RowChange.eventType` = UPDATE,
 * `RowChange.isDdl` = false, `Column.isNull` = false. The decoders below apply them, so a
 * decoded message always has every field.
 *
 * Enums are kept as numbers (so values from a newer canal survive a round trip); the
 * `EntryType`/`EventType`/`SourceType` objects name them.
 */
import { DecodeError, withPathPrefix } from '../decodeError.js';
import { ProtoReader, ProtoWriter, WireType, wrongWireType } from './wire.js';

/** `EntryType` enum values. */
export const EntryType = {
  TRANSACTIONBEGIN: 1,
  ROWDATA: 2,
  TRANSACTIONEND: 3,
  HEARTBEAT: 4,
  GTIDLOG: 5,
} as const;

/** `EventType` enum values. */
export const EventType = {
  INSERT: 1,
  UPDATE: 2,
  DELETE: 3,
  CREATE: 4,
  ALTER: 5,
  ERASE: 6,
  QUERY: 7,
  TRUNCATE: 8,
  RENAME: 9,
  CINDEX: 10,
  DINDEX: 11,
  GTID: 12,
  XACOMMIT: 13,
  XAROLLBACK: 14,
  MHEARTBEAT: 15,
} as const;

/** `Type` enum values (Header.sourceType). */
export const SourceType = { ORACLE: 1, MYSQL: 2, PGSQL: 3 } as const;

const EVENT_TYPE_NAMES: readonly string[] = [
  'EVENTTYPECOMPATIBLEPROTO2',
  ...Object.keys(EventType),
];
const ENTRY_TYPE_NAMES: readonly string[] = [
  'ENTRYTYPECOMPATIBLEPROTO2',
  ...Object.keys(EntryType),
];

/** The Java enum name of an `EventType` number (`"INSERT"`, …); `"EVENTTYPE_<n>"` if unknown. */
export function eventTypeName(value: number): string {
  return EVENT_TYPE_NAMES[value] ?? `EVENTTYPE_${value}`;
}

/** The Java enum name of an `EntryType` number (`"ROWDATA"`, …); `"ENTRYTYPE_<n>"` if unknown. */
export function entryTypeName(value: number): string {
  return ENTRY_TYPE_NAMES[value] ?? `ENTRYTYPE_${value}`;
}

/** `Pair { key = 1; value = 2 }`. */
export interface CanalPair {
  readonly key: string;
  readonly value: string;
}

/** `Header`: where and when the binlog event happened. */
export interface CanalHeader {
  readonly version: number;
  readonly logfileName: string;
  /** Start offset of the event in the binlog file. */
  readonly logfileOffset: bigint;
  readonly serverId: bigint;
  readonly serverenCode: string;
  /** Event timestamp in ms (seconds × 1000). */
  readonly executeTime: bigint;
  readonly sourceType: number;
  readonly schemaName: string;
  readonly tableName: string;
  readonly eventLength: bigint;
  /** {@link EventType}; UPDATE when absent (proto2 default; absent on BEGIN/END headers). */
  readonly eventType: number;
  readonly props: readonly CanalPair[];
  /** Executed GTID set (GTID mode only), else `""`. */
  readonly gtid: string;
}

/** `Column`: one column of one row image. */
export interface CanalColumn {
  /** 0-based position in the table. */
  readonly index: number;
  /** java.sql.Types code. */
  readonly sqlType: number;
  readonly name: string;
  /** Member of the PRIMARY KEY. */
  readonly isKey: boolean;
  /** After-image column whose value differs from the before image. */
  readonly updated: boolean;
  readonly isNull: boolean;
  readonly props: readonly CanalPair[];
  /** canal's text rendering of the value; `""` when NULL (the field is absent on the wire). */
  readonly value: string;
  readonly length: number;
  /** Column type text, e.g. `bigint(20) unsigned`. */
  readonly mysqlType: string;
}

/** `RowData`: the before and after image of one row. */
export interface CanalRowData {
  readonly beforeColumns: readonly CanalColumn[];
  readonly afterColumns: readonly CanalColumn[];
  readonly props: readonly CanalPair[];
}

/** `RowChange`: the `storeValue` of a ROWDATA entry. */
export interface CanalRowChange {
  readonly tableId: bigint;
  /** {@link EventType}; UPDATE when absent. */
  readonly eventType: number;
  readonly isDdl: boolean;
  readonly sql: string;
  readonly rowDatas: readonly CanalRowData[];
  readonly props: readonly CanalPair[];
  readonly ddlSchemaName: string;
}

/** `TransactionBegin`: the `storeValue` of a TRANSACTIONBEGIN entry. */
export interface CanalTransactionBegin {
  readonly executeTime: bigint;
  readonly transactionId: string;
  readonly props: readonly CanalPair[];
  readonly threadId: bigint;
}

/** `TransactionEnd`: the `storeValue` of a TRANSACTIONEND entry. */
export interface CanalTransactionEnd {
  readonly executeTime: bigint;
  readonly transactionId: string;
  readonly props: readonly CanalPair[];
}

/** `Entry`: one binlog event as canal stores it. `storeValue` is left serialized. */
export interface CanalEntry {
  readonly header: CanalHeader;
  /** {@link EntryType}; ROWDATA when absent. */
  readonly entryType: number;
  /** Serialized RowChange / TransactionBegin / TransactionEnd. */
  readonly storeValue: Uint8Array;
}

const NO_PAIRS: readonly CanalPair[] = Object.freeze([]);
const NO_BYTES = new Uint8Array(0);

function expect(field: string, wireType: number, expected: number): void {
  if (wireType !== expected) throw wrongWireType(field, wireType, expected);
}

/** Reads one embedded message with `read`, reporting failures under `path`. */
function embedded<T>(r: ProtoReader, path: string, read: (r: ProtoReader) => T): T {
  try {
    const outer = r.enter();
    const value = read(r);
    r.leave(outer);
    return value;
  } catch (error) {
    throw withPathPrefix(error, path);
  }
}

function readPair(r: ProtoReader): CanalPair {
  let key = '';
  let value = '';
  while (!r.atEnd()) {
    const tag = r.tag();
    const wt = tag & 7;
    switch (tag >>> 3) {
      case 1:
        expect('key', wt, WireType.lengthDelimited);
        key = r.cachedString();
        break;
      case 2:
        expect('value', wt, WireType.lengthDelimited);
        value = r.string();
        break;
      default:
        r.skip(wt);
    }
  }
  return { key, value };
}

function pushPair(
  r: ProtoReader,
  list: CanalPair[] | undefined,
  path: string,
  wt: number,
): CanalPair[] {
  expect(path, wt, WireType.lengthDelimited);
  const out = list ?? [];
  out.push(embedded(r, `${path}[${out.length}]`, readPair));
  return out;
}

function readHeader(r: ProtoReader): CanalHeader {
  let version = 1;
  let logfileName = '';
  let logfileOffset = 0n;
  let serverId = 0n;
  let serverenCode = '';
  let executeTime = 0n;
  let sourceType: number = SourceType.MYSQL;
  let schemaName = '';
  let tableName = '';
  let eventLength = 0n;
  let eventType: number = EventType.UPDATE;
  let props: CanalPair[] | undefined;
  let gtid = '';
  while (!r.atEnd()) {
    const tag = r.tag();
    const wt = tag & 7;
    switch (tag >>> 3) {
      case 1:
        expect('version', wt, WireType.varint);
        version = r.int32();
        break;
      case 2:
        expect('logfileName', wt, WireType.lengthDelimited);
        logfileName = r.cachedString();
        break;
      case 3:
        expect('logfileOffset', wt, WireType.varint);
        logfileOffset = r.int64();
        break;
      case 4:
        expect('serverId', wt, WireType.varint);
        serverId = r.int64();
        break;
      case 5:
        expect('serverenCode', wt, WireType.lengthDelimited);
        serverenCode = r.cachedString();
        break;
      case 6:
        expect('executeTime', wt, WireType.varint);
        executeTime = r.int64();
        break;
      case 7:
        expect('sourceType', wt, WireType.varint);
        sourceType = r.int32();
        break;
      case 8:
        expect('schemaName', wt, WireType.lengthDelimited);
        schemaName = r.cachedString();
        break;
      case 9:
        expect('tableName', wt, WireType.lengthDelimited);
        tableName = r.cachedString();
        break;
      case 10:
        expect('eventLength', wt, WireType.varint);
        eventLength = r.int64();
        break;
      case 11:
        expect('eventType', wt, WireType.varint);
        eventType = r.int32();
        break;
      case 12:
        props = pushPair(r, props, 'props', wt);
        break;
      case 13:
        expect('gtid', wt, WireType.lengthDelimited);
        gtid = r.string();
        break;
      default:
        r.skip(wt);
    }
  }
  return {
    version,
    logfileName,
    logfileOffset,
    serverId,
    serverenCode,
    executeTime,
    sourceType,
    schemaName,
    tableName,
    eventLength,
    eventType,
    props: props ?? NO_PAIRS,
    gtid,
  };
}

function readColumn(r: ProtoReader): CanalColumn {
  let index = 0;
  let sqlType = 0;
  let name = '';
  let isKey = false;
  let updated = false;
  let isNull = false;
  let props: CanalPair[] | undefined;
  let value = '';
  let length = 0;
  let mysqlType = '';
  while (!r.atEnd()) {
    const tag = r.tag();
    const wt = tag & 7;
    switch (tag >>> 3) {
      case 1:
        expect('index', wt, WireType.varint);
        index = r.int32();
        break;
      case 2:
        expect('sqlType', wt, WireType.varint);
        sqlType = r.int32();
        break;
      case 3:
        expect('name', wt, WireType.lengthDelimited);
        name = r.cachedString();
        break;
      case 4:
        expect('isKey', wt, WireType.varint);
        isKey = r.bool();
        break;
      case 5:
        expect('updated', wt, WireType.varint);
        updated = r.bool();
        break;
      case 6:
        expect('isNull', wt, WireType.varint);
        isNull = r.bool();
        break;
      case 7:
        props = pushPair(r, props, 'props', wt);
        break;
      case 8:
        expect('value', wt, WireType.lengthDelimited);
        value = r.string();
        break;
      case 9:
        expect('length', wt, WireType.varint);
        length = r.int32();
        break;
      case 10:
        expect('mysqlType', wt, WireType.lengthDelimited);
        mysqlType = r.cachedString();
        break;
      default:
        r.skip(wt);
    }
  }
  return {
    index,
    sqlType,
    name,
    isKey,
    updated,
    isNull,
    props: props ?? NO_PAIRS,
    value,
    length,
    mysqlType,
  };
}

function readRowData(r: ProtoReader): CanalRowData {
  const beforeColumns: CanalColumn[] = [];
  const afterColumns: CanalColumn[] = [];
  let props: CanalPair[] | undefined;
  while (!r.atEnd()) {
    const tag = r.tag();
    const wt = tag & 7;
    switch (tag >>> 3) {
      case 1:
        expect('beforeColumns', wt, WireType.lengthDelimited);
        beforeColumns.push(embedded(r, `beforeColumns[${beforeColumns.length}]`, readColumn));
        break;
      case 2:
        expect('afterColumns', wt, WireType.lengthDelimited);
        afterColumns.push(embedded(r, `afterColumns[${afterColumns.length}]`, readColumn));
        break;
      case 3:
        props = pushPair(r, props, 'props', wt);
        break;
      default:
        r.skip(wt);
    }
  }
  return { beforeColumns, afterColumns, props: props ?? NO_PAIRS };
}

function readRowChange(r: ProtoReader): CanalRowChange {
  let tableId = 0n;
  let eventType: number = EventType.UPDATE;
  let isDdl = false;
  let sql = '';
  const rowDatas: CanalRowData[] = [];
  let props: CanalPair[] | undefined;
  let ddlSchemaName = '';
  while (!r.atEnd()) {
    const tag = r.tag();
    const wt = tag & 7;
    switch (tag >>> 3) {
      case 1:
        expect('tableId', wt, WireType.varint);
        tableId = r.int64();
        break;
      case 2:
        expect('eventType', wt, WireType.varint);
        eventType = r.int32();
        break;
      case 10:
        expect('isDdl', wt, WireType.varint);
        isDdl = r.bool();
        break;
      case 11:
        expect('sql', wt, WireType.lengthDelimited);
        sql = r.string();
        break;
      case 12:
        expect('rowDatas', wt, WireType.lengthDelimited);
        rowDatas.push(embedded(r, `rowDatas[${rowDatas.length}]`, readRowData));
        break;
      case 13:
        props = pushPair(r, props, 'props', wt);
        break;
      case 14:
        expect('ddlSchemaName', wt, WireType.lengthDelimited);
        ddlSchemaName = r.string();
        break;
      default:
        r.skip(wt);
    }
  }
  return { tableId, eventType, isDdl, sql, rowDatas, props: props ?? NO_PAIRS, ddlSchemaName };
}

function readTransactionBegin(r: ProtoReader): CanalTransactionBegin {
  let executeTime = 0n;
  let transactionId = '';
  let props: CanalPair[] | undefined;
  let threadId = 0n;
  while (!r.atEnd()) {
    const tag = r.tag();
    const wt = tag & 7;
    switch (tag >>> 3) {
      case 1:
        expect('executeTime', wt, WireType.varint);
        executeTime = r.int64();
        break;
      case 2:
        expect('transactionId', wt, WireType.lengthDelimited);
        transactionId = r.string();
        break;
      case 3:
        props = pushPair(r, props, 'props', wt);
        break;
      case 4:
        expect('threadId', wt, WireType.varint);
        threadId = r.int64();
        break;
      default:
        r.skip(wt);
    }
  }
  return { executeTime, transactionId, props: props ?? NO_PAIRS, threadId };
}

function readTransactionEnd(r: ProtoReader): CanalTransactionEnd {
  let executeTime = 0n;
  let transactionId = '';
  let props: CanalPair[] | undefined;
  while (!r.atEnd()) {
    const tag = r.tag();
    const wt = tag & 7;
    switch (tag >>> 3) {
      case 1:
        expect('executeTime', wt, WireType.varint);
        executeTime = r.int64();
        break;
      case 2:
        expect('transactionId', wt, WireType.lengthDelimited);
        transactionId = r.string();
        break;
      case 3:
        props = pushPair(r, props, 'props', wt);
        break;
      default:
        r.skip(wt);
    }
  }
  return { executeTime, transactionId, props: props ?? NO_PAIRS };
}

function readEntry(r: ProtoReader): CanalEntry {
  let header: CanalHeader | undefined;
  let entryType: number = EntryType.ROWDATA;
  let storeValue: Uint8Array = NO_BYTES;
  while (!r.atEnd()) {
    const tag = r.tag();
    const wt = tag & 7;
    switch (tag >>> 3) {
      case 1:
        expect('header', wt, WireType.lengthDelimited);
        // proto semantics: a repeated embedded message merges; canal never repeats it.
        header = embedded(r, 'header', readHeader);
        break;
      case 2:
        expect('entryType', wt, WireType.varint);
        entryType = r.int32();
        break;
      case 3:
        expect('storeValue', wt, WireType.lengthDelimited);
        storeValue = r.bytes();
        break;
      default:
        r.skip(wt);
    }
  }
  return { header: header ?? readHeader(new ProtoReader(NO_BYTES)), entryType, storeValue };
}

/** Reads a whole buffer as one message, turning any failure into a {@link DecodeError}. */
export function decodeWhole<T>(bytes: Uint8Array, read: (r: ProtoReader) => T): T {
  const r = new ProtoReader(bytes);
  try {
    return read(r);
  } catch (error) {
    if (error instanceof DecodeError) throw error;
    throw withPathPrefix(error, '(protobuf)');
  }
}

/** Decodes a serialized `Entry` (its `storeValue` stays serialized). */
export function decodeEntry(bytes: Uint8Array): CanalEntry {
  return decodeWhole(bytes, readEntry);
}

/** Decodes a serialized `RowChange` (the `storeValue` of a ROWDATA entry). */
export function decodeRowChange(bytes: Uint8Array): CanalRowChange {
  return decodeWhole(bytes, readRowChange);
}

/** Decodes a serialized `TransactionBegin`. */
export function decodeTransactionBegin(bytes: Uint8Array): CanalTransactionBegin {
  return decodeWhole(bytes, readTransactionBegin);
}

/** Decodes a serialized `TransactionEnd`. */
export function decodeTransactionEnd(bytes: Uint8Array): CanalTransactionEnd {
  return decodeWhole(bytes, readTransactionEnd);
}

// ---------------------------------------------------------------------------------------------
// Encoding. Every field is written (explicit presence, as canal's proto2 runtime does after a
// setter call), except what canal leaves out: `Column.value` of a NULL, empty repeated fields,
// an absent header. So decode(encode(x)) is x for every decoded x.

function writePairs(w: ProtoWriter, field: number, pairs: readonly CanalPair[]): void {
  for (const pair of pairs) {
    const sub = new ProtoWriter()
      .tag(1, WireType.lengthDelimited)
      .string(pair.key)
      .tag(2, WireType.lengthDelimited)
      .string(pair.value);
    w.tag(field, WireType.lengthDelimited).bytes(sub.finish());
  }
}

/** Serializes a `Header`. */
export function encodeHeader(h: CanalHeader): Uint8Array {
  const w = new ProtoWriter();
  w.tag(1, WireType.varint).int32(h.version);
  w.tag(2, WireType.lengthDelimited).string(h.logfileName);
  w.tag(3, WireType.varint).int64(h.logfileOffset);
  w.tag(4, WireType.varint).int64(h.serverId);
  w.tag(5, WireType.lengthDelimited).string(h.serverenCode);
  w.tag(6, WireType.varint).int64(h.executeTime);
  w.tag(7, WireType.varint).int32(h.sourceType);
  w.tag(8, WireType.lengthDelimited).string(h.schemaName);
  w.tag(9, WireType.lengthDelimited).string(h.tableName);
  w.tag(10, WireType.varint).int64(h.eventLength);
  w.tag(11, WireType.varint).int32(h.eventType);
  writePairs(w, 12, h.props);
  if (h.gtid !== '') w.tag(13, WireType.lengthDelimited).string(h.gtid);
  return w.finish();
}

/** Serializes a `Column`. */
export function encodeColumn(c: CanalColumn): Uint8Array {
  const w = new ProtoWriter();
  w.tag(1, WireType.varint).int32(c.index);
  w.tag(2, WireType.varint).int32(c.sqlType);
  w.tag(3, WireType.lengthDelimited).string(c.name);
  w.tag(4, WireType.varint).bool(c.isKey);
  w.tag(5, WireType.varint).bool(c.updated);
  w.tag(6, WireType.varint).bool(c.isNull);
  writePairs(w, 7, c.props);
  if (!c.isNull || c.value !== '') w.tag(8, WireType.lengthDelimited).string(c.value);
  if (c.length !== 0) w.tag(9, WireType.varint).int32(c.length);
  w.tag(10, WireType.lengthDelimited).string(c.mysqlType);
  return w.finish();
}

/** Serializes a `RowData`. */
export function encodeRowData(row: CanalRowData): Uint8Array {
  const w = new ProtoWriter();
  for (const c of row.beforeColumns) w.tag(1, WireType.lengthDelimited).bytes(encodeColumn(c));
  for (const c of row.afterColumns) w.tag(2, WireType.lengthDelimited).bytes(encodeColumn(c));
  writePairs(w, 3, row.props);
  return w.finish();
}

/** Serializes a `RowChange`. */
export function encodeRowChange(rc: CanalRowChange): Uint8Array {
  const w = new ProtoWriter();
  w.tag(1, WireType.varint).int64(rc.tableId);
  w.tag(2, WireType.varint).int32(rc.eventType);
  w.tag(10, WireType.varint).bool(rc.isDdl);
  if (rc.sql !== '') w.tag(11, WireType.lengthDelimited).string(rc.sql);
  for (const row of rc.rowDatas) w.tag(12, WireType.lengthDelimited).bytes(encodeRowData(row));
  writePairs(w, 13, rc.props);
  if (rc.ddlSchemaName !== '') w.tag(14, WireType.lengthDelimited).string(rc.ddlSchemaName);
  return w.finish();
}

/** Serializes a `TransactionBegin`. */
export function encodeTransactionBegin(tb: CanalTransactionBegin): Uint8Array {
  const w = new ProtoWriter();
  if (tb.executeTime !== 0n) w.tag(1, WireType.varint).int64(tb.executeTime);
  if (tb.transactionId !== '') w.tag(2, WireType.lengthDelimited).string(tb.transactionId);
  writePairs(w, 3, tb.props);
  w.tag(4, WireType.varint).int64(tb.threadId);
  return w.finish();
}

/** Serializes a `TransactionEnd`. */
export function encodeTransactionEnd(te: CanalTransactionEnd): Uint8Array {
  const w = new ProtoWriter();
  if (te.executeTime !== 0n) w.tag(1, WireType.varint).int64(te.executeTime);
  w.tag(2, WireType.lengthDelimited).string(te.transactionId);
  writePairs(w, 3, te.props);
  return w.finish();
}

/** Serializes an `Entry`. */
export function encodeEntry(entry: CanalEntry): Uint8Array {
  const w = new ProtoWriter();
  w.tag(1, WireType.lengthDelimited).bytes(encodeHeader(entry.header));
  w.tag(2, WireType.varint).int32(entry.entryType);
  w.tag(3, WireType.lengthDelimited).bytes(entry.storeValue);
  return w.finish();
}
