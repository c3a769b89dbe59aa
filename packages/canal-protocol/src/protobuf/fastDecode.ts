/**
 * The fast path of {@link decodeProtobufMessage}: one pass over the MQ payload bytes, from
 * `Packet` down to each `Column`, building ChangeEvents directly. No `CanalEntry`, `CanalRowData`
 * or `CanalColumn` objects, no bigints, no closures. Per table it remembers the last row's column
 * names and types (recognised in the next row by their bytes, without decoding), a generated
 * builder for its images, its column map and pkNames, across entries and payloads. ASCII values
 * are substrings of one latin-1 decode of the payload.
 *
 * It checks everything the checked decoder (entryProtocol.ts, canalProtocol.ts) checks: tags,
 * field number 0, wire types of known fields, varint length, every length against its
 * enclosing message, unsupported wire types, `Pair` contents, packet type and compression.
 * It throws on anything it does not accept, without saying why: the caller then runs the
 * checked decoder on the same bytes, which throws the {@link DecodeError} with its path (or,
 * should the fast path ever refuse good input, decodes it). So the two paths give the same
 * events for every input, which the tests check on random and mutated payloads.
 *
 * Entries the fast path does not convert itself (DDL, rows-query noise and other non-row
 * RowChanges, all rare) go through the checked `RowChange` decoder and
 * {@link appendEntryEvents}.
 */
import { Buffer } from 'node:buffer';
import type {
  ChangeEvent,
  ColumnMeta,
  ColumnValue,
  RowChangeEvent,
  RowEventType,
} from '@sluice/plugin-api';
import { NO_COLUMNS, NO_NAMES, positionOf, type MessageOrigin } from '../messageOrigin.js';
import { setOwn } from '../ownProperty.js';
import { unquoteName } from '../names.js';
import type { DecodeNotice } from '../notices.js';
import { appendEntryEvents } from './entryEvents.js';
import { decodeRowChange } from './entryProtocol.js';
import { cachedUtf8 } from './wire.js';

/** `Buffer#utf8Slice`/`latin1Slice`: undocumented in the typings, present in every supported Node. */
type NodeBuffer = Buffer & {
  utf8Slice(start: number, end: number): string;
  latin1Slice(start: number, end: number): string;
};

/** Thrown for any input the fast path does not accept; never escapes {@link decodeProtobufMessage}. */
const REJECT = new Error('protobuf fast path: input not accepted');

/** The position after the varint (or length prefix) read last. */
let vpos = 0;

/** Reads a varint at `pos` (before `end`): its low 32 bits, unsigned; at most 10 bytes. */
function varint(buf: Uint8Array, pos: number, end: number): number {
  if (pos >= end) throw REJECT;
  let b = buf[pos++]!;
  if (b < 0x80) {
    vpos = pos;
    return b;
  }
  let value = b & 0x7f;
  let shift = 7;
  for (;;) {
    if (pos >= end) throw REJECT;
    b = buf[pos++]!;
    if (shift < 28) value |= (b & 0x7f) << shift;
    else if (shift === 28) value |= (b & 0x0f) << 28;
    if (b < 0x80) break;
    shift += 7;
    if (shift >= 70) throw REJECT;
  }
  vpos = pos;
  return value >>> 0;
}

/** Reads an int64 varint as `Number(BigInt.asIntN(64, value))`, without a bigint when it fits. */
function int64Number(buf: Uint8Array, pos: number, end: number): number {
  let lo = 0;
  let hi = 0;
  let shift = 0;
  for (;;) {
    if (pos >= end) throw REJECT;
    const b = buf[pos++]!;
    if (shift < 28) lo |= (b & 0x7f) << shift;
    else hi += (b & 0x7f) * 2 ** (shift - 28);
    if (b < 0x80) break;
    shift += 7;
    if (shift >= 70) throw REJECT;
  }
  vpos = pos;
  if (hi === 0) return lo;
  // Below 2^53: exact as a number, and positive as an int64.
  if (hi < 0x2000000) return hi * 0x10000000 + lo;
  return Number(BigInt.asIntN(64, (BigInt(hi) << 28n) | BigInt(lo)));
}

