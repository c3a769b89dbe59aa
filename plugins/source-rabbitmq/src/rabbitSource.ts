import type { Channel, ChannelModel, ConsumeMessage } from 'amqplib';
import {
  FatalError,
  NotConnectedError,
  type Logger,
  type SourceHandler,
  type SourceInstance,
  type SourceMessage,
  type SourceRunOptions,
} from '@sluice/plugin-api';
import { aliyunLoginWarning, describeBroker, type RabbitOptions } from './options.js';
import { amqpCode, errorMessage, openConnection, sleep, untilAborted } from './rabbitClient.js';

/** Most messages handed to the core in one `deliver` (the prefetch bounds it too). */
const MAX_BATCH = 500;

/** With `once`: how long no message may arrive before the queue is checked for ready ones, ms. */
const ONCE_IDLE_MS = 1000;

/**
 * One channel's consumer: an incarnation of the queue's partition. Delivery tags start at 1 on
 * every channel, so each channel is a new incarnation (`assigned` before its first delivery,
 * `revoked` when it is gone), as `SourceMessage.offset`'s restarting-offsets rule requires.
 */
interface Incarnation {
  readonly channel: Channel;
  /** Received from the broker, not yet delivered to the core (in delivery-tag order). */
  readonly buffer: ConsumeMessage[];
  /** Delivered to the core, not yet acknowledged (in delivery-tag order). */
  readonly unacked: ConsumeMessage[];
  /** False once the channel (or its connection) closed or the broker cancelled the consumer. */
  alive: boolean;
  /** Why it died, for the log line. */
  lostReason: string;
  consumerTag: string | undefined;
  /** With `once`: messages still to deliver (what the queue held at the start). */
  remaining: number | undefined;
  /** Wakes the delivery loop (a message came, the channel died). */
  wake: (() => void) | undefined;
  /** Resolves when the incarnation dies. */
  readonly died: Promise<void>;
  readonly markDead: () => void;
}

const isChannelError = (error: unknown, code: number) => amqpCode(error) === code;

/**
 * Consumes one RabbitMQ queue (`canalAdapters[].instance`) as one partition named after the
 * queue, with manual acknowledgements: a message is acked only when the core commits past it
 * (applied or dead-lettered), with `multiple: true` up to the commit. At most `prefetch`
 * messages are unacknowledged at a time (basic.qos): the broker stops pushing until the core
 * catches up. From half the prefetch unacknowledged on, it asks the core for a commit at once
 * (`SourceHandler.requestCommit`) rather than at the next commit interval.
 *
 * Offsets are delivery tags (decimal strings), which restart at 1 on every channel: after a
 * lost channel or connection the partition is revoked (the core finishes or abandons its work;
 * unacked messages go back to the queue) and assigned again before the new channel's first
 * delivery, so redeliveries are applied again rather than dropped as duplicates. Reconnects by
 * itself (backoff up to `reconnectMaxMs`) after a broker restart.
 *
 * Never declares, binds or alters the consumed queue (canal's producer or the operator owns it).
 */
export class RabbitSource implements SourceInstance {
  readonly #o: RabbitOptions;
  readonly #log: Logger;
  readonly #name: string;
  #conn: ChannelModel | undefined;
  #current: Incarnation | undefined;
  #running = false;
  #closing: Promise<void> | undefined;
  #stopped = false;
  #inflight: Promise<void> | undefined;
  #warnedConsumers = false;
  #warnedOptions = false;

  /** Unacknowledged messages (delivered or buffered) from which a commit is requested early. */
  readonly #commitThreshold: number;

  constructor(options: RabbitOptions, logger: Logger, groupId: string) {
    this.#o = options;
    this.#commitThreshold = Math.max(1, Math.ceil(options.prefetch / 2));
    this.#log = logger.child({ queue: options.queue });
    this.#name = `sluice ${options.queue} (group ${groupId})`;
  }

  /** A human-readable position, for log lines and dead-letter records. */
  locate(partition: string, offset: string): string {
    return `queue "${partition}" delivery tag ${offset} (tags count per channel)`;
  }

