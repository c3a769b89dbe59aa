/**
 * canal's MQ partition choice (`canal.mq.partitionHash`, reference canal-wire-formats.md §4.3),
 * so tests and benchmarks can put messages on the partitions canal would choose.
 */
import type { FlatMessage, FlatRow } from './flatMessage.js';

/** Java's `String.hashCode`: `h = 31*h + c` over UTF-16 code units, int32 wraparound. */
export function javaStringHash(text: string): number {
  let h = 0;
  for (let i = 0; i < text.length; i++) h = (Math.imul(31, h) + text.charCodeAt(i)) | 0;
  return h;
}

/** Java's `Math.abs(Math.abs(h) % n)` for an int32 `h` (Math.abs(MIN_VALUE) stays negative in Java; the outer abs fixes it). */
export function partitionOfHash(hash: number, partitions: number): number {
  return Math.abs(hash | 0) % partitions;
}

/** One `canal.mq.partitionHash` rule: `tablePattern`, `tablePattern:col1^col2` or `tablePattern:$pk$`. */
export interface PartitionHashRule {
  /**
   * The pattern exactly as written (canal trims nothing): `schema.table`, compared
   * case-insensitively, or, when it holds a regex metacharacter, an anchored case-insensitive
   * regex (see {@link ruleMatches}).
   */
  readonly pattern: string;
  /** `table`: hash the bare table name; `columns`: hash the listed columns; `pk`: hash the PK columns. */
  readonly mode: 'table' | 'columns' | 'pk';
  /** The columns of `columns` mode, exactly as written (spaces included). */
  readonly columns: readonly string[];
}

/** Java's `Character.toUpperCase`/`toLowerCase` on one UTF-16 unit (no change when the result would not be one unit). */
function javaUpper(code: number): number {
  const s = String.fromCharCode(code).toUpperCase();
  return s.length === 1 ? s.charCodeAt(0) : code;
}
function javaLower(code: number): number {
  // U+0130 (İ) is the one unit whose full lowercase is two units ("i̇"); its simple mapping,
  // which Java uses, is "i" (UnicodeData.txt).
  if (code === 0x130) return 0x69;
  const s = String.fromCharCode(code).toLowerCase();
  return s.length === 1 ? s.charCodeAt(0) : code;
}

/** Java's `String.equalsIgnoreCase`: same length, and per UTF-16 unit equal after upper- then lower-casing. */
export function javaEqualsIgnoreCase(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    const ux = javaUpper(x);
    const uy = javaUpper(y);
    if (ux === uy || javaLower(ux) === javaLower(uy)) continue;
    return false;
  }
  return true;
}

/** commons-lang `StringUtils.split(text, separatorChars)`: no empty tokens, nothing trimmed. */
function split(text: string, separators: RegExp): string[] {
  return text.split(separators).filter((token) => token !== '');
}

/**
 * Parses `canal.mq.partitionHash` exactly as canal 1.1.8 does (MQMessageUtils' partitionDatas):
 * `,` becomes `;` and the list is split on `;` (empty items dropped); in each item the **last**
 * `:` at index > 0 separates the column spec (an item without one, or starting with its only
 * `:`, is a table-hash rule on the whole item); a spec equal to `$pk$` ignoring case means the
 * PK columns, anything else is split on `^` (empty names dropped). **Nothing is trimmed**: canal
 * does not trim, so ` shop.orders` (leading space) never matches and `id^ name` hashes the
 * column " name" (missing, so `""`): Sluice must put rows where canal does.
 */
export function parsePartitionHash(spec: string): PartitionHashRule[] {
  return split(spec, /[,;]/).map((item): PartitionHashRule => {
    const colon = item.lastIndexOf(':');
    if (colon <= 0) return { pattern: item, mode: 'table', columns: [] };
    const pattern = item.slice(0, colon);
    const cols = item.slice(colon + 1);
    if (javaEqualsIgnoreCase(cols, '$pk$')) return { pattern, mode: 'pk', columns: [] };
    return { pattern, mode: 'columns', columns: split(cols, /\^/) };
  });
}