/** Skips a varint at `pos`; returns the position after it. */
function skipVarint(buf: Uint8Array, pos: number, end: number): number {
  if (pos < end && buf[pos]! < 0x80) return pos + 1;
  varint(buf, pos, end);
  return vpos;
}

/** Reads a length prefix at `pos`; sets {@link vpos} to the data start and returns the data end. */
function delimited(buf: Uint8Array, pos: number, end: number): number {
  let length: number;
  if (pos < end && buf[pos]! < 0x80) {
    length = buf[pos]!;
    vpos = pos + 1;
  } else {
    length = varint(buf, pos, end);
  }
  const stop = vpos + length;
  if (stop > end) throw REJECT;
  return stop;
}

/** Skips an unknown field of wire type `wt` at `pos`; groups and wire types 6, 7 are refused. */
function skip(buf: Uint8Array, pos: number, end: number, wt: number): number {
  switch (wt) {
    case 0:
      return skipVarint(buf, pos, end);
    case 1:
      if (pos + 8 > end) throw REJECT;
      return pos + 8;
    case 2:
      return delimited(buf, pos, end);
    case 5:
      if (pos + 4 > end) throw REJECT;
      return pos + 4;
    default:
      throw REJECT;
  }
}

/** Reads a tag at `pos` (sets {@link vpos} after it); refuses field number 0. */
function tagAt(buf: Uint8Array, pos: number, end: number): number {
  const b = buf[pos]!;
  if (b < 0x80 && b >= 8) {
    vpos = pos + 1;
    return b;
  }
  const tag = varint(buf, pos, end);
  if (tag >>> 3 === 0) throw REJECT;
  return tag;
}

/** Checks a `Pair` message (props: never used, but checked as the checked decoder does). */
function checkPair(buf: Uint8Array, pos: number, end: number): void {
  while (pos < end) {
    const tag = tagAt(buf, pos, end);
    pos = vpos;
    const wt = tag & 7;
    const field = tag >>> 3;
    if (field === 1 || field === 2) {
      if (wt !== 2) throw REJECT;
      pos = delimited(buf, pos, end);
    } else {
      pos = skip(buf, pos, end, wt);
    }
  }
}

/** The header fields the events need, of the entry being read. */
let headerSchema = '';
let headerTable = '';
let headerExecuteTime = 0;
let headerGtid = '';

function readHeader(buf: NodeBuffer, pos: number, end: number): void {
  let schema = '';
  let table = '';
  let executeTime = 0;
  let gtid = '';
  while (pos < end) {
    const tag = tagAt(buf, pos, end);
    pos = vpos;
    const wt = tag & 7;
    switch (tag >>> 3) {
      case 1: // version
      case 3: // logfileOffset
      case 4: // serverId
      case 7: // sourceType
      case 10: // eventLength
      case 11: // eventType
        if (wt !== 0) throw REJECT;
        pos = skipVarint(buf, pos, end);
        break;
      case 6:
        if (wt !== 0) throw REJECT;
        executeTime = int64Number(buf, pos, end);
        pos = vpos;
        break;
      case 2: // logfileName
      case 5: // serverenCode
        if (wt !== 2) throw REJECT;
        pos = delimited(buf, pos, end);
        break;
      case 8: {
        if (wt !== 2) throw REJECT;
        const stop = delimited(buf, pos, end);
        schema = cachedUtf8(buf, vpos, stop);
        pos = stop;
        break;
      }
      case 9: {
        if (wt !== 2) throw REJECT;
        const stop = delimited(buf, pos, end);
        table = cachedUtf8(buf, vpos, stop);
        pos = stop;
        break;
      }
      case 12: {
        if (wt !== 2) throw REJECT;
        const stop = delimited(buf, pos, end);
        checkPair(buf, vpos, stop);
        pos = stop;
        break;
      }
      case 13: {
        if (wt !== 2) throw REJECT;
        const stop = delimited(buf, pos, end);
        gtid = buf.utf8Slice(vpos, stop);
        pos = stop;
        break;
      }
      default:
        pos = skip(buf, pos, end, wt);
    }
  }
  headerSchema = schema;
  headerTable = table;
  headerExecuteTime = executeTime;
  headerGtid = gtid;
}

