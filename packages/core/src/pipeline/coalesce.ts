import type { ChangeEvent, RowChangeEvent, SinkRecord } from '@sluice/plugin-api';
import { newKeyImage, oldKeyImage, rowKey } from './conflictKeys.js';

/**
 * One item of a lane batch, as coalescing sees it: the event and its mapping (what the sink
 * receives as a {@link SinkRecord}, made for the write).
 */
export interface CoalesceItem {
  readonly event: ChangeEvent;
  readonly mapping: SinkRecord['mapping'];
  /** False when this item must be written as is (no primary key, non-`key` ordering). */
  readonly coalescible: boolean;
}

/**
 * The exact row keys ({@link rowKey}) of a row: one, two (old, new) for an UPDATE that changes
 * the primary key. Exact, not the lanes' hashes: a shared hash must never merge two rows.
 */
function exactKeys(event: RowChangeEvent): string[] {
  const old = oldKeyImage(event);
  const now = newKeyImage(event);
  const newKey = rowKey(event, now);
  if (now === old) return [newKey];
  const oldKey = rowKey(event, old);
  return oldKey === newKey ? [newKey] : [oldKey, newKey];
}

/** One write of a coalesced batch and the items whose outcome it decides. */
export interface CoalescedWrite<T extends CoalesceItem> {
  /** What to write (insert … delete is the delete: nothing is cancelled, see {@link coalesce}). */
  record: SinkRecord;
  readonly members: T[];
}

interface Run<T extends CoalesceItem> {
  readonly write: CoalescedWrite<T>;
  readonly first: RowChangeEvent;
  last: RowChangeEvent;
  changed: Set<string>;
}

function merged(run: Run<CoalesceItem>, mapping: SinkRecord['mapping']): SinkRecord {
  const { first, last } = run;
  if (run.write.members.length === 1) return recordOf(run.write.members[0]!);
  let event: ChangeEvent = last;
  if (last.type === 'DELETE') {
    // Insert … delete does not cancel: after a crash the insert may be in the target already
    // (applied, not committed), so the replay must still delete it.
    event = last;
  } else if (first.type === 'INSERT') {
    event = { ...last, type: 'INSERT', before: undefined, changed: [] };
  } else if (first.type === 'UPDATE' && last.type === 'UPDATE') {
    event = { ...last, before: first.before, changed: [...run.changed] };
  }
  return { event, mapping };
}

/** The sink record of one item (a new object: sinks see the record's two properties only). */
export function recordOf(item: CoalesceItem): SinkRecord {
  return { event: item.event, mapping: item.mapping };
}

/**
 * Coalesces a lane batch per key and mapping: the final image wins (insert-then-delete becomes
 * the delete, which is idempotent, so a replay converges). Order per key is kept (a merged write sits where its first item was); an UPDATE that
 * changes the primary key, a DDL and any non-coalescible item are written as they are and end
 * the runs of the keys they touch, so nothing is merged across them.
 */
export function coalesce<T extends CoalesceItem>(items: readonly T[]): CoalescedWrite<T>[] {
  const out: CoalescedWrite<T>[] = [];
  const runs = new Map<string, Run<T>>();
  for (const item of items) {
    const row = item.event;
    if (row.kind === 'ddl') {
      runs.clear();
      out.push({ record: recordOf(item), members: [item] });
      continue;
    }
    const keys = exactKeys(row);
    if (!item.coalescible || keys.length !== 1) {
      for (const key of keys) {
        for (const runKey of [...runs.keys()])
          if (runKey.endsWith('\u0003' + key)) runs.delete(runKey);
      }
      out.push({ record: recordOf(item), members: [item] });
      continue;
    }
    const runKey = (item.mapping?.file ?? '') + '\u0003' + keys[0]!;
    const run = runs.get(runKey);
    if (!run) {
      const write: CoalescedWrite<T> = { record: recordOf(item), members: [item] };
      out.push(write);
      runs.set(runKey, { write, first: row, last: row, changed: new Set(row.changed) });
      continue;
    }
    run.write.members.push(item);
    run.last = row;
    const changed = row.changed; // indexed: may be the frozen NO_NAMES (see conflictKeys.ts)
    for (let c = 0; c < changed.length; c++) run.changed.add(changed[c]!);
    run.write.record = merged(run as Run<CoalesceItem>, item.mapping);
  }
  return out;
}
