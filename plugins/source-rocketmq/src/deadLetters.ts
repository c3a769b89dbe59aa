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
import { RocketMQClient, RocketMQResponseError } from './client.js';
import { rocketmqSourceOptions, wrapNamespace, type RocketMQSourceOptions } from './options.js';
import { RemotingTransportError, ResponseCode } from './remoting.js';

/** RocketMQ's topic name rule (`TopicValidator`, 5.x): `[%|a-zA-Z0-9_-]`, at most 127 chars. */
const TOPIC_NAME = /^[%|a-zA-Z0-9_-]{1,127}$/;

/**
 * The dead-letter topic of a source topic: `sluice.deadLetter.topicSuffix` appended when one is
 * configured (`context.name`), else `<topic>_DLQ`, inside the source's `rocketmq.namespace`.
 * Not `<topic>.dlq` as for Kafka and RabbitMQ: RocketMQ topic names cannot hold a dot. A suffix
 * rather than RocketMQ's own `%DLQ%<group>` (the broker's dead letters of its retry mechanism,
 * which Sluice does not use) so the two never collide and the topic sorts beside its source.
 *
 * @throws FatalError when the name breaks RocketMQ's rule or is one of the broker's own.
 */
export function deadLetterTopic(namespace: string, instance: string, configured?: string): string {
  const name = wrapNamespace(namespace, configured?.trim() || `${instance.trim()}_DLQ`);
  if (!TOPIC_NAME.test(name))
    throw new FatalError(
      `The RocketMQ dead-letter topic "${name}" is not a valid topic name (letters, digits, %, |, _ and - only, at most 127); set sluice.deadLetter.topicSuffix to e.g. _DLQ.`,
    );
  if (/^%(DLQ|RETRY)%/.test(name) || name.startsWith('rmq_sys_'))
    throw new FatalError(
      `The RocketMQ dead-letter topic "${name}" is a name the broker reserves for itself; choose another sluice.deadLetter.topicSuffix.`,
    );
  return name;
}

/** The consumer group that keeps the replay position of a dead-letter topic (on the broker). */
export function deadLetterReplayGroup(topic: string): string {
  return `sluice-dlq-replay-${topic}`;
}

/** The options and topic of a context (the source's connection settings). */
function resolveContext(context: DeadLetterContext): { o: RocketMQSourceOptions; topic: string } {
  const o = rocketmqSourceOptions({
    properties: context.properties,
    topic: context.instance,
    groupId: 'sluice-dlq',
  });
  return { o, topic: deadLetterTopic(o.namespace, context.instance, context.name) };
}

function clientOf(o: RocketMQSourceOptions): RocketMQClient {
  return new RocketMQClient({
    nameServers: o.nameServers,
    requestTimeoutMs: o.requestTimeoutMs,
    connectTimeoutMs: Math.min(o.requestTimeoutMs, 5_000),
    credentials: o.credentials,
  });
}

const describe = (o: RocketMQSourceOptions, topic: string) =>
  `topic "${topic}" on name server ${o.nameServers.join(';')}`;

/** Unreachable: not connected; refused rights: fatal; anything else: retryable. */
function deadLetterError(what: string, where: string, error: unknown): Error {
  if (
    error instanceof FatalError ||
    error instanceof RetryableError ||
    error instanceof NotConnectedError
  )
    return error;
  const text = error instanceof Error ? error.message : String(error);
  if (error instanceof RemotingTransportError)
    return new NotConnectedError(`${what}: ${where} cannot be reached: ${text}`, { cause: error });
  if (error instanceof RocketMQResponseError && error.code === ResponseCode.NO_PERMISSION)
    return new FatalError(
      `${what} on ${where}: not permitted (${text}); grant the access key the rights (PUB on the dead-letter topic, SUB for its replay group).`,
      { cause: error },
    );
  return new RetryableError(`${what} on ${where} failed: ${text}`, { cause: error });
}

/** `promise`, or a {@link RetryableError} once `signal` aborts. */
function abortable<T>(promise: Promise<T>, signal: AbortSignal, what: string): Promise<T> {
  if (signal.aborted) return Promise.reject(new RetryableError(`${what} was aborted.`));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new RetryableError(`${what} was aborted.`));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}

/** A property value as RocketMQ can carry it (its separators \u0001 and \u0002 removed). */
const property = (value: string, max = 1000): string =>
  value.replaceAll('\u0001', ' ').replaceAll('\u0002', ' ').slice(0, max);

/**
 * Writes dead letters to a RocketMQ topic with the source's connection settings: body = the
 * {@link DeadLetterRecord} as JSON (as for Kafka and RabbitMQ), properties `KEYS`
 * (`<partition>@<offset>`, for `mqadmin queryMsgByKey`), `sluice-reason`, `sluice-sink`,
 * `sluice-destination`, `sluice-attempts`. Every record goes to queue 0, so the topic keeps the
 * order the core wrote. `write` resolves once the broker answered SEND_MESSAGE_V2 with SUCCESS
 * (stored as the broker's flush settings ask).
 *
 * At start ({@link prepare}), on the first write and after a failed one, the topic is looked up; a missing one is created
 * with one queue on the source topic's broker (UPDATE_AND_CREATE_TOPIC, what `mqadmin
 * updateTopic` sends), whatever the broker's `autoCreateTopicEnable`; a broker that refuses
 * (ACL) makes every write fail with a message naming the topic and the command to create it.
 * Writes are serialised. Concurrency: `write` may be called concurrently.
 */
