/**
 * The typed accessor: turns a value as canal renders it (text or null; reference §1.5) into a
 * typed value according to the column's `mysqlType`. Sinks call it once, at the edge.
 */
import type { ChangeEvent, ColumnMeta, ColumnValue } from '@sluice/plugin-api';
import { DecodeError } from '../decodeError.js';
import { preview } from '../preview.js';
import { parseMysqlType, type MysqlColumnType } from './mysqlType.js';

/** Date parts of DATE/DATETIME/TIMESTAMP, as written (zero dates keep their zeros). */
interface DateParts {
  /** The text as canal sent it. */
  readonly text: string;
  readonly year: number;
  readonly month: number;
  readonly day: number;
}

/** Time-of-day parts; `fraction` is the fractional-second digits as written (`""` if none). */
interface TimeParts {
  readonly hour: number;
  readonly minute: number;
  readonly second: number;
  readonly fraction: string;
}

/** SQL NULL. */
export interface NullValue {
  readonly kind: 'null';
}
/** TINYINT…BIGINT, signed or unsigned: a number, or a bigint beyond ±2^53. */
export interface IntegerValue {
  readonly kind: 'integer';
  readonly value: number | bigint;
}
/** DECIMAL/NUMERIC, kept exact as canal's plain decimal text (`"19.90"`). */
export interface DecimalValue {
  readonly kind: 'decimal';
  readonly value: string;
}
/** FLOAT/DOUBLE. */
export interface FloatValue {
  readonly kind: 'float';
  readonly value: number;
}
/** BIT(n): the bits as an unsigned integer (a bigint beyond 2^53), and `n`. */
export interface BitValue {
  readonly kind: 'bit';
  readonly value: number | bigint;
  readonly width: number;
}
/**
 * ENUM: canal sends the 1-based index (reference §1.5); `label` is the member it names, read from
 * the column's `mysqlType` (`""` for index 0, MySQL's invalid value).
 */
export interface EnumValue {
  readonly kind: 'enum';
  readonly index: number;
  readonly label: string;
}
/**
 * ENUM whose labels are unknown: `mysqlType` does not list the members (e.g. canal had no table
 * meta) or lists them in a form that cannot be read. Only canal's index is known; no label is
 * guessed.
 */
export interface EnumIndexValue {
  readonly kind: 'enum-index';
  readonly index: number;
}
/**
 * SET: canal sends the bitmask (bit i = member i+1; reference §1.5); `labels` are the members it
 * selects, in declaration order, read from the column's `mysqlType`.
 */
export interface SetValue {
  readonly kind: 'set';
  readonly mask: number | bigint;
  readonly labels: readonly string[];
}
/** SET whose labels are unknown (see {@link EnumIndexValue}): only canal's bitmask is known. */
export interface SetMaskValue {
  readonly kind: 'set-mask';
  readonly mask: number | bigint;
}
/** DATE (`YYYY-MM-DD`; `0000-00-00` allowed). */
export interface DateValue extends DateParts {
  readonly kind: 'date';
}
/**
 * DATETIME or TIMESTAMP as wall-clock parts. No time zone is applied or invented: DATETIME has
 * none, and canal rendered TIMESTAMP in its server JVM's zone, which the message does not say.
 */
export interface DateTimeValue extends DateParts, TimeParts {
  readonly kind: 'datetime' | 'timestamp';
}
/** TIME (`[-]HH:MM:SS[.fff]`, hours up to 838). */
export interface TimeValue extends TimeParts {
  readonly kind: 'time';
  readonly text: string;
  readonly negative: boolean;
}
/** YEAR (`0` for `0000`). */
export interface YearValue {
  readonly kind: 'year';
  readonly value: number;
}
/**
 * JSON text: as canal rebuilt it (MySQL's binary JSON), or the column's original UTF-8 text
 * (MariaDB's JSON, which canal sends as bytes); `partial` when it is a PARTIAL_JSON diff such as
 * `JSON_REPLACE(…)`.
 */