/**
 * One side (before or after image) of the rows of one table. Between rows it remembers the
 * last row's column names and types (and their bytes, to recognise them in the next row
 * without decoding), with a `version` that changes whenever they change; while reading a row it
 * holds the row's key columns, values and updated columns. As the main side of its events (after
 * image, or before image for DELETE) it also keeps the last column map and pkNames built.
 */
class Side {
  /** Columns of the current (or last) row. */
  n = 0;
  /** Columns of the row before. */
  prevN = 0;
  /** The current row's names or types differ from the row before's. */
  diff = false;
  /** Changes whenever the names or types change from one row to the next. */
  version = 0;
  names: string[] = [];
  types: string[] = [];
  sqlTypes: number[] = [];
  /** UTF-8 bytes of `names[i]` and `types[i]`. */
  nameBytes: Uint8Array[] = [];
  typeBytes: Uint8Array[] = [];
  keys: string[] = [];
  nKeys = 0;
  /** The event carries this side's image: collect `values`. */
  wanted = false;
  values: ColumnValue[] = [];
  /** Collect the names of `updated` columns (UPDATE after image). */
  collectUpdated = false;
  updated: string[] | undefined = undefined;
  /** Builds an image from `values`; made for the names of `builderVersion`. */
  builder: ImageBuilder = slowImage;
  builderVersion = -1;
  /** The column map last built from this side's names and types (of `columnsVersion`), and pkNames. */
  columns: Readonly<Record<string, ColumnMeta>> = NO_COLUMNS;
  columnsCount = 0;
  columnsVersion = -1;
  pkNames: readonly string[] = NO_NAMES;

  startRow(wanted: boolean): void {
    this.prevN = this.n;
    this.n = 0;
    this.diff = false;
    this.nKeys = 0;
    this.wanted = wanted;
    this.updated = undefined;
  }

  endRow(): void {
    if (this.n !== this.prevN) this.diff = true;
    if (this.diff) this.version++;
  }

  /** The image of the row just read: its columns in order, the last value of a repeated name. */
  image(): Record<string, ColumnValue> {
    if (this.builderVersion !== this.version) {
      this.builder = imageBuilder(this.names.slice(0, this.n));
      this.builderVersion = this.version;
    }
    return this.builder(this.values, this.names, this.n);
  }
}

type ImageBuilder = (
  values: readonly ColumnValue[],
  names: readonly string[],
  n: number,
) => Record<string, ColumnValue>;

/** Adds the columns one by one (the fallback when code generation is not allowed). */
export function slowImage(
  values: readonly ColumnValue[],
  names: readonly string[],
  n: number,
): Record<string, ColumnValue> {
  const image: Record<string, ColumnValue> = {};
  for (let i = 0; i < n; i++) setOwn(image, names[i]!, values[i]!);
  return image;
}

/**
 * Image builders by column names (JSON of the name list), generated as an object literal
 * `{"id": v[0], "name": v[1], …}`: an order of magnitude faster than adding the columns one by
 * one, and the images get fast properties (adding more than ~20 properties by key makes a
 * dictionary). Names enter the code only as JSON string literals; `__proto__` is a computed key
 * so it stays an own property. Same object as {@link slowImage}: same keys in the same order,
 * the last value of a repeated name. Where code generation is disallowed
 * (`--disallow-code-generation-from-strings`), {@link slowImage} is used.
 */
const builders = new Map<string, ImageBuilder>();
const MAX_BUILDERS = 512;
let codegen = true;

