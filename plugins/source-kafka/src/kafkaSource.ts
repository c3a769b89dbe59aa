import {
  type Admin,
  type Consumer,
  type EachBatchPayload,
  type Kafka,
  type KafkaMessage,
} from 'kafkajs';
import {
  FatalError,
  NotConnectedError,
  RetryableError,
  coreServices,
  defineSource,
  type Gauge,
  type Logger,
  type SourceHandler,
  type SourceInstance,
  type SourceMessage,
  type SourceRunOptions,
} from '@sluice/plugin-api';
import {
  authenticationMessage,
  createKafka,
  errorMessage,
  isAuthenticationFailure,
  isConnectionFailure,
  isRebalancing,
  kafkaErrorType,
  missingTopicMessage,
  untilAborted,
} from './kafkaClient.js';
import { KafkaDeadLetterQueue, deadLetterOptions, deadLetterTopic } from './deadLetterQueue.js';
import { KafkaDeadLetterReader } from './deadLetterReader.js';
import { kafkaSourceOptions, type KafkaSourceOptions } from './options.js';
import { ASSIGNER_PROTOCOLS, subscriptionAwareAssigner } from './rangeAssigner.js';

/** Labels of {@link OFFSET_LAG}. */
type OffsetLagLabel = 'topic' | 'groupId' | 'partition';

/**
 * Consumer offset lag: messages in the partition (its high watermark) not yet handed to the
 * pipeline. Set after each delivered chunk; with `sluice_lag_seconds` (time behind the binlog)
 * it tells "Kafka holds a backlog" from "the sinks are slow".
 */
const OFFSET_LAG = {
  name: 'kafka_consumer_offset_lag',
  help: 'Messages between the next offset Sluice reads and the high watermark, per topic, group and partition.',
  unit: 'messages',
  labelNames: ['topic', 'groupId', 'partition'],
} as const;

/** What this source knows about one partition it owns. */
interface PartitionState {
  readonly id: number;
  /** False once revocation started (or before the partition was handed to the handler). */
  active: boolean;
  /** Deliveries not yet resolved. */
  readonly inflight: Set<Promise<void>>;
  /** Next offset to deliver (last delivered + 1), once something was delivered. */
  delivered: bigint | undefined;
  /** Where consumption starts (committed offset or the reset position), for `once`. */
  start: bigint | undefined;
  /** Our last successful commit: messages below it were applied and are never delivered again. */
  floor: bigint | undefined;
  /** A commit that failed because the group was rebalancing; retried if the partition stays ours. */
  pendingCommit: bigint | undefined;
}

const maxBigInt = (a: bigint | undefined, b: bigint): bigint => (a === undefined || b > a ? b : a);

/** A promise with its settle functions exposed. */
function deferred(): { promise: Promise<void>; resolve: () => void; reject: (e: unknown) => void } {
  let resolve!: () => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<void>((res, rej) => ((resolve = res), (reject = rej)));
  promise.catch(() => {});
  return { promise, resolve, reject };
}

/**
 * A Kafka consumer-group member for one topic. Offsets are committed only through
 * {@link KafkaSource.commit}; rebalances are surfaced as `revoked`/`assigned` calls.
 */
export class KafkaSource implements SourceInstance {
  readonly #o: KafkaSourceOptions;
  readonly #log: Logger;
  /** `kafka_consumer_offset_lag`: high watermark minus the next offset to deliver, per partition. */
  readonly #offsetLag: Gauge<OffsetLagLabel> | undefined;
  #kafka: Kafka | undefined;
  #admin: Admin | undefined;
  #consumer: Consumer | undefined;
  #partitionCount = 1;
  #handler: SourceHandler | undefined;
  #owned = new Map<number, PartitionState>();
  /** Assignment bookkeeping (revoked/assigned calls); every delivery waits for it. */
  #ready: Promise<void> = Promise.resolve();
  #joined = false;
  #revoking: Promise<void> | undefined;
  #runDone = deferred();
  #running = false;
  #stopping = false;
  #failure: unknown;
  #once: { highs: Map<number, bigint>; lows: Map<number, bigint> } | undefined;
  #closing: Promise<void> | undefined;
  #heartbeat: (() => Promise<void>) | undefined;
  #heartbeatTimer: NodeJS.Timeout | undefined;

