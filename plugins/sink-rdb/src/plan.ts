/**
 * Turns the row records of a batch into statements: each record becomes operations (INSERT and
 * UPDATE → upsert, DELETE → delete by key, an UPDATE that moves the key → delete old + upsert new),
 * and the operations are grouped into multi-row statements without changing the result of
 * applying them one by one in order.
 *
 * Grouping rule: an operation joins the latest group of its kind (upsert/delete), table and column
 * list unless a later group holds a key that may be the same target row (compared loosely: case
 * and trailing blanks folded, as MySQL's default collations compare). Within a group a repeated
 * exact key replaces the earlier entry and moves to the end (the later image wins; statements
 * process their rows in order). Deletes and upserts of different rows commute, so the result
 * equals the sequential one.
 */
import type { TargetKey, TargetRow } from './route.js';
import type { Param } from './statementSql.js';

/** One write to one target row. */
export type Operation =
  | {
      readonly kind: 'upsert';
      /** Quoted `schema.table`. */
      readonly table: string;
      readonly row: TargetRow;
      readonly key: TargetKey;
    }
  | { readonly kind: 'delete'; readonly table: string; readonly key: TargetKey };

/** One multi-row statement's worth of operations (same kind, table and columns). */
export interface Group {
  readonly kind: 'upsert' | 'delete';
  readonly table: string;
  /** Upsert: the row's columns; delete: the key's columns. */
  readonly columns: readonly string[];
  readonly keyColumns: readonly string[];
  /** By exact key id, in statement order. */
  readonly rows: Map<string, readonly Param[]>;
}

/** `columns` joined, cached per array (the compiled row shapes share theirs across rows). */
const joinedColumns = new WeakMap<readonly string[], string>();

function joined(columns: readonly string[]): string {
  let j = joinedColumns.get(columns);
  if (j === undefined) {
    j = columns.join('\u0001');
    joinedColumns.set(columns, j);
  }
  return j;
}

/** Per target table: latest group per statement signature (kind, columns), and per loose key. */
interface TableIndex {
  readonly upserts: Map<string, number>;
  readonly deletes: Map<string, number>;
  readonly keys: Map<string, number>;
}

/** Groups operations (in source order) into statements, see the module comment. */
export function groupOperations(operations: readonly Operation[]): Group[] {
  const groups: Group[] = [];
  const tables = new Map<string, TableIndex>();
  for (const op of operations) {
    let t = tables.get(op.table);
    if (t === undefined)
      tables.set(op.table, (t = { upserts: new Map(), deletes: new Map(), keys: new Map() }));
    const columns = op.kind === 'upsert' ? op.row.columns : op.key.columns;
    const signature = joined(columns);
    const lastOfKind = op.kind === 'upsert' ? t.upserts : t.deletes;
    const g = lastOfKind.get(signature);
    const k = t.keys.get(op.key.looseId) ?? -1;
    let index: number;
    if (g !== undefined && g >= k) index = g;
    else {
      index = groups.length;
      groups.push({
        kind: op.kind,
        table: op.table,
        columns,
        keyColumns: op.key.columns,
        rows: new Map(),
      });
      lastOfKind.set(signature, index);
    }
    t.keys.set(op.key.looseId, index);
    const rows = groups[index]!.rows;
    const id = op.key.id;
    if (rows.has(id)) rows.delete(id);
    rows.set(id, op.kind === 'upsert' ? op.row.values : op.key.values);
  }
  return groups;
}

/** A statement to run: SQL and its parameters. */
export interface Statement {
  readonly sql: string;
  readonly params: readonly Param[];
}

/** Splits a group into statements of at most `maxRows` rows and `maxParams` parameters. */
export function statementsOf(
  group: Group,
  maxRows: number,
  maxParams: number,
  build: (group: Group, rows: number) => string,
): Statement[] {
  const perRow = Math.max(1, group.columns.length);
  const chunk = Math.max(1, Math.min(maxRows, Math.floor(maxParams / perRow)));
  const out: Statement[] = [];
  let params: Param[] = [];
  let rows = 0;
  for (const r of group.rows.values()) {
    for (let i = 0; i < r.length; i++) params.push(r[i]!);
    if (++rows === chunk) {
      out.push({ sql: build(group, rows), params });
      params = [];
      rows = 0;
    }
  }
  if (rows > 0) out.push({ sql: build(group, rows), params });
  return out;
}