export class RocketMQDeadLetterQueue implements DeadLetterQueue {
  readonly location: string;
  readonly #o: RocketMQSourceOptions;
  readonly #topic: string;
  #client: RocketMQClient | undefined;
  #broker: Promise<string> | undefined;
  #chain: Promise<void> = Promise.resolve();
  #closed = false;

  constructor(options: RocketMQSourceOptions, topic: string) {
    this.#o = options;
    this.#topic = topic;
    this.location = describe(options, topic);
  }

  /**
   * The start-up check: looks the topic up and creates it when missing. Rejects with a
   * {@link FatalError} naming the topic and the command to create it when the broker refuses
   * (the start fails); with a retryable error when the name server or broker cannot be reached.
   */
  async prepare(signal: AbortSignal): Promise<void> {
    try {
      await abortable(
        (this.#broker ??= this.#resolveBroker()),
        signal,
        'Preparing the dead-letter topic',
      );
    } catch (error) {
      this.#broker = undefined;
      throw deadLetterError(
        `Preparing the dead-letter topic "${this.#topic}"`,
        `name server ${this.#o.nameServers.join(';')}`,
        error,
      );
    }
  }

  write(record: DeadLetterRecord, signal: AbortSignal): Promise<void> {
    const next = this.#chain.then(() => this.#write(record));
    this.#chain = next.catch(() => {});
    return abortable(next, signal, 'Writing a dead letter');
  }

  async #write(record: DeadLetterRecord): Promise<void> {
    if (this.#closed) throw new FatalError('The RocketMQ dead-letter queue is closed.');
    try {
      const broker = await (this.#broker ??= this.#resolveBroker());
      const properties = new Map([
        ['KEYS', property(`${record.partition}@${record.offset}`, 200).replace(/\s/g, '_')],
        ['sluice-reason', property(record.reason)],
        ['sluice-destination', property(record.destination)],
        ['sluice-attempts', String(record.attempts)],
      ]);
      if (record.sink !== undefined) properties.set('sluice-sink', property(record.sink));
      await this.#client!.send(broker, {
        topic: this.#topic,
        queueId: 0,
        body: Buffer.from(JSON.stringify(record), 'utf8'),
        properties,
        producerGroup: 'SLUICE_DLQ_PRODUCER',
      });
    } catch (error) {
      this.#broker = undefined; // look the topic up again on the next write
      throw deadLetterError(
        `Writing a dead letter to topic "${this.#topic}"`,
        `name server ${this.#o.nameServers.join(';')}`,
        error,
      );
    }
  }