export interface JsonValue {
  readonly kind: 'json';
  readonly text: string;
  readonly partial: boolean;
}
/** CHAR/VARCHAR/TEXT (and other character types): the original text. */
export interface TextValue {
  readonly kind: 'text';
  readonly value: string;
}
/** BINARY/VARBINARY/BLOB/GEOMETRY: the original bytes (canal sends them as latin-1 text). */
export interface BytesValue {
  readonly kind: 'bytes';
  readonly value: Uint8Array;
}
/** A type this accessor does not know: the text as sent. */
export interface UnknownValue {
  readonly kind: 'unknown';
  readonly text: string;
  readonly mysqlType: string;
}

/** A column value converted according to its `mysqlType`. */
export type TypedValue =
  | NullValue
  | IntegerValue
  | DecimalValue
  | FloatValue
  | BitValue
  | EnumValue
  | EnumIndexValue
  | SetValue
  | SetMaskValue
  | DateValue
  | DateTimeValue
  | TimeValue
  | YearValue
  | JsonValue
  | TextValue
  | BytesValue
  | UnknownValue;

const NULL: NullValue = Object.freeze({ kind: 'null' });

const INTEGER = /^-?[0-9]+$/;
const DECIMAL = /^-?[0-9]+(\.[0-9]+)?$/;
const FLOAT = /^(-?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][-+]?[0-9]+)?|-?Infinity|NaN)$/;
const DATE = /^([0-9]{4})-([0-9]{2})-([0-9]{2})$/;
const DATETIME =
  /^([0-9]{4})-([0-9]{2})-([0-9]{2})[ T]([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]{1,9}))?$/;
const TIME = /^(-)?([0-9]{2,3}):([0-9]{2}):([0-9]{2})(?:\.([0-9]{1,9}))?$/;
const YEAR = /^[0-9]{4}$/;
const PARTIAL_JSON = /^JSON_(REPLACE|INSERT|ARRAY_INSERT|REMOVE|SET|ARRAY_APPEND)\(/;
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

function fail(
  column: string | undefined,
  text: string,
  type: MysqlColumnType,
  what: string,
): DecodeError {
  return new DecodeError(
    `value ${preview(text, 40)} is not ${what} (mysqlType ${preview(type.text, 80)})`,
    column === undefined ? undefined : { path: column },
  );
}

/** A number when it is safe, else a bigint. */
function narrow(value: bigint): number | bigint {
  return value <= MAX_SAFE && value >= -MAX_SAFE ? Number(value) : value;
}

function integer(text: string, type: MysqlColumnType, column: string | undefined): IntegerValue {
  if (!INTEGER.test(text)) throw fail(column, text, type, 'an integer');
  const big = BigInt(text);
  const bits = BigInt(type.bits);
  const [min, max] = type.unsigned
    ? [0n, (1n << bits) - 1n]
    : [-(1n << (bits - 1n)), (1n << (bits - 1n)) - 1n];
  if (big < min || big > max)
    throw fail(column, text, type, `in range for ${type.unsigned ? 'unsigned ' : ''}${type.name}`);
  return { kind: 'integer', value: narrow(big) };
}

function unsignedBits(
  text: string,
  type: MysqlColumnType,
  column: string | undefined,
  width: number,
  what: string,
): bigint {
  if (!INTEGER.test(text) || text.startsWith('-')) throw fail(column, text, type, what);
  const big = BigInt(text);
  if (big >> BigInt(width) !== 0n)
    throw fail(column, text, type, `${what} of at most ${width} bits`);
  return big;
}

function timeParts(m: RegExpExecArray, from: number): TimeParts {
  return {
    hour: Number(m[from]),
    minute: Number(m[from + 1]),
    second: Number(m[from + 2]),
    fraction: m[from + 3] ?? '',
  };
}

function latin1Bytes(text: string, type: MysqlColumnType, column: string | undefined): Uint8Array {
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code > 0xff)
      throw fail(
        column,
        text,
        type,
        'latin-1 text (canal sends binary values one byte per character)',
      );
    bytes[i] = code;
  }
  return bytes;
}

