import type { ChangeEvent, Logger } from '@sluice/plugin-api';
import type { MappingRoute, Router } from '../router/router.js';
import { takesRoute, takesSink, type MessageOverride } from '../router/routeFilter.js';
import type { MessageTicket } from './ackTracker.js';
import type { ApplierEntry, SourceOrigin } from './applier.js';
import { writeConflictKeys } from './conflictKeys.js';
import { decodeMessage, type MessageFormat } from './decodeMessage.js';
import type { OrderingMode } from './settings.js';

/** A sink instance as the ingest step sees it, in the router's order. */
export interface IngestSink {
  /** The instance key (`outerAdapters[].key`). */
  readonly key: string;
  /** The instance's ordering (the pipeline's when it sets none); a mapping may override it. */
  readonly ordering: OrderingMode;
}

/** Options of an {@link Ingest}. */
export interface IngestOptions {
  /** `canalAdapters[].instance`: the `destination` of every decoded event. */
  readonly destination: string;
  readonly format: MessageFormat;
  /** Routes events to mappings; its sink numbers are the indices of {@link sinks}. */
  readonly router: Router;
  readonly sinks: readonly IngestSink[];
  /** Where decoder notices (statement-format DML) are logged. */
  readonly logger?: Logger;
}

/** The message the routed records belong to (what every record of it shares). */
export interface IngestMessage {
  /** Its ack-tracker ticket (opened with the event count as its weight). */
  readonly ticket: MessageTicket;
  /** Where it came from; `origin.payload` is the raw message. */
  readonly origin: SourceOrigin;
}

/**
 * Per-batch counters the ingest step adds to (the engine turns them into metrics once per
 * delivered batch, not once per event).
 */
export interface IngestCounts {
  /** Events decoded, per `database.table`. */
  readonly consumed: Map<string, number>;
  /** Events a sink with mapping files has no mapping for, per `sink key + "\u0000" + database.table`. */
  readonly skipped: Map<string, number>;
}

/** One record for the applier of sink number `sink`. */
export interface RoutedEntry extends ApplierEntry {
  /** Index of the sink instance (in {@link IngestOptions.sinks}). */
  readonly sink: number;
}

/** Size of a raw message, bytes (UTF-16 code units for text). */
export function payloadSize(payload: Uint8Array | string): number {
  return typeof payload === 'string' ? payload.length : payload.byteLength;
}

