import { PLUGIN_API_VERSION, SOURCE_BRAND, type PluginMeta } from './plugin.js';
import type { DeadLetterCapability } from './deadLetter.js';
import type { ObjectSchema } from './schema.js';
import type { ResolvedDeps, ServiceDeps } from './services.js';

/** One raw canal message as the source read it. */
export interface SourceMessage {
  /**
   * Offset within the partition, as a decimal string (may exceed 2^53). Strictly increasing
   * within one incarnation of a partition (from `assigned` to `revoked`); gaps are allowed.
   *
   * **Restarting offsets.** The core drops a message whose offset is not above the last one it
   * accepted for the partition (a duplicate after a re-fetch). A transport whose offsets restart
   * (RabbitMQ delivery tags start at 1 on every channel, a canal batch id after a server restart)
   * must therefore, before delivering a restarted sequence, end the partition's incarnation with
   * `handler.revoked([p])` and start a new one with `handler.assigned([p])`, or map its offsets to
   * a sequence that never goes back. Redeliveries are then applied again (writes are idempotent),
   * never dropped as duplicates.
   */
  readonly offset: string;
  /** The message body: FlatMessage JSON text, or protobuf bytes. Decoded by the core. */
  readonly payload: Uint8Array | string;
  /** When the message was written to the source (ms since the epoch), when known. */
  readonly timestamp?: number;
}

/** Consecutive messages of one partition, in offset order. */
export interface SourceBatch {
  /** The partition: the unit of order (a Kafka partition, a file, a queue). */
  readonly partition: string;
  /** At least one message, offsets increasing. */
  readonly messages: readonly SourceMessage[];
}

/** How the core receives messages from a source. Implemented by the core, called by the source. */
export interface SourceHandler {
  /**
   * Takes a batch. Batches of one partition arrive in order and one at a time: the source waits
   * for the returned promise before delivering that partition's next batch (this is how the core
   * applies back-pressure). Batches of different partitions may be delivered concurrently.
   *
   * Resolves when the batch is accepted (not necessarily applied: applied offsets come back
   * through {@link SourceInstance.commit}). Rejects with a fatal error when the pipeline must
   * stop; the source then stops delivering and `run` rejects with that error.
   */
  deliver(batch: SourceBatch): Promise<void>;
  /** Partitions were assigned to this process. Awaited before their first batch. */
  assigned?(partitions: readonly string[]): Promise<void>;
  /**
   * Partitions are being taken away. Resolves once in-flight work for them has been finished
   * (and committed) or abandoned; the source gives them up after that. A `deliver` of those
   * partitions may still be pending when it is called (held by back-pressure): the handler must
   * let it resolve once the work is finished or abandoned, and the source must not wait for it
   * before calling `revoked`. No new batch of those partitions is delivered after the call.
   */
  revoked?(partitions: readonly string[]): Promise<void>;
  /**
   * The source's window of unacknowledged messages of `partition` is nearly full (RabbitMQ's
   * prefetch, canal tcp's un-acked batches): commit as soon as anything more is committable,
   * instead of waiting out `sluice.pipeline.commitIntervalMs`. Without it such a source stalls
   * until the next interval once its window is full, so its throughput is capped at about one
   * window per interval. A hint: the commit still covers only what was applied or dead-lettered,
   * and the core ignores it for a partition it does not hold. Synchronous and cheap; call it
   * when the window crosses the threshold (e.g. after a `deliver`), from any flow. Optional on
   * the handler (call it as `handler.requestCommit?.(p)`).
   */
  requestCommit?(partition: string): void;
}

/** Options of {@link SourceInstance.run}. */
export interface SourceRunOptions {
  /** Deliver what is available now, then return (`sluice start --once`). */
  readonly once: boolean;
  /** Aborted at shutdown: stop delivering and return (resolve, do not reject). */
  readonly signal: AbortSignal;
}

/**
 * A running source: yields partitions of ordered canal messages and accepts commits.
 *
 * Lifecycle: `create` (no I/O) → `connect` → `run` (long-running) with `commit` calls while it
 * runs and after → `close`.
 *
 * Errors: {@link RetryableError} / {@link NotConnectedError} from `connect` are retried with
 * backoff; {@link FatalError} (or a rejected `run`) stops the process with the message.
 */
