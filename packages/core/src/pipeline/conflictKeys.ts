import type { ChangeEvent, RowChangeEvent, RowImage } from '@sluice/plugin-api';
import type { OrderingMode } from './settings.js';

/** The conflict keys of one event, as the lane assigner sees them. */
export interface ConflictKeys {
  /** `database.table`: what a DDL is a barrier for. */
  readonly table: string;
  /** True for a DDL: it conflicts with every key of its table. */
  readonly barrier: boolean;
  /**
   * The row keys' hashes, {@link hashString} of each key (one, or two for an UPDATE that changes
   * the primary key: old and new), made without building the key strings: the lane scheduler
   * needs nothing else. Empty for a barrier. Two keys may share a hash (then they share a lane,
   * which costs parallelism, never order); where keys must be told apart exactly (coalescing),
   * use {@link rowKey}.
   */
  readonly keys: readonly number[];
}

const SEP = '\u0001';
const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

function pkValues(pkNames: readonly string[], image: RowImage | undefined): string {
  let out = '';
  // Indexed, not for-of: pkNames is frozen, and on Node 20 a for-of over a frozen array
  // allocates an iterator and its results on every call even in optimised code (BENCHMARKS.md).
  for (let i = 0; i < pkNames.length; i++) {
    const v = image?.[pkNames[i]!];
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

/**
 * The image that holds a row event's key before the event: `before` for an UPDATE and a DELETE,
 * `after` for an INSERT (it has no before image) and an UPDATE without one. With
 * {@link newKeyImage}, the one rule for which images name a row, for the lanes
 * ({@link writeConflictKeys}) and for coalescing alike.
 */
export function oldKeyImage(event: RowChangeEvent): RowImage | undefined {
  return event.before ?? event.after;
}

/** The image that holds a row event's key after the event: `before` for a DELETE, else `after`. */
export function newKeyImage(event: RowChangeEvent): RowImage | undefined {
  return event.type === 'DELETE' ? event.before : event.after;
}

/** True for an UPDATE whose primary-key values differ between the before and after images. */
export function changesPrimaryKey(event: ChangeEvent): boolean {
  if (event.kind !== 'row' || event.type !== 'UPDATE' || event.pkNames.length === 0) return false;
  return pkValues(event.pkNames, event.before) !== pkValues(event.pkNames, event.after);
}

/** The key every event shares under `partition` ordering, hashed. */
const PARTITION_KEY = hashString('\u0002partition');

/**
 * Where {@link writeConflictKeys} puts the row keys of one event: their {@link hashString}s as
 * signed 32-bit integers (`hash | 0`, so they stay small integers in the object that holds them;
 * `>>> 0` gives the hash back). `key2` is `key` unless the event has a second key.
 */
export interface ConflictKeySlots {
  key: number;
  key2: number;
}

/**
 * Computes the conflict keys of `event` under an ordering mode (see DESIGN.md §3) into `slots`
 * and says whether the event is a barrier (a DDL under `per-key` or `table` ordering: it
 * conflicts with every key of its table; its slots are left as they were). Row keys: one, or two
 * for an UPDATE that changes the primary key (old in `key`, new in `key2`). `table` is the
 * event's `database.table`.
 *
 * The hot path of the ingest step: one call per routed record, nothing allocated.
 */
export function writeConflictKeys(
  event: ChangeEvent,
  ordering: OrderingMode,
  table: string,
  slots: ConflictKeySlots,
): boolean {
  let key: number;
  let key2: number | undefined;
  if (ordering === 'partition') key = PARTITION_KEY;
  else if (event.kind === 'ddl') return true;
  else if (ordering === 'table' || event.pkNames.length === 0) key = hashString(table);
  else {
    const old = oldKeyImage(event);
    const now = newKeyImage(event);
    key = rowHash(event, old);
    if (now !== old) key2 = rowHash(event, now);
  }
  slots.key = key | 0;
  slots.key2 = (key2 ?? key) | 0;
  return false;
}

/**
 * The conflict keys of `event` under an ordering mode, as one object ({@link writeConflictKeys}
 * without the slots; for tests and tools). `table` is the event's `database.table`, when the
 * caller already has it (built here otherwise).
 */
export function conflictKeys(
  event: ChangeEvent,
  ordering: OrderingMode,
  table = `${event.database}.${event.table}`,
): ConflictKeys {
  const slots: ConflictKeySlots = { key: 0, key2: 0 };
  if (writeConflictKeys(event, ordering, table, slots)) return { table, barrier: true, keys: [] };
  const keys = slots.key === slots.key2 ? [slots.key >>> 0] : [slots.key >>> 0, slots.key2 >>> 0];
  return { table, barrier: false, keys };
}

/** The last table {@link tablePrefix} hashed: the rows of a message share their table. */
let prefixDatabase = '';
let prefixTable = '';
let prefixHash = tablePrefixOf('', '');

function tablePrefixOf(database: string, table: string): number {
  return fnv(Math.imul(fnv(FNV_OFFSET, database) ^ 1, FNV_PRIME), table); // SEP is U+0001
}

/** FNV-1a state after `database`, SEP and `table` (remembered for the last table asked). */
function tablePrefix(database: string, table: string): number {
  if (database !== prefixDatabase || table !== prefixTable) {
    prefixHash = tablePrefixOf(database, table);
    prefixDatabase = database;
    prefixTable = table;
  }
  return prefixHash;
}

/** FNV-1a state `h` continued over the characters of `text`. */
function fnv(h: number, text: string): number {
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), FNV_PRIME);
  return h;
}

/**
 * {@link hashString} of {@link rowKey} for an event of a table with a primary key, computed over
 * the same characters without building the string (the hot path: one call per row).
 */
export function rowHash(event: RowChangeEvent, image: RowImage | undefined): number {
  let h = tablePrefix(event.database, event.table);
  const pkNames = event.pkNames;
  for (let i = 0; i < pkNames.length; i++) {
    const v = image?.[pkNames[i]!]; // indexed: pkNames is frozen (see pkValues)
    h = Math.imul(h ^ 1, FNV_PRIME);
    h = v === null || v === undefined ? Math.imul(h, FNV_PRIME) : fnv(h, v); // NULL is U+0000
  }
  return h >>> 0;
}

/** A stable 32-bit hash of a string (FNV-1a), for picking a lane. */
export function hashString(text: string): number {
  return fnv(FNV_OFFSET, text) >>> 0;
}
