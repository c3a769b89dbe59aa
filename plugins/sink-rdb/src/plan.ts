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
import type { Param } from './dialect.js';
import type { TargetKey, TargetRow } from './route.js';

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

/** Groups operations (in source order) into statements, see the module comment. */
export function groupOperations(operations: readonly Operation[]): Group[] {
  const groups: Group[] = [];
  const lastOfKind = new Map<string, number>();
  const lastOfKey = new Map<string, number>();
  for (const op of operations) {
    const columns = op.kind === 'upsert' ? op.row.columns : op.key.columns;
    const signature = `${op.kind}\u0001${op.table}\u0001${columns.join('\u0001')}`;
    const keyId = `${op.table}\u0001${op.key.looseId}`;
    const g = lastOfKind.get(signature);
    const k = lastOfKey.get(keyId) ?? -1;
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
    lastOfKey.set(keyId, index);
    const group = groups[index]!;
    group.rows.delete(op.key.id);
    group.rows.set(op.key.id, op.kind === 'upsert' ? op.row.values : op.key.values);
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
  const rows = [...group.rows.values()];
  const out: Statement[] = [];
  for (let i = 0; i < rows.length; i += chunk) {
    const slice = rows.slice(i, i + chunk);
    const params: Param[] = [];
    for (const r of slice) for (const v of r) params.push(v);
    out.push({ sql: build(group, slice.length), params });
  }
  return out;
}
