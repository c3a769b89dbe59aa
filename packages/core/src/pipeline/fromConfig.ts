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
    commitIntervalMs: p.commitIntervalMs,
    shutdownTimeoutMs: p.shutdownTimeoutMs,
    retries: config.canal.retries,
    terminateOnException: config.canal.terminateOnException,
  };
}

/**
 * How the source's payloads are encoded: canal's `tcp` mode always carries protobuf (canal's
 * tcp connector ignores `canal.conf.flatMessage`; the tcp source hands over each
 * `Packet{MESSAGES}` as canal-server sent it); the MQ modes follow `flatMessage`.
 */
export function payloadFormatOf(config: {
  readonly canal: { readonly mode: string; readonly flatMessage: boolean };
}): 'flat' | 'protobuf' {
  if (config.canal.mode === 'tcp') return 'protobuf';
  return config.canal.flatMessage ? 'flat' : 'protobuf';
}