  async connect(signal: AbortSignal): Promise<void> {
    if (!this.#warnedOptions) {
      this.#warnedOptions = true;
      if (this.#o.aliyunKeysIgnored) this.#log.warn(aliyunLoginWarning(this.#o));
      if (this.#o.tls && !this.#o.tls.verify)
        this.#log.warn(
          'rabbitmq.ssl.verify is false: the connection is encrypted, but the broker certificate is not checked (anyone on the path can answer).',
        );
    }
    const conn = await this.#openConnection();
    if (signal.aborted) return;
    let channel: Channel | undefined;
    try {
      channel = await conn.createChannel();
      channel.on('error', () => {});
      const q = await this.#checkQueue(channel);
      this.#log.info('Connected to RabbitMQ.', {
        broker: describeBroker(this.#o),
        messages: q.messageCount,
        consumers: q.consumerCount,
      });
      this.#warnOtherConsumers(q.consumerCount);
    } catch (error) {
      await this.#dropConnection();
      if (error instanceof FatalError) throw error;
      // The connection or channel went away meanwhile: the core connects again with backoff.
      throw new NotConnectedError(
        `Cannot check queue "${this.#o.queue}" on ${describeBroker(this.#o)}: ${errorMessage(error)}`,
        { cause: error },
      );
    } finally {
      await channel?.close().catch(() => {});
    }
  }

  async run(handler: SourceHandler, options: SourceRunOptions): Promise<void> {
    if (this.#running) throw new FatalError('The RabbitMQ source is already running.');
    this.#running = true;
    const { signal, once } = options;
    const queue = this.#o.queue;
    try {
      while (!signal.aborted && !this.#stopped) {
        const inc = await this.#establish(signal, once);
        if (!inc) break;
        this.#current = inc;
        await handler.assigned?.([queue]);
        const end = await this.#pump(inc, handler, signal);
        if (end !== 'lost') break;
        this.#log.warn(
          'Lost the RabbitMQ channel; unacknowledged messages go back to the queue and are applied again after the reconnect.',
          {
            reason: inc.lostReason,
          },
        );
        // Revoke without waiting for a pending deliver (the core may hold it by back-pressure;
        // revoking is how it lets go), then let it settle.
        const pending = this.#inflight;
        await handler.revoked?.([queue]);
        if (pending) await pending;
        this.#inflight = undefined;
        if (this.#current === inc) this.#current = undefined;
      }
      if (this.#inflight) await this.#inflight;
      if (once) this.#stopConsuming();
    } finally {
      this.#inflight = undefined;
    }
  }

  async commit(partition: string, nextOffset: string): Promise<void> {
    const inc = this.#current;
    if (!inc || partition !== this.#o.queue) return;
    const tag = BigInt(nextOffset) - 1n;
    let last: ConsumeMessage | undefined;
    while (inc.unacked.length > 0 && BigInt(inc.unacked[0]!.fields.deliveryTag) <= tag)
      last = inc.unacked.shift();
    if (!last || !inc.alive) return; // nothing new, or the channel is gone: redelivered later
    try {
      inc.channel.ack(last, true);
    } catch (error) {
      // The channel closed meanwhile: its unacked messages are redelivered (applied again).
      this.#log.debug('Ack dropped: the channel is closed.', {
        deliveryTag: last.fields.deliveryTag,
        error: errorMessage(error),
      });
    }
  }

  /**
   * Cancels the consumer, closes the channel (unacknowledged messages go back to the queue) and
   * the connection. Idempotent; resolves early when `signal` aborts.
   */
  close(signal?: AbortSignal): Promise<void> {
    this.#closing ??= (async () => {
      this.#stopped = true;
      const inc = this.#current;
      this.#current = undefined;
      if (inc) {
        inc.alive = false;
        inc.lostReason = 'closed';
        inc.markDead();
        inc.wake?.();
        await inc.channel.close().catch(() => {});
      }
      await this.#dropConnection();
    })();
    return untilAborted(this.#closing, signal).then(() => {});
  }