  constructor(options: KafkaSourceOptions, logger: Logger, offsetLag?: Gauge<OffsetLagLabel>) {
    this.#o = options;
    this.#log = logger.child({ topic: options.topic, groupId: options.groupId });
    this.#offsetLag = offsetLag;
  }

  /** A human-readable position, for log lines and dead-letter records. */
  locate(partition: string, offset: string): string {
    return `topic "${this.#o.topic}" partition ${partition} offset ${offset}`;
  }

  async connect(signal: AbortSignal): Promise<void> {
    const o = this.#o;
    const where = `Kafka at ${o.brokers.join(',')}`;
    for (const key of o.ignored)
      this.#log.warn(`Ignoring ${key}: not a setting the Kafka source understands.`);
    for (const note of o.notes) this.#log.warn(note);
    this.#kafka = createKafka(o, this.#log);
    this.#admin = this.#kafka.admin();
    try {
      await this.#admin.connect();
      if (signal.aborted) return;
      const metadata = await this.#admin
        .fetchTopicMetadata({ topics: [o.topic] })
        .catch((error: unknown) => {
          if (kafkaErrorType(error) === 'UNKNOWN_TOPIC_OR_PARTITION')
            throw new FatalError(missingTopicMessage(o.topic, o), { cause: error });
          throw error;
        });
      this.#partitionCount = metadata.topics[0]?.partitions.length ?? 1;
      this.#consumer = this.#kafka.consumer({
        groupId: o.groupId,
        sessionTimeout: o.sessionTimeout,
        rebalanceTimeout: o.rebalanceTimeout,
        heartbeatInterval: o.heartbeatInterval,
        maxBytesPerPartition: o.maxBytesPerPartition,
        maxBytes: o.maxBytes,
        minBytes: o.minBytes,
        maxWaitTimeInMs: o.maxWaitTimeInMs,
        readUncommitted: o.readUncommitted,
        metadataMaxAge: o.metadataMaxAge,
        allowAutoTopicCreation: false,
        // kafkajs' default assigner ignores the members' subscriptions (see rangeAssigner.ts).
        partitionAssigners: ASSIGNER_PROTOCOLS.map((name) =>
          subscriptionAwareAssigner(name, (topics) => this.#partitionsOf(topics), this.#log),
        ),
        retry: { initialRetryTime: o.retryBackoff, retries: 5 },
        ...(o.rackId ? { rackId: o.rackId } : {}),
      });
      await this.#consumer.connect();
      await this.#consumer.subscribe({
        topic: o.topic,
        fromBeginning: o.autoOffsetReset === 'earliest',
      });
    } catch (error) {
      await this.#disconnect();
      if (error instanceof FatalError) throw error;
      const message = `Cannot consume topic "${o.topic}" from ${where}: ${
        isAuthenticationFailure(error) ? authenticationMessage(o, error) : errorMessage(error)
      }`;
      // Unreachable brokers may come up (the core retries connect); anything else will not.
      throw isConnectionFailure(error)
        ? new NotConnectedError(message, { cause: error })
        : new FatalError(message, { cause: error });
    }
    this.#log.info('Connected to Kafka.', {
      brokers: o.brokers.join(','),
      partitions: this.#partitionCount,
    });
  }

  async run(handler: SourceHandler, options: SourceRunOptions): Promise<void> {
    const consumer = this.#consumer;
    if (!consumer)
      throw new FatalError('The Kafka source is not connected (connect must succeed before run).');
    if (this.#running) throw new FatalError('The Kafka source is already running.');
    this.#running = true;
    this.#handler = handler;
    const { signal } = options;
    if (signal.aborted) return;
    if (options.once) {
      const offsets = await this.#admin!.fetchTopicOffsets(this.#o.topic);
      this.#once = {
        highs: new Map(offsets.map((p) => [p.partition, BigInt(p.high)])),
        lows: new Map(offsets.map((p) => [p.partition, BigInt(p.low)])),
      };
    }
    const onAbort = () => this.#runDone.resolve();
    signal.addEventListener('abort', onAbort, { once: true });
    consumer.on(consumer.events.GROUP_JOIN, (event) =>
      this.#onJoin(event.payload.memberAssignment[this.#o.topic] ?? []),
    );
    consumer.on(consumer.events.REBALANCING, () => {
      if (this.#joined) void this.#revokeAll('the group is rebalancing');
    });
    consumer.on(consumer.events.CRASH, (event) => {
      if (event.payload.restart) {
        this.#log.warn('The Kafka consumer failed; it restarts and rejoins the group.', {
          error: errorMessage(event.payload.error),
        });
      } else {
        this.#fail(
          new FatalError(
            `The Kafka consumer of topic "${this.#o.topic}" stopped: ${
              isAuthenticationFailure(event.payload.error)
                ? authenticationMessage(this.#o, event.payload.error)
                : errorMessage(event.payload.error)
            }`,
            { cause: event.payload.error },
          ),
        );
      }
    });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: Math.max(1, Math.min(this.#partitionCount, 64)),
      eachBatch: (payload) => this.#eachBatch(payload),
    });
    try {
      await this.#runDone.promise;
    } finally {
      signal.removeEventListener('abort', onAbort);
      this.#stopping = true;
      this.#stopHeartbeat();
      try {
        consumer.pause([{ topic: this.#o.topic }]);
      } catch {
        // not running any more
      }
      await Promise.allSettled([...this.#owned.values()].flatMap((s) => [...s.inflight]));
    }
  }

  async commit(partition: string, nextOffset: string): Promise<void> {
    const id = Number(partition);
    const state = this.#owned.get(id);
    const offset = BigInt(nextOffset);
    if (!state || !this.#consumer || this.#closing) {
      this.#log.debug('Dropped a commit for a partition this process does not own.', {
        partition,
        offset: nextOffset,
      });
      return;
    }
    try {
      await this.#consumer.commitOffsets([
        { topic: this.#o.topic, partition: id, offset: nextOffset },
      ]);
      if (this.#owned.get(id) === state) state.floor = maxBigInt(state.floor, offset);
    } catch (error) {
      if (this.#owned.get(id) !== state) return; // lost meanwhile: dropped
      if (isRebalancing(error)) {
        state.pendingCommit = maxBigInt(state.pendingCommit, offset);
        this.#log.debug('Commit deferred: the group is rebalancing.', {
          partition,
          offset: nextOffset,
        });
        return;
      }
      // The core retries with the next commit; until then a restart would only replay.
      throw new RetryableError(
        `Committing offset ${nextOffset} of topic "${this.#o.topic}" partition ${partition} failed: ${errorMessage(error)}`,
        { cause: error },
      );
    }
  }

  /**
   * Leaves the group and disconnects. Idempotent. When `signal` aborts first (the shutdown
   * deadline), resolves without waiting for the disconnect to finish.
   */
  close(signal?: AbortSignal): Promise<void> {
    this.#closing ??= (async () => {
      this.#stopping = true;
      this.#stopHeartbeat();
      this.#runDone.resolve();
      await this.#disconnect();
    })();
    return untilAborted(this.#closing, signal);
  }

  /** Leaves the group (when running) and disconnects both clients. */
  async #disconnect(): Promise<void> {
    const consumer = this.#consumer;
    const admin = this.#admin;
    this.#consumer = undefined;
    this.#admin = undefined;
    await consumer
      ?.disconnect()
      .catch((e: unknown) =>
        this.#log.warn('Disconnecting the Kafka consumer failed.', { error: errorMessage(e) }),
      );
    await admin?.disconnect().catch(() => {});
  }

  #fail(error: unknown): void {
    if (this.#failure === undefined) this.#failure = error;
    this.#stopping = true;
    this.#runDone.reject(error);
  }

  /** kafkajs only heartbeats when asked; keep the session alive while a delivery or revoke waits. */
  #startHeartbeat(): void {
    if (this.#heartbeatTimer) return;
    this.#heartbeatTimer = setInterval(
      () => {
        this.#heartbeat?.().catch((error: unknown) => {
          if (isRebalancing(error)) void this.#revokeAll('the group is rebalancing');
        });
      },
      Math.max(100, Math.floor(this.#o.heartbeatInterval / 2)),
    );
    this.#heartbeatTimer.unref();
  }

  #stopHeartbeat(): void {
    if (this.#heartbeatTimer) clearInterval(this.#heartbeatTimer);
    this.#heartbeatTimer = undefined;
  }

  /** Waits for `promise` while heartbeating. */
  async #waitAlive<T>(promise: Promise<T>): Promise<T> {
    this.#startHeartbeat();
    try {
      return await promise;
    } finally {
      if (![...this.#owned.values()].some((s) => s.inflight.size > 0)) this.#stopHeartbeat();
    }
  }

  /**
   * Starts revoking every active partition (eager rebalance: kafkajs restarts every partition
   * from its committed offset after a rejoin). Deliveries stop, in-flight ones settle, then the
   * handler's `revoked` runs; commits made meanwhile still count (the old generation may commit
   * while the group prepares the rebalance).
   */
  #revokeAll(reason: string): Promise<void> {
    if (this.#revoking) return this.#revoking;
    const states = [...this.#owned.values()].filter((s) => s.active);
    if (states.length === 0) return Promise.resolve();
    for (const s of states) s.active = false;
    this.#log.info('Revoking partitions.', { reason, partitions: states.map((s) => s.id) });
    this.#revoking = (async () => {
      await this.#waitAlive(this.#revokeAndSettle(states));
    })().catch((error: unknown) => this.#fail(error));
    return this.#revoking;
  }

  /**
   * Tells the handler the partitions are revoked and waits for their pending deliveries to settle.
   * Both at once: a delivery may be held by back-pressure until the handler finishes or abandons
   * the partition's work, which `revoked` does; waiting for the delivery first would hold up the
   * whole group's rebalance for as long as the sink is down.
   */
  async #revokeAndSettle(states: readonly PartitionState[]): Promise<void> {
    const pending = Promise.allSettled(states.flatMap((s) => [...s.inflight]));
    await (this.#handler?.revoked?.(states.map((s) => String(s.id))) ?? Promise.resolve());
    await pending;
  }

  /** GROUP_JOIN: a new generation with `assignment` (synchronous part; the rest chains on #ready). */
  #onJoin(assignment: readonly number[]): void {
    this.#joined = true;
    const previous = this.#owned;
    const earlyRevoke = this.#revoking;
    this.#revoking = undefined;
    const lateRevoke = [...previous.values()].filter((s) => s.active);
    for (const s of lateRevoke) s.active = false;
    const next = new Map<number, PartitionState>();
    for (const id of [...assignment].sort((a, b) => a - b)) {
      const old = previous.get(id);
      next.set(id, {
        id,
        active: false,
        inflight: new Set(),
        delivered: undefined,
        start: undefined,
        floor: old?.floor,
        pendingCommit: old?.pendingCommit,
      });
    }
    this.#owned = next; // from here on, commits for lost partitions are dropped
    const lost = [...previous.keys()].filter((id) => !next.has(id));
    this.#log.info('Joined the consumer group.', { assigned: [...next.keys()], lost });
    this.#ready = this.#ready
      .then(async () => {
        await earlyRevoke;
        if (lateRevoke.length > 0) {
          await this.#waitAlive(this.#revokeAndSettle(lateRevoke));
        }
        if (this.#owned !== next) return; // superseded by a newer generation
        for (const s of next.values()) {
          if (s.pendingCommit !== undefined) {
            const offset = s.pendingCommit;
            s.pendingCommit = undefined;
            await this.commit(String(s.id), offset.toString());
          }
        }
        if (this.#once) await this.#loadStarts([...next.values()]);
        if (next.size > 0)
          await this.#waitAlive(
            this.#handler?.assigned?.([...next.keys()].map(String)) ?? Promise.resolve(),
          );
        if (this.#owned !== next) return;
        for (const s of next.values()) s.active = true;
        this.#checkOnce();
      })
      .catch((error: unknown) => this.#fail(error));
  }

  /**
   * The partition ids of `topics` (for the group leader's assignment, which covers every member's
   * topics, not only this one's). A topic that does not exist is left out; other failures throw.
   */
  async #partitionsOf(topics: readonly string[]): Promise<Map<string, number[]>> {
    const admin = this.#admin;
    if (!admin) throw new NotConnectedError('The Kafka source is closed.');
    const out = new Map<string, number[]>();
    await Promise.all(
      topics.map(async (topic) => {
        try {
          const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
          const partitions = metadata.topics[0]?.partitions ?? [];
          out.set(
            topic,
            partitions.map((p) => p.partitionId),
          );
        } catch (error) {
          if ((error as { type?: string }).type !== 'UNKNOWN_TOPIC_OR_PARTITION') throw error;
        }
      }),
    );
    return out;
  }

  /** For `once`: where each partition starts (committed offset, or the reset position). */
  async #loadStarts(states: readonly PartitionState[]): Promise<void> {
    if (!this.#once || states.length === 0 || !this.#admin) return;
    const [topic] = await this.#admin.fetchOffsets({
      groupId: this.#o.groupId,
      topics: [this.#o.topic],
    });
    for (const s of states) {
      const committed = BigInt(topic?.partitions.find((p) => p.partition === s.id)?.offset ?? '-1');
      const reset =
        this.#o.autoOffsetReset === 'earliest'
          ? this.#once.lows.get(s.id)
          : this.#once.highs.get(s.id);
      s.start = committed >= 0n ? committed : (reset ?? 0n);
    }
  }

  /** For `once`: resolves run() when every owned partition reached the high watermark seen at start. */
  #checkOnce(): void {
    const once = this.#once;
    if (!once || !this.#joined) return;
    if (this.#owned.size === 0) {
      // Ending here would report success for a topic nobody consumed in this run.
      this.#fail(
        new FatalError(
          `--once: this process got no partition of topic "${this.#o.topic}" in consumer group ` +
            `"${this.#o.groupId}" (the topic has ${this.#partitionCount}); other members of the group own them, ` +
            'so this run cannot tell that they were consumed. Stop the other members of the group, ' +
            'or run --once with a groupId of its own.',
        ),
      );
      return;
    }
    for (const s of this.#owned.values()) {
      if (!s.active || s.inflight.size > 0) return;
      const high = once.highs.get(s.id) ?? 0n;
      const position = s.delivered ?? s.start;
      if (position === undefined || position < high) return;
    }
    this.#runDone.resolve();
  }

  async #eachBatch(payload: EachBatchPayload): Promise<void> {
    const { batch, resolveOffset } = payload;
    this.#heartbeat = payload.heartbeat;
    await this.#waitAlive(this.#ready);
    const id = batch.partition;
    const max = this.#o.maxPollRecords;
    let rebalance: unknown;
    let i = 0;
    while (i < batch.messages.length) {
      const state = this.#owned.get(id);
      if (!state?.active || this.#stopping || !payload.isRunning() || payload.isStale()) return;
      const high = this.#once?.highs.get(id);
      const chunk: SourceMessage[] = [];
      let lastOffset: string | undefined;
      let beyondRun = false;
      for (; i < batch.messages.length && chunk.length < max; i++) {
        const message: KafkaMessage = batch.messages[i]!;
        const offset = BigInt(message.offset);
        if (high !== undefined && offset >= high) {
          beyondRun = true;
          break;
        }
        lastOffset = message.offset;
        if (state.floor !== undefined && offset < state.floor) continue; // committed, hence applied
        chunk.push({
          offset: message.offset,
          payload: message.value ?? new Uint8Array(0),
          timestamp: Number(message.timestamp),
        });
      }
      if (chunk.length > 0) {
        const delivery = this.#handler!.deliver({ partition: String(id), messages: chunk });
        state.inflight.add(delivery);
        try {
          await this.#waitAlive(delivery);
        } catch (error) {
          this.#fail(error);
          return;
        } finally {
          state.inflight.delete(delivery);
        }
      }
      if (lastOffset !== undefined) {
        state.delivered = BigInt(lastOffset) + 1n;
        resolveOffset(lastOffset);
        const behind = BigInt(batch.highWatermark) - state.delivered;
        this.#offsetLag?.set(
          { topic: this.#o.topic, groupId: this.#o.groupId, partition: String(id) },
          Number(behind > 0n ? behind : 0n),
        );
      }
      if (beyondRun) {
        payload.pause();
        break;
      }
      try {
        await payload.heartbeat();
      } catch (error) {
        if (!isRebalancing(error)) throw error;
        rebalance = error;
        break;
      }
    }
    const state = this.#owned.get(id);
    if (state?.active && this.#once && i >= batch.messages.length && rebalance === undefined) {
      // The whole fetched batch was handled: what follows its last message in the log (commit
      // or abort markers of transactions, which kafkajs never hands over) is consumed too, so a
      // partition whose high watermark sits on such a marker still counts as caught up.
      state.delivered = maxBigInt(state.delivered, BigInt(batch.lastOffset()) + 1n);
    }
    if (
      state &&
      this.#once &&
      (state.delivered ?? state.start ?? -1n) >= (this.#once.highs.get(id) ?? 0n)
    ) {
      payload.pause();
    }
    this.#checkOnce();
    if (rebalance !== undefined) {
      // Give up the partitions (committing what was applied) before kafkajs rejoins the group.
      await this.#revokeAll('the group is rebalancing');
      throw rebalance;
    }
  }
}

