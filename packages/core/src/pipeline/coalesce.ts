import type { ChangeEvent, RowChangeEvent, SinkRecord } from '@sluice/plugin-api';

/** One item of a lane batch, as coalescing sees it. */
export interface CoalesceItem {
  readonly record: SinkRecord;
  /** Conflict keys (two for a primary-key change, none for a DDL). */
  readonly keys: readonly string[];
  /** False when this item must be written as is (no primary key, non-`key` ordering). */
  readonly coalescible: boolean;
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
  if (run.write.members.length === 1) return run.write.members[0]!.record;
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
    const event = item.record.event;
    const single = item.coalescible && event.kind === 'row' && item.keys.length === 1;
    if (!single) {
      if (event.kind === 'ddl' || item.keys.length === 0) runs.clear();
      for (const key of item.keys) {
        for (const runKey of [...runs.keys()])
          if (runKey.endsWith('\u0003' + key)) runs.delete(runKey);
      }
      out.push({ record: item.record, members: [item] });
      continue;
    }
    const runKey = (item.record.mapping?.file ?? '') + '\u0003' + item.keys[0]!;
    const run = runs.get(runKey);
    if (!run) {
      const write: CoalescedWrite<T> = { record: item.record, members: [item] };
      out.push(write);
      runs.set(runKey, { write, first: event, last: event, changed: new Set(event.changed) });
      continue;
    }
    run.write.members.push(item);
    run.last = event;
    for (const c of event.changed) run.changed.add(c);
    run.write.record = merged(run as Run<CoalesceItem>, item.record.mapping);
  }
  return out;
}