  async #openConnection(): Promise<ChannelModel> {
    if (this.#conn) return this.#conn;
    const conn = await openConnection(this.#o, this.#name);
    this.#conn = conn;
    conn.on('close', (error?: Error) => {
      if (this.#conn === conn) this.#conn = undefined;
      const inc = this.#current;
      if (inc) this.#lose(inc, `connection closed${error ? `: ${errorMessage(error)}` : ''}`);
    });
    return conn;
  }

  async #dropConnection(): Promise<void> {
    const conn = this.#conn;
    this.#conn = undefined;
    await conn?.close().catch(() => {});
  }

  /** basic.qos + a passive queue.declare; a missing queue is fatal (Sluice never declares it). */
  async #checkQueue(channel: Channel): Promise<{ messageCount: number; consumerCount: number }> {
    try {
      return await channel.checkQueue(this.#o.queue);
    } catch (error) {
      if (isChannelError(error, 404))
        throw new FatalError(
          `Queue "${this.#o.queue}" does not exist on ${describeBroker(this.#o)}. Sluice consumes the queue ` +
            'named by canalAdapters[].instance and never declares it: create it durable (canal-server declares ' +
            'it when rabbitmq.queue, rabbitmq.exchange, rabbitmq.routingKey and rabbitmq.deliveryMode are set ' +
            'in canal.properties), or fix instance.',
          { cause: error },
        );
      throw error;
    }
  }

  #warnOtherConsumers(consumers: number): void {
    if (consumers === 0 || this.#o.exclusive || this.#warnedConsumers) return;
    this.#warnedConsumers = true;
    this.#log.warn(
      `Queue "${this.#o.queue}" already has ${consumers} consumer(s). RabbitMQ spreads a queue's messages ` +
        'over its consumers, which breaks canal order, unless the queue was declared with ' +
        'x-single-active-consumer (then one consumer is active and the others stand by) or Sluice ' +
        'consumes with rabbitmq.consumer.exclusive: true.',
    );
  }

