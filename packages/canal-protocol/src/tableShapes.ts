/**
 * The column maps (`ColumnMeta` per column) and pkNames of FlatMessage events, remembered per
 * table across messages. canal repeats a table's `mysqlType`/`sqlType` in every message; checking
 * that they are still what was built last time is much cheaper than building (and freezing) a
 * map of fresh objects per message, and lets the events of every message share one frozen map.
 */
import type { ColumnMeta } from '@sluice/plugin-api';
import { setOwn } from './ownProperty.js';

/** SQL type code canal uses for "unknown" (java.sql.Types.OTHER). */
const SQL_TYPE_OTHER = 1111;

const hasOwn = (obj: object, key: string): boolean =>
  Object.prototype.hasOwnProperty.call(obj, key);

const isPlain = (obj: object): boolean => Object.getPrototypeOf(obj) === Object.prototype;

type MysqlTypes = Readonly<Record<string, string>> | null;
type SqlTypes = Readonly<Record<string, number>> | null;

/**
 * The column map built from one `mysqlType`/`sqlType` pair, with its column names in the order
 * they were read (`mysqlType`'s, then those only in `sqlType`) and their types. Never changed
 * once built (a table whose types change gets a new shape), so it can be held across calls.
 */
export interface TableShape {
  readonly names: readonly string[];
  readonly metas: readonly ColumnMeta[];
  /** Frozen, as are its entries. */
  readonly columns: Readonly<Record<string, ColumnMeta>>;
  /**
   * `mysqlType` and `sqlType` were plain objects naming the same columns in the same order. Only
   * picks the comparison sameColumns makes: each one checks everything it relies on.
   */
  readonly aligned: boolean;
  /** The last frozen pkNames handed out for the table (a cache; compared before reuse). */
  pkNames: readonly string[] | null;
}

/** database → table → shape; cleared when it holds {@link MAX_TABLES} tables. */
const shapes = new Map<string, Map<string, TableShape>>();
let tableCount = 0;
const MAX_TABLES = 4096;

/**
 * True when building the column map of `mysqlTypes`/`sqlTypes` would give `shape.columns`: the
 * same names read in the same order, with the same types.
 */
function sameColumns(shape: TableShape, mysqlTypes: MysqlTypes, sqlTypes: SqlTypes): boolean {
  const names = shape.names;
  const metas = shape.metas;
  const n = names.length;
  let i = 0;
  if (shape.aligned) {
    // The usual case: both maps name the same columns in the same order as last time. A plain
    // object's for-in names are its own, so every name is in both maps.
    if (mysqlTypes === null || sqlTypes === null || !isPlain(mysqlTypes) || !isPlain(sqlTypes))
      return false;
    for (const name in mysqlTypes) {
      if (i === n || names[i] !== name || metas[i]!.mysqlType !== mysqlTypes[name]) return false;
      i++;
    }
    if (i !== n) return false;
    i = 0;
    for (const name in sqlTypes) {
      if (i === n || names[i] !== name || metas[i]!.sqlType !== sqlTypes[name]) return false;
      i++;
    }
    return i === n;
  }
  // Step by step as buildShape would go. (A name buildShape skips in the second loop but
  // this does not, an inherited one, cannot match names[i] there: names are unique.)
  if (mysqlTypes !== null) {
    for (const name in mysqlTypes) {
      if (i === n || names[i] !== name) return false;
      const meta = metas[i]!;
      if (meta.mysqlType !== mysqlTypes[name]) return false;
      const sqlType = sqlTypes !== null && hasOwn(sqlTypes, name) ? sqlTypes[name] : SQL_TYPE_OTHER;
      if (meta.sqlType !== sqlType) return false;
      i++;
    }
  }
  if (sqlTypes !== null) {
    for (const name in sqlTypes) {
      if (mysqlTypes !== null && hasOwn(mysqlTypes, name)) continue;
      if (i === n || names[i] !== name) return false;
      const meta = metas[i]!;
      if (meta.mysqlType !== '' || meta.sqlType !== sqlTypes[name]) return false;
      i++;
    }
  }
  return i === n;
}

/**
 * The column map of a message: every column of `mysqlType` (with its `sqlType`, or OTHER when
 * missing), then the columns only in `sqlType` (with `mysqlType` `""`).
 */
function buildShape(mysqlTypes: MysqlTypes, sqlTypes: SqlTypes): TableShape {
  const names: string[] = [];
  const metas: ColumnMeta[] = [];
  const columns: Record<string, ColumnMeta> = {};
  const mysql = mysqlTypes ?? {};
  const sql = sqlTypes ?? {};
  let aligned = mysqlTypes !== null && sqlTypes !== null && isPlain(mysql) && isPlain(sql);
  for (const name in mysql) {
    const meta = Object.freeze({
      mysqlType: mysql[name]!,
      sqlType: hasOwn(sql, name) ? sql[name]! : SQL_TYPE_OTHER,
    });
    names.push(name);
    metas.push(meta);
    setOwn(columns, name, meta);
  }
  let i = 0;
  for (const name in sql) {
    if (names[i] !== name) aligned = false;
    i++;
    if (!hasOwn(columns, name)) {
      const meta = Object.freeze({ mysqlType: '', sqlType: sql[name]! });
      names.push(name);
      metas.push(meta);
      setOwn(columns, name, meta);
    }
  }
  return {
    names,
    metas,
    columns: Object.freeze(columns),
    aligned: aligned && i === names.length,
    pkNames: null,
  };
}

/**
 * The shape of a message's column types: the one remembered for its table when it describes
 * `mysqlTypes`/`sqlTypes` exactly, else a new one (remembered from now on).
 */
export function shapeOf(
  database: string,
  table: string,
  mysqlTypes: MysqlTypes,
  sqlTypes: SqlTypes,
): TableShape {
  let tables = shapes.get(database);
  const last = tables?.get(table);
  if (last !== undefined && sameColumns(last, mysqlTypes, sqlTypes)) return last;
  const shape = buildShape(mysqlTypes, sqlTypes);
  if (last === undefined) {
    if (tableCount >= MAX_TABLES) {
      shapes.clear();
      tableCount = 0;
      tables = undefined;
    }
    if (tables === undefined) shapes.set(database, (tables = new Map()));
    tableCount++;
  }
  tables!.set(table, shape);
  return shape;
}

/** A frozen copy of `pkNames`, the one made for an earlier message of the table when equal. */
export function pkNamesOf(shape: TableShape, pkNames: readonly string[]): readonly string[] {
  const last = shape.pkNames;
  if (last !== null && last.length === pkNames.length) {
    let i = 0;
    while (i < last.length && last[i] === pkNames[i]) i++;
    if (i === last.length) return last;
  }
  return (shape.pkNames = Object.freeze([...pkNames]));
}