export function imageBuilder(names: readonly string[]): ImageBuilder {
  if (!codegen || names.length === 0) return slowImage;
  const key = JSON.stringify(names);
  let builder = builders.get(key);
  if (builder === undefined) {
    const fields = names.map(
      (name, i) => `${name === '__proto__' ? '["__proto__"]' : JSON.stringify(name)}: v[${i}]`,
    );
    try {
      builder = new Function('v', `return {${fields.join(', ')}};`) as ImageBuilder;
    } catch {
      codegen = false;
      return slowImage;
    }
    if (builders.size >= MAX_BUILDERS) builders.clear();
    builders.set(key, builder);
  }
  return builder;
}

/** The two sides of one table's rows. */
interface TableSides {
  readonly before: Side;
  readonly after: Side;
}

/** Per schema, per table; dropped whole when it grows past {@link MAX_TABLES}. */
const tables = new Map<string, Map<string, TableSides>>();
let tableCount = 0;
const MAX_TABLES = 4096;

function sidesOf(schema: string, table: string): TableSides {
  let bySchema = tables.get(schema);
  let sides = bySchema?.get(table);
  if (sides === undefined) {
    if (tableCount >= MAX_TABLES) {
      tables.clear();
      tableCount = 0;
      bySchema = undefined;
    }
    if (bySchema === undefined) tables.set(schema, (bySchema = new Map()));
    sides = { before: new Side(), after: new Side() };
    bySchema.set(table, sides);
    tableCount++;
  }
  return sides;
}

/** The sides of the entry being read. */
let BEFORE = new Side();
let AFTER = new Side();

function sameBytes(buf: Uint8Array, start: number, end: number, bytes: Uint8Array): boolean {
  const length = end - start;
  if (bytes.length !== length) return false;
  for (let i = 0; i < length; i++) if (buf[start + i] !== bytes[i]) return false;
  return true;
}

const copyBytes = (buf: Uint8Array, start: number, end: number): Uint8Array =>
  Uint8Array.prototype.slice.call(buf, start, end);

/**
 * The payload as latin-1 text, made once per payload when first needed: an ASCII value is then
 * a `substring` of it (byte offsets are character offsets), which is much cheaper than a native
 * UTF-8 decode per value. Values with other bytes are UTF-8 decoded on their own.
 */
let latin1: string | null = null;
/** Payloads above this size decode every value on its own (keeps the text far below V8's limit). */
const LATIN1_MAX_PAYLOAD = 1 << 26;

/** UTF-8 decodes `buf[start, end)` (invalid sequences become U+FFFD, as {@link ProtoReader.string}). */
function text(buf: NodeBuffer, start: number, end: number): string {
  for (let i = start; i < end; i++) if (buf[i]! >= 0x80) return buf.utf8Slice(start, end);
  if (latin1 === null) {
    if (buf.length > LATIN1_MAX_PAYLOAD) return buf.utf8Slice(start, end);
    latin1 = buf.latin1Slice(0, buf.length);
  }
  return latin1.substring(start, end);
}

