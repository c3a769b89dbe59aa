import {
  FatalError,
  NotConnectedError,
  coreServices,
  defineSource,
  type Logger,
  type SourceHandler,
  type SourceInstance,
  type SourceMessage,
  type SourceRunOptions,
} from '@sluice/plugin-api';
import { RocketMQClient, RocketMQResponseError, type MessageQueue } from './client.js';
import { rocketmqDeadLetters } from './deadLetters.js';
import { MessageFormatError } from './message.js';
import { OffsetWriter } from './offsets.js';
import { RequestCode, RemotingTransportError } from './remoting.js';
import { rocketmqSourceOptions, type RocketMQSourceOptions } from './options.js';

/** One queue this member owns. */
interface QueueState {
  readonly mq: MessageQueue;
  readonly partition: string;
  /** Master address of the queue's broker (refreshed from the route). */
  address: string;
  /** False once revocation started. */
  active: boolean;
  /** Next offset to pull. */
  next: bigint;
  /**
   * Our last commit the broker acknowledged (never committed backwards; written again when the
   * broker lost it, see {@link OffsetWriter}).
   */
  floor: bigint | undefined;
  /** For `once`: the queue's end when the run started. */
  end: bigint | undefined;
  /** When the lock request that last granted (or renewed) this queue's lock was sent, ms. */
  lockedAt: number;
  /** Being unlocked: lock renewals leave it alone. */
  released: boolean;
  /** The lapse of the lock was logged (reset once renewed). */
  lapseLogged: boolean;
  /** The pull loop; resolves when it stopped. */
  loop: Promise<void> | undefined;
}

const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });

const message = (error: unknown): string =>
  error instanceof Error ? error.message : String(error);

/**
 * RocketMQ's `AllocateMessageQueueAveragely` (the Java consumer's default strategy, canal's):
 * contiguous ranges of the sorted queue list, the first `queues % members` members get one more.
 * Using the same rule keeps a group mixing Sluice and canal-adapter members consistent.
 */
export function allocateAveragely<T>(
  queues: readonly T[],
  members: readonly string[],
  me: string,
): T[] {
  const index = members.indexOf(me);
  if (index < 0 || queues.length === 0) return [];
  const mod = queues.length % members.length;
  const averageSize =
    queues.length <= members.length
      ? 1
      : mod > 0 && index < mod
        ? Math.floor(queues.length / members.length) + 1
        : Math.floor(queues.length / members.length);
  const startIndex = mod > 0 && index < mod ? index * averageSize : index * averageSize + mod;
  const range = Math.min(averageSize, queues.length - startIndex);
  const out: T[] = [];
  for (let i = 0; i < range; i++) out.push(queues[(startIndex + i) % queues.length]!);
  return out;
}

/**
 * A RocketMQ consumer-group member for one topic, speaking the remoting protocol to the name
 * servers and brokers the way rocketmq-client's orderly consumer (canal's connector) does:
 * members register by heartbeat, share the topic's queues with `AllocateMessageQueueAveragely`,
 * lock each queue on its broker before consuming it (so two members never consume one queue at
 * once), pull each queue in offset order, and store the group's offset on the broker
 * (UPDATE_CONSUMER_OFFSET) only through {@link RocketMQSource.commit}, i.e. once applied.
 *
 * Partition = one message queue, named `<brokerName>:<queueId>`; offset = the queue offset.
 * Queue offsets never restart, so no restarted-offset handling is needed.
 */
export class RocketMQSource implements SourceInstance {
  readonly #o: RocketMQSourceOptions;
  readonly #log: Logger;
  #client: RocketMQClient | undefined;
  #offsets: OffsetWriter | undefined;
  #handler: SourceHandler | undefined;
  #owned = new Map<string, QueueState>();
  #masters = new Set<string>();
  #stop = new AbortController();
  #failure: unknown;
  #rebalanceSoon: (() => void) | undefined;
  #rebalancing: Promise<boolean> = Promise.resolve(false);
  #closed = false;
  #missingTopicWarned = false;
  #lockWaitWarned = new Set<string>();
  #renewing: Promise<void> = Promise.resolve();
  #renewBusy = false;
  #keepLocks: NodeJS.Timeout | undefined;
  #checking: Promise<void> = Promise.resolve();
  #checkBusy = false;