/**
 * `canal.conf.mode: kafka`: consumes `canalAdapters[].instance` as a topic in consumer group
 * `groups[].groupId`, like canal-adapter's Kafka connector. `consumerProperties` keys starting
 * with `kafka.` are Kafka consumer settings. Offsets are committed only once the core says the
 * messages were applied (never automatically). Its dead-letter queue (`sluice.deadLetter.type:
 * kafka`) is a Kafka topic written and replayed with the same connection settings (TLS, SASL).
 */
export const kafkaSource = defineSource({
  name: 'kafka',
  description:
    'Consumes canal messages from a Kafka topic with a consumer group; commits only what was applied.',
  deps: { logger: coreServices.logger, metrics: coreServices.metrics },
  propertiesSchema: {
    type: 'object',
    properties: {
      'kafka.bootstrap.servers': {
        type: 'string',
        description: 'host:port[,host:port…] of the Kafka brokers.',
      },
      'kafka.auto.offset.reset': {
        type: 'string',
        enum: ['earliest', 'latest'],
        caseInsensitive: true,
        default: 'latest',
      },
      'kafka.session.timeout.ms': { type: 'integer', minimum: 1, default: 30000 },
      'kafka.heartbeat.interval.ms': { type: 'integer', minimum: 1 },
      'kafka.max.poll.interval.ms': { type: 'integer', minimum: 1, default: 60000 },
      'kafka.request.timeout.ms': { type: 'integer', minimum: 1, default: 40000 },
      'kafka.max.poll.records': { type: 'integer', minimum: 1, default: 500 },
      'kafka.max.partition.fetch.bytes': { type: 'integer', minimum: 1, default: 1048576 },
      'kafka.fetch.max.wait.ms': { type: 'integer', minimum: 0, default: 500 },
      'kafka.client.id': { type: 'string' },
      'kafka.security.protocol': {
        type: 'string',
        enum: ['PLAINTEXT', 'SSL', 'SASL_PLAINTEXT', 'SASL_SSL'],
        caseInsensitive: true,
      },
      'kafka.sasl.mechanism': {
        type: 'string',
        enum: ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'],
        caseInsensitive: true,
      },
      'kafka.sasl.jaas.config': {
        type: 'string',
        secret: true,
        description: 'JAAS line with username="…" password="…".',
      },
    },
  },
  deadLetters: {
    queue: (ctx) =>
      new KafkaDeadLetterQueue(deadLetterOptions(ctx), deadLetterTopic(ctx.instance, ctx.name)),
    reader: (ctx) =>
      new KafkaDeadLetterReader(deadLetterOptions(ctx), deadLetterTopic(ctx.instance, ctx.name)),
  },
  create: (ctx) =>
    new KafkaSource(
      kafkaSourceOptions({
        properties: ctx.properties,
        topic: ctx.instance,
        groupId: ctx.groupId,
        configDir: ctx.configDir,
      }),
      ctx.deps.logger,
      ctx.deps.metrics.gauge<OffsetLagLabel>(OFFSET_LAG),
    ),
});
