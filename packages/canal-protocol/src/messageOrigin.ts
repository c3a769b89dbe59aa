import type { EventPosition } from '@sluice/plugin-api';

/** Where a decoded message came from; becomes each event's `position` and `destination`. */
export interface MessageOrigin {
  /** canal destination: topic, canal instance or queue. */
  readonly destination: string;
  /** Source name recorded in each event's position (defaults to the destination). */
  readonly source?: string;
  /** The unit of order, e.g. the Kafka partition. */
  readonly partition: string;
  /** Offset of the message within the partition (decimal string; may exceed 2^53). */
  readonly offset: string;
  /**
   * When the message was produced (ms), e.g. the Kafka record timestamp. Used as `producedAt`
   * for protobuf messages, which carry no produce time of their own (FlatMessage has `ts`);
   * without it, protobuf events use the binlog time.
   */
  readonly producedAt?: number;
}

/** Builds the position of the `index`-th event decoded from one message. */
export function positionOf(origin: MessageOrigin, index: number): EventPosition {
  return {
    source: origin.source ?? origin.destination,
    partition: origin.partition,
    offset: origin.offset,
    index,
  };
}

/** canal row event types. */
export const ROW_TYPES: ReadonlySet<string> = new Set(['INSERT', 'UPDATE', 'DELETE']);

/** A frozen empty list, shared by events that have none. */
export const NO_NAMES: readonly string[] = Object.freeze([]);

/** A frozen empty column map, shared by DDL events. */
export const NO_COLUMNS = Object.freeze({});
