export { loadConfig } from './config/loadConfig.js';
export type {
  AdapterGroupConfig,
  CanalAdapterConfig,
  CanalConf,
  OuterAdapterConfig,
  ResolvedConfig,
  SluiceSettings,
} from './config/types.js';
export { FileDeadLetterQueue, encodePayload } from './deadLetter.js';
export type { DeadLetterQueue, DeadLetterRecord } from './deadLetter.js';
export { createLogger, redact } from './logger.js';
export type { LogLevel } from './logger.js';
export { MetricsRegistry } from './metrics.js';
export { backoffDelay, maxAttempts, sleep } from './pipeline/backoff.js';
export { decodeMessage } from './pipeline/decodeMessage.js';
export type { MessageFormat } from './pipeline/decodeMessage.js';
export { SequentialPipeline } from './pipeline/sequentialPipeline.js';
export type { PipelineOptions, PipelineSink } from './pipeline/sequentialPipeline.js';
export { CORE_SERVICE_IDS, createPluginContainer } from './plugins/container.js';
export type { CoreServiceInstances } from './plugins/container.js';
export { loadPlugins, pluginExports, resolvePluginSpec } from './plugins/loader.js';
export type { LoadPluginsOptions, LoadedPlugin } from './plugins/loader.js';
export { configuredPluginSpecs, loadConfiguredPlugins } from './plugins/specs.js';
export { PluginRegistry } from './registry.js';
export type {
  AnySinkDefinition,
  AnySourceDefinition,
  PluginOrigin,
  PluginRegistryOptions,
  PluginScope,
  SinkCreateContext,
  SourceCreateContext,
} from './registry.js';
export { runSluice } from './runtime.js';
export type { RunOptions } from './runtime.js';
