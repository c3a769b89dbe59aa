import { DecodeError } from './decodeError.js';
import { preview } from './preview.js';

/** One row of a FlatMessage: column → value (string, or null for SQL NULL). */
export type FlatRow = Record<string, string | null>;

/**
 * canal's FlatMessage, as canal-server writes it to an MQ (one per binlog rows event or DDL).
 * See shared/reference/canal-wire-formats.md §1.
 */
export interface FlatMessage {
  /** canal batch id (per process, shared by every message of a batch; not unique). */
  id: number;
  /** Schema name; `""` when canal did not know it (QUERY events). */
  database: string;
  /** Table name; `""` for statements without a table. */
  table: string;
  /** PRIMARY KEY columns taken from the first row; null for DDL and tables without a PK. */
  pkNames: string[] | null;
  isDdl: boolean;
  /** `INSERT`, `UPDATE`, `DELETE`, a DDL type, `QUERY`, `XACOMMIT`, … */
  type: string;
  /** Binlog event time, ms. */
  es: number;
  /** Time canal built the message, ms. */
  ts: number;
  /** Statement text for DDL/QUERY, `""` for row events. */
  sql: string;
  sqlType: Record<string, number> | null;
  mysqlType: Record<string, string> | null;
  /** After images (INSERT/UPDATE) or before images (DELETE). */
  data: FlatRow[] | null;
  /** UPDATE only: before values of the changed columns, aligned with `data`. */
  old: FlatRow[] | null;
  /** Absent from producers older than canal 1.1.7; `""` unless canal runs in GTID mode. */
  gtid?: string;
}

type JsonObject = { [key: string]: unknown };

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') return `a string (${preview(value, 40)})`;
  if (typeof value === 'number' || typeof value === 'boolean')
    return `a ${typeof value} (${String(value)})`;
  return typeof value; // undefined, bigint, function: never from JSON.parse, only from a caller
}

function optionalString(obj: JsonObject, key: string): string {
  const value = obj[key];
  if (value === undefined || value === null) return '';
  if (typeof value !== 'string')
    throw new DecodeError(`expected a string, got ${typeOf(value)}`, { path: key });
  return value;
}

function optionalNumber(obj: JsonObject, key: string): number {
  const value = obj[key];
  if (value === undefined || value === null) return 0;
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new DecodeError(`expected a number, got ${typeOf(value)}`, { path: key });
  }
  return value;
}

/**
 * Checks `data`/`old` in place and returns them as rows. The parsed objects are kept (no copy):
 * they are fresh from JSON.parse, and copying them by assignment would mishandle a column
 * named `__proto__`.
 */
function rows(obj: JsonObject, key: 'data' | 'old'): FlatRow[] | null {
  const value = obj[key];
  if (value === undefined || value === null) return null;
  if (!Array.isArray(value))
    throw new DecodeError(`expected an array of rows, got ${typeOf(value)}`, { path: key });
  for (let i = 0; i < value.length; i++) {
    const row: unknown = value[i];
    if (!isObject(row))
      throw new DecodeError(`expected a row object, got ${typeOf(row)}`, { path: `${key}[${i}]` });
    for (const column in row) {
      const cell = row[column];
      if (cell !== null && typeof cell !== 'string') {
        // canal renders every value as text; a number here would already have lost precision.
        throw new DecodeError(`expected a string or null, got ${typeOf(cell)}`, {
          path: `${key}[${i}].${column}`,
        });
      }
    }
  }
  return value as FlatRow[];
}

function typeMap<T>(
  obj: JsonObject,
  key: 'sqlType' | 'mysqlType',
  check: (v: unknown) => v is T,
  expected: string,
): Record<string, T> | null {
  const value = obj[key];
  if (value === undefined || value === null) return null;
  if (!isObject(value))
    throw new DecodeError(`expected an object, got ${typeOf(value)}`, { path: key });
  for (const column in value) {
    const v = value[column];
    if (!check(v))
      throw new DecodeError(`expected ${expected}, got ${typeOf(v)}`, { path: `${key}.${column}` });
  }
  return value as Record<string, T>;
}

const isSqlType = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v);
const isString = (v: unknown): v is string => typeof v === 'string';

/**
 * Checks an already-parsed JSON value as a FlatMessage and returns it (row objects are reused,
 * not copied). Tolerant of what real producers emit (missing `gtid`, `null` vs absent maps and
 * strings, `""` database) and strict about what would make data wrong: rows not aligned between
 * `data` and `old`, `old` naming a column the row lacks, non-object rows, values that are not
 * strings or null, wrong field types. Those throw a {@link DecodeError} naming the field.
 */
