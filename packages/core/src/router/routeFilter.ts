import type { ChangeEvent } from '@sluice/plugin-api';
import type { DeadLetterRecord } from '../deadLetter/record.js';
import type { MappingRoute } from './router.js';

/**
 * What a delivered message really is, for `sluice dlq replay`: where it first came from, and
 * which sink instances and which row of it to apply. A dead letter names the sink instance, the
 * row index and the mapping file that failed (see {@link DeadLetterRecord}); replaying it must
 * apply that row to that mapping only, not to every sink of the group again.
 */
export interface MessageOverride {
  /** The original partition and offset (kept in event positions and new dead letters). */
  readonly partition?: string;
  readonly offset?: string;
  /** Only these sink instances get the message's events. */
  readonly sinks?: readonly string[];
  /** Only the event with this row index is applied. */
  readonly index?: number;
  /** Only this mapping file (`MappingFile.file`) of those sinks gets the event. */
  readonly mapping?: string;
}

/** The events of the message the override keeps: only the row `index` when it names one. */
export function filterEvents(events: ChangeEvent[], override: MessageOverride): ChangeEvent[] {
  if (override.index === undefined) return events;
  return events.filter((e) => e.position.index === override.index);
}

/** True when the override lets sink instance `key` receive the message's events. */
export function takesSink(override: MessageOverride, key: string): boolean {
  return override.sinks === undefined || override.sinks.includes(key);
}

/** True when the override lets `route` (undefined: a sink without mappings) apply the event. */
export function takesRoute(override: MessageOverride, route: MappingRoute | undefined): boolean {
  return override.mapping === undefined || route?.mapping.file === override.mapping;
}

/**
 * A dead letter of named sink instances that reaches none of them any more (the instance, its
 * mapping or the row is gone): what goes back to the dead-letter queue, never dropped. Undefined
 * when the override names no sink instance (nothing to send back: the message was routed as
 * usual).
 */
export function unroutedDeadLetter(
  override: MessageOverride,
): { reason: string; extra: Pick<DeadLetterRecord, 'sink' | 'index'> } | undefined {
  const sinks = override.sinks;
  if (sinks === undefined) return undefined;
  return {
    reason: `replay: the dead letter reaches no mapping of sink instance ${sinks.map((k) => `"${k}"`).join(', ')} any more`,
    extra: {
      ...(sinks.length === 1 ? { sink: sinks[0]! } : {}),
      ...(override.index !== undefined ? { index: override.index } : {}),
    },
  };
}
