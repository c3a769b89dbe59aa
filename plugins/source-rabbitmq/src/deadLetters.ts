import type { Channel, ChannelModel, ConfirmChannel, GetMessage } from 'amqplib';
import {
  FatalError,
  NotConnectedError,
  RetryableError,
  type DeadLetterBatch,
  type DeadLetterContext,
  type DeadLetterQueue,
  type DeadLetterReader,
  type DeadLetterRecord,
  parseDeadLetterRecord,
} from '@sluice/plugin-api';
import { describeBroker, rabbitOptions, type RabbitOptions } from './options.js';
import { amqpCode, errorMessage, openConnection, untilAborted } from './rabbitClient.js';

/** The dead-letter queue of `instance`: `sluice.deadLetter.topic`-style name, or `<instance>.dlq`. */
export function deadLetterQueueName(instance: string, configured: string | undefined): string {
  return configured ?? `${instance}.dlq`;
}

/** The connection options of a dead-letter queue: the source's, with the DLQ as the queue. */
export function deadLetterOptions(context: DeadLetterContext): RabbitOptions {
  return rabbitOptions(
    context.properties,
    deadLetterQueueName(context.instance, context.name),
    context.configDir,
  );
}

/** A failure talking to the broker: retryable when it could not be reached, else fatal. */
function deadLetterError(what: string, o: RabbitOptions, error: unknown): Error {
  if (error instanceof FatalError || error instanceof RetryableError) return error;
  const message = `${what} on ${describeBroker(o)} failed: ${errorMessage(error)}`;
  if (
    error instanceof NotConnectedError ||
    amqpCode(error) === undefined ||
    amqpCode(error) === 320
  )
    return new RetryableError(message, { cause: error });
  return new FatalError(message, { cause: error });
}

/**
 * Writes dead letters to a durable RabbitMQ queue (declared on first use, `durable: true`, no
 * arguments) through the default exchange, as persistent JSON messages on a confirm channel:
 * `write` resolves once the broker confirmed the message. Connects lazily; a lost connection is
 * reopened on the next `write` (the core retries a rejected write with backoff). Writes are
 * serialised (one confirm at a time), which keeps the queue in the order the core wrote.
 */
export class RabbitDeadLetterQueue implements DeadLetterQueue {
  readonly location: string;
  readonly #o: RabbitOptions;
  #conn: ChannelModel | undefined;
  #channel: ConfirmChannel | undefined;
  #chain: Promise<void> = Promise.resolve();
  #closed = false;

  constructor(options: RabbitOptions) {
    this.#o = options;
    this.location = `queue "${options.queue}" on ${describeBroker(options)}`;
  }

  write(record: DeadLetterRecord, signal: AbortSignal): Promise<void> {
    const next = this.#chain.then(() => this.#write(record));
    this.#chain = next.catch(() => {});
    return untilAborted(next, signal).then(() => {
      if (signal.aborted) throw new RetryableError('Writing a dead letter was aborted.');
    });
  }