/** Approximate size of one record of a message: the payload's size over its events, bytes. */
function approxBytes(payload: Uint8Array | string, events: number): number {
  return Math.ceil(payloadSize(payload) / Math.max(1, events));
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

function add(map: Map<string, number>, key: string, n: number): void {
  map.set(key, (map.get(key) ?? 0) + n);
}

/**
 * The pure ingest step of a pipeline (DESIGN.md §1, §3): decode a raw canal message into events,
 * route each event to the matching mappings of every sink instance (canal-adapter's routing, see
 * {@link Router}), and give each record its conflict keys for the lane scheduler
 * ({@link conflictKeys}). No I/O, no timers, no state of its own besides the router's routes: the
 * engine owns the ack tracking, the appliers and the dead-letter queue.
 *
 * Hot path: one call per message, a few property reads and one entry per routed record; the
 * `database.table` string is built once per run of events of the same table.
 */
export class Ingest {
  readonly #o: IngestOptions;

  constructor(options: IngestOptions) {
    this.#o = options;
  }

  /**
   * Decodes one raw message. `origin` is where the message came from (for a replay: where it
   * first came from); every event gets it as its position. Throws `DecodeError` (from
   * `@sluice/canal-protocol`) on input that is not a canal message.
   */
  decode(
    payload: Uint8Array | string,
    origin: { partition: string; offset: string },
  ): ChangeEvent[] {
    const o = this.#o;
    return decodeMessage(
      payload,
      o.format,
      { destination: o.destination, partition: origin.partition, offset: origin.offset },
      o.logger,
    );
  }

  /**
   * The records of one message's events, in source order (event by event, sink by sink, mapping
   * by mapping). Adds every event to `counts.consumed` and every event a mapping-based sink has
   * no mapping for to `counts.skipped`.
   */
  route(
    events: readonly ChangeEvent[],
    message: IngestMessage,
    counts: IngestCounts,
  ): RoutedEntry[] {
    const sinks = this.#o.sinks;
    // Sized for one mapping per sink (the usual case), so it is allocated once, not grown; capped,
    // because V8 gives a preallocated array of more than ~16k slots slow (dictionary) elements.
    const out = new Array<RoutedEntry>(Math.min(events.length * sinks.length, 8192));
    let k = 0;
    const router = this.#o.router;
    const bytes = approxBytes(message.origin.payload, events.length);
    let database: string | undefined;
    let tableName: string | undefined;
    let table = '';
    let run = 0;
    for (let e = 0; e < events.length; e++) {
      const event = events[e]!;
      if (event.table !== tableName || event.database !== database) {
        if (run > 0) add(counts.consumed, table, run);
        database = event.database;
        tableName = event.table;
        table = `${database}.${tableName}`;
        run = 0;
      }
      run += 1;
      for (let i = 0; i < sinks.length; i++) {
        // The router remembers the last table's result per sink: a run of one table is matched once.
        const routes = router.route(i, event);
        if (routes.length === 0) {
          add(counts.skipped, sinks[i]!.key + '\u0000' + table, 1);
          continue;
        }
        // Indexed: a RouteResult may be frozen (see conflictKeys.ts, pkValues).
        for (let r = 0; r < routes.length; r++)
          out[k++] = this.#entry(i, event, routes[r], table, bytes, message);
      }
    }
    if (run > 0) add(counts.consumed, table, run);
    if (k < out.length) out.length = k;
    return out;
  }

  /**
   * {@link route} under a replay override (`sluice dlq replay`): only the sink instances and the
   * mapping file the override names get records. The caller keeps only the events the override
   * names (`filterEvents`).
   */
  routeReplay(
    events: readonly ChangeEvent[],
    message: IngestMessage,
    counts: IngestCounts,
    override: MessageOverride,
  ): RoutedEntry[] {
    const out: RoutedEntry[] = [];
    const sinks = this.#o.sinks;
    const bytes = approxBytes(message.origin.payload, events.length);
    for (const event of events) {
      const table = `${event.database}.${event.table}`;
      add(counts.consumed, table, 1);
      for (let i = 0; i < sinks.length; i++) {
        if (!takesSink(override, sinks[i]!.key)) continue;
        const routes = this.#o.router.route(i, event);
        if (routes.length === 0) {
          add(counts.skipped, sinks[i]!.key + '\u0000' + table, 1);
          continue;
        }
        for (let r = 0; r < routes.length; r++) {
          const route = routes[r];
          if (takesRoute(override, route))
            out.push(this.#entry(i, event, route, table, bytes, message));
        }
      }
    }
    return out;
  }

  #entry(
    sink: number,
    event: ChangeEvent,
    route: MappingRoute | undefined,
    table: string,
    bytes: number,
    message: IngestMessage,
  ): RoutedEntry {
    const ordering = route?.ordering ?? this.#o.sinks[sink]!.ordering;
    const entry: Mutable<RoutedEntry> = {
      sink,
      event,
      mapping: route?.mapping,
      key: 0,
      key2: 0,
      table,
      barrier: false,
      coalescible: ordering === 'per-key' && event.pkNames.length > 0,
      bytes,
      ticket: message.ticket,
      origin: message.origin,
      held: 0,
    };
    // The keys go straight into the entry: no conflict-key object or array per record.
    entry.barrier = writeConflictKeys(event, ordering, table, entry);
    return entry;
  }
}