function readColumn(buf: NodeBuffer, pos: number, end: number, side: Side): void {
  let sqlType = 0;
  let isKey = false;
  let updated = false;
  let isNull = false;
  let nameStart = -1;
  let nameEnd = 0;
  let valueStart = -1;
  let valueEnd = 0;
  let typeStart = -1;
  let typeEnd = 0;
  while (pos < end) {
    let tag = buf[pos]!;
    if (tag < 0x80 && tag >= 8) {
      pos++;
    } else {
      tag = varint(buf, pos, end);
      if (tag >>> 3 === 0) throw REJECT;
      pos = vpos;
    }
    const wt = tag & 7;
    switch (tag >>> 3) {
      case 1: // index
      case 9: // length
        if (wt !== 0) throw REJECT;
        pos = skipVarint(buf, pos, end);
        break;
      case 2:
        if (wt !== 0) throw REJECT;
        sqlType = varint(buf, pos, end) | 0;
        pos = vpos;
        break;
      case 3:
        if (wt !== 2) throw REJECT;
        nameEnd = delimited(buf, pos, end);
        nameStart = vpos;
        pos = nameEnd;
        break;
      case 4:
        if (wt !== 0) throw REJECT;
        isKey = varint(buf, pos, end) !== 0;
        pos = vpos;
        break;
      case 5:
        if (wt !== 0) throw REJECT;
        updated = varint(buf, pos, end) !== 0;
        pos = vpos;
        break;
      case 6:
        if (wt !== 0) throw REJECT;
        isNull = varint(buf, pos, end) !== 0;
        pos = vpos;
        break;
      case 7: {
        if (wt !== 2) throw REJECT;
        const stop = delimited(buf, pos, end);
        checkPair(buf, vpos, stop);
        pos = stop;
        break;
      }
      case 8:
        if (wt !== 2) throw REJECT;
        valueEnd = delimited(buf, pos, end);
        valueStart = vpos;
        pos = valueEnd;
        break;
      case 10:
        if (wt !== 2) throw REJECT;
        typeEnd = delimited(buf, pos, end);
        typeStart = vpos;
        pos = typeEnd;
        break;
      default:
        pos = skip(buf, pos, end, wt);
    }
  }

  const slot = side.n++;
  if (nameStart < 0) nameStart = nameEnd = 0;
  if (typeStart < 0) typeStart = typeEnd = 0;
  let name: string;
  if (slot < side.names.length) {
    // Most rows repeat the previous row's names and types: compare bytes, keep the strings.
    if (sameBytes(buf, nameStart, nameEnd, side.nameBytes[slot]!)) {
      name = side.names[slot]!;
    } else {
      name = side.names[slot] = cachedUtf8(buf, nameStart, nameEnd);
      side.nameBytes[slot] = copyBytes(buf, nameStart, nameEnd);
      side.diff = true;
    }
    if (!sameBytes(buf, typeStart, typeEnd, side.typeBytes[slot]!)) {
      side.types[slot] = cachedUtf8(buf, typeStart, typeEnd);
      side.typeBytes[slot] = copyBytes(buf, typeStart, typeEnd);
      side.diff = true;
    }
    if (slot >= side.prevN || side.sqlTypes[slot] !== sqlType) {
      side.sqlTypes[slot] = sqlType;
      side.diff = true;
    }
  } else {
    name = side.names[slot] = cachedUtf8(buf, nameStart, nameEnd);
    side.types[slot] = cachedUtf8(buf, typeStart, typeEnd);
    side.sqlTypes[slot] = sqlType;
    side.nameBytes[slot] = copyBytes(buf, nameStart, nameEnd);
    side.typeBytes[slot] = copyBytes(buf, typeStart, typeEnd);
    side.diff = true;
  }

  if (side.wanted)
    side.values[slot] = isNull ? null : valueStart < 0 ? '' : text(buf, valueStart, valueEnd);
  if (isKey) side.keys[side.nKeys++] = name;
  if (updated && side.collectUpdated) (side.updated ??= []).push(name);
}

function readRow(buf: NodeBuffer, pos: number, end: number): void {
  while (pos < end) {
    const tag = tagAt(buf, pos, end);
    pos = vpos;
    const wt = tag & 7;
    const field = tag >>> 3;
    if (field === 1 || field === 2 || field === 3) {
      if (wt !== 2) throw REJECT;
      const stop = delimited(buf, pos, end);
      if (field === 1) readColumn(buf, vpos, stop, BEFORE);
      else if (field === 2) readColumn(buf, vpos, stop, AFTER);
      else checkPair(buf, vpos, stop);
      pos = stop;
    } else {
      pos = skip(buf, pos, end, wt);
    }
  }
  BEFORE.endRow();
  AFTER.endRow();
}

