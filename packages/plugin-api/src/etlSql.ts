/**
 * SQL text of a sink's ETL (full sync) read from a MySQL/MariaDB `srcDataSources` entry: canal's
 * `etlCondition` with its `{}` placeholders, keyset pagination and backtick quoting. The rdb, es
 * and redis sinks build their ETL reads with it, and a third-party sink implementing
 * `SinkInstance.etl` can too. Values never enter the SQL text: they are `?` parameters, bound in
 * the order the functions document.
 *
 * Every clause starts on a new line, so a mapping SQL or a condition that ends with a `--` or `#`
 * comment cannot swallow what follows it.
 */
import { FatalError } from './errors.js';

/**
 * A MySQL identifier in backticks, inner backticks doubled (a name with one backtick inside gets
 * it twice).
 */
export function quoteMysqlName(name: string): string {
  return '`' + name.replace(/`/g, '``') + '`';
}

/** An ETL's `etlCondition` as it is applied, see {@link etlCondition}. */
export interface EtlCondition {
  /**
   * The condition as the mapping wrote it, without its leading `where` and surrounding blanks,
   * `{}` kept: what a resumable ETL's checkpoint compares.
   */
  readonly text: string;
  /** The condition in parentheses, every `{}` replaced by `?`: one term of a WHERE. */
  readonly sql: string;
  /** The parameters of the `?` in `sql`, in order (the ETL request's params, as strings). */
  readonly params: readonly string[];
}

/**
 * canal's rule for `etlCondition` (canal-adapter `AbstractEtlService.importData`; reference
 * canal-adapter-behaviour.md §6.2): when the mapping sets a condition **and** the ETL request
 * carries params, the condition (its leading `where` dropped, case-insensitive) is ANDed into the
 * read with every `{}` bound to the params in order; without params it is ignored and the whole
 * table is read. Returns `undefined` when no condition applies.
 *
 * Unlike canal, which binds whatever it has, a count of `{}` other than the count of params is
 * refused before anything is read. `{0}`-style indexed placeholders are not placeholders (canal
 * does not replace them either). A `?` written in the condition itself would be taken for a
 * placeholder by the driver: write literals without it.
 *
 * @param file - the mapping file, for the error message
 * @throws FatalError `<file>: etlCondition has N {} placeholder(s) but M param(s) were given.`
 */
export function etlCondition(
  condition: string | undefined,
  params: readonly string[],
  file: string,
): EtlCondition | undefined {
  const text = (condition ?? '').trim().replace(/^where\s+/i, '');
  if (text === '' || params.length === 0) return undefined;
  const parts = text.split('{}');
  if (parts.length - 1 !== params.length)
    throw new FatalError(
      `${file}: etlCondition has ${parts.length - 1} {} placeholder(s) but ${params.length} param(s) were given.`,
    );
  return { text, sql: `(${parts.join('?')}\n)`, params: [...params] };
}

/** `\nWHERE a AND b` for the given terms, `''` for none. */
export function whereSql(terms: readonly string[]): string {
  return terms.length === 0 ? '' : `\nWHERE ${terms.join(' AND ')}`;
}

function needKeys(keys: readonly string[]): void {
  if (keys.length === 0) throw new RangeError('A keyset needs at least one key column.');
}

/**
 * The keyset term "after the last key": `k > ?` for one key column k, `(a, b) > (?, ?)` (a row
 * comparison, MySQL's lexicographic order) for several. Bind the last row's key values,
 * in column order.
 *
 * @param keys - the key columns as SQL (quoted, possibly qualified), in ORDER BY order
 * @throws RangeError for no key column
 */
export function keysetAfterSql(keys: readonly string[]): string {
  needKeys(keys);
  if (keys.length === 1) return `${keys[0]} > ?`;
  return `(${keys.join(', ')}) > (${keys.map(() => '?').join(', ')})`;
}

/** One page of a keyset-paginated read, see {@link keysetPageSql}. */
export interface KeysetPage {
  /** `SELECT … FROM …`, without WHERE, ORDER BY or LIMIT. */
  readonly select: string;
  /** The key columns as SQL (quoted, possibly qualified), in ORDER BY order. */
  readonly keys: readonly string[];
  /** Terms ANDed before the keyset term (e.g. {@link EtlCondition.sql}); their params first. */
  readonly where?: readonly string[];
  /** True after the first page: adds {@link keysetAfterSql}'s term (bind the last key after the where params). */
  readonly after: boolean;
  /** Rows per page, a positive integer. */
  readonly limit: number;
}

/**
 * `<select> WHERE <where…> AND <keys> > <last key> ORDER BY <keys> LIMIT <limit>`: one page of a
 * read in key order that never skips or repeats a row while the key is unique and not NULL (no
 * `LIMIT offset`, whose pages shift under concurrent writes; canal pages that way, §6.2).
 *
 * @throws RangeError for no key column or a limit that is not a positive integer
 */
export function keysetPageSql(page: KeysetPage): string {
  if (!Number.isSafeInteger(page.limit) || page.limit < 1)
    throw new RangeError(`A page limit must be a positive integer, got ${page.limit}.`);
  needKeys(page.keys);
  const terms = [...(page.where ?? [])];
  if (page.after) terms.push(keysetAfterSql(page.keys));
  return `${page.select}${whereSql(terms)}\nORDER BY ${page.keys.join(', ')} LIMIT ${page.limit}`;
}
