/**
 * Reading the target's catalog: the default schema and a table's columns from
 * `information_schema.columns`, each column's type mapped onto a {@link TargetFamily}. Reads go
 * through a session's `read`, so nothing here holds a connection.
 */
import type { Param } from './statementSql.js';
import {
  targetTable,
  type TargetColumn,
  type TargetFamily,
  type TargetTable,
} from './targetTypes.js';

/** What the catalog is read through (a checked-out session). */
export interface CatalogReader {
  read(sql: string, params: readonly Param[]): Promise<Record<string, unknown>[]>;
}

/** The family of a MySQL/MariaDB `DATA_TYPE` (lower case); `other` for the rest. */
export function mysqlFamily(dataType: string): TargetFamily {
  switch (dataType) {
    case 'tinyint':
    case 'smallint':
    case 'mediumint':
    case 'int':
    case 'integer':
    case 'bigint':
      return 'integer';
    case 'decimal':
    case 'numeric':
      return 'decimal';
    case 'float':
    case 'double':
    case 'real':
      return 'float';
    case 'bit':
      return 'bit';
    case 'enum':
      return 'enum';
    case 'set':
      return 'set';
    case 'date':
      return 'date';
    case 'datetime':
      return 'datetime';
    case 'timestamp':
      return 'timestamp';
    case 'time':
      return 'time';
    case 'year':
      return 'year';
    case 'json':
      return 'json';
    case 'char':
    case 'varchar':
    case 'tinytext':
    case 'text':
    case 'mediumtext':
    case 'longtext':
      return 'text';
    case 'binary':
    case 'varbinary':
    case 'tinyblob':
    case 'blob':
    case 'mediumblob':
    case 'longblob':
      return 'binary';
    default:
      return 'other';
  }
}

/**
 * The family of a PostgreSQL `data_type` (lower case): a user-defined type (an enum, citext…) is
 * written as text; `other` for the rest.
 */
export function pgFamily(dataType: string): TargetFamily {
  switch (dataType) {
    case 'smallint':
    case 'integer':
    case 'bigint':
      return 'integer';
    case 'numeric':
      return 'decimal';
    case 'real':
    case 'double precision':
      return 'float';
    case 'boolean':
      return 'boolean';
    case 'bit':
    case 'bit varying':
      return 'bit';
    case 'date':
      return 'date';
    case 'timestamp without time zone':
      return 'datetime';
    case 'timestamp with time zone':
      return 'timestamp';
    case 'time without time zone':
    case 'time with time zone':
      return 'time';
    case 'interval':
      return 'interval';
    case 'json':
    case 'jsonb':
      return 'json';
    case 'text':
    case 'character varying':
    case 'character':
    case 'user-defined':
      return 'text';
    case 'bytea':
      return 'binary';
    default:
      return 'other';
  }
}

/** A column from a row of the MySQL/MariaDB catalog query (`name`, `dataType`, `columnType`). */
export function mysqlColumn(row: Record<string, unknown>): TargetColumn {
  const dataType = String(row['dataType']).toLowerCase();
  const bits = /^bit\((\d+)\)/i.exec(String(row['columnType']));
  return {
    name: String(row['name']),
    dataType,
    family: mysqlFamily(dataType),
    bitWidth: bits ? Number(bits[1]) : dataType === 'bit' ? 1 : 0,
    fixedBits: false,
  };
}

/** A column from a row of the PostgreSQL catalog query (`name`, `dataType`, `len`). */
export function pgColumn(row: Record<string, unknown>): TargetColumn {
  const dataType = String(row['dataType']).toLowerCase();
  return {
    name: String(row['name']),
    dataType,
    family: pgFamily(dataType),
    // `len` is null for `bit varying` without a length: Number(null) is 0.
    bitWidth: dataType.startsWith('bit') ? Number(row['len']) : 0,
    fixedBits: dataType === 'bit',
  };
}

/** MySQL/MariaDB: the database of the URL; an error when it names none. */
export async function mysqlDefaultSchema(reader: CatalogReader): Promise<string> {
  const rows = await reader.read('SELECT DATABASE() AS db', []);
  const db = rows[0]?.['db'];
  if (typeof db !== 'string' || db === '')
    throw new Error('jdbc.url names no database and the mapping has no targetDb.');
  return db;
}

/** PostgreSQL: `current_schema()`, `public` when there is none. */
export async function pgDefaultSchema(reader: CatalogReader): Promise<string> {
  const rows = await reader.read('SELECT current_schema() AS s', []);
  const s = rows[0]?.['s'];
  return typeof s === 'string' && s !== '' ? s : 'public';
}

/** MySQL/MariaDB: a table's columns in their order, or `undefined` when it does not exist. */
export async function loadMysqlTable(
  reader: CatalogReader,
  schema: string,
  table: string,
): Promise<TargetTable | undefined> {
  const rows = await reader.read(
    'SELECT COLUMN_NAME AS name, DATA_TYPE AS dataType, COLUMN_TYPE AS columnType, NUMERIC_PRECISION AS prec ' +
      'FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION',
    [schema, table],
  );
  if (rows.length === 0) return undefined;
  return targetTable(schema, table, rows.map(mysqlColumn));
}

/** PostgreSQL: a table's columns in their order, or `undefined` when it does not exist. */
export async function loadPgTable(
  reader: CatalogReader,
  schema: string,
  table: string,
): Promise<TargetTable | undefined> {
  const rows = await reader.read(
    'SELECT column_name AS name, data_type AS "dataType", character_maximum_length AS len ' +
      'FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position',
    [schema, table],
  );
  if (rows.length === 0) return undefined;
  return targetTable(schema, table, rows.map(pgColumn));
}