  /** The master that holds queue 0 of the topic, creating the topic when it is missing. */
  async #resolveBroker(): Promise<string> {
    const client = (this.#client ??= clientOf(this.#o));
    const route = await client.route(this.#topic);
    const first = route?.writeQueues[0];
    if (route && first) return route.masters.get(first.brokerName)!;
    // Next to the source topic, else on any broker of the cluster.
    const source = await client.route(this.#o.topic);
    const sourceQueue = source?.writeQueues[0];
    const address = sourceQueue
      ? source.masters.get(sourceQueue.brokerName)
      : [...(await client.brokers()).values()][0];
    if (!address)
      throw new FatalError(
        `The dead-letter topic "${this.#topic}" does not exist and name server ${this.#o.nameServers.join(';')} knows no broker to create it on.`,
      );
    try {
      await client.createTopic(address, this.#topic, 1);
    } catch (error) {
      if (error instanceof RocketMQResponseError)
        throw new FatalError(
          `The dead-letter topic "${this.#topic}" does not exist and broker ${address} refused to create it (${error.message}); create it with: mqadmin updateTopic -n ${this.#o.nameServers.join(';')} -b ${address} -t ${this.#topic} -r 1 -w 1`,
          { cause: error },
        );
      throw error;
    }
    return address;
  }

  async close(signal: AbortSignal): Promise<void> {
    this.#closed = true;
    await abortable(this.#chain, signal, 'Closing the dead-letter queue').catch(() => {});
    this.#client?.close();
    this.#client = undefined;
  }
}

/**
 * Reads a dead-letter topic back for `sluice dlq replay|list|show|drop`: each `read` pulls every
 * queue from the replay group's offset on the broker ({@link deadLetterReplayGroup}; the queue's
 * start the first time) up to the end it had when `read` was called; the batch's `commit`
 * stores those ends as the group's offsets (UPDATE_CONSUMER_OFFSET), so the next read starts
 * after them. A topic that does not exist holds no dead letters. One replay at a time per topic.
 */
export class RocketMQDeadLetterReader implements DeadLetterReader {
  readonly location: string;
  readonly #o: RocketMQSourceOptions;
  readonly #topic: string;
  #client: RocketMQClient | undefined;

  constructor(options: RocketMQSourceOptions, topic: string) {
    this.#o = options;
    this.#topic = topic;
    this.location = describe(options, topic);
  }

  /**
   * How many dead letters wait: per read queue of the topic, its max offset minus the replay
   * group's offset (the queue's min offset when the group has none or is behind retention),
   * summed; no message is pulled (QUERY_CONSUMER_OFFSET and GET_MAX_OFFSET/GET_MIN_OFFSET per
   * queue, on the client the reader keeps). A topic that does not exist holds none.
   *
   * @throws RetryableError when the name server or broker cannot be reached.
   */
  async depth(signal: AbortSignal): Promise<number> {
    try {
      return await abortable(this.#count(), signal, 'Counting the dead letters');
    } catch (error) {
      throw deadLetterError(
        `Counting the dead letters of topic "${this.#topic}"`,
        `name server ${this.#o.nameServers.join(';')}`,
        error,
      );
    }
  }

  async #count(): Promise<number> {
    const client = (this.#client ??= clientOf(this.#o));
    const topic = this.#topic;
    const group = deadLetterReplayGroup(topic);
    const route = await client.route(topic);
    if (!route) return 0;
    let waiting = 0n;
    for (const mq of route.readQueues) {
      const address = route.masters.get(mq.brokerName)!;
      const start = await client.queueOffset(address, topic, mq.queueId, 'min');
      const committed = await client.queryOffset(address, group, topic, mq.queueId);
      const end = await client.queueOffset(address, topic, mq.queueId, 'max');
      const next = committed !== undefined && committed > start ? committed : start;
      if (end > next) waiting += end - next;
    }
    return Number(waiting);
  }

  async read(signal: AbortSignal): Promise<DeadLetterBatch> {
    try {
      return await abortable(this.#read(), signal, 'Reading the dead letters');
    } catch (error) {
      throw deadLetterError(
        `Reading the dead letters of topic "${this.#topic}"`,
        `name server ${this.#o.nameServers.join(';')}`,
        error,
      );
    }
  }

  async #read(): Promise<DeadLetterBatch> {
    const client = (this.#client ??= clientOf(this.#o));
    const topic = this.#topic;
    const group = deadLetterReplayGroup(topic);
    const route = await client.route(topic);
    if (!route) return { records: [], commit: () => Promise.resolve() };
    const records: DeadLetterRecord[] = [];
    const done: { address: string; queueId: number; end: bigint }[] = [];
    for (const mq of route.readQueues) {
      const address = route.masters.get(mq.brokerName)!;
      const start = await client.queueOffset(address, topic, mq.queueId, 'min');
      const committed = await client.queryOffset(address, group, topic, mq.queueId);
      const end = await client.queueOffset(address, topic, mq.queueId, 'max');
      let next = committed !== undefined && committed > start ? committed : start;
      if (next >= end) continue;
      while (next < end) {
        const result = await client.pull(address, {
          group,
          topic,
          queueId: mq.queueId,
          offset: next,
          maxNums: 32,
          suspendMs: 0,
          subscription: '*',
        });
        if (result.status === 'none') break; // below `end` yet nothing: the broker lags; take what came
        if (result.status === 'offsetMoved') {
          next = result.nextBeginOffset; // removed by retention
          continue;
        }
        for (const m of result.messages) {
          if (m.queueOffset < next || m.queueOffset >= end) continue;
          records.push(
            parseDeadLetterRecord(
              Buffer.from(m.body).toString('utf8'),
              `topic "${topic}" queue ${mq.brokerName}:${mq.queueId} offset ${m.queueOffset}`,
            ),
          );
        }
        const last = result.messages.at(-1);
        next = last ? last.queueOffset + 1n : result.nextBeginOffset;
      }
      done.push({ address, queueId: mq.queueId, end: next < end ? next : end });
    }
    const commit = async (commitSignal: AbortSignal): Promise<void> => {
      try {
        await abortable(
          (async () => {
            for (const d of done)
              await client.updateOffset(d.address, group, topic, d.queueId, d.end);
          })(),
          commitSignal,
          'Recording the replay',
        );
      } catch (error) {
        throw deadLetterError(
          `Recording the replay of topic "${topic}"`,
          `name server ${this.#o.nameServers.join(';')}`,
          error,
        );
      }
    };
    return { records, commit };
  }

  close(): Promise<void> {
    this.#client?.close();
    this.#client = undefined;
    return Promise.resolve();
  }
}

/** The `deadLetters` capability of the rocketmq source (`sluice.deadLetter.type: rocketmq`). */
export const rocketmqDeadLetters = {
  queue: (context: DeadLetterContext): DeadLetterQueue => {
    const { o, topic } = resolveContext(context);
    return new RocketMQDeadLetterQueue(o, topic);
  },
  reader: (context: DeadLetterContext): DeadLetterReader => {
    const { o, topic } = resolveContext(context);
    return new RocketMQDeadLetterReader(o, topic);
  },
};
