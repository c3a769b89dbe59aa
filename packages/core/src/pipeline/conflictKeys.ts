import type { ChangeEvent, RowChangeEvent, RowImage } from '@sluice/plugin-api';
import type { OrderingMode } from './settings.js';

/** The conflict keys of one event, as the lane assigner sees them. */
export interface ConflictKeys {
  /** `database.table`: what a DDL is a barrier for. */
  readonly table: string;
  /** True for a DDL: it conflicts with every key of its table. */
  readonly barrier: boolean;
  /**
   * Row keys (one, or two for an UPDATE that changes the primary key: old and new). Empty for a
   * barrier.
   */
  readonly keys: readonly string[];
}

const SEP = '\u0001';

function pkValues(pkNames: readonly string[], image: RowImage | undefined): string {
  let out = '';
  for (const name of pkNames) {
    const v = image?.[name];
    out += SEP + (v === null || v === undefined ? '\u0000' : v);
  }
  return out;
}

/**
 * The row key of an image: database, table and primary-key values, each after a separator that no
 * name or value contains (so database `a` table `b.c` and database `a.b` table `c` stay apart);
 * the table key `database.table` when the table has no primary key.
 */
export function rowKey(event: RowChangeEvent, image: RowImage | undefined): string {
  if (event.pkNames.length === 0) return `${event.database}.${event.table}`;
  return event.database + SEP + event.table + pkValues(event.pkNames, image);
}

/** True for an UPDATE whose primary-key values differ between the before and after images. */
export function changesPrimaryKey(event: ChangeEvent): boolean {
  if (event.kind !== 'row' || event.type !== 'UPDATE' || event.pkNames.length === 0) return false;
  return pkValues(event.pkNames, event.before) !== pkValues(event.pkNames, event.after);
}

/**
 * Computes the conflict keys of `event` under an ordering mode (see DESIGN.md §3). `table` is the
 * event's `database.table`, when the caller already has it (built here otherwise).
 */
export function conflictKeys(
  event: ChangeEvent,
  ordering: OrderingMode,
  table = `${event.database}.${event.table}`,
): ConflictKeys {
  if (ordering === 'partition') return { table, barrier: false, keys: ['\u0002partition'] };
  if (event.kind === 'ddl') return { table, barrier: true, keys: [] };
  if (ordering === 'table' || event.pkNames.length === 0)
    return { table, barrier: false, keys: [table] };
  if (event.type === 'INSERT') return { table, barrier: false, keys: [rowKey(event, event.after)] };
  if (event.type === 'DELETE')
    return { table, barrier: false, keys: [rowKey(event, event.before)] };
  const oldKey = rowKey(event, event.before ?? event.after);
  const newKey = rowKey(event, event.after);
  return { table, barrier: false, keys: oldKey === newKey ? [newKey] : [oldKey, newKey] };
}

/** A stable 32-bit hash of a string (FNV-1a), for picking a lane. */
export function hashString(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