/** Indices of the before-image columns missing from the after image (MINIMAL/NOBLOB); usually none. */
function beforeOnly(): number[] | null {
  const n = AFTER.n;
  if (n === BEFORE.n) {
    let same = true;
    for (let i = 0; i < n; i++) {
      if (AFTER.names[i] !== BEFORE.names[i]) {
        same = false;
        break;
      }
    }
    if (same) return null;
  }
  const names = new Set(AFTER.names.slice(0, n));
  const extra: number[] = [];
  for (let i = 0; i < BEFORE.n; i++) if (!names.has(BEFORE.names[i]!)) extra.push(i);
  return extra.length === 0 ? null : extra;
}

function metaMatches(meta: Readonly<Record<string, ColumnMeta>>, side: Side, i: number): boolean {
  const name = side.names[i]!;
  const m = Object.prototype.hasOwnProperty.call(meta, name) ? meta[name] : undefined;
  return m !== undefined && m.mysqlType === side.types[i] && m.sqlType === side.sqlTypes[i];
}

/** True when the main side (and the extra before columns) describe exactly the types in `meta`. */
function sameMeta(
  meta: Readonly<Record<string, ColumnMeta>>,
  count: number,
  main: Side,
  extra: readonly number[] | null,
): boolean {
  if (count !== main.n + (extra === null ? 0 : extra.length)) return false;
  for (let i = 0; i < main.n; i++) if (!metaMatches(meta, main, i)) return false;
  if (extra !== null) for (const i of extra) if (!metaMatches(meta, BEFORE, i)) return false;
  return true;
}

function sameKeys(pkNames: readonly string[], side: Side): boolean {
  const n = side.nKeys;
  if (pkNames.length !== n) return false;
  for (let i = 0; i < n; i++) if (pkNames[i] !== side.keys[i]) return false;
  return true;
}

/** Row-change `start`..`end` of pending rows (scratch, reused). */
const rowRanges: number[] = [];