  /** Opens a channel and starts consuming, retrying with backoff. `undefined` when aborted. */
  async #establish(signal: AbortSignal, once: boolean): Promise<Incarnation | undefined> {
    let attempt = 0;
    let standby = false;
    while (!signal.aborted && !this.#stopped) {
      let channel: Channel | undefined;
      try {
        const conn = await this.#openConnection();
        channel = await conn.createChannel();
        channel.on('error', () => {});
        await channel.prefetch(this.#o.prefetch);
        const q = await this.#checkQueue(channel);
        let markDead!: () => void;
        const died = new Promise<void>((resolve) => (markDead = resolve));
        const inc: Incarnation = {
          channel,
          buffer: [],
          unacked: [],
          alive: true,
          lostReason: '',
          consumerTag: undefined,
          remaining: once ? q.messageCount : undefined,
          wake: undefined,
          died,
          markDead,
        };
        channel.on('close', () => this.#lose(inc, 'channel closed'));
        if (!once || q.messageCount > 0) {
          const { consumerTag } = await channel.consume(
            this.#o.queue,
            (message) => {
              if (message === null) {
                this.#lose(inc, 'the broker cancelled the consumer (queue deleted?)');
                return;
              }
              inc.buffer.push(message);
              inc.wake?.();
            },
            { noAck: false, exclusive: this.#o.exclusive },
          );
          inc.consumerTag = consumerTag;
        }
        if (attempt > 0 || standby) this.#log.info('Consuming again.', { attempts: attempt });
        else this.#warnOtherConsumers(q.consumerCount);
        return inc;
      } catch (error) {
        await channel?.close().catch(() => {});
        if (error instanceof FatalError && !(error instanceof NotConnectedError)) throw error;
        if (this.#o.exclusive && isChannelError(error, 403)) {
          // Another consumer holds the queue exclusively: stand by until it goes away.
          if (!standby)
            this.#log.info('Another consumer holds the queue exclusively; standing by.');
          standby = true;
          await sleep(Math.min(this.#o.reconnectMaxMs, 2000), signal);
          continue;
        }
        if (amqpCode(error) !== undefined && amqpCode(error) !== 320 && amqpCode(error) !== 541)
          throw new FatalError(
            `Cannot consume queue "${this.#o.queue}" on ${describeBroker(this.#o)}: ${errorMessage(error)}`,
            { cause: error },
          );
        attempt += 1;
        const wait = Math.min(this.#o.reconnectMaxMs, 250 * 2 ** Math.min(attempt, 10));
        if (attempt === 1 || attempt % 10 === 0)
          this.#log.warn('RabbitMQ is not reachable; retrying.', {
            broker: describeBroker(this.#o),
            attempt,
            retryInMs: wait,
            error: errorMessage(error),
          });
        await sleep(wait, signal);
      }
    }
    return undefined;
  }

  #lose(inc: Incarnation, reason: string): void {
    if (!inc.alive) return;
    inc.alive = false;
    inc.lostReason = reason;
    inc.markDead();
    inc.wake?.();
  }

  /** In `once` mode: no more messages (those prefetched but not delivered go back on close). */
  #stopConsuming(): void {
    const inc = this.#current;
    if (inc?.alive && inc.consumerTag) inc.channel.cancel(inc.consumerTag).catch(() => {});
  }

  /** Delivers the incarnation's messages in order until it dies, the run stops or `once` ends. */
  async #pump(
    inc: Incarnation,
    handler: SourceHandler,
    signal: AbortSignal,
  ): Promise<'lost' | 'done' | 'stopped'> {
    const queue = this.#o.queue;
    for (;;) {
      if (signal.aborted || this.#stopped) return 'stopped';
      if (!inc.alive) return 'lost';
      if (inc.remaining === 0) return 'done';
      if (inc.buffer.length === 0) {
        const woken = await this.#wait(inc, signal, inc.remaining !== undefined ? ONCE_IDLE_MS : 0);
        // `once`: another consumer of the queue may have taken messages counted at the start.
        // Nothing ready any more and nothing arriving: what was there has been delivered.
        if (!woken && inc.alive && inc.buffer.length === 0) {
          const ready = await inc.channel.checkQueue(queue).then(
            (q) => q.messageCount,
            () => undefined,
          );
          if (ready === 0 && inc.buffer.length === 0) return 'done';
        }
        continue;
      }
      await this.#gather(inc);
      if (!inc.alive) continue;
      const count = Math.min(inc.buffer.length, inc.remaining ?? MAX_BATCH, MAX_BATCH);
      const messages = inc.buffer.splice(0, count);
      if (inc.remaining !== undefined) inc.remaining -= messages.length;
      inc.unacked.push(...messages);
      const delivery = handler.deliver({
        partition: queue,
        messages: messages.map(toSourceMessage),
      });
      // Half the prefetch window is unacknowledged: ask for a commit (an ack) now rather than at
      // the next commit interval, or the broker stops pushing and throughput is one window per
      // interval.
      if (inc.unacked.length + inc.buffer.length >= this.#commitThreshold)
        handler.requestCommit?.(queue);
      this.#inflight = delivery.catch(() => {});
      const outcome = await Promise.race([
        delivery.then(
          () => 'ok' as const,
          (error: unknown) => ({ error }),
        ),
        inc.died.then(() => 'lost' as const),
      ]);
      if (outcome === 'lost') {
        // Keep the delivery's rejection visible to run(): it settles after `revoked`.
        this.#inflight = delivery;
        return 'lost';
      }
      this.#inflight = undefined;
      if (outcome !== 'ok') throw outcome.error;
    }
  }

  /**
   * The broker pushes messages one by one: while more keep arriving (socket data read between
   * two turns of the event loop), let them in before delivering, so the core gets batches of up
   * to {@link MAX_BATCH} rather than one message each. Adds no wait when nothing more comes (one
   * `setImmediate` turn).
   */
  async #gather(inc: Incarnation): Promise<void> {
    let seen = -1;
    while (
      inc.alive &&
      inc.buffer.length < MAX_BATCH &&
      inc.buffer.length !== seen &&
      (inc.remaining === undefined || inc.buffer.length < inc.remaining)
    ) {
      seen = inc.buffer.length;
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  /**
   * Waits for a message, the incarnation's death or the abort (resolves true), or `timeoutMs`
   * (resolves false; 0 = no timeout). One listener at a time.
   */
  #wait(inc: Incarnation, signal: AbortSignal, timeoutMs = 0): Promise<boolean> {
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const finish = (woken: boolean) => {
        clearTimeout(timer);
        inc.wake = undefined;
        signal.removeEventListener('abort', done);
        resolve(woken);
      };
      const done = () => finish(true);
      inc.wake = done;
      signal.addEventListener('abort', done, { once: true });
      if (timeoutMs > 0) timer = setTimeout(() => finish(false), timeoutMs);
    });
  }
}

/** One AMQP delivery as a source message (offset = delivery tag, body as is). */
function toSourceMessage(message: ConsumeMessage): SourceMessage {
  const timestamp = message.properties.timestamp as unknown;
  return {
    offset: String(message.fields.deliveryTag),
    payload: message.content,
    ...(typeof timestamp === 'number' ? { timestamp: timestamp * 1000 } : {}),
  };
}
