/**
 * From a mapping file and a row event to the target row: which target table, which target columns
 * from which source columns, which key (canal's `dbMapping` semantics, reference §4.1–§4.2 and
 * §4.6), with every value converted for its target column.
 */
import type { RowChangeEvent, RowImage } from '@sluice/plugin-api';
import { toParam, ValueError, type ConvertOptions } from './convert.js';
import type { RdbMapping } from './schemas.js';
import type { Param } from './statementSql.js';
import type { TargetColumn, TargetTable } from './targetTypes.js';

/** Where one mapping sends one source table's rows. */
export interface Route {
  /** Target schema, or undefined for the connection's default one. */
  readonly schema: string | undefined;
  readonly table: string;
  /** Explicit `targetColumns` (target → source; empty source = same name). */
  readonly columns: readonly (readonly [string, string])[];
  /** `mapAll` (also every mirrorDb table). */
  readonly mapAll: boolean;
  /** `targetPk` (target → source), or empty to use the event's `pkNames` under the same names. */
  readonly key: readonly (readonly [string, string])[];
  readonly caseInsensitive: boolean;
  /** The route belongs to a mirrorDb mapping. */
  readonly mirror: boolean;
}

const nonEmpty = (v: string | undefined): string | undefined =>
  v !== undefined && v !== '' ? v : undefined;

/** Splits `db.table` (canal quotes it as one identifier; Sluice as two, issue #3834). */
function splitTarget(
  targetDb: string | undefined,
  targetTable: string,
): [string | undefined, string] {
  if (targetDb !== undefined) return [targetDb, targetTable];
  const dot = targetTable.indexOf('.');
  if (dot > 0 && dot < targetTable.length - 1)
    return [targetTable.slice(0, dot), targetTable.slice(dot + 1)];
  return [undefined, targetTable];
}

/** The route of `mapping` for a row of source table `table`. */
export function routeOf(mapping: RdbMapping, table: string): Route {
  const db = mapping.dbMapping!;
  const pairs = (m: Readonly<Record<string, string>> | undefined): [string, string][] =>
    Object.entries(m ?? {}).map(([t, s]) => [t, s === '' ? t : s]);
  if (db.mirrorDb === true) {
    return {
      schema: nonEmpty(db.targetDb) ?? db.database,
      table,
      columns: [],
      mapAll: true,
      key: [],
      caseInsensitive: db.caseInsensitive ?? false,
      mirror: true,
    };
  }
  const [schema, name] = splitTarget(nonEmpty(db.targetDb), db.targetTable ?? table);
  return {
    schema,
    table: name,
    columns: pairs(db.targetColumns),
    mapAll: db.mapAll ?? false,
    key: pairs(db.targetPk),
    caseInsensitive: db.caseInsensitive ?? false,
    mirror: false,
  };
}

/** A mapping problem that makes a row impossible to write (dead-lettered). */
export class MappingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MappingError';
  }
}

function lookup(image: RowImage, source: string, ci: boolean): string | undefined {
  if (Object.prototype.hasOwnProperty.call(image, source)) return source;
  if (!ci) return undefined;
  const lower = source.toLowerCase();
  for (const k of Object.keys(image)) if (k.toLowerCase() === lower) return k;
  return undefined;
}

/** A row ready for a statement: target column names (catalog spelling) and parameters. */
export interface TargetRow {
  readonly columns: readonly string[];
  readonly values: readonly Param[];
}

/** A key ready for a statement. */
export interface TargetKey {
  readonly columns: readonly string[];
  readonly values: readonly Param[];
  /** Identity of the key values, for coalescing (exact). */
  readonly id: string;
  /** A looser identity (case and trailing blanks folded): keys that may be the same target row. */
  readonly looseId: string;
}

function targetColumn(t: TargetTable, name: string): TargetColumn {
  const c = t.column(name);
  if (!c)
    throw new MappingError(
      `Target column ${JSON.stringify(name)} does not exist in ${t.schema}.${t.table}.`,
    );
  return c;
}