function readRowChange(
  buf: NodeBuffer,
  start: number,
  end: number,
  events: ChangeEvent[],
  origin: MessageOrigin,
): void {
  let eventType = 2;
  let isDdl = false;
  let nRanges = 0;
  let pos = start;
  while (pos < end) {
    const tag = tagAt(buf, pos, end);
    pos = vpos;
    const wt = tag & 7;
    switch (tag >>> 3) {
      case 1: // tableId
        if (wt !== 0) throw REJECT;
        pos = skipVarint(buf, pos, end);
        break;
      case 2:
        if (wt !== 0) throw REJECT;
        eventType = varint(buf, pos, end) | 0;
        pos = vpos;
        break;
      case 10:
        if (wt !== 0) throw REJECT;
        isDdl = varint(buf, pos, end) !== 0;
        pos = vpos;
        break;
      case 11: // sql
      case 14: // ddlSchemaName
        if (wt !== 2) throw REJECT;
        pos = delimited(buf, pos, end);
        break;
      case 12: {
        if (wt !== 2) throw REJECT;
        const stop = delimited(buf, pos, end);
        rowRanges[nRanges++] = vpos;
        rowRanges[nRanges++] = stop;
        pos = stop;
        break;
      }
      case 13: {
        if (wt !== 2) throw REJECT;
        const stop = delimited(buf, pos, end);
        checkPair(buf, vpos, stop);
        pos = stop;
        break;
      }
      default:
        pos = skip(buf, pos, end, wt);
    }
  }

  const type: RowEventType | undefined = isDdl
    ? undefined
    : eventType === 1
      ? 'INSERT'
      : eventType === 2
        ? 'UPDATE'
        : eventType === 3
          ? 'DELETE'
          : undefined;
  if (type === undefined || nRanges === 0) {
    // DDL, rows-query noise, statement-format DML and the like: rare; the checked decoder reads
    // them.
    appendEntryEvents(
      events,
      headerSchema,
      headerTable,
      headerExecuteTime,
      headerGtid,
      decodeRowChange(buf.subarray(start, end)),
      origin,
      pendingNotices,
    );
    return;
  }

  const destination = origin.destination;
  const database = unquoteName(headerSchema);
  const table = unquoteName(headerTable);
  const executedAt = headerExecuteTime;
  const producedAt = origin.producedAt ?? executedAt;
  const gtid = headerGtid;
  const sides = sidesOf(database, table);
  BEFORE = sides.before;
  AFTER = sides.after;
  const main = type === 'DELETE' ? BEFORE : AFTER;
  AFTER.collectUpdated = type === 'UPDATE';
  BEFORE.collectUpdated = false;

  // As in appendEntryEvents: the column map of the first row, kept for the following rows while
  // it describes them exactly (sameMeta). A map built for an earlier entry of the table is taken
  // when the names and types have not changed since: it is what building it again would give.
  let columns: Readonly<Record<string, ColumnMeta>> = NO_COLUMNS;
  let metaCount = 0;
  /** `sameMeta(columns, metaCount, <main side at this version>)` is known to hold. */
  let knownVersion = -1;
  let pkNames = main.pkNames;
  for (let r = 0; r < nRanges; r += 2) {
    BEFORE.startRow(type !== 'INSERT');
    AFTER.startRow(type !== 'DELETE');
    readRow(buf, rowRanges[r]!, rowRanges[r + 1]!);

    const extra = type === 'UPDATE' ? beforeOnly() : null;
    if (extra === null && knownVersion === main.version) {
      // Same names and types as the previous row, which `columns` describes exactly.
    } else if (r === 0 && extra === null && main.n > 0 && main.columnsVersion === main.version) {
      columns = main.columns;
      metaCount = main.columnsCount;
      knownVersion = metaCount === main.n ? main.version : -1;
    } else if (sameMeta(columns, metaCount, main, extra)) {
      knownVersion = extra === null ? main.version : -1;
    } else {
      const next: Record<string, ColumnMeta> = {};
      if (extra !== null)
        for (const i of extra)
          setOwn(
            next,
            BEFORE.names[i]!,
            Object.freeze({ mysqlType: BEFORE.types[i]!, sqlType: BEFORE.sqlTypes[i]! }),
          );
      for (let i = 0; i < main.n; i++)
        setOwn(
          next,
          main.names[i]!,
          Object.freeze({ mysqlType: main.types[i]!, sqlType: main.sqlTypes[i]! }),
        );
      columns = Object.freeze(next);
      metaCount = Object.keys(next).length;
      knownVersion = extra === null && metaCount === main.n ? main.version : -1;
      if (extra === null) {
        main.columns = columns;
        main.columnsCount = metaCount;
        main.columnsVersion = main.version;
      }
    }

    const keySide = main.nKeys === 0 && type === 'UPDATE' ? BEFORE : main;
    if (!sameKeys(pkNames, keySide))
      pkNames =
        keySide.nKeys === 0 ? NO_NAMES : Object.freeze(keySide.keys.slice(0, keySide.nKeys));

    const position = positionOf(origin, events.length);
    let event: RowChangeEvent;
    if (type === 'INSERT') {
      event = {
        kind: 'row',
        type,
        destination,
        database,
        table,
        pkNames,
        columns,
        executedAt,
        producedAt,
        position,
        after: AFTER.image(),
        changed: NO_NAMES,
      };
    } else if (type === 'DELETE') {
      event = {
        kind: 'row',
        type,
        destination,
        database,
        table,
        pkNames,
        columns,
        executedAt,
        producedAt,
        position,
        before: BEFORE.image(),
        changed: NO_NAMES,
      };
    } else {
      event = {
        kind: 'row',
        type,
        destination,
        database,
        table,
        pkNames,
        columns,
        executedAt,
        producedAt,
        position,
        before: BEFORE.image(),
        after: AFTER.image(),
        changed: AFTER.updated ?? NO_NAMES,
      };
    }
    if (gtid) (event as { gtid?: string }).gtid = gtid;
    events.push(event);
  }
  main.pkNames = pkNames;
}

