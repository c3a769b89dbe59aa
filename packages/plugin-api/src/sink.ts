import type { ChangeEvent } from './changeEvent.js';
import { PLUGIN_API_VERSION, SINK_BRAND, type PluginMeta } from './plugin.js';
import type { ObjectSchema } from './schema.js';
import type { ResolvedDeps, ServiceDeps } from './services.js';

/** A loaded mapping file that applies to an event (e.g. `rdb/mytest_user.yml`). */
export interface MappingFile<M = unknown> {
  /** Path of the file, relative to the configuration directory (e.g. `rdb/mytest_user.yml`). */
  readonly file: string;
  /** The file name, which is canal's task name in `/etl/{type}/{key}/{task}`. */
  readonly name: string;
  /** The validated content of the file. */
  readonly config: M;
}

/** One event to apply, with the mapping that selected it (undefined for sinks without mappings). */
export interface SinkRecord<M = unknown> {
  readonly event: ChangeEvent;
  readonly mapping: MappingFile<M> | undefined;
}

/** The outcome of one record of a batch. */
export type WriteOutcome =
  | { readonly status: 'applied' }
  | { readonly status: 'failed'; readonly error: Error };

/**
 * One outcome per record, in the order of the batch. A result shorter or longer than the batch is
 * a contract violation: the core treats every record of that batch as not applied and retries.
 */
export type WriteResult = readonly WriteOutcome[];

/** The outcome every record of a batch shares when the whole batch was applied. */
export const APPLIED: WriteOutcome = Object.freeze({ status: 'applied' });

/** A result saying every record of `batch` was applied. */
export function allApplied(batch: readonly unknown[]): WriteResult {
  return batch.map(() => APPLIED);
}

/** A full-sync request (`sluice etl`, `POST /etl/{type}/{key}/{task}`). */
export interface EtlRequest<M = unknown> {
  readonly mapping: MappingFile<M>;
  /** canal's `params`: values for the `{}` placeholders of the mapping's `etlCondition`. */
  readonly params: readonly string[];
  /** Called now and then with the number of rows done so far. */
  readonly onProgress?: (rowsDone: number) => void;
}

/** What a full sync did. */
export interface EtlResult {
  readonly rows: number;
  readonly errors: readonly string[];
}

/**
 * A running sink. The core drives it:
 *
 * - `connect` is called once before the first write, and again after a
 *   {@link NotConnectedError}; the core retries it with backoff.
 * - `write` is called with batches from one lane at a time per key, but **several batches may be
 *   in flight at once** (one per lane): implementations must be safe for concurrent `write` calls.
 *   Every record gets an outcome. Writes must be idempotent: the same batch applied twice leaves
 *   the same state (delivery is at-least-once).
 * - `flush` makes everything written so far durable; called before offsets are committed at
 *   shutdown and before `close`.
 * - `close` is idempotent; `write`/`flush` after `close` reject with {@link SinkClosedError}.
 *
 * Throwing from `write` means the whole batch failed: {@link RetryableError} (back off and retry),
 * {@link NotConnectedError} (reconnect, then retry), {@link FatalError} (stop cleanly); any other
 * error is retried. A failure of one record only goes into its outcome
 * ({@link PermanentEventError} → dead-letter queue).
 */
export interface SinkInstance<M = unknown> {
  connect(signal: AbortSignal): Promise<void>;
  write(batch: readonly SinkRecord<M>[], signal: AbortSignal): Promise<WriteResult>;
  flush(signal: AbortSignal): Promise<void>;
  close(): Promise<void>;
  /** Full sync of one mapping from its source data source. */
  etl?(request: EtlRequest<M>, signal: AbortSignal): Promise<EtlResult>;
  /** Number of rows/documents in the mapping's target (`GET /count/{type}/{key}/{task}`). */
  count?(mapping: MappingFile<M>, signal: AbortSignal): Promise<number>;
  /** Cheap probe used by `/health/ready`; never called before `connect`. */
  healthcheck?(signal: AbortSignal): Promise<void>;
}

/** What `create` receives. Nothing in it does I/O. */
export interface SinkContext<P, D extends ServiceDeps> {
  /** The instance key (`outerAdapters[].key`, or the generated one). */
  readonly key: string;
  /** The configured adapter name (`outerAdapters[].name`). */
  readonly name: string;
  /** `outerAdapters[].hosts`, when set. */
  readonly hosts: string | undefined;
  /** `outerAdapters[].properties`, validated against `propertiesSchema`. */
  readonly properties: P;
  /** The declared services, resolved. */
  readonly deps: ResolvedDeps<D>;
}

/** Where a sink's mapping files live and what they look like. */
export interface MappingSpec {
  /**
   * Directories under the configuration directory holding this sink's mapping files, e.g.
   * `['rdb']`. When one definition has several names (`es7`, `es8`), the directory named after
   * the configured name is used.
   */
  readonly directories: readonly string[];
  /** Schema of one mapping file. */
  readonly schema: ObjectSchema;
}

/** What a plugin author passes to {@link defineSink}. */
export interface SinkDefinitionInput<P, M, D extends ServiceDeps> extends PluginMeta {
  /** The API version the plugin was written for; must be {@link PLUGIN_API_VERSION}. */
  readonly apiVersion?: typeof PLUGIN_API_VERSION;
  /** Schema of `outerAdapters[].properties`. */
  readonly propertiesSchema?: ObjectSchema;
  /** Mapping files, for sinks that have them. */
  readonly mappings?: MappingSpec;
  /**
   * True when applying only the last event per key of a batch gives the same result as applying
   * all of them (final image wins, insert-then-delete cancels). Default false.
   */
  readonly coalescing?: boolean;
  /** Core services this plugin needs. */
  readonly deps?: D;
  /** Builds an instance. Must not do I/O: connections are made in `connect`. */
  create(context: SinkContext<P, D>): SinkInstance<M>;
}

/** A branded sink definition, as the registry expects it. */
export interface SinkDefinition<P = unknown, M = unknown, D extends ServiceDeps = ServiceDeps>
  extends SinkDefinitionInput<P, M, D> {
  readonly $$type: typeof SINK_BRAND;
  readonly apiVersion: typeof PLUGIN_API_VERSION;
  readonly coalescing: boolean;
  readonly deps: D;
}

/** Declares a sink plugin. The result is what a plugin package exports. */
export function defineSink<P = Record<string, string>, M = unknown, D extends ServiceDeps = {}>(
  input: SinkDefinitionInput<P, M, D>,
): SinkDefinition<P, M, D> {
  return Object.freeze({
    ...input,
    $$type: SINK_BRAND,
    apiVersion: PLUGIN_API_VERSION,
    coalescing: input.coalescing ?? false,
    deps: input.deps ?? ({} as D),
  });
}
