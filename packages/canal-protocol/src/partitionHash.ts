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
  /** The pattern as written: `schema.table` or an anchored, case-insensitive regex. */
  readonly pattern: string;
  /** `table`: hash the bare table name; `columns`: hash the listed columns; `pk`: hash the PK columns. */
  readonly mode: 'table' | 'columns' | 'pk';
  /** The columns of `columns` mode. */
  readonly columns: readonly string[];
}

/**
 * Parses `canal.mq.partitionHash` (items split on `,` or `;`; the **last** `:` separates the
 * column spec; `$pk$` case-insensitive).
 */
export function parsePartitionHash(spec: string): PartitionHashRule[] {
  return spec
    .split(/[,;]/)
    .map((item) => item.trim())
    .filter((item) => item !== '')
    .map((item): PartitionHashRule => {
      const colon = item.lastIndexOf(':');
      if (colon < 0) return { pattern: item, mode: 'table', columns: [] };
      const pattern = item.slice(0, colon).trim();
      const cols = item.slice(colon + 1).trim();
      if (cols.toLowerCase() === '$pk$') return { pattern, mode: 'pk', columns: [] };
      return {
        pattern,
        mode: 'columns',
        columns: cols
          .split('^')
          .map((c) => c.trim())
          .filter((c) => c !== ''),
      };
    });
}

const PLAIN = /^[A-Za-z0-9_.]+$/;

/** Whether `rule` applies to `database.table` (plain name: case-insensitive equality; else anchored case-insensitive regex). */
export function ruleMatches(rule: PartitionHashRule, database: string, table: string): boolean {
  const name = `${database}.${table}`;
  if (PLAIN.test(rule.pattern) && !rule.pattern.includes('..'))
    return rule.pattern.toLowerCase() === name.toLowerCase();
  try {
    return new RegExp(`^(?:${rule.pattern})$`, 'i').test(name.toLowerCase());
  } catch {
    return false;
  }
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
 * (each with its share of `data`/`old`, in row order). DDL, messages without rows and tables no
 * rule matches go to partition 0 whole; a table-hash rule sends the whole message to
 * `hash(table) % n`.
 */
export function flatMessagePartitions(
  message: FlatMessage,
  rules: readonly PartitionHashRule[],
  options: PartitionOptions,
): Map<number, FlatMessage> {
  const rule =
    message.isDdl || message.data === null
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
