import { PLUGIN_API_VERSION, SOURCE_BRAND, type PluginMeta } from './plugin.js';
import type { ObjectSchema } from './schema.js';
import type { ResolvedDeps, ServiceDeps } from './services.js';

/** One raw canal message as the source read it. */
export interface SourceMessage {
  /** Offset within the partition, as a decimal string. Strictly increasing. */
  readonly offset: string;
  /** The message body: FlatMessage JSON text, or protobuf bytes. */
  readonly payload: Uint8Array | string;
  /** When the message was written to the source (ms since the epoch), when known. */
  readonly timestamp?: number;
}

/** Consecutive messages of one partition. */
export interface SourceBatch {
  readonly partition: string;
  readonly messages: readonly SourceMessage[];
}

/** How the core receives messages from a source. */
export interface SourceHandler {
  /**
   * Takes a batch. Batches of one partition arrive in order and one at a time: the source waits
   * for the returned promise before delivering that partition's next batch (this is how the core
   * applies back-pressure). Batches of different partitions may be delivered concurrently.
   */
  deliver(batch: SourceBatch): Promise<void>;
  /** Partitions were assigned to this process (before their first batch). */
  assigned?(partitions: readonly string[]): Promise<void>;
  /**
   * Partitions are being taken away. Resolve once in-flight work for them has been finished
   * (and committed) or abandoned; the source then gives them up.
   */
  revoked?(partitions: readonly string[]): Promise<void>;
}

/** Options of {@link SourceInstance.run}. */
export interface SourceRunOptions {
  /** Deliver what is available now, then return (`sluice start --once`). */
  readonly once: boolean;
  /** Aborted at shutdown: stop delivering and return. */
  readonly signal: AbortSignal;
}

/**
 * A running source: yields ordered partitions of canal messages and accepts commits.
 *
 * `commit(partition, offset)` says every message of the partition before `offset` has been
 * applied or dead-lettered; the source persists it (a Kafka offset commit) and resumes from it
 * after a restart. The core calls it with increasing offsets per partition.
 */
export interface SourceInstance {
  connect(signal: AbortSignal): Promise<void>;
  run(handler: SourceHandler, options: SourceRunOptions): Promise<void>;
  commit(partition: string, nextOffset: string): Promise<void>;
  close(): Promise<void>;
}

/** What `create` receives. */
export interface SourceContext<D extends ServiceDeps> {
  /** `canalAdapters[].instance`: the Kafka topic, canal destination, queue or file label. */
  readonly instance: string;
  /** `groups[].groupId`: the consumer group. */
  readonly groupId: string;
  /** `canal.conf.consumerProperties`, verbatim. */
  readonly properties: Readonly<Record<string, string>>;
  /** The configuration directory (relative paths in properties resolve against it). */
  readonly configDir: string;
  /** The declared services, resolved. */
  readonly deps: ResolvedDeps<D>;
}

/** What a plugin author passes to {@link defineSource}. */
export interface SourceDefinitionInput<D extends ServiceDeps> extends PluginMeta {
  readonly apiVersion?: typeof PLUGIN_API_VERSION;
  /** Schema of the `consumerProperties` this source reads. */
  readonly propertiesSchema?: ObjectSchema;
  readonly deps?: D;
  /** Builds an instance without I/O. */
  create(context: SourceContext<D>): SourceInstance;
}

/** A branded source definition. */
export interface SourceDefinition<D extends ServiceDeps = ServiceDeps>
  extends SourceDefinitionInput<D> {
  readonly $$type: typeof SOURCE_BRAND;
  readonly apiVersion: typeof PLUGIN_API_VERSION;
  readonly deps: D;
}

/** Declares a source plugin (the name is canal's `canal.conf.mode`). */
export function defineSource<D extends ServiceDeps = {}>(
  input: SourceDefinitionInput<D>,
): SourceDefinition<D> {
  return Object.freeze({
    ...input,
    $$type: SOURCE_BRAND,
    apiVersion: PLUGIN_API_VERSION,
    deps: input.deps ?? ({} as D),
  });
}