export interface SourceInstance {
  /**
   * Connects (joins the consumer group, opens the file). Called once before `run`; retried by
   * the core on retryable errors. Must not deliver anything.
   */
  connect(signal: AbortSignal): Promise<void>;
  /**
   * Delivers batches to `handler` until the signal aborts (resolve) or, with `once`, until what
   * was available at the start has been delivered. Called once per instance. Resumes each
   * partition from its last committed offset. Waits for each `deliver` of a partition before the
   * next one of that partition. Rejects when the source fails for good or `deliver` rejected.
   */
  run(handler: SourceHandler, options: SourceRunOptions): Promise<void>;
  /**
   * Every message of `partition` before `nextOffset` has been applied or dead-lettered: persist
   * it (a Kafka offset commit) so a restart resumes there. Called by the core with increasing
   * offsets per partition, possibly concurrently for different partitions, during and after
   * `run`. A failure is retried at the next commit; losing a commit only causes a replay.
   */
  commit(partition: string, nextOffset: string): Promise<void>;
  /**
   * A human-readable place of a message for log lines and dead letters, e.g.
   * `topic orders partition 3 offset 1234` or `file a.jsonl line 12`. Optional (the core falls
   * back to `partition P offset O`). Synchronous, pure, called from any flow.
   */
  locate?(partition: string, offset: string): string;
  /**
   * Releases everything. Idempotent; called once after `run` returned (or failed), also after a
   * `connect` that never succeeded. Give up on graceful teardown when `signal` aborts (the
   * shutdown deadline passed) and resolve.
   */
  close(signal: AbortSignal): Promise<void>;
}

/** What a source's `create` receives. Nothing in it does I/O. */
export interface SourceContext<D extends ServiceDeps> {
  /** `canalAdapters[].instance`: the Kafka topic, canal destination, queue or file label. */
  readonly instance: string;
  /** `groups[].groupId`: the consumer group. */
  readonly groupId: string;
  /**
   * `canal.conf.consumerProperties`, verbatim text after placeholder resolution. The map is
   * shared by canal's MQ client settings and passes through keys the schema does not list (Kafka
   * takes every `kafka.*` key), so it stays untyped; `propertiesSchema` validates the keys the
   * source reads (`sluice validate` reports their problems with file and line).
   */
  readonly properties: Readonly<Record<string, string>>;
  /** The configuration directory (relative paths in properties resolve against it). */
  readonly configDir: string;
  /** The services declared in `deps`, resolved (undeclared keys throw, naming the service). */
  readonly deps: ResolvedDeps<D>;
}

/** What a plugin author passes to {@link defineSource}. */
export interface SourceDefinitionInput<D extends ServiceDeps> extends PluginMeta {
  /** The API version the plugin was written for; stamped by {@link defineSource} when omitted. */
  readonly apiVersion?: typeof PLUGIN_API_VERSION;
  /** Schema of the `consumerProperties` this source reads. */
  readonly propertiesSchema?: ObjectSchema;
  /** Core services this plugin needs (local name → ref from `coreServices`). */
  readonly deps?: D;
  /**
   * Builds an instance for one `canalAdapters[].groups[]` entry. Called once per group at
   * startup, never concurrently. Must not do I/O.
   */
  create(context: SourceContext<D>): SourceInstance;
  /**
   * The transport's own dead-letter queue and its reader (a `<topic>.dlq` Kafka topic, a
   * RabbitMQ queue), used when `sluice.deadLetter.type` names this source's mode. Built from the
   * same (validated) properties as the source, so security settings apply. Optional: without it
   * only the `file` dead-letter queue is available with this source.
   */
  readonly deadLetters?: DeadLetterCapability;
}

/** A branded source definition. Produced only by {@link defineSource}. */
export interface SourceDefinition<
  D extends ServiceDeps = ServiceDeps,
> extends SourceDefinitionInput<D> {
  /** The brand the registry recognises. */
  readonly $$type: typeof SOURCE_BRAND;
  /** The plugin API version the definition was built for. */
  readonly apiVersion: typeof PLUGIN_API_VERSION;
  /** The declared dependencies (`{}` when none). */
  readonly deps: D;
}

/**
 * Declares a source plugin (its name is canal's `canal.conf.mode`). Pure; the result is frozen.
 */
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
