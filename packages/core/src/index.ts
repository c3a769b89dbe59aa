export { ConfigError, loadConfig } from './config/application/loadConfig.js';
export {
  formatProblem,
  formatReport,
  problemLocation,
  ProblemCollector,
} from './config/binding/problems.js';
export type { ConfigProblem, ProblemCode, Severity } from './config/binding/problems.js';
export { mappingContextOf, validateConfigDir } from './config/application/validateConfig.js';
export type {
  Environment,
  ValidateOptions,
  ValidationResult,
} from './config/application/validateConfig.js';
export { pluginSchemasFromMap, SinkCatalog } from './mappings/sinkCatalog.js';
export type { PluginSchemaSource, SinkCatalogEntry, SinkSchemas } from './mappings/sinkCatalog.js';
export { ADAPTER_NAME_HINTS, KNOWN_ADAPTERS } from './config/application/knownAdapters.js';
export type { KnownAdapter } from './config/application/knownAdapters.js';
export { MappingIndex, mappingKey, toMappingFile } from './mappings/mappingIndex.js';
export type { MappingLookupKey, MappingRouteSpec } from './mappings/mappingIndex.js';
export {
  autoAdapterKey,
  autoKeyPrefix,
  loadMappingFiles,
  loadMappingText,
  mappingOwners,
} from './mappings/mappingFiles.js';
export type { AdapterRef, MappingContext, MappingFileResult } from './mappings/mappingFiles.js';
export { diffMappings, MappingWatcher, reloadMappings } from './mappings/mappingWatcher.js';
export type {
  MappingReload,
  MappingWatcherOptions,
  SinkMappingChanges,
} from './mappings/mappingWatcher.js';
export { printConfig, redactConfig } from './config/application/printConfig.js';
export { parseJdbcUrl, redactUrl } from '@sluice/plugin-api';
export type { JdbcUrl, JdbcUrlResult } from '@sluice/plugin-api';
export { dataSourcesOf } from './config/application/dataSources.js';
export {
  DEFAULT_SYNC_BATCH_SIZE,
  defaultDeadLetterType,
  sluiceSettingsDefaults,
  sluiceSettingsOf,
  sluiceSettingsSchema,
} from './config/application/sluiceSettings.js';
export type {
  AdminSettings,
  BatchSettings,
  DeadLetterSettings,
  DeadLetterType,
  MetricsSettings,
  PipelineSection,
  SluiceSettings,
} from './config/application/sluiceSettings.js';
export type {
  AdapterGroupConfig,
  CanalAdapterConfig,
  CanalConf,
  ConfiguredMapping,
  OuterAdapterConfig,
  ResolvedConfig,
  ServerConfig,
  SinkRef,
} from './config/application/types.js';
export { encodePayload, decodePayload, parseDeadLetters } from './deadLetter/record.js';
export type { DeadLetterRecord } from './deadLetter/record.js';
export type { DeadLetterQueue, DeadLetterReader, DeadLetterBatch } from './deadLetter/queue.js';
export {
  FileDeadLetterQueue,
  FileDeadLetterReader,
  deadLetterFileName,
  deadLetterFiles,
  readDeadLetterFile,
  rewriteDeadLetterFile,
} from './deadLetter/fileQueue.js';
export type { DeadLetterFileRead, RewriteResult } from './deadLetter/fileQueue.js';
export { DeadLetterWriter } from './deadLetter/writer.js';
export type { DeadLetterOrigin, DeadLetterWriterOptions } from './deadLetter/writer.js';
export { replayDeadLetters } from './deadLetter/replay.js';
export type { ReplayOptions, ReplaySummary } from './deadLetter/replay.js';
export {
  RoutingDeadLetterQueue,
  deadLetterDir,
  deadLetterQueueOf,
  deadLetterTransportOf,
} from './deadLetter/transport.js';
export type { DeadLetterTransport } from './deadLetter/transport.js';
export { createLogger, redact } from './logger.js';
export type { LogLevel } from './logger.js';
export { MetricsRegistry } from './metrics.js';
export { CORE_INSTRUMENTS } from './observability/instruments.js';
export type { CoreInstrument, InstrumentKind } from './observability/instruments.js';
export {
  backoffDelay,
  maxAttempts,
  retry,
  retryAfter,
  retryUnlessFatal,
  sleep,
} from './pipeline/retry.js';
export type { BackoffPolicy, RetryDecision, RetryOptions, RetryOutcome } from './pipeline/retry.js';
export { decodeMessage } from './pipeline/decodeMessage.js';
export type { MessageFormat } from './pipeline/decodeMessage.js';
export { AckTracker } from './pipeline/ackTracker.js';
export type { MessageTicket } from './pipeline/ackTracker.js';
export { Applier } from './pipeline/applier.js';
export type {
  ApplierEntry,
  ApplierHooks,
  ApplierOptions,
  ApplierSettings,
  SourceOrigin,
} from './pipeline/applier.js';
export { coalesce } from './pipeline/coalesce.js';
export type { CoalesceItem, CoalescedWrite } from './pipeline/coalesce.js';
export { changesPrimaryKey, conflictKeys, hashString, rowKey } from './pipeline/conflictKeys.js';
export type { ConflictKeys } from './pipeline/conflictKeys.js';
export { PipelineEngine } from './pipeline/engine.js';
export type {
  EngineRunOptions,
  EngineSink,
  PartitionView,
  PipelineEngineOptions,
  SinkView,
} from './pipeline/engine.js';
export { pipelineSettingsOf } from './pipeline/fromConfig.js';
export { defaultPipelineSettings, resolvePipelineSettings } from './pipeline/settings.js';
export type { OrderingMode, PipelineSettings } from './pipeline/settings.js';
export { ConnectionHandle, SinkHandle, SourceHandle } from './pipeline/connection.js';
export type { ConnectionOptions } from './pipeline/connection.js';
export { coreErrors } from './errors.js';
export { Router } from './router/router.js';
export type { MappingRoute, RouteResult, RouterOptions, RouterSink } from './router/router.js';
export type { MessageOverride } from './router/routeFilter.js';
export { CORE_SERVICE_IDS, createPluginContainer } from './plugins/container.js';
export type { CoreServiceInstances } from './plugins/container.js';
export { loadPlugins, pluginExports, resolvePluginSpec } from './plugins/loader.js';
export type { LoadPluginsOptions, LoadedPlugin } from './plugins/loader.js';
export { loadConfiguredPlugins } from './plugins/specs.js';
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
export { SluiceRuntime, runSluice } from './runtime.js';
export type {
  PipelineInfo,
  RunOptions,
  RunSummary,
  SinkInstanceInfo,
  SluiceRuntimeOptions,
} from './runtime.js';
export { createGroupSinks } from './groupSinks.js';
export { startAdminServer } from './admin/server.js';
export type { AdminServer, AdminServerOptions } from './admin/server.js';
export { EtlJobs } from './admin/etlJobs.js';
export { RuntimeAdmin } from './admin/runtimeAdmin.js';
export type { RuntimeAdminOptions } from './admin/runtimeAdmin.js';
export type { EtlJobState, EtlJobStatus, StartRefusal } from './admin/etlJobs.js';
export type {
  AdminEtlRequest,
  AdminRuntime,
  EtlLockLease,
  HealthCheck,
  InstanceIdentity,
  PartitionStatus,
  PipelineStatus,
  RuntimeStatus,
  SinkStatus,
  SwitchState,
  TaskLookup,
} from './admin/adminRuntime.js';
