import type { ChangeEvent } from './changeEvent.js';
import { PLUGIN_API_VERSION, SINK_BRAND, type PluginMeta } from './plugin.js';
import type { Infer, ObjectSchema } from './schema.js';
import type { ResolvedDeps, ServiceDeps } from './services.js';

/** How strictly the core orders the events it hands one sink instance (DESIGN.md §3). */
export type SinkOrdering = 'per-key' | 'table' | 'partition';

/** A loaded mapping file that applies to an event (e.g. `rdb/mytest_user.yml`). */
export interface MappingFile<M = unknown> {
  /** Path of the file, relative to the configuration directory (e.g. `rdb/mytest_user.yml`). */
  readonly file: string;
  /** The file name, which is canal's task name in `/etl/{type}/{key}/{task}`. */
  readonly name: string;
  /** The validated content of the file (see {@link MappingSpec.schema}). */
  readonly config: M;
}

/**
 * One event to apply, with the mapping that selected it. `mapping` is `undefined` for sinks
 * without mapping files (such as `logger`). An event that matches several mappings of one sink
 * instance arrives as several records, one per mapping.
 */
export interface SinkRecord<M = unknown> {
  /** The change to apply. */
  readonly event: ChangeEvent;
  /** The mapping file that routed the event to this sink instance, if the sink has mappings. */
  readonly mapping: MappingFile<M> | undefined;
}

/**
 * The outcome of one record of a batch.
 *
 * - `applied`: the record's effect is in the target (durable once a later `flush` resolves).
 *   The core commits the source offset past it only after such a flush.
 * - `failed`: this record alone can never be applied. The core sends it to the dead-letter queue
 *   with `error.message` and goes on. Use a {@link PermanentEventError} (the error's class does not
 *   change the routing, but it documents intent). A transient failure must not be reported here:
 *   throw from `write` instead, so the whole batch is retried.
 */
export type WriteOutcome =
  { readonly status: 'applied' } | { readonly status: 'failed'; readonly error: Error };

/**
 * One outcome per record, in the order of the batch: `result[i]` is the outcome of `batch[i]`.
 *
 * An event left out is an error, never a success: a result shorter or longer than the batch is a
 * contract violation, and the core treats the whole batch as not applied (it retries it and
 * finally stops with a fatal error naming the sink). The contract suite checks this on every
 * write.
 */
export type WriteResult = readonly WriteOutcome[];

/** The outcome of a record that was applied. Frozen; share it freely. */
export const APPLIED: WriteOutcome = Object.freeze({ status: 'applied' });

/** The outcome of a record that can never be applied (it goes to the dead-letter queue). */
export function failed(error: Error): WriteOutcome {
  return Object.freeze({ status: 'failed', error });
}

/** A result saying every record of `batch` was applied. */
export function allApplied(batch: readonly unknown[]): WriteResult {
  return batch.map(() => APPLIED);
}

/** A full-sync request (`sluice etl`, `POST /etl/{type}/{key}/{task}`). */
export interface EtlRequest<M = unknown> {
  /** The mapping to sync, with its `etlCondition` and source data source key. */
  readonly mapping: MappingFile<M>;
  /** canal's `params`: values for the `{}` placeholders of the mapping's `etlCondition`. */
  readonly params: readonly string[];
  /** Called now and then (from the sink's own flow, never concurrently) with the rows done so far. */
  readonly onProgress?: (rowsDone: number) => void;
  /**
   * Called once, before the first row, with the number of source rows the sync will read, when
   * the sink can tell (for a progress bar's percentage and ETA).
   */
  readonly onTotal?: (rows: number) => void;
}

/**
 * @experimental See {@link SinkInstance.etl}.
 *
 * What {@link SinkInstance.count} answers: the number, and the fields canal-adapter's
 * `GET /count` answer carries besides it (`CommonRest#count`, behaviour reference §6.1): its rdb
 * adapter adds `targetTable` (the quoted target name), its es adapters add `esIndex`. A client
 * written for canal-adapter then reads the same keys.
 */
export interface TargetCount {
  /** Rows/documents in the target. */
  readonly count: number;
  /** Extra answer fields by name, such as `targetTable` or `esIndex`. */
  readonly fields?: Readonly<Record<string, string>>;
}

/** What a full sync did. */
export interface EtlResult {
  /** Rows written to the target. */
  readonly rows: number;
  /** One human-readable line per row or chunk that could not be written. */
  readonly errors: readonly string[];
}

