import { DecodeError } from './decodeError.js';

/** One row of a FlatMessage: column → value (string, or null for SQL NULL). */
export type FlatRow = Record<string, string | null>;

/**
 * canal's FlatMessage, as canal-server writes it to an MQ (one per binlog rows event or DDL).
 * See shared/reference/canal-wire-formats.md §1.
 */
export interface FlatMessage {
  id: number;
  database: string;
  table: string;
  pkNames: string[] | null;
  isDdl: boolean;
  type: string;
  es: number;
  ts: number;
  sql: string;
  sqlType: Record<string, number> | null;
  mysqlType: Record<string, string> | null;
  data: FlatRow[] | null;
  old: FlatRow[] | null;
  /** Absent from producers older than canal 1.1.7. */
  gtid?: string;
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function isObject(value: Json | undefined): value is { [key: string]: Json } {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function optionalString(obj: { [key: string]: Json }, key: string, fallback: string): string {
  const value = obj[key];
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'string') throw new DecodeError(`expected a string, got ${typeOf(value)}`, { path: key });
  return value;
}

function optionalNumber(obj: { [key: string]: Json }, key: string): number {
  const value = obj[key];
  if (value === undefined || value === null) return 0;
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new DecodeError(`expected a number, got ${typeOf(value)}`, { path: key });
  }
  return value;
}

function typeOf(value: Json): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

function rows(obj: { [key: string]: Json }, key: 'data' | 'old'): FlatRow[] | null {
  const value = obj[key];
  if (value === undefined || value === null) return null;
  if (!Array.isArray(value)) throw new DecodeError(`expected an array of rows, got ${typeOf(value)}`, { path: key });
  return value.map((row, i) => {
    if (!isObject(row)) throw new DecodeError(`expected a row object, got ${typeOf(row)}`, { path: `${key}[${i}]` });
    const out: FlatRow = {};
    for (const [column, cell] of Object.entries(row)) {
      if (cell === null) out[column] = null;
      else if (typeof cell === 'string') out[column] = cell;
      else if (typeof cell === 'number' || typeof cell === 'boolean') out[column] = String(cell);
      else throw new DecodeError(`expected a string or null, got ${typeOf(cell)}`, { path: `${key}[${i}].${column}` });
    }
    return out;
  });
}

function stringMap<T extends string | number>(
  obj: { [key: string]: Json },
  key: 'sqlType' | 'mysqlType',
  kind: 'string' | 'number',
): Record<string, T> | null {
  const value = obj[key];
  if (value === undefined || value === null) return null;
  if (!isObject(value)) throw new DecodeError(`expected an object, got ${typeOf(value)}`, { path: key });
  const out: Record<string, T> = {};
  for (const [column, v] of Object.entries(value)) {
    if (typeof v !== kind) throw new DecodeError(`expected a ${kind}, got ${typeOf(v)}`, { path: `${key}.${column}` });
    out[column] = v as T;
  }
  return out;
}

/**
 * Parses and checks one FlatMessage. Tolerant of what real producers emit (missing `gtid`,
 * `null` vs absent maps, `""` database) and strict about what would make data wrong (rows not
 * aligned between `data` and `old`, non-object rows, wrong types): those throw {@link DecodeError}.
 */
export function decodeFlatMessage(input: string | Uint8Array): FlatMessage {
  const text = typeof input === 'string' ? input : new TextDecoder('utf-8', { fatal: false }).decode(input);
  let parsed: Json;
  try {
    parsed = JSON.parse(text) as Json;
  } catch (error) {
    throw new DecodeError(`not valid JSON (${(error as Error).message})`, { cause: error });
  }
  if (!isObject(parsed)) throw new DecodeError(`expected a FlatMessage object, got ${typeOf(parsed)}`);
  const type = parsed['type'];
  if (typeof type !== 'string' || type === '') throw new DecodeError('missing event type', { path: 'type' });
  const isDdlRaw = parsed['isDdl'];
  if (isDdlRaw !== undefined && isDdlRaw !== null && typeof isDdlRaw !== 'boolean') {
    throw new DecodeError(`expected a boolean, got ${typeOf(isDdlRaw)}`, { path: 'isDdl' });
  }
  const pkRaw = parsed['pkNames'];
  let pkNames: string[] | null = null;
  if (pkRaw !== undefined && pkRaw !== null) {
    if (!Array.isArray(pkRaw) || pkRaw.some((p) => typeof p !== 'string')) {
      throw new DecodeError('expected an array of column names', { path: 'pkNames' });
    }
    pkNames = pkRaw as string[];
  }
  const data = rows(parsed, 'data');
  const old = rows(parsed, 'old');
  if (old !== null && (data === null || old.length !== data.length)) {
    throw new DecodeError(`has ${old.length} rows but data has ${data?.length ?? 0}: rows are not aligned`, { path: 'old' });
  }
  const message: FlatMessage = {
    id: optionalNumber(parsed, 'id'),
    database: optionalString(parsed, 'database', ''),
    table: optionalString(parsed, 'table', ''),
    pkNames,
    isDdl: isDdlRaw === true,
    type,
    es: optionalNumber(parsed, 'es'),
    ts: optionalNumber(parsed, 'ts'),
    sql: optionalString(parsed, 'sql', ''),
    sqlType: stringMap<number>(parsed, 'sqlType', 'number'),
    mysqlType: stringMap<string>(parsed, 'mysqlType', 'string'),
    data,
    old,
  };
  const gtid = parsed['gtid'];
  if (typeof gtid === 'string') message.gtid = gtid;
  return message;
}

/** Serialises a FlatMessage the way canal does (all keys present, nulls written). */
export function encodeFlatMessage(message: FlatMessage): string {
  return JSON.stringify({
    data: message.data,
    database: message.database,
    es: message.es,
    gtid: message.gtid ?? '',
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