export function flatMessageFromJson(parsed: unknown): FlatMessage {
  if (!isObject(parsed))
    throw new DecodeError(`expected a FlatMessage object, got ${typeOf(parsed)}`);
  const type = parsed['type'];
  if (typeof type !== 'string' || type === '') {
    throw new DecodeError(
      type === undefined || type === null
        ? 'missing event type'
        : `expected a non-empty string, got ${typeOf(type)}`,
      { path: 'type' },
    );
  }
  const isDdlRaw = parsed['isDdl'];
  if (isDdlRaw !== undefined && isDdlRaw !== null && typeof isDdlRaw !== 'boolean') {
    throw new DecodeError(`expected a boolean, got ${typeOf(isDdlRaw)}`, { path: 'isDdl' });
  }
  const pkRaw = parsed['pkNames'];
  let pkNames: string[] | null = null;
  if (pkRaw !== undefined && pkRaw !== null) {
    if (!Array.isArray(pkRaw))
      throw new DecodeError(`expected an array of column names, got ${typeOf(pkRaw)}`, {
        path: 'pkNames',
      });
    for (let i = 0; i < pkRaw.length; i++) {
      if (typeof pkRaw[i] !== 'string')
        throw new DecodeError(`expected a column name, got ${typeOf(pkRaw[i])}`, {
          path: `pkNames[${i}]`,
        });
    }
    pkNames = pkRaw as string[];
  }
  const data = rows(parsed, 'data');
  const old = rows(parsed, 'old');
  if (old !== null) {
    if (data === null || old.length !== data.length) {
      throw new DecodeError(
        `has ${old.length} rows but data has ${data?.length ?? 0}: rows are not aligned`,
        { path: 'old' },
      );
    }
    for (let i = 0; i < old.length; i++) {
      const row = data[i]!;
      for (const column in old[i]) {
        if (!Object.prototype.hasOwnProperty.call(row, column)) {
          throw new DecodeError(`column ${preview(column)} is not in data[${i}]`, {
            path: `old[${i}].${column}`,
          });
        }
      }
    }
  }
  const gtid = parsed['gtid'];
  if (gtid !== undefined && gtid !== null && typeof gtid !== 'string') {
    throw new DecodeError(`expected a string, got ${typeOf(gtid)}`, { path: 'gtid' });
  }
  const message: FlatMessage = {
    id: optionalNumber(parsed, 'id'),
    database: optionalString(parsed, 'database'),
    table: optionalString(parsed, 'table'),
    pkNames,
    isDdl: isDdlRaw === true,
    type,
    es: optionalNumber(parsed, 'es'),
    ts: optionalNumber(parsed, 'ts'),
    sql: optionalString(parsed, 'sql'),
    sqlType: typeMap(parsed, 'sqlType', isSqlType, 'an integer java.sql.Types code'),
    mysqlType: typeMap(parsed, 'mysqlType', isString, 'a column type string'),
    data,
    old,
  };
  if (typeof gtid === 'string') message.gtid = gtid;
  return message;
}

const utf8 = new TextDecoder('utf-8', { fatal: false });

/**
 * Parses and checks one FlatMessage from JSON text or UTF-8 bytes (invalid UTF-8 becomes
 * U+FFFD; a leading byte-order mark is ignored). See {@link flatMessageFromJson} for what is
 * tolerated and what is rejected. Deeply nested or multi-megabyte input is fine: `JSON.parse`
 * does not recurse on the native stack, and nothing here walks deeper than a row.
 */
export function decodeFlatMessage(input: string | Uint8Array): FlatMessage {
  let text = typeof input === 'string' ? input : utf8.decode(input);
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new DecodeError(`not valid JSON (${jsonErrorReason(error)}): ${preview(text)}`, {
      cause: error,
    });
  }
  return flatMessageFromJson(parsed);
}

/**
 * Why `JSON.parse` failed, without the input: V8 quotes a piece of it (`Unexpected token 'x',
 * "…" is not valid JSON`), raw, newlines and all; that piece is dropped (the caller shows an
 * escaped preview) and the rest is escaped too.
 */
export function jsonErrorReason(error: unknown): string {
  let reason = error instanceof Error ? error.message : String(error);
  const quotedInput = /^(Unexpected token .*?), ".*" is not valid JSON$/s.exec(reason);
  if (quotedInput) reason = quotedInput[1]!;
  const shown = preview(reason, 120);
  // The preview is quoted; the reason reads better without the quotes.
  return shown.startsWith('"') && shown.endsWith('"') ? shown.slice(1, -1) : shown;
}

/**
 * Serialises a FlatMessage the way canal does: fastjson2's key order, every key present, nulls
 * written. `gtid` is left out when the message has none (like canal before 1.1.7), so
 * `decodeFlatMessage(encodeFlatMessage(m))` equals `m`.
 */
export function encodeFlatMessage(message: FlatMessage): string {
  return JSON.stringify({
    data: message.data,
    database: message.database,
    es: message.es,
    gtid: message.gtid,
    id: message.id,
    isDdl: message.isDdl,
    mysqlType: message.mysqlType,
    old: message.old,
    pkNames: message.pkNames,
    sql: message.sql,
    sqlType: message.sqlType,
    table: message.table,
    ts: message.ts,
    type: message.type,
  });
}
