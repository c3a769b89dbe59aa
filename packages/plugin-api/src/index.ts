/**
 * The one package a Sluice plugin author imports: the change model, `defineSink` /
 * `defineSource` and the instance contracts, the error vocabulary, the core services a plugin may
 * depend on, the properties schema subset and the dead-letter queue types.
 *
 * The reviewed surface is `api-report/plugin-api.api.md`: CI (`pnpm api:check`) fails when the
 * built declarations no longer match it, so every public change is deliberate (`pnpm api:update`
 * rewrites it; review the diff like code). Members tagged `@experimental` may still change within
 * API version 1.
 *
 * @packageDocumentation
 */
export type {
  ColumnMeta,
  ColumnValue,
  ChangeEvent,
  ChangeEventBase,
  DdlChangeEvent,
  DdlEventType,
  EventPosition,
  RowChangeEvent,
  RowEventType,
  RowImage,
} from './changeEvent.js';
export { comparePositions, currentImage } from './changeEvent.js';
export {
  ErrorCodes,
  FatalError,
  NotConnectedError,
  PermanentEventError,
  RetryableError,
  SinkClosedError,
  SluiceError,
  classifyError,
  isSluiceError,
} from './errors.js';
export type { ErrorCode, FailureClass } from './errors.js';
export { PLUGIN_API_VERSION, SINK_BRAND, SOURCE_BRAND, pluginKindOf } from './plugin.js';
export type { PluginKind, PluginMeta } from './plugin.js';
export type {
  AnySchema,
  Infer,
  ArraySchema,
  BooleanSchema,
  MapSchema,
  NumberSchema,
  ObjectSchema,
  PresentKeys,
  Schema,
  SchemaBase,
  Simplify,
  StringSchema,
} from './schema.js';
export type {
  DeadLetterBatch,
  DeadLetterCapability,
  DeadLetterContext,
  DeadLetterQueue,
  DeadLetterReader,
  DeadLetterRecord,
} from './deadLetter.js';
export { parseDeadLetterRecord } from './deadLetter.js';
export { EtlStreamGate } from './etlGate.js';
export { etlCondition, keysetAfterSql, keysetPageSql, quoteMysqlName, whereSql } from './etlSql.js';
export type { EtlCondition, KeysetPage } from './etlSql.js';
export { coreServices } from './services.js';
export type {
  Clock,
  Counter,
  Gauge,
  Histogram,
  HistogramSpec,
  InstrumentSpec,
  DataSourceOptions,
  DataSources,
  Logger,
  MetricLabels,
  Metrics,
  ResolvedDeps,
  ServiceDeps,
  ServiceRef,
} from './services.js';
export { APPLIED, allApplied, defineSink, failed } from './sink.js';
export type {
  EtlRequest,
  EtlResult,
  TargetCount,
  MappedTable,
  MappingCheckProblem,
  MappingFile,
  MappingOf,
  MappingSpec,
  MappingTablesContext,
  PropertiesOf,
  SinkContext,
  SinkDefinition,
  SinkDefinitionInput,
  SinkInstance,
  SinkOrdering,
  SinkRecord,
  WriteOutcome,
  WriteResult,
} from './sink.js';
export { defineSource } from './source.js';
export type {
  SourceBatch,
  SourceContext,
  SourceDefinition,
  SourceDefinitionInput,
  SourceHandler,
  SourceInstance,
  SourceMessage,
  SourceRunOptions,
} from './source.js';
export { JDBC_URL_FORMS, parseJdbcUrl, redactUrl } from './jdbcUrl.js';
export type { JdbcUrl, JdbcUrlResult } from './jdbcUrl.js';
