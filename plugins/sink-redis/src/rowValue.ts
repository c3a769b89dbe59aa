/**
 * The value written in write mode: the row's projected columns as one JSON object (typed values)
 * or as hash fields (canal's text).
 */
import type { ColumnMeta, RowImage } from '@sluice/plugin-api';
import {
  parseMysqlType,
  typedValue,
  type MysqlColumnType,
  type TypedValue,
} from '@sluice/canal-protocol';

/** A JSON value for one typed column value (exact where JSON numbers are not). */
export function jsonOf(value: TypedValue): unknown {
  switch (value.kind) {
    case 'null':
      return null;
    case 'integer':
    case 'bit':
      return typeof value.value === 'bigint' ? value.value.toString() : value.value;
    case 'decimal':
      return value.value;
    case 'float':
      return Number.isFinite(value.value) ? value.value : String(value.value);
    case 'enum':
      return value.label;
    case 'enum-index':
      // canal gave no members: the index, never a guessed label (and never a dropped field).
      return value.index;
    case 'set':
      return value.labels.join(',');
    case 'set-mask':
      return typeof value.mask === 'bigint' ? value.mask.toString() : value.mask;
    case 'date':
    case 'datetime':
    case 'timestamp':
    case 'time':
      return value.text;
    case 'year':
      return value.value;
    case 'json':
      if (value.partial) return value.text;
      try {
        return JSON.parse(value.text) as unknown;
      } catch {
        return value.text;
      }
    case 'text':
      return value.value;
    case 'bytes':
      return Buffer.from(value.value).toString('base64');
    case 'unknown':
      return value.text;
  }
}

const parsedTypes = new Map<string, MysqlColumnType>();

/** `parseMysqlType`, memoised: a table has a handful of distinct type texts. */
function columnType(text: string): MysqlColumnType {
  let type = parsedTypes.get(text);
  if (!type) {
    type = parseMysqlType(text);
    if (parsedTypes.size < 10_000) parsedTypes.set(text, type);
  }
  return type;
}

/** A projected column that is not in the row image. */
export class MissingColumnError extends Error {
  constructor(readonly column: string) {
    super(`Column "${column}" is not in the row image.`);
    this.name = 'MissingColumnError';
  }
}

function project(
  row: RowImage,
  fields: ReadonlyArray<readonly [string, string]> | undefined,
): Array<readonly [string, string, string | null]> {
  if (!fields) return Object.entries(row).map(([c, v]) => [c, c, v] as const);
  return fields.map(([field, column]) => {
    if (!Object.prototype.hasOwnProperty.call(row, column)) throw new MissingColumnError(column);
    return [field, column, row[column] ?? null] as const;
  });
}

/**
 * The row as one JSON text: field → typed value.
 *
 * @throws MissingColumnError for a projected column the image lacks; DecodeError
 *   (`@sluice/canal-protocol`) for a value that does not fit its column type.
 */
export function jsonValue(
  row: RowImage,
  columns: Readonly<Record<string, ColumnMeta>>,
  fields: ReadonlyArray<readonly [string, string]> | undefined,
): string {
  const out: Record<string, unknown> = {};
  for (const [field, column, text] of project(row, fields)) {
    const meta = Object.prototype.hasOwnProperty.call(columns, column)
      ? columns[column]
      : undefined;
    out[field] = jsonOf(typedValue(text, columnType(meta?.mysqlType ?? ''), column));
  }
  return JSON.stringify(out);
}

/**
 * The row as hash field/value pairs, flattened (`[f1, v1, f2, v2, …]`), values as canal's text.
 * SQL NULL columns are left out (a hash cannot hold a null).
 *
 * @throws MissingColumnError for a projected column the image lacks.
 */
export function hashValue(
  row: RowImage,
  fields: ReadonlyArray<readonly [string, string]> | undefined,
): string[] {
  const out: string[] = [];
  for (const [field, , text] of project(row, fields)) if (text !== null) out.push(field, text);
  return out;
}