function convert(
  event: RowChangeEvent,
  image: RowImage,
  sourceKey: string,
  col: TargetColumn,
  o: ConvertOptions,
): Param {
  const meta = Object.prototype.hasOwnProperty.call(event.columns, sourceKey)
    ? event.columns[sourceKey]
    : undefined;
  try {
    return toParam(image[sourceKey] ?? null, meta, col, o, sourceKey);
  } catch (error) {
    if (error instanceof ValueError) throw error;
    throw new ValueError(
      `Column ${sourceKey}: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}

/** The target row for `image` (columns absent from the image are left out, not nulled). */
export function targetRow(
  event: RowChangeEvent,
  image: RowImage,
  route: Route,
  table: TargetTable,
  o: ConvertOptions,
): TargetRow {
  const columns: string[] = [];
  const values: Param[] = [];
  const seen = new Set<string>();
  const add = (target: string, source: string): void => {
    const key = lookup(image, source, route.caseInsensitive);
    if (key === undefined) return;
    const col = targetColumn(table, target);
    if (seen.has(col.name)) return;
    seen.add(col.name);
    columns.push(col.name);
    values.push(convert(event, image, key, col, o));
  };
  for (const [target, source] of route.columns) add(target, source);
  if (route.mapAll) {
    const explicit = new Set(
      route.columns.map(([, s]) => (route.caseInsensitive ? s.toLowerCase() : s)),
    );
    for (const source of Object.keys(image)) {
      if (explicit.has(route.caseInsensitive ? source.toLowerCase() : source)) continue;
      add(source, source);
    }
  }
  if (columns.length === 0)
    throw new MappingError(
      `No mapped column of ${event.database}.${event.table} is in the row image.`,
    );
  return { columns, values };
}

function idPart(v: Param): string {
  return v === null
    ? '\u0000'
    : Buffer.isBuffer(v)
      ? `x${v.toString('hex')}`
      : typeof v === 'string'
        ? `s${v}`
        : `n${String(v)}`;
}

/** Identity of key values, for coalescing (exact). */
export function keyId(values: readonly Param[]): string {
  if (values.length === 1) return idPart(values[0]!);
  return values.map(idPart).join('\u0001');
}

const TRAILING_BLANKS = /[ \t]+$/;

/**
 * The looser identity of key values (text keys with case and trailing blanks folded, as MySQL's
 * default collations compare); `id` is their {@link keyId}, which it equals without text values.
 */
export function looseKeyId(values: readonly Param[], id: string): string {
  let text = false;
  for (const v of values) if (typeof v === 'string') text = true;
  if (!text) return id;
  return keyId(
    values.map((v) => (typeof v === 'string' ? v.toLowerCase().replace(TRAILING_BLANKS, '') : v)),
  );
}

/** The target key of `image` (targetPk, or the event's pkNames under the same names). */
export function targetKey(
  event: RowChangeEvent,
  image: RowImage,
  route: Route,
  table: TargetTable,
  o: ConvertOptions,
): TargetKey {
  const pairs: readonly (readonly [string, string])[] =
    route.key.length > 0 ? route.key : event.pkNames.map((n) => [n, n] as const);
  if (pairs.length === 0)
    throw new MappingError(
      `${event.database}.${event.table} has no primary key and the mapping no targetPk: the rdb sink writes rows by key.`,
    );
  const columns: string[] = [];
  const values: Param[] = [];
  for (const [target, source] of pairs) {
    const key = lookup(image, source, route.caseInsensitive || route.key.length === 0);
    if (key === undefined)
      throw new MappingError(`Key column ${JSON.stringify(source)} is not in the row image.`);
    const col = targetColumn(table, target);
    columns.push(col.name);
    values.push(convert(event, image, key, col, o));
  }
  const id = keyId(values);
  return { columns, values, id, looseId: looseKeyId(values, id) };
}

/** The raw source values of the key columns (to see whether an UPDATE moved the row). */
export function sourceKeyText(event: RowChangeEvent, image: RowImage, route: Route): string {
  const pairs = route.key.length > 0 ? route.key.map(([, s]) => s) : event.pkNames;
  return pairs
    .map((s) => {
      const k = lookup(image, s, route.caseInsensitive || route.key.length === 0);
      const v = k === undefined ? undefined : image[k];
      return v === null || v === undefined ? '\u0000' : `s${v}`;
    })
    .join('\u0001');
}
