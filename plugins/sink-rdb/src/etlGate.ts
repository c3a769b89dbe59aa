/**
 * The rdb sink's keys for the ETL/stream gate ({@link EtlStreamGate} of `@sluice/plugin-api`,
 * whose docs give the rule): one target row is its table plus its primary key's loose id, built
 * alike for the stream's planned operations and the ETL's.
 *
 * `sluice etl` started from the command line runs in its own process and cannot see the stream's
 * writes: it refuses to run beside the Sluice of its configuration unless forced (README).
 */
import type { EtlStreamGate } from '@sluice/plugin-api';
import type { Operation } from './plan.js';

/** The gate's key of the target row an operation writes. */
export function rowKeyOf(op: Operation): string {
  return `${op.table}\u0001${op.key.looseId}`;
}

type Plans = readonly (
  { readonly ok: true; readonly ops: readonly Operation[] } | { readonly ok: false }
)[];

/** Records the rows a stream write is about to touch while an ETL runs (no-op otherwise). */
export async function gateStreamWrite(gate: EtlStreamGate, plans: Plans): Promise<void> {
  if (!gate.active) return;
  const keys: string[] = [];
  for (const p of plans) if (p.ok) for (const op of p.ops) keys.push(rowKeyOf(op));
  await gate.streamWrite(keys);
}