/** canal's `isWildCard`: the pattern holds one of `* ? + | ( ) { } [ ] \ $ ^`. */
const WILDCARD = /[*?+|(){}[\]\\$^]/;

const regexes = new Map<string, RegExp | null>();

/**
 * Whether `rule` applies to `database.table`, as canal decides (getPartitionHashColumns): a
 * pattern without regex metacharacters is compared with `database.table` by Java's
 * `equalsIgnoreCase` (so `.` is a plain dot there); any other pattern is canal's
 * AviaterRegexFilter: `^pattern$` compiled case-insensitive and single-line (`.` matches a line
 * break), matched against the lower-cased name by ORO's `matches`, which takes the first match
 * at offset 0 and requires it to span the whole name (so `^a|b$` needs the name to be exactly
 * `a` or `b`…). A pattern JavaScript cannot compile never matches (canal would fail to start).
 */
export function ruleMatches(rule: PartitionHashRule, database: string, table: string): boolean {
  const name = `${database}.${table}`;
  const pattern = rule.pattern;
  if (!WILDCARD.test(pattern)) return javaEqualsIgnoreCase(pattern, name);
  let regex = regexes.get(pattern);
  if (regex === undefined) {
    try {
      regex = new RegExp(`^${pattern}$`, 'is');
    } catch {
      regex = null;
    }
    if (regexes.size >= 1024) regexes.clear();
    regexes.set(pattern, regex);
  }
  if (regex === null) return false;
  const target = name.toLowerCase();
  regex.lastIndex = 0;
  const match = regex.exec(target);
  return match !== null && match.index === 0 && match[0].length === target.length;
}

/** Options of {@link flatMessagePartitions}. */
export interface PartitionOptions {
  /** Number of partitions of the topic. */
  readonly partitions: number;
  /** `canal.mq.database.hash` (default true): mix the database name into row hashes. */
  readonly databaseHash?: boolean;
}

/**
 * The partition canal puts one row on. `columns` are the hash columns (listed columns or the
 * PK); values are looked up with an exact-case key, NULL and missing both hash as `""`.
 */
export function rowPartition(
  database: string,
  row: Readonly<FlatRow>,
  columns: readonly string[],
  options: PartitionOptions,
): number {
  let h = options.databaseHash === false ? 0 : javaStringHash(database);
  for (const column of columns) {
    const value = Object.prototype.hasOwnProperty.call(row, column) ? row[column] : null;
    h ^= javaStringHash(value ?? '');
  }
  return partitionOfHash(h, options.partitions);
}

/**
 * Splits a FlatMessage the way canal does with `partitionHash`: returns partition → message
 * (each with its share of `data`/`old`, in row order). DDL, messages without rows (`data` null
 * or empty) and tables no rule matches go to partition 0 whole; a table-hash rule sends the whole message to
 * `hash(table) % n`.
 */
export function flatMessagePartitions(
  message: FlatMessage,
  rules: readonly PartitionHashRule[],
  options: PartitionOptions,
): Map<number, FlatMessage> {
  const rule =
    message.isDdl || message.data === null || message.data.length === 0
      ? undefined
      : rules.find((r) => ruleMatches(r, message.database, message.table));
  if (rule === undefined || message.data === null) return new Map([[0, message]]);
  if (rule.mode === 'table')
    return new Map([[partitionOfHash(javaStringHash(message.table), options.partitions), message]]);
  const columns = rule.mode === 'pk' ? (message.pkNames ?? []) : rule.columns;
  const parts = new Map<number, { data: FlatRow[]; old: FlatRow[] }>();
  message.data.forEach((row, i) => {
    const p = rowPartition(message.database, row, columns, options);
    let part = parts.get(p);
    if (part === undefined) parts.set(p, (part = { data: [], old: [] }));
    part.data.push(row);
    const old = message.old?.[i];
    if (old !== undefined) part.old.push(old);
  });
  const out = new Map<number, FlatMessage>();
  for (const [p, part] of parts)
    out.set(p, { ...message, data: part.data, old: message.old === null ? null : part.old });
  return out;
}
