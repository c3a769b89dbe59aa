import type { ResolvedConfig } from '../config/application/types.js';
import type { PipelineSettings } from './settings.js';

/**
 * Pipeline settings from a configuration: `sluice.pipeline` plus canal's `syncBatchSize`,
 * `retries` and `terminateOnException`. The batch size is the smaller of `syncBatchSize` and
 * `sluice.pipeline.batch.size` (both are upper bounds).
 */
export function pipelineSettingsOf(config: ResolvedConfig): Partial<PipelineSettings> {
  const p = config.sluice.pipeline;
  return {
    lanes: p.lanes,
    ordering: p.ordering,
    batchSize: Math.min(
      config.canal.syncBatchSize > 0 ? config.canal.syncBatchSize : p.batch.size,
      p.batch.size,
    ),
    batchBytes: p.batch.bytes,
    lingerMs: p.batch.lingerMs,
    maxInFlight: p.maxInFlight,
    retries: config.canal.retries,
    terminateOnException: config.canal.terminateOnException,
  };
}