function readEntry(
  buf: NodeBuffer,
  pos: number,
  end: number,
  events: ChangeEvent[],
  origin: MessageOrigin,
): void {
  headerSchema = headerTable = headerGtid = '';
  headerExecuteTime = 0;
  let entryType = 2;
  let storeStart = 0;
  let storeEnd = 0;
  while (pos < end) {
    const tag = tagAt(buf, pos, end);
    pos = vpos;
    const wt = tag & 7;
    switch (tag >>> 3) {
      case 1: {
        if (wt !== 2) throw REJECT;
        const stop = delimited(buf, pos, end);
        readHeader(buf, vpos, stop);
        pos = stop;
        break;
      }
      case 2:
        if (wt !== 0) throw REJECT;
        entryType = varint(buf, pos, end) | 0;
        pos = vpos;
        break;
      case 3:
        if (wt !== 2) throw REJECT;
        storeEnd = delimited(buf, pos, end);
        storeStart = vpos;
        pos = storeEnd;
        break;
      default:
        pos = skip(buf, pos, end, wt);
    }
  }
  if (entryType === 2) readRowChange(buf, storeStart, storeEnd, events, origin);
}

/**
 * Decodes one non-flat MQ payload into ChangeEvents, or throws (anything) when it does not
 * accept the input; see the module comment.
 */
export function fastProtobufEvents(
  bytes: Uint8Array,
  origin: MessageOrigin,
  notices?: DecodeNotice[],
): ChangeEvent[] {
  pendingNotices = notices;
  try {
    return readPayload(bytes, origin);
  } catch (error) {
    // A row read halfway leaves its table's state out of step with its version: forget it all.
    tables.clear();
    tableCount = 0;
    BEFORE = new Side();
    AFTER = new Side();
    latin1 = null;
    throw error;
  } finally {
    pendingNotices = undefined;
  }
}

/** Where the payload being read puts its notices (set for the duration of one call). */
let pendingNotices: DecodeNotice[] | undefined;

function readPayload(bytes: Uint8Array, origin: MessageOrigin): ChangeEvent[] {
  const buf = (
    Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  ) as NodeBuffer;
  // Byte ranges remembered from an earlier payload mean nothing in this one.
  latin1 = null;
  const n = buf.length;
  let type = 0;
  let compression = 0;
  let bodyStart = 0;
  let bodyEnd = 0;
  let pos = 0;
  while (pos < n) {
    const tag = tagAt(buf, pos, n);
    pos = vpos;
    const wt = tag & 7;
    const field = tag >>> 3;
    if (field === 5) {
      if (wt !== 2) throw REJECT;
      bodyEnd = delimited(buf, pos, n);
      bodyStart = vpos;
      pos = bodyEnd;
    } else if (field >= 1 && field <= 4) {
      if (wt !== 0) throw REJECT;
      const value = varint(buf, pos, n) | 0;
      pos = vpos;
      if (field === 3) type = value;
      else if (field === 4) compression = value;
    } else {
      pos = skip(buf, pos, n, wt);
    }
  }
  if (type !== 7 || (compression !== 0 && compression !== 1)) throw REJECT;

  const events: ChangeEvent[] = [];
  pos = bodyStart;
  while (pos < bodyEnd) {
    const tag = tagAt(buf, pos, bodyEnd);
    pos = vpos;
    const wt = tag & 7;
    const field = tag >>> 3;
    if (field === 1) {
      if (wt !== 0) throw REJECT;
      pos = skipVarint(buf, pos, bodyEnd);
    } else if (field === 2) {
      if (wt !== 2) throw REJECT;
      const stop = delimited(buf, pos, bodyEnd);
      readEntry(buf, vpos, stop, events, origin);
      pos = stop;
    } else {
      pos = skip(buf, pos, bodyEnd, wt);
    }
  }
  latin1 = null;
  return events;
}