  async #write(record: DeadLetterRecord): Promise<void> {
    if (this.#closed) throw new FatalError('The RabbitMQ dead-letter queue is closed.');
    try {
      const channel = await this.#open();
      const body = Buffer.from(JSON.stringify(record), 'utf8');
      await new Promise<void>((resolve, reject) => {
        channel.sendToQueue(
          this.#o.queue,
          body,
          {
            persistent: true,
            contentType: 'application/json',
            timestamp: Math.floor(Date.now() / 1000),
          },
          (error: unknown) =>
            error ? reject(error instanceof Error ? error : new Error(String(error))) : resolve(),
        );
      });
    } catch (error) {
      await this.#reset();
      throw deadLetterError(`Writing a dead letter to queue "${this.#o.queue}"`, this.#o, error);
    }
  }

  /**
   * Connects and declares the queue now (start-up check, not serialised with writes). A user
   * without the permission to declare it, when nobody declared it before, fails with a
   * {@link FatalError} naming the queue and the ways out.
   */
  async prepare(signal: AbortSignal): Promise<void> {
    try {
      await untilAborted(this.#open(), signal);
    } catch (error) {
      await this.#reset();
      throw deadLetterError(`Declaring the dead-letter queue "${this.#o.queue}"`, this.#o, error);
    }
  }

  async #open(): Promise<ConfirmChannel> {
    if (this.#channel) return this.#channel;
    const conn = (this.#conn ??= await openConnection(
      this.#o,
      `sluice dead letters ${this.#o.queue}`,
    ));
    conn.on('close', () => {
      if (this.#conn === conn) {
        this.#conn = undefined;
        this.#channel = undefined;
      }
    });
    let channel = await this.#confirmChannel(conn);
    try {
      await channel.assertQueue(this.#o.queue, { durable: true });
    } catch (error) {
      if (amqpCode(error) !== 403) throw error;
      // Not allowed to declare it (no configure permission): fine if it exists already.
      await this.#checkDeclared(conn, error);
      channel = await this.#confirmChannel(conn);
    }
    this.#channel = channel;
    return channel;
  }

  async #confirmChannel(conn: ChannelModel): Promise<ConfirmChannel> {
    const channel = await conn.createConfirmChannel();
    channel.on('error', () => {});
    channel.on('close', () => {
      if (this.#channel === channel) this.#channel = undefined;
    });
    return channel;
  }

  /** After a refused declare: resolves when the queue exists, else a {@link FatalError}. */
  async #checkDeclared(conn: ChannelModel, refusal: unknown): Promise<void> {
    const probe = await conn.createChannel();
    probe.on('error', () => {});
    try {
      await probe.checkQueue(this.#o.queue);
    } catch (error) {
      if (amqpCode(error) !== 404 && amqpCode(error) !== 403) throw error;
      throw new FatalError(
        `User "${this.#o.username}" may not declare the dead-letter queue "${this.#o.queue}" on ` +
          `${describeBroker(this.#o)} (${errorMessage(refusal)}). Grant the user the configure and ` +
          `write permissions on "${this.#o.queue}", declare it (durable) beforehand, or set ` +
          'sluice.deadLetter.type: file (in rabbitMQ mode dead letters go to <queue>.dlq unless it is set).',
        { cause: refusal },
      );
    } finally {
      await probe.close().catch(() => {});
    }
  }

  async #reset(): Promise<void> {
    const conn = this.#conn;
    this.#conn = undefined;
    this.#channel = undefined;
    await conn?.close().catch(() => {});
  }

  async close(signal: AbortSignal): Promise<void> {
    this.#closed = true;
    await untilAborted(
      this.#chain.then(() => this.#reset()),
      signal,
    );
  }
}

/**
 * Reads a dead-letter queue back for `sluice dlq replay|list|show`: `read` takes (basic.get,
 * manual ack) as many messages as the queue held when it was called and keeps them
 * unacknowledged; the batch's `commit` acknowledges them (they leave the queue). Closing without
 * a commit gives them back to the queue, in their order. A queue that does not exist holds no
 * dead letters. One replay at a time per queue (a second reader would see only what the first
 * did not hold).
 */
export class RabbitDeadLetterReader implements DeadLetterReader {
  readonly location: string;
  readonly #o: RabbitOptions;
  #conn: ChannelModel | undefined;
  #channel: Channel | undefined;
  #countConn: ChannelModel | undefined;
  #countChannel: Channel | undefined;

  constructor(options: RabbitOptions) {
    this.#o = options;
    this.location = `queue "${options.queue}" on ${describeBroker(options)}`;
  }

  /**
   * How many dead letters wait: the queue's ready messages (a passive `queue.declare`'s
   * `message-count`, no message is read); messages a running replay holds unacknowledged are not
   * counted. A queue that does not exist holds none. Keeps its own connection open between calls
   * (the core polls every 30 s); a failure drops it and rejects, retryable when the broker cannot
   * be reached.
   */
  async depth(signal: AbortSignal): Promise<number> {
    try {
      const n = await untilAborted(this.#count(), signal);
      if (n === undefined) throw new RetryableError('Counting the dead letters was aborted.');
      return n;
    } catch (error) {
      await this.#releaseCounter();
      throw deadLetterError(
        `Counting the dead letters of queue "${this.#o.queue}"`,
        this.#o,
        error,
      );
    }
  }

  async #count(): Promise<number> {
    if (!this.#countConn) {
      const conn = await openConnection(this.#o, `sluice dead-letter depth ${this.#o.queue}`);
      conn.on('close', () => {
        if (this.#countConn === conn) {
          this.#countConn = undefined;
          this.#countChannel = undefined;
        }
      });
      this.#countConn = conn;
    }
    if (!this.#countChannel) {
      const channel = await this.#countConn.createChannel();
      channel.on('error', () => {});
      channel.on('close', () => {
        if (this.#countChannel === channel) this.#countChannel = undefined;
      });
      this.#countChannel = channel;
    }
    try {
      return (await this.#countChannel.checkQueue(this.#o.queue)).messageCount;
    } catch (error) {
      // A passive declare of a missing queue closes the channel (404): nothing waits.
      if (amqpCode(error) === 404) return 0;
      throw error;
    }
  }

  async #releaseCounter(): Promise<void> {
    const conn = this.#countConn;
    this.#countConn = undefined;
    this.#countChannel = undefined;
    await conn?.close().catch(() => {});
  }

  async read(signal: AbortSignal): Promise<DeadLetterBatch> {
    try {
      const batch = await untilAborted(this.#read(), signal);
      if (!batch) throw new RetryableError('Reading the dead letters was aborted.');
      return batch;
    } catch (error) {
      throw deadLetterError(`Reading the dead letters of queue "${this.#o.queue}"`, this.#o, error);
    }
  }

  async #read(): Promise<DeadLetterBatch> {
    const queue = this.#o.queue;
    await this.#release();
    const conn = await openConnection(this.#o, `sluice dead-letter replay ${queue}`);
    this.#conn = conn;
    let probe: Channel | undefined = await conn.createChannel();
    probe.on('error', () => {});
    let count: number;
    try {
      count = (await probe.checkQueue(queue)).messageCount;
    } catch (error) {
      if (amqpCode(error) === 404) return { records: [], commit: () => Promise.resolve() };
      throw error;
    } finally {
      await probe.close().catch(() => {});
      probe = undefined;
    }
    const channel = await conn.createChannel();
    channel.on('error', () => {});
    this.#channel = channel;
    const records: DeadLetterRecord[] = [];
    let last: GetMessage | undefined;
    for (let i = 0; i < count; i++) {
      const message = await channel.get(queue, { noAck: false });
      if (message === false) break; // someone else took the rest
      last = message;
      records.push(
        parseDeadLetterRecord(
          message.content.toString('utf8'),
          `queue "${queue}" message ${i + 1} of ${count}`,
        ),
      );
    }
    const commit = async (commitSignal: AbortSignal): Promise<void> => {
      if (!last) return;
      try {
        channel.ack(last, true);
        // basic.ack has no reply: a round trip on the channel makes sure the broker has it.
        await untilAborted(channel.checkQueue(queue), commitSignal);
      } catch (error) {
        throw deadLetterError(`Recording the replay of queue "${queue}"`, this.#o, error);
      }
    };
    return { records, commit };
  }

  async #release(): Promise<void> {
    const channel = this.#channel;
    const conn = this.#conn;
    this.#channel = undefined;
    this.#conn = undefined;
    await channel?.close().catch(() => {});
    await conn?.close().catch(() => {});
  }

  async close(signal: AbortSignal): Promise<void> {
    await untilAborted(Promise.all([this.#release(), this.#releaseCounter()]), signal);
  }
}