/**
 * A running sink instance: one per `outerAdapters[]` entry. The core drives it; a sink never
 * calls the core back.
 *
 * Lifecycle: `create` (no I/O) → `connect` → `write`* / `flush`* → `flush` → `close`.
 *
 * Errors thrown from a method (other than per-record outcomes) mean:
 *
 * - {@link RetryableError}: transient; the core backs off exponentially (at least `waitMs`)
 *   and retries the same call, up to canal's `retries`.
 * - {@link NotConnectedError}: the connection is gone; the core calls `connect` again (with
 *   backoff), then retries the call.
 * - {@link FatalError}: nothing can go on (bad credentials, missing index, misconfiguration);
 *   the core stops the pipeline cleanly and exits non-zero with the message.
 * - {@link PermanentEventError} thrown from `write` (rather than reported per record): some
 *   record of the batch can never be applied but the sink cannot tell which; the core splits the
 *   batch and writes the halves one after the other until the record is alone, and dead-letters it.
 * - anything else: treated as retryable.
 *
 * @see docs/plugins.md for the same contract, in prose, with a worked example.
 */
export interface SinkInstance<M = unknown> {
  /**
   * Opens connections, checks the target exists, loads what the sink needs.
   *
   * Called once before the first `write`, and again after any call failed with
   * {@link NotConnectedError}. Never called concurrently with itself; other lanes' `write` calls
   * may still be running when a reconnect happens, and they may fail with
   * {@link NotConnectedError} too. Calling it on a connected instance must be harmless
   * (reconnect or no-op). Throw {@link RetryableError}/{@link NotConnectedError} to have the core retry
   * with backoff, {@link FatalError} when retrying cannot help (wrong password, no such table).
   *
   * @param signal - aborted at shutdown: give up and reject promptly.
   */
  connect(signal: AbortSignal): Promise<void>;

  /**
   * Applies a batch and reports one outcome per record (see {@link WriteResult}).
   *
   * Called many times, only after `connect` resolved. Records of one key always arrive in source
   * order, within a batch and across batches, and a key is never in two concurrent batches; but
   * **several batches may be in flight at once** (one per lane), so the instance must be safe
   * for concurrent `write` calls. Writes must be idempotent: delivery is at-least-once, so the
   * same records (or a replay from an earlier position) may arrive again and must converge on the
   * same target state (upserts, delete-by-key, versions from `event.position`).
   *
   * Resolve with a `failed` outcome for a record that can never be applied (constraint
   * violation, rejected document): that record goes to the dead-letter queue, the others
   * count as applied. Throw (see the interface's error list) when the whole batch failed.
   * After `close`, reject with {@link SinkClosedError}.
   *
   * @param batch - between 1 and the configured batch size of records; never mutate it.
   * @param signal - aborted at shutdown: finish or abandon promptly (an abandoned batch is
   *   retried after restart).
   */
  write(batch: readonly SinkRecord<M>[], signal: AbortSignal): Promise<WriteResult>;

  /**
   * Makes durable every record whose `write` had resolved when `flush` was called (sends buffered
   * requests, commits, fsyncs). May be a no-op for a sink whose `write` is already durable when it
   * resolves.
   *
   * Called before **every** commit of source offsets (about once per `commitIntervalMs` while
   * events flow, at revocation and at shutdown) and before `close`; the core commits only once it
   * resolved. Never concurrently with itself, but **`write` calls of other lanes may be running**:
   * records of writes still in flight need not be covered. A rejection means nothing is
   * committed past those records now; the core flushes again before its next commit. After
   * `close`, reject with {@link SinkClosedError}.
   */
  flush(signal: AbortSignal): Promise<void>;

  /**
   * Releases connections and handles. Idempotent: a second call resolves and does nothing.
   *
   * Called once at shutdown, after the last `flush`; also after a failed `connect`. The core
   * closes all sink instances in parallel and waits at most `sluice.pipeline.shutdownTimeoutMs`
   * for them: when `signal` aborts, give up on graceful teardown (destroy sockets) and resolve.
   * The core does not call `write`/`flush` after it; if something does, they reject with
   * {@link SinkClosedError}. Should not throw; an error is logged and ignored.
   *
   * @param signal - aborted when the shutdown deadline passes.
   */
  close(signal: AbortSignal): Promise<void>;

  /**
   * @experimental The admin API and `sluice etl` that call it are being built; the shape may
   * still change within API version 1.
   *
   * Full sync of one mapping from its source data source (`sluice etl`, `POST /etl/…`).
   * Optional: sinks without it answer "not supported". Called on demand, possibly while
   * `write` runs; must be idempotent like `write`. Throw {@link FatalError} for a mapping
   * that cannot be synced (no `etlCondition` data source), anything else for transient failure.
   */
  etl?(request: EtlRequest<M>, signal: AbortSignal): Promise<EtlResult>;