  /** How often the rebalance (which renews the locks) runs when nothing happens, ms. */
  get #renewEveryMs(): number {
    return Math.min(this.#o.rebalanceIntervalMs, Math.floor(this.#o.lockMaxLiveMs / 3));
  }

  constructor(options: RocketMQSourceOptions, logger: Logger) {
    this.#o = options;
    this.#log = logger.child({ topic: options.topic, groupId: options.groupId });
  }

  /** A human-readable position, for log lines and dead-letter records. */
  locate(partition: string, offset: string): string {
    return `topic "${this.#o.topic}" queue ${partition} offset ${offset}`;
  }

  async connect(signal: AbortSignal): Promise<void> {
    for (const note of this.#o.notes) this.#log.warn(note);
    this.#client?.close();
    this.#client = new RocketMQClient({
      nameServers: this.#o.nameServers,
      requestTimeoutMs: this.#o.requestTimeoutMs,
      connectTimeoutMs: Math.min(this.#o.requestTimeoutMs, 5_000),
      credentials: this.#o.credentials,
      onBrokerRequest: (command) => {
        if (command.code === RequestCode.NOTIFY_CONSUMER_IDS_CHANGED) this.#rebalanceSoon?.();
      },
    });
    this.#offsets = new OffsetWriter(this.#client, this.#o.groupId, this.#log);
    if (signal.aborted) return;
    try {
      const route = await this.#client.route(this.#o.topic);
      if (!route) this.#warnMissingTopic();
    } catch (error) {
      if (error instanceof RemotingTransportError)
        throw new NotConnectedError(
          `RocketMQ name server ${this.#o.nameServers.join(';')} unreachable: ${error.message}`,
          { cause: error },
        );
      throw error;
    }
  }