/**
 * java.sql.Types codes canal gives a value it sent as bytes, one ISO-8859-1 character per byte:
 * BLOB (2004; canal's LogEventConvert turns BINARY/VARBINARY/LONGVARBINARY into it) and those
 * three (-2, -3, -4), should a producer keep them.
 */
const BINARY_SQL_TYPES: ReadonlySet<number> = new Set([2004, -2, -3, -4]);

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The text of a character column (JSON, TEXT, …) canal sent as bytes: canal decodes a column as
 * text only when its table-meta type is exactly TINYTEXT/TEXT/MEDIUMTEXT/LONGTEXT
 * (LogEventConvert.isText); every other column stored as a blob (MariaDB's `JSON`, an alias of
 * LONGTEXT; `TEXT(n)`; `LONG`) goes out as BLOB, ISO-8859-1 of its bytes. The bytes are the
 * column's UTF-8 text (canal reads them with the instance charset, UTF-8 by default).
 */
function textFromBytes(text: string, type: MysqlColumnType, column: string | undefined): string {
  const bytes = latin1Bytes(text, type, column);
  try {
    return strictUtf8.decode(bytes);
  } catch {
    throw fail(column, text, type, 'UTF-8 text (canal sent the column as bytes)');
  }
}

/**
 * Converts one value as canal renders it into a {@link TypedValue} according to the column's
 * type: integers (bigint beyond 2^53, range-checked against the type), DECIMAL as exact text,
 * FLOAT/DOUBLE, BIT, ENUM (1-based index → label) and SET (bitmask → labels) from the members
 * in `mysqlType` (`enum-index`/`set-mask` when it does not list them), DATE/DATETIME/TIMESTAMP/
 * TIME as parts without a time zone, YEAR, JSON, character types, BLOB/BINARY as bytes (latin-1
 * text → bytes), and NULL.
 *
 * `column` is the column's {@link ColumnMeta} (`mysqlType` and canal's `sqlType`), or just its
 * `mysqlType`. The `sqlType` says how canal sent a character value: as text, or as bytes (BLOB,
 * 2004: MariaDB's JSON, `TEXT(n)`, …), whose UTF-8 text is then returned. Text canal already
 * decoded (sqlType CLOB/VARCHAR/…: TEXT, MySQL's JSON) is returned as sent, never decoded twice.
 * Without a `sqlType` character values are returned as sent.
 *
 * Throws {@link DecodeError} (path = `column`, when given) when the text cannot be a value of
 * the type: the message and the table no longer agree, and guessing would write wrong data.
 */