  /**
   * @experimental See {@link SinkInstance.etl}.
   *
   * Number of rows/documents in the mapping's target (`GET /count/{type}/{key}/{task}`).
   * Optional. Called on demand, possibly while `write` runs. A plain number is answered as
   * `{count}`; a {@link TargetCount} also names the target the way canal-adapter's answer does.
   */
  count?(mapping: MappingFile<M>, signal: AbortSignal): Promise<number | TargetCount>;

  /**
   * @experimental See {@link SinkInstance.etl}.
   *
   * Cheap probe used by `/health/ready`: resolves when the target answers, rejects with the
   * reason otherwise. Optional. Never called before `connect` resolved; may run concurrently
   * with `write`; called every few seconds, so it must not be expensive.
   */
  healthcheck?(signal: AbortSignal): Promise<void>;
}

/** What `create` receives. Nothing in it does I/O. */
export interface SinkContext<P, D extends ServiceDeps> {
  /** The instance key (`outerAdapters[].key`, or the generated one). Use it in log lines. */
  readonly key: string;
  /** The configured adapter name (`outerAdapters[].name`): the plugin's name or an alias. */
  readonly name: string;
  /** `outerAdapters[].hosts`, when set. */
  readonly hosts: string | undefined;
  /** `outerAdapters[].properties`, validated against `propertiesSchema`. */
  readonly properties: P;
  /** Absolute path of the configuration directory: resolve relative paths in properties here. */
  readonly configDir: string;
  /**
   * `canalAdapters[].instance` of the pipeline this instance serves (the core creates one sink
   * instance per `outerAdapters[]` entry of each group). Set by the core; absent when a sink is
   * created outside a pipeline (tests, tools).
   */
  readonly destination?: string;
  /** `groups[].groupId` of that pipeline; set by the core like {@link SinkContext.destination}. */
  readonly groupId?: string;
  /**
   * How many (destination, group) pipelines the configuration runs. Above 1, lines or series of
   * several pipelines mix in one output, so a sink that prints should say which one it is.
   */
  readonly pipelineCount?: number;
  /**
   * The services declared in `deps`, resolved, under the same keys. Reading a key that was not
   * declared throws `SLUICE_ERR_PLUGIN_DEPENDENCY_MISSING` naming the plugin and the service.
   */
  readonly deps: ResolvedDeps<D>;
}

/**
 * A source table a mapping applies to. `table` is `*` for every table of `database` (rdb
 * `mirrorDb`); `database` is `undefined` when neither the mapping nor its data source names one
 * (the mapping then matches that table in any database, as canal-adapter does).
 */
export interface MappedTable {
  readonly database: string | undefined;
  readonly table: string;
}

/** What {@link MappingSpec.tables} may look up. Pure lookups: no I/O. */
export interface MappingTablesContext {
  /**
   * The database named by the JDBC URL of `srcDataSources.<dataSourceKey>`, when there is one
   * (canal-adapter falls back to it when a mapping names no `database`).
   */
  defaultDatabase(dataSourceKey: string | undefined): string | undefined;
}

/**
 * A problem {@link MappingSpec.check} found in one mapping file. The core reports it with the
 * file, the line of `path` and the key path, like its own validation problems.
 */
export interface MappingCheckProblem {
  /** `error` stops `sluice start` (and fails `validate`); `warning` is reported only. */
  readonly severity: 'error' | 'warning';
  /** Key path inside the file, e.g. `['dbMapping', 'targetPk']`; `[]` for the file itself. */
  readonly path: readonly string[];
  /** A full sentence saying what is wrong. */
  readonly message: string;
  /** What to write instead, when there is an obvious fix. */
  readonly suggestion?: string;
}

/**
 * Where a sink's mapping files live, what they look like and which tables each applies to. The
 * sink owns its mapping format entirely: the core only finds the files, validates them against
 * `schema` (relaxed keys, defaults, file:line problems), asks `tables` which source tables a
 * file applies to (for routing and `validate`) and runs `check`. canal's header keys
 * (`dataSourceKey`, `destination`, `groupId`, `outerAdapterKey`) must be in `schema`; the core
 * reads them for ownership (canal-adapter-behaviour.md §3).
 *
 * @typeParam M - the content of one file after validation (inferred from `schema` by
 *   {@link defineSink}).
 */
export interface MappingSpec<M = Readonly<Record<string, unknown>>> {
  /**
   * Directories under the configuration directory holding this sink's mapping files, e.g.
   * `['rdb']`. When one definition has several names (`es7`, `es8`), the directory named after
   * the configured name is used.
   */
  readonly directories: readonly string[];
  /** Schema of one mapping file; the core validates every file against it at startup. */
  readonly schema: ObjectSchema;
  /**
   * The source tables one validated file applies to. Called once per file at startup, on every
   * reload of the file, and by `validate`; synchronously, never concurrently, after `schema`
   * validation succeeded. Pure: no I/O. An empty result means the file routes nothing (the core
   * warns). Throwing is a bug reported against the file.
   */
  tables(mapping: M, context: MappingTablesContext): readonly MappedTable[];
  /**
   * Checks beyond the schema ("`table` is required unless `mirrorDb`", unsupported SQL), one
   * problem per finding. Called like `tables`, before it; pure, synchronous. Optional.
   */
  check?(mapping: M): readonly MappingCheckProblem[];
}

