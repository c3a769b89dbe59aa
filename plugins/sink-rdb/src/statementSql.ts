/**
 * The text of the statements the sink writes with: identifiers quoted per target (backticks on
 * MySQL/MariaDB, double quotes on PostgreSQL), values never inlined but passed as parameters
 * (`?` on MySQL, `$1, $2, …` on PostgreSQL), many rows per statement.
 */
import { quoteMysqlName } from '@sluice/plugin-api';

/** A parameter value: text, bytes, a number (ENUM index, SET mask, BIT on MySQL) or NULL. */
export type Param = string | number | bigint | Buffer | null;

/** Quotes one MySQL/MariaDB identifier: backticks, an inner backtick doubled (plugin-api's). */
export const quoteMysql: (identifier: string) => string = quoteMysqlName;

/** Quotes one PostgreSQL identifier: double quotes, an inner double quote doubled. */
export function quotePg(identifier: string): string {
  return '"' + identifier.replace(/"/g, '""') + '"';
}

/** `schema.table`, each part quoted by `d.quote`; the table alone when there is no schema. */
export function qualified(
  d: { quote(identifier: string): string },
  schema: string | undefined,
  table: string,
): string {
  return schema ? `${d.quote(schema)}.${d.quote(table)}` : d.quote(table);
}

/** `(?,?,…),(?,?,…)…`: `rows` groups of `count` question marks. */
function questionMarks(count: number, rows: number): string {
  const one = `(${'?,'.repeat(Math.max(0, count - 1))}?)`;
  return rows <= 0 ? '' : one + `,${one}`.repeat(rows - 1);
}

/** `($1,$2),($3,$4)…`: `rows` groups of `count` numbered parameters, numbered from `$1`. */
function dollarGroups(count: number, rows: number): string {
  let n = 0;
  const out: string[] = [];
  for (let r = 0; r < rows; r++) {
    const one: string[] = [];
    for (let c = 0; c < count; c++) one.push(`$${++n}`);
    out.push(`(${one.join(',')})`);
  }
  return out.join(',');
}

/**
 * MySQL/MariaDB: `INSERT INTO t (a,b,…) VALUES (?,?,…),… ON DUPLICATE KEY UPDATE b=VALUES(b),…`,
 * parameters row after row, each row's values in `columns` order. The update sets the columns
 * outside the key; a table whose columns are all key columns sets its first column to itself
 * (MySQL has no `DO NOTHING`). `table` is already quoted (see {@link qualified}).
 */
export function mysqlUpsert(
  table: string,
  columns: readonly string[],
  keyColumns: readonly string[],
  rows: number,
): string {
  const keys = new Set(keyColumns);
  const rest = columns.filter((c) => !keys.has(c));
  const update = (rest.length > 0 ? rest : [columns[0]!])
    .map((c) => `${quoteMysql(c)}=VALUES(${quoteMysql(c)})`)
    .join(',');
  return (
    `INSERT INTO ${table} (${columns.map(quoteMysql).join(',')}) VALUES ` +
    questionMarks(columns.length, rows) +
    ` ON DUPLICATE KEY UPDATE ${update}`
  );
}

/**
 * MySQL/MariaDB: `DELETE FROM t WHERE k IN (?,?,…)`, or with a composite key
 * `DELETE FROM t WHERE (k1,k2) IN ((?,?),(?,?),…)`; parameters row after row in `keyColumns` order.
 */
export function mysqlDelete(table: string, keyColumns: readonly string[], rows: number): string {
  if (keyColumns.length === 1)
    return `DELETE FROM ${table} WHERE ${quoteMysql(keyColumns[0]!)} IN (${rows <= 0 ? '' : '?' + ',?'.repeat(rows - 1)})`;
  return (
    `DELETE FROM ${table} WHERE (${keyColumns.map(quoteMysql).join(',')}) IN (` +
    questionMarks(keyColumns.length, rows) +
    ')'
  );
}

/**
 * PostgreSQL: `INSERT INTO t (a,b,…) VALUES ($1,$2,…),… ON CONFLICT (k,…) DO UPDATE SET
 * b=EXCLUDED.b,…`, or `DO NOTHING` when every column is a key column; parameters numbered row
 * after row, each row's values in `columns` order.
 */
export function pgUpsert(
  table: string,
  columns: readonly string[],
  keyColumns: readonly string[],
  rows: number,
): string {
  const keys = new Set(keyColumns);
  const rest = columns.filter((c) => !keys.has(c));
  const action =
    rest.length > 0
      ? `DO UPDATE SET ${rest.map((c) => `${quotePg(c)}=EXCLUDED.${quotePg(c)}`).join(',')}`
      : 'DO NOTHING';
  return (
    `INSERT INTO ${table} (${columns.map(quotePg).join(',')}) VALUES ` +
    dollarGroups(columns.length, rows) +
    ` ON CONFLICT (${keyColumns.map(quotePg).join(',')}) ${action}`
  );
}

/**
 * PostgreSQL: `DELETE FROM t WHERE k IN ($1,$2,…)`, or with a composite key
 * `DELETE FROM t WHERE (k1,k2) IN (($1,$2),($3,$4),…)`.
 */
export function pgDelete(table: string, keyColumns: readonly string[], rows: number): string {
  if (keyColumns.length === 1) {
    let n = 0;
    return `DELETE FROM ${table} WHERE ${quotePg(keyColumns[0]!)} IN (${Array.from({ length: rows }, () => `$${++n}`).join(',')})`;
  }
  return (
    `DELETE FROM ${table} WHERE (${keyColumns.map(quotePg).join(',')}) IN (` +
    dollarGroups(keyColumns.length, rows) +
    ')'
  );
}