  #warnMissingTopic(): void {
    if (this.#missingTopicWarned) return;
    this.#missingTopicWarned = true;
    this.#log.warn(
      `Topic "${this.#o.topic}" does not exist on the RocketMQ name server yet; waiting for it (canal's producer creates it on first send when the broker has autoCreateTopicEnable, or create it with mqadmin updateTopic).`,
    );
  }

  async run(handler: SourceHandler, options: SourceRunOptions): Promise<void> {
    if (!this.#client) throw new Error('RocketMQSource.run called before connect');
    this.#handler = handler;
    const onAbort = () => this.#stop.abort();
    options.signal.addEventListener('abort', onAbort, { once: true });
    // Locks are renewed on their own timer, from here until `close` unlocks them: a rebalance can
    // wait long for a revoked queue's delivery to finish (a sink retrying through an outage), and
    // after `run` the core still drains and commits (then `close` checks those commits), all of
    // which must happen while no other member can take the queue.
    this.#keepLocks ??= setInterval(() => this.#renewInBackground(false), this.#renewEveryMs);
    this.#keepLocks.unref();
    // Brokers may lose acknowledged offsets (see OffsetWriter): check them while reading.
    const checkTimer = setInterval(
      () => this.#checkOffsetsInBackground(),
      this.#o.offsetCheckIntervalMs,
    );
    try {
      if (options.once) await this.#runOnce();
      else await this.#runForever();
    } finally {
      clearInterval(checkTimer);
      options.signal.removeEventListener('abort', onAbort);
      this.#stop.abort();
      await Promise.allSettled([...this.#owned.values()].map((q) => q.loop));
    }
    if (this.#failure !== undefined) throw this.#failure;
  }

  async #runForever(): Promise<void> {
    const stop = this.#stop.signal;
    const aborted = new Promise<void>((resolve) =>
      stop.aborted ? resolve() : stop.addEventListener('abort', () => resolve(), { once: true }),
    );
    while (!stop.aborted) {
      let wake!: () => void;
      const woken = new Promise<void>((resolve) => (wake = resolve));
      let soonTimer: NodeJS.Timeout | undefined;
      this.#rebalanceSoon = () => {
        soonTimer ??= setTimeout(wake, 100);
      };
      this.#rebalancing = this.#rebalance(false);
      const retrySoon = await this.#rebalancing;
      const timer = setTimeout(wake, retrySoon ? 1_000 : this.#o.rebalanceIntervalMs);
      await Promise.race([woken, aborted]);
      clearTimeout(timer);
      clearTimeout(soonTimer);
    }
  }

  /** `once`: take this member's share, deliver each queue up to its end at the start, return. */
  async #runOnce(): Promise<void> {
    let retrySoon = true;
    for (let attempt = 0; ; attempt++) {
      retrySoon = await this.#rebalance(true);
      if (!retrySoon || this.#stop.signal.aborted || attempt >= 30) break;
      await sleep(1_000, this.#stop.signal);
    }
    // Keep the locks of the queues being read alive until every loop finished.
    const loops = Promise.allSettled([...this.#owned.values()].map((q) => q.loop));
    let finished = false;
    void loops.then(() => (finished = true));
    while (!finished && !this.#stop.signal.aborted) {
      await Promise.race([loops, sleep(this.#renewEveryMs, this.#stop.signal)]);
      if (!finished && !this.#stop.signal.aborted) {
        this.#renewInBackground(true);
        await this.#renewing;
      }
    }
    await loops;
    // Like the Kafka source: `--once` must not report success for queues it never read.
    if (!this.#stop.signal.aborted && (retrySoon || this.#owned.size === 0))
      this.#fail(
        new FatalError(
          `--once could not read ${this.#owned.size === 0 ? 'any' : 'every'} queue of topic "${this.#o.topic}": other members of group "${this.#o.groupId}" hold them (or the topic does not exist); what it read was delivered, run again when they stop.`,
        ),
      );
  }

  /**
   * Heartbeat, share the queues, lock what is ours, revoke what is not. Resolves true when it
   * should run again soon (a queue of ours is still locked by its previous owner, or the
   * brokers could not be reached).
   */
  async #rebalance(once: boolean): Promise<boolean> {
    const client = this.#client!;
    const o = this.#o;
    try {
      const route = await client.route(o.topic);
      if (!route && once) {
        this.#fail(new FatalError(missingTopicMessage(o)));
        return false;
      }
      if (!route) {
        this.#warnMissingTopic();
        return true;
      }
      this.#missingTopicWarned = false;
      this.#masters = new Set(route.masters.values());
      const members = new Set<string>();
      for (const address of this.#masters) {
        await client.heartbeat(address, o.clientId, o.groupId, o.topic, o.subscription);
        for (const id of await client.consumerIds(address, o.groupId))
          if (id.endsWith(`#${o.topic}`)) members.add(id); // members of other topics: not ours to share with
      }
      members.add(o.clientId);
      const mine = allocateAveragely(route.readQueues, [...members].sort(), o.clientId);
      const wanted = new Map(mine.map((mq) => [partitionOf(mq), mq]));
      // Give up queues that moved to another member (or vanished) first.
      const drop = [...this.#owned.values()].filter((q) => !wanted.has(q.partition));
      if (drop.length > 0) await this.#revoke(drop, true);
      // Lock (or renew the lock of) every queue we want, per broker.
      let retrySoon = false;
      const byBroker = new Map<string, MessageQueue[]>();
      for (const mq of mine) {
        const list = byBroker.get(mq.brokerName) ?? [];
        list.push(mq);
        byBroker.set(mq.brokerName, list);
      }
      const gained: QueueState[] = [];
      const lost: QueueState[] = [];
      for (const [brokerName, queues] of byBroker) {
        const address = route.masters.get(brokerName)!;
        const sentAt = Date.now();
        const locked = await client.lock(address, o.groupId, o.clientId, queues);
        for (const mq of queues) {
          const p = partitionOf(mq);
          const state = this.#owned.get(p);
          if (state) state.address = address;
          if (locked.has(mq.queueId)) {
            if (state) state.lockedAt = sentAt;
            else gained.push(await this.#newQueue(mq, address, once, sentAt));
          } else {
            retrySoon = true;
            if (state) lost.push(state);
            else if (!this.#lockWaitWarned.has(p)) {
              this.#lockWaitWarned.add(p);
              this.#log.info(
                `Waiting for the broker lock of queue ${p}: another member holds it (a member that died without unlocking holds it until the broker lets it expire, 60 s by default).`,
              );
            }
          }
        }
      }
      if (lost.length > 0) {
        this.#log.warn(
          `Lost the broker lock of ${lost.map((q) => q.partition).join(', ')} (another member holds it); giving them up.`,
          { partitions: lost.map((q) => q.partition) },
        );
        await this.#revoke(lost, false);
      }
      if (gained.length > 0 && !this.#stop.signal.aborted) {
        await this.#handler!.assigned?.(gained.map((q) => q.partition));
        for (const q of gained) {
          this.#owned.set(q.partition, q);
          q.loop = this.#pullLoop(q);
        }
        this.#log.info(
          `Consuming ${gained.map((q) => `${q.partition}@${q.next}`).join(', ')} (${members.size} member(s) in the group).`,
        );
      }
      return retrySoon;
    } catch (error) {
      if (error instanceof RemotingTransportError || error instanceof RocketMQResponseError) {
        this.#log.warn(`Rebalance of group "${o.groupId}" failed, retrying: ${error.message}`);
        return true;
      }
      this.#fail(error);
      return false;
    }
  }

  /**
   * Renews the broker locks of the queues this member reads (what the rebalance does too, for
   * `once`, which does not rebalance after taking its share). A queue whose lock went to another
   * member is given up; a failed request leaves the locks to age (the pull loops pause a queue
   * whose lock is older than `lockMaxLiveMs`).
   */
  async #renewLocks(revokeLost: boolean): Promise<void> {
    const byAddress = new Map<string, QueueState[]>();
    for (const q of this.#owned.values())
      if (!q.released) byAddress.set(q.address, [...(byAddress.get(q.address) ?? []), q]);
    const lost: QueueState[] = [];
    for (const [address, queues] of byAddress) {
      const sentAt = Date.now();
      try {
        const locked = await this.#client!.lock(
          address,
          this.#o.groupId,
          this.#o.clientId,
          queues.map((q) => q.mq),
        );
        for (const q of queues)
          if (locked.has(q.mq.queueId)) q.lockedAt = sentAt;
          else lost.push(q);
      } catch (error) {
        this.#log.warn(
          `Renewing the queue locks on ${address} failed, retrying: ${message(error)}`,
        );
      }
    }
    // Without `revokeLost` the next rebalance gives them up (meanwhile the aging lock pauses them).
    if (lost.length > 0 && revokeLost) {
      this.#log.warn(
        `Lost the broker lock of ${lost.map((q) => q.partition).join(', ')} (another member holds it); giving them up.`,
      );
      await this.#revoke(lost, false);
    }
  }

  /** Starts {@link #renewLocks} unless a renewal is still running. */
  #renewInBackground(revokeLost: boolean): void {
    if (this.#renewBusy) return;
    this.#renewBusy = true;
    this.#renewing = this.#renewLocks(revokeLost)
      .catch((error: unknown) => this.#fail(error))
      .finally(() => (this.#renewBusy = false));
  }

  /** True while `q`'s broker lock is ours and recent enough to trust (quiet {@link #lockLapsed}). */
  #lockTrusted(q: QueueState): boolean {
    return !q.released && Date.now() - q.lockedAt <= this.#o.lockMaxLiveMs;
  }

  /**
   * Reads the committed offsets of `queues` back from their brokers and writes again what a
   * broker lost ({@link OffsetWriter.verify}), as long as the queue's lock is trusted. Failures
   * are logged (the next check retries). Never rejects.
   */
  async #checkOffsets(queues: readonly QueueState[]): Promise<void> {
    const offsets = this.#offsets;
    if (!offsets) return;
    await Promise.all(
      queues
        .filter((q) => q.floor !== undefined)
        .map((q) =>
          offsets
            .verify(q, () => this.#lockTrusted(q))
            .catch((error: unknown) =>
              this.#log.warn(
                `Checking the committed offset of queue ${q.partition} on its broker failed (checked again later): ${message(error)}`,
                { partition: q.partition },
              ),
            ),
        ),
    );
  }

  /** Starts {@link #checkOffsets} for the queues being read, unless a check is still running. */
  #checkOffsetsInBackground(): void {
    if (this.#checkBusy) return;
    this.#checkBusy = true;
    const queues = [...this.#owned.values()].filter((q) => q.active);
    this.#checking = this.#checkOffsets(queues).finally(() => (this.#checkBusy = false));
  }

  /** True when `q`'s lock is too old to trust (see `lockMaxLiveMs`); logs it once per lapse. */
  #lockLapsed(q: QueueState): boolean {
    const age = Date.now() - q.lockedAt;
    if (age <= this.#o.lockMaxLiveMs) {
      q.lapseLogged = false;
      return false;
    }
    if (!q.lapseLogged) {
      q.lapseLogged = true;
      this.#log.warn(
        `The broker lock of queue ${q.partition} was not renewed for ${age} ms (rocketmq.lock.max.live.ms ${this.#o.lockMaxLiveMs}); not reading it until it is, since the broker may give it to another member.`,
      );
    }
    this.#rebalanceSoon?.();
    return true;
  }

  async #newQueue(
    mq: MessageQueue,
    address: string,
    once: boolean,
    lockedAt: number,
  ): Promise<QueueState> {
    const client = this.#client!;
    let start = await client.queryOffset(address, this.#o.groupId, mq.topic, mq.queueId);
    if (start === undefined || start < 0n)
      start = await client.queueOffset(
        address,
        mq.topic,
        mq.queueId,
        this.#o.consumeFromWhere === 'first' ? 'min' : 'max',
      );
    const end = once ? await client.queueOffset(address, mq.topic, mq.queueId, 'max') : undefined;
    return {
      mq,
      partition: partitionOf(mq),
      address,
      active: true,
      next: start,
      floor: undefined,
      end,
      lockedAt,
      lapseLogged: false,
      released: false,
      loop: undefined,
    };
  }

  /** Stops delivering the queues, lets the handler finish them, then unlocks them. */
  async #revoke(queues: readonly QueueState[], unlock: boolean): Promise<void> {
    for (const q of queues) q.active = false;
    await this.#handler!.revoked?.(queues.map((q) => q.partition));
    for (const q of queues) this.#owned.delete(q.partition);
    if (!unlock) return;
    // The next owner starts at the committed offset it reads: make sure the broker holds ours.
    await this.#checkOffsets(queues);
    // No renewal may lock them again after the unlock (one already sent is waited for).
    for (const q of queues) q.released = true;
    await this.#renewing;
    const byAddress = new Map<string, MessageQueue[]>();
    for (const q of queues) byAddress.set(q.address, [...(byAddress.get(q.address) ?? []), q.mq]);
    for (const [address, mqs] of byAddress)
      await this.#client!.unlock(address, this.#o.groupId, this.#o.clientId, mqs).catch(
        (error: unknown) =>
          this.#log.warn(
            `Unlocking ${mqs.length} queue(s) failed (they expire): ${message(error)}`,
          ),
      );
  }

  async #pullLoop(q: QueueState): Promise<void> {
    const client = this.#client!;
    const o = this.#o;
    const stop = this.#stop.signal;
    let backoff = 200;
    while (q.active && !stop.aborted) {
      if (q.end !== undefined && q.next >= q.end) return;
      if (this.#lockLapsed(q)) {
        await sleep(200, stop);
        continue;
      }
      let result;
      try {
        result = await client.pull(q.address, {
          group: o.groupId,
          topic: q.mq.topic,
          queueId: q.mq.queueId,
          offset: q.next,
          maxNums: o.batchSize,
          suspendMs: q.end !== undefined ? 0 : o.suspendMs,
          subscription: o.subscription,
        });
        backoff = 200;
      } catch (error) {
        if (!q.active || stop.aborted) return;
        if (error instanceof MessageFormatError) {
          this.#fail(
            new FatalError(`${this.locate(q.partition, String(q.next))}: ${error.message}`),
          );
          return;
        }
        if (error instanceof RemotingTransportError || error instanceof RocketMQResponseError) {
          this.#log.warn(
            `Pulling ${this.locate(q.partition, String(q.next))} failed, retrying in ${backoff} ms: ${error.message}`,
            { partition: q.partition, offset: String(q.next) },
          );
          await sleep(backoff, stop);
          backoff = Math.min(backoff * 2, 5_000);
          continue;
        }
        this.#fail(error);
        return;
      }
      if (!q.active || stop.aborted) return;
      if (result.status === 'offsetMoved') {
        this.#log.warn(
          `${this.locate(q.partition, String(q.next))} is out of the queue's range; the broker says to continue at ${result.nextBeginOffset}${result.nextBeginOffset > q.next ? ' (messages in between were removed by retention before they were consumed)' : ''}.`,
          { partition: q.partition, offset: String(q.next) },
        );
        if (result.nextBeginOffset < q.next) {
          // The queue went back (recreated topic): a new incarnation, so nothing is dropped.
          await this.#handler!.revoked?.([q.partition]);
          // Its commits start over: the old ones must neither hide nor be written over them.
          q.floor = undefined;
          await this.#handler!.assigned?.([q.partition]);
        }
        q.next = result.nextBeginOffset;
        continue;
      }
      if (result.status === 'none') {
        if (q.end !== undefined) return; // nothing more for `once`
        continue;
      }
      const batch: SourceMessage[] = [];
      for (const m of result.messages) {
        if (m.queueOffset < q.next) continue;
        if (q.end !== undefined && m.queueOffset >= q.end) break;
        if (o.tags.size > 0 && !o.tags.has(m.properties.get('TAGS') ?? '')) continue;
        batch.push({
          offset: m.queueOffset.toString(),
          payload: m.body,
          timestamp: m.storeTimestamp,
        });
      }
      // The pull may have waited long (suspend): deliver only under a lock still trusted.
      if (this.#lockLapsed(q)) continue;
      if (batch.length > 0) {
        try {
          await this.#handler!.deliver({ partition: q.partition, messages: batch });
        } catch (error) {
          this.#fail(error);
          return;
        }
      }
      const last = result.messages.at(-1);
      q.next = last ? last.queueOffset + 1n : result.nextBeginOffset;
    }
  }

  async commit(partition: string, nextOffset: string): Promise<void> {
    const q = this.#owned.get(partition);
    if (!q || !this.#offsets) return; // not ours any more: the new owner commits
    await this.#offsets.commit(q, BigInt(nextOffset));
  }

  #fail(error: unknown): void {
    if (this.#failure === undefined) this.#failure = error;
    this.#stop.abort();
  }

  async close(signal: AbortSignal): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#stop.abort();
    clearInterval(this.#keepLocks);
    const client = this.#client;
    if (!client) return;
    const release = async () => {
      await this.#renewing;
      await this.#checking;
      // Before the unlock, like a revocation: the next owner starts at what the broker holds.
      await this.#checkOffsets([...this.#owned.values()]);
      const byAddress = new Map<string, MessageQueue[]>();
      for (const q of this.#owned.values())
        byAddress.set(q.address, [...(byAddress.get(q.address) ?? []), q.mq]);
      for (const [address, mqs] of byAddress)
        await client.unlock(address, this.#o.groupId, this.#o.clientId, mqs).catch(() => {});
      for (const address of this.#masters)
        await client.unregister(address, this.#o.clientId, this.#o.groupId).catch(() => {});
    };
    await Promise.race([release(), sleep(5_000, signal)]);
    this.#owned.clear();
    client.close();
  }
}

/** What `--once` says when its topic does not exist. */
function missingTopicMessage(o: RocketMQSourceOptions): string {
  const ns = o.nameServers.join(';');
  return (
    `--once: topic "${o.topic}" does not exist on the RocketMQ name server ${ns}, so there is nothing to read. ` +
    `Check canalAdapters[].instance${o.namespace ? ` and rocketmq.namespace "${o.namespace}"` : ''} against canal's canal.mq.topic / dynamic topics, ` +
    `and that rocketmq.namesrv.addr is the name server canal-server writes to; canal's producer creates the topic with its first message when the broker has autoCreateTopicEnable, ` +
    `otherwise create it: mqadmin updateTopic -n ${ns} -c <cluster> -t ${o.topic}`
  );
}

/** The partition name of a queue: `<brokerName>:<queueId>`. */
export function partitionOf(mq: MessageQueue): string {
  return `${mq.brokerName}:${mq.queueId}`;
}

/**
 * The `rocketmq` source (`canal.conf.mode: rocketMQ`): canal's RocketMQ connector keys
 * (`CanalRocketMQConsumer`, canal 1.1.8), `instance` = topic, `groupId` = consumer group.
 */
export const rocketmqSource = defineSource({
  name: 'rocketmq',
  description:
    'Consumes canal messages (flat JSON or protobuf) from a RocketMQ topic, queue by queue in order, committing the group offset on the broker only after apply (canal.conf.mode: rocketMQ).',
  deps: { logger: coreServices.logger },
  deadLetters: rocketmqDeadLetters,
  propertiesSchema: {
    type: 'object',
    properties: {
      'rocketmq.namesrv.addr': {
        type: 'string',
        description: 'host:port[;host:port…] of the RocketMQ name servers.',
      },
      'rocketmq.namespace': {
        type: 'string',
        description: 'Namespace: topic and group become <namespace>%<name>.',
      },
      'rocketmq.batch.size': {
        type: 'integer',
        minimum: 1,
        default: 32,
        description: 'Most messages pulled from a queue and delivered as one batch.',
      },
      'rocketmq.enable.message.trace': { type: 'boolean', default: false },
      'rocketmq.customized.trace.topic': { type: 'string' },
      'rocketmq.access.channel': { type: 'string' },
      'rocketmq.subscribe.filter': {
        type: 'string',
        default: '*',
        description: 'Tag expression (`*`, or `tagA || tagB`).',
      },
      'rocketmq.consume.from.where': {
        type: 'string',
        enum: ['CONSUME_FROM_LAST_OFFSET', 'CONSUME_FROM_FIRST_OFFSET'],
        caseInsensitive: true,
        default: 'CONSUME_FROM_LAST_OFFSET',
        description:
          'Sluice: where a group without a stored offset starts (the broker hands a new group offset 0 while the queue start is still in memory, as for Java consumers).',
      },
      'rocketmq.pull.suspend.ms': { type: 'integer', minimum: 0, default: 15000 },
      'rocketmq.request.timeout.ms': { type: 'integer', minimum: 1, default: 10000 },
      'rocketmq.rebalance.interval.ms': { type: 'integer', minimum: 100, default: 10000 },
      'rocketmq.lock.max.live.ms': {
        type: 'integer',
        minimum: 300,
        default: 30000,
        description:
          'Sluice: a queue whose broker lock was not renewed for this long is not read until it is; keep it below the broker lockMaxLiveTime (60 s).',
      },
      'canal.aliyun.accessKey': { type: 'string' },
      'canal.aliyun.secretKey': { type: 'string', secret: true },
    },
  },
  create: (ctx) =>
    new RocketMQSource(
      rocketmqSourceOptions({
        properties: ctx.properties,
        topic: ctx.instance,
        groupId: ctx.groupId,
      }),
      ctx.deps.logger,
    ),
});
