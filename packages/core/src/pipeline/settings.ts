/**
 * Tuning of the pipeline engine (`sluice.pipeline` in `application.yml`, plus canal's own
 * `syncBatchSize`, `retries` and `terminateOnException`). Every field has a default.
 */

import type { SinkOrdering } from '@sluice/plugin-api';
import {
  DEFAULT_SYNC_BATCH_SIZE,
  sluiceSettingsDefaults,
} from '../config/application/sluiceSettings.js';

/**
 * How strictly a sink instance (or one mapping) wants events applied in source order:
 *
 * - `per-key` (default): per row key (database.table + primary-key values); rows with different keys
 *   may be applied in parallel, DDL is a barrier for its table.
 * - `table`: one lane per table at a time (cross-row order within a table is kept).
 * - `partition`: strictly sequential within a partition (canal-adapter's behaviour).
 */
export type OrderingMode = SinkOrdering;

/** Settings of one pipeline (one `canalAdapters[].groups[]` entry). */
export interface PipelineSettings {
  /** Lanes per sink instance and partition. Default 8. */
  readonly lanes: number;
  /** Records per `write` call (canal's `syncBatchSize`). Default 1000. */
  readonly batchSize: number;
  /** Approximate payload bytes per `write` call. Default 4 MiB. */
  readonly batchBytes: number;
  /**
   * How long a lane waits for more records before writing a batch that is not full, ms.
   * Default 0: write what is queued as soon as the lane is free (records delivered together
   * are batched together anyway).
   */
  readonly lingerMs: number;
  /** Default ordering of every sink instance. Default `per-key`. */
  readonly ordering: OrderingMode;
  /**
   * Events in flight per partition (decoded, not yet applied or dead-lettered by every sink).
   * `deliver` resolves only below this bound, which pauses the source partition. Default 10 000.
   */
  readonly maxInFlight: number;
  /** canal `retries`: -1 = forever, 0 = one attempt, N = N attempts. Default 3. */
  readonly retries: number;
  /**
   * canal `terminateOnException`: after the last attempt, stop the pipeline (true) instead of
   * dead-lettering the batch's records (false, the default). Never drops silently.
   */
  readonly terminateOnException: boolean;
  /** First retry delay, ms (doubles per attempt, with jitter). Default 200. */
  readonly retryBaseMs: number;
  /** Longest retry delay, ms. Default 30 000. */
  readonly retryMaxMs: number;
  /**
   * Least time between two offset commits of one partition, ms (`sluice.pipeline.commitIntervalMs`).
   * Default 1000 (0 = every advance). A source's `requestCommit` skips the wait once.
   */
  readonly commitIntervalMs: number;
  /** How long shutdown (and a partition revocation) may drain before abandoning, ms. Default 30 000. */
  readonly shutdownTimeoutMs: number;
}

const configured = sluiceSettingsDefaults.pipeline;

/**
 * The defaults of {@link PipelineSettings}. Those an operator can set (`sluice.pipeline.*`,
 * canal's `syncBatchSize`) come from the one schema in `config/application/sluiceSettings.ts`;
 * the rest are the engine's own.
 */
export const defaultPipelineSettings: PipelineSettings = Object.freeze({
  lanes: configured.lanes,
  batchSize: DEFAULT_SYNC_BATCH_SIZE,
  batchBytes: configured.batch.bytes,
  lingerMs: configured.batch.lingerMs,
  ordering: configured.ordering,
  maxInFlight: configured.maxInFlight,
  retries: 3,
  terminateOnException: false,
  retryBaseMs: 200,
  retryMaxMs: 30_000,
  commitIntervalMs: configured.commitIntervalMs,
  shutdownTimeoutMs: 30_000,
});

/** Fills unset fields with the defaults and clamps nonsense (lanes ≥ 1, batch size ≥ 1, …). */
export function resolvePipelineSettings(partial: Partial<PipelineSettings> = {}): PipelineSettings {
  const s = { ...defaultPipelineSettings, ...stripUndefined(partial) };
  return Object.freeze({
    ...s,
    lanes: Math.max(1, Math.floor(s.lanes)),
    batchSize: Math.max(1, Math.floor(s.batchSize)),
    batchBytes: Math.max(1, s.batchBytes),
    lingerMs: Math.max(0, s.lingerMs),
    maxInFlight: Math.max(1, Math.floor(s.maxInFlight)),
    commitIntervalMs: Math.max(0, s.commitIntervalMs),
    shutdownTimeoutMs: Math.max(0, s.shutdownTimeoutMs),
  });
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
