import type { HistogramSpec, InstrumentSpec } from '@sluice/plugin-api';

/** The kind of a core instrument. */
export type InstrumentKind = 'counter' | 'gauge' | 'histogram';

/** A core instrument: its kind and declaration. */
export interface CoreInstrument {
  readonly kind: InstrumentKind;
  readonly spec: InstrumentSpec | HistogramSpec;
}

/** Buckets for end-to-end lag (seconds): 10 ms … 10 min. */
const LAG_SECONDS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 600];

/** Buckets for records per write call. */
const BATCH_RECORDS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000];

/** Buckets for batch write durations (seconds): 1 ms … 30 s. */
const WRITE_SECONDS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/**
 * Every instrument the core records, declared once: name (without the runtime's prefix), help,
 * unit, labels, buckets. The pipeline records them by name through
 * {@link MetricsRegistry.increment} and friends; recording a name that is not declared here is a
 * programming error (it throws, so tests catch it).
 */
export const CORE_INSTRUMENTS: Readonly<Record<string, CoreInstrument>> = {
  events_consumed_total: {
    kind: 'counter',
    spec: {
      name: 'events_consumed_total',
      help: 'Row and DDL events decoded from source messages, per destination, group and table.',
      unit: 'events',
      labelNames: ['destination', 'groupId', 'table'],
    },
  },
  events_skipped_total: {
    kind: 'counter',
    spec: {
      name: 'events_skipped_total',
      help: 'Events a sink instance had no mapping for (not applied, nothing to apply), per sink and table.',
      unit: 'events',
      labelNames: ['sink', 'table'],
    },
  },
  events_applied_total: {
    kind: 'counter',
    spec: {
      name: 'events_applied_total',
      help: 'Events a sink instance applied, per sink and table.',
      unit: 'events',
      labelNames: ['sink', 'table'],
    },
  },
  events_dead_lettered_total: {
    kind: 'counter',
    spec: {
      name: 'events_dead_lettered_total',
      help: 'Events a sink instance rejected for good and that went to the dead-letter queue, per sink and table.',
      unit: 'events',
      labelNames: ['sink', 'table'],
    },
  },
  messages_undecodable_total: {
    kind: 'counter',
    spec: {
      name: 'messages_undecodable_total',
      help: 'Source messages that were not canal messages and went to the dead-letter queue.',
      unit: 'messages',
      labelNames: ['destination'],
    },
  },
  dead_letter_depth: {
    kind: 'gauge',
    spec: {
      name: 'dead_letter_depth',
      help: 'Dead letters waiting in the dead-letter queue (not yet replayed or dropped), per destination and queue type (file; kafka: DLQ topic end offsets minus the replay group offsets).',
      unit: 'records',
      labelNames: ['destination', 'type'],
    },
  },
  in_flight_events: {
    kind: 'gauge',
    spec: {
      name: 'in_flight_events',
      help: 'Events accepted from a partition and not yet applied or dead-lettered.',
      unit: 'events',
      labelNames: ['destination', 'groupId', 'partition'],
    },
  },
  lag_seconds: {
    kind: 'gauge',
    spec: {
      name: 'lag_seconds',
      help: "Now minus the binlog time (canal's es) of the newest applied event, per partition.",
      unit: 'seconds',
      labelNames: ['destination', 'groupId', 'partition'],
    },
  },
  batch_seconds: {
    kind: 'histogram',
    spec: {
      name: 'batch_seconds',
      help: 'Duration of one sink write call (a batch of one lane), per sink.',
      unit: 'seconds',
      labelNames: ['sink'],
      buckets: WRITE_SECONDS,
    },
  },
  apply_lag_seconds: {
    kind: 'histogram',
    spec: {
      name: 'apply_lag_seconds',
      help: "End-to-end lag of applied events: when applied minus binlog time (canal's es), observed once per sink write (a lane's batch) with the lag of its oldest event, per destination and group.",
      unit: 'seconds',
      labelNames: ['destination', 'groupId'],
      buckets: LAG_SECONDS,
    },
  },
  batch_records: {
    kind: 'histogram',
    spec: {
      name: 'batch_records',
      help: 'Records in one sink write call (a batch of one lane), per sink.',
      unit: 'records',
      labelNames: ['sink'],
      buckets: BATCH_RECORDS,
    },
  },
  write_retries_total: {
    kind: 'counter',
    spec: {
      name: 'write_retries_total',
      help: 'Sink write calls that failed transiently and were retried after a backoff, per sink.',
      unit: 'retries',
      labelNames: ['sink'],
    },
  },
};