export function typedValue(
  value: ColumnValue,
  columnType: string | MysqlColumnType | ColumnMeta,
  column?: string,
): TypedValue {
  if (value === null) return NULL;
  let type: MysqlColumnType;
  let sentAsBytes = false;
  if (typeof columnType === 'string') type = parseMysqlType(columnType);
  else if ('sqlType' in columnType) {
    type = parseMysqlType(columnType.mysqlType);
    sentAsBytes = BINARY_SQL_TYPES.has(columnType.sqlType);
  } else type = columnType;
  switch (type.family) {
    case 'integer':
      return integer(value, type, column);
    case 'decimal':
      if (!DECIMAL.test(value)) throw fail(column, value, type, 'a decimal number');
      return { kind: 'decimal', value };
    case 'float':
      if (!FLOAT.test(value)) throw fail(column, value, type, 'a floating-point number');
      return { kind: 'float', value: Number(value) };
    case 'bit':
      return {
        kind: 'bit',
        value: narrow(unsignedBits(value, type, column, type.bits, 'a BIT value')),
        width: type.bits,
      };
    case 'enum': {
      if (!INTEGER.test(value) || value.startsWith('-') || value.length > 5)
        throw fail(column, value, type, 'an ENUM index');
      const index = Number(value);
      const members = type.members;
      // MySQL allows at most 65535 members.
      if (members === null) {
        if (index > 65535) throw fail(column, value, type, 'an ENUM index between 0 and 65535');
        return { kind: 'enum-index', index };
      }
      if (index > members.length)
        throw fail(column, value, type, `an ENUM index between 0 and ${members.length}`);
      return { kind: 'enum', index, label: index === 0 ? '' : members[index - 1]! };
    }
    case 'set': {
      const members = type.members;
      // MySQL allows at most 64 members.
      const width = members === null ? 64 : members.length;
      const mask = unsignedBits(value, type, column, width, 'a SET bitmask');
      if (members === null) return { kind: 'set-mask', mask: narrow(mask) };
      const labels: string[] = [];
      for (let i = 0; i < members.length; i++)
        if ((mask >> BigInt(i)) & 1n) labels.push(members[i]!);
      return { kind: 'set', mask: narrow(mask), labels };
    }
    case 'date': {
      const m = DATE.exec(value);
      if (!m) throw fail(column, value, type, 'a DATE (YYYY-MM-DD)');
      return {
        kind: 'date',
        text: value,
        year: Number(m[1]),
        month: Number(m[2]),
        day: Number(m[3]),
      };
    }
    case 'datetime':
    case 'timestamp': {
      const m = DATETIME.exec(value);
      if (!m)
        throw fail(
          column,
          value,
          type,
          `a ${type.family.toUpperCase()} (YYYY-MM-DD HH:MM:SS[.fff])`,
        );
      return {
        kind: type.family,
        text: value,
        year: Number(m[1]),
        month: Number(m[2]),
        day: Number(m[3]),
        ...timeParts(m, 4),
      };
    }
    case 'time': {
      const m = TIME.exec(value);
      if (!m) throw fail(column, value, type, 'a TIME ([-]HH:MM:SS[.fff])');
      return { kind: 'time', text: value, negative: m[1] === '-', ...timeParts(m, 2) };
    }
    case 'year':
      if (!YEAR.test(value)) throw fail(column, value, type, 'a YEAR');
      return { kind: 'year', value: Number(value) };
    case 'json': {
      const text = sentAsBytes ? textFromBytes(value, type, column) : value;
      return { kind: 'json', text, partial: PARTIAL_JSON.test(text) };
    }
    case 'text':
      return { kind: 'text', value: sentAsBytes ? textFromBytes(value, type, column) : value };
    case 'binary': {
      const bytes = latin1Bytes(value, type, column);
      // BINARY(n) holds exactly n bytes, right-padded with 0x00 (MySQL manual, "The BINARY and
      // VARBINARY Types"); the binlog row image drops that padding, so canal sends X'80FF' of a
      // BINARY(4) as 2 bytes (seen through the testbed canal, test/e2e/canal-pg.test.ts). Put it
      // back, or a target without fixed-length padding (PostgreSQL bytea) stores other bytes.
      const width = type.name === 'binary' ? (type.args[0] ?? 1) : 0;
      if (bytes.length >= width) return { kind: 'bytes', value: bytes };
      const padded = new Uint8Array(width);
      padded.set(bytes);
      return { kind: 'bytes', value: padded };
    }
    default:
      return { kind: 'unknown', text: value, mysqlType: type.text };
  }
}

/**
 * Reads one column of a row event as a {@link TypedValue}, using the event's column types.
 * `image` defaults to the current row (`after`, or `before` for DELETE). Returns `undefined`
 * when the column is not in that image (or the event is a DDL).
 */
export function readColumn(
  event: ChangeEvent,
  column: string,
  image?: 'before' | 'after',
): TypedValue | undefined {
  if (event.kind !== 'row') return undefined;
  const which = image ?? (event.type === 'DELETE' ? 'before' : 'after');
  const row = which === 'before' ? event.before : event.after;
  if (row === undefined || !Object.prototype.hasOwnProperty.call(row, column)) return undefined;
  const meta = Object.prototype.hasOwnProperty.call(event.columns, column)
    ? event.columns[column]
    : undefined;
  return typedValue(row[column] ?? null, meta ?? '', column);
}