/** What a plugin author passes to {@link defineSink}. */
export interface SinkDefinitionInput<P, M, D extends ServiceDeps> extends PluginMeta {
  /**
   * The API version the plugin was written for. Optional: {@link defineSink} stamps the version
   * of the `@sluice/plugin-api` it was compiled against; any other value is a type error.
   */
  readonly apiVersion?: typeof PLUGIN_API_VERSION;
  /**
   * Schema of `outerAdapters[].properties`; the core validates them before `create`, and the
   * type of `context.properties` is inferred from it ({@link Infer}).
   */
  readonly propertiesSchema?: ObjectSchema;
  /** Mapping files, for sinks that have them: the sink owns their format. */
  readonly mappings?: MappingSpec<M>;
  /**
   * True when applying only the last event per key of a batch gives the same result as applying
   * all of them (final image wins, insert-then-delete becomes the delete), so the core may
   * coalesce.
   * Default false (every event is delivered).
   */
  readonly coalescing?: boolean;
  /**
   * The order this sink needs by default (operators may still ask for a stricter one):
   * `per-key` (default) — events of one row in source order, different rows in parallel;
   * `table` — one lane per table; `partition` — strictly sequential, canal-adapter's behaviour
   * (e.g. a sink that prints, or a target with foreign keys between synced tables).
   */
  readonly ordering?: SinkOrdering;
  /**
   * Core services this plugin needs, as a map of local name → ref from `coreServices`. Resolved
   * by the core before `create`; an unknown service is an error naming the plugin and the service.
   */
  readonly deps?: D;
  /**
   * Builds an instance for one `outerAdapters[]` entry.
   *
   * Called once per configured instance at startup (and again on a configuration reload), on the
   * main flow, never concurrently. Must not do I/O (connections are made in `connect`): it may
   * only read `context` and build objects. Throw {@link FatalError} (or any error) for
   * properties that cannot work; startup then fails with the message.
   */
  create(context: SinkContext<P, D>): SinkInstance<M>;
}

/** A branded sink definition, as the registry expects it. Produced only by {@link defineSink}. */
export interface SinkDefinition<
  P = unknown,
  M = unknown,
  D extends ServiceDeps = ServiceDeps,
> extends SinkDefinitionInput<P, M, D> {
  /** The brand the registry recognises. */
  readonly $$type: typeof SINK_BRAND;
  /** The plugin API version the definition was built for. */
  readonly apiVersion: typeof PLUGIN_API_VERSION;
  /** Whether the core may coalesce per key (false unless the input said true). */
  readonly coalescing: boolean;
  /** The declared dependencies (`{}` when none). */
  readonly deps: D;
}

/** `properties`' type for a sink or source declared with schema `S` (free text map without one). */
export type PropertiesOf<S> = S extends ObjectSchema ? Infer<S> : Readonly<Record<string, string>>;

/** One mapping file's content for a mapping schema `S`. */
export type MappingOf<S> = S extends ObjectSchema ? Infer<S> : unknown;

/**
 * Declares a sink plugin. The result is what a plugin package exports (as its default export or
 * a named one). Pure: no I/O, no registration side effect; the returned object is frozen.
 *
 * The types of `context.properties` and of a mapping file's content are inferred from
 * `propertiesSchema` and `mappings.schema` ({@link Infer}), so the schema is declared once and is
 * both the validator and the type. Write the schemas inline (or `as const`).
 *
 * @typeParam PS - the properties schema (inferred).
 * @typeParam MS - the mapping schema (inferred).
 * @typeParam D - the declared services (inferred from `deps`).
 */
export function defineSink<
  const PS extends ObjectSchema | undefined = undefined,
  const MS extends ObjectSchema | undefined = undefined,
  D extends ServiceDeps = {},
>(
  input: SinkDefinitionInput<PropertiesOf<PS>, MappingOf<MS>, D> & {
    readonly propertiesSchema?: PS;
    readonly mappings?: MappingSpec<MappingOf<MS>> & { readonly schema: MS };
  },
): SinkDefinition<PropertiesOf<PS>, MappingOf<MS>, D> {
  return Object.freeze({
    ...input,
    $$type: SINK_BRAND,
    apiVersion: PLUGIN_API_VERSION,
    coalescing: input.coalescing ?? false,
    deps: input.deps ?? ({} as D),
  });
}
