import type { Logger, SourceBatch, SourceInstance } from '@sluice/plugin-api';
import { rocketmqNameServer, uniqueName } from '../../../test/support/testbed.js';
import {
  RocketMQClient,
  RocketMQSource,
  rocketmqSource,
  rocketmqSourceOptions,
} from '../src/index.js';
import {
  RecordingHandler as KafkaRecordingHandler,
  recordingLogger,
} from '../../source-kafka/test/helpers.js';

export { recordingLogger, orderInsert, range } from '../../source-kafka/test/helpers.js';

/**
 * The Kafka tests' recording handler, plus what the core does on `revoked`: it resolves only
 * once the deliveries of those partitions in flight are finished and committed (so the next
 * owner resumes after them, not before).
 */
export class RecordingHandler extends KafkaRecordingHandler {
  readonly #inflight = new Map<string, Promise<void>>();

  override deliver(batch: SourceBatch): Promise<void> {
    const done = super.deliver(batch);
    this.#inflight.set(
      batch.partition,
      done.then(
        () => {},
        () => {},
      ),
    );
    return done;
  }

  override async revoked(partitions: readonly string[]): Promise<void> {
    await Promise.all(partitions.map((p) => this.#inflight.get(p)));
    await super.revoked(partitions);
  }
}

export const nameServer = (): string => rocketmqNameServer();

/** The testbed RocketMQ: topics with N queues, canal-like sends to a given queue. */
export class TestRocketMQ {
  readonly client = new RocketMQClient({
    nameServers: [nameServer()],
    requestTimeoutMs: 10_000,
    connectTimeoutMs: 5_000,
  });
  broker = '';
  brokerName = '';

  async start(): Promise<this> {
    const brokers = await this.client.brokers();
    const [name, address] = [...brokers][0] ?? [];
    if (!name || !address) throw new Error('no broker registered with the test name server');
    this.brokerName = name;
    this.broker = address;
    return this;
  }

  /** A new topic with `queues` read/write queues, visible on the name server. */
  async createTopic(queues: number, prefix = 'rmq'): Promise<string> {
    const topic = uniqueName(prefix);
    await this.client.createTopic(this.broker, topic, queues);
    for (let i = 0; ; i++) {
      const route = await this.client.route(topic);
      if (route && route.readQueues.length === queues) return topic;
      if (i > 100) throw new Error(`topic ${topic} did not show up on the name server`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Sends payloads to one queue, in order (zlib above 4 KiB, like canal's producer). */
  async produce(topic: string, queueId: number, payloads: readonly (string | Uint8Array)[]) {
    for (const p of payloads)
      await this.client.send(this.broker, {
        topic,
        queueId,
        body: typeof p === 'string' ? Buffer.from(p, 'utf8') : p,
        compress: true,
      });
  }

  /** The group's committed offset of each queue (undefined when none). */
  async committed(groupId: string, topic: string, queues: number): Promise<(bigint | undefined)[]> {
    const out: (bigint | undefined)[] = [];
    for (let q = 0; q < queues; q++)
      out.push(await this.client.queryOffset(this.broker, groupId, topic, q));
    return out;
  }

  /**
   * The group's committed offsets once they equal `expected`, else the last read after `ms`.
   * A handler counts a delivery before its commit returns, so a test that waited for the count
   * must wait for the commits too.
   */
  async committedWhen(
    groupId: string,
    topic: string,
    expected: readonly bigint[],
    ms = 10_000,
  ): Promise<(bigint | undefined)[]> {
    const deadline = Date.now() + ms;
    for (;;) {
      const now = await this.committed(groupId, topic, expected.length);
      if (now.every((o, i) => o === expected[i]) || Date.now() > deadline) return now;
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  partition(queueId: number): string {
    return `${this.brokerName}:${queueId}`;
  }

  stop(): void {
    this.client.close();
  }
}

/**
 * A source on the testbed broker (whose queue locks expire after 5 s: locks are trusted for 3 s
 * and renewed every second here). `clientId` replaces the random member id, for tests that need
 * to know how `AllocateMessageQueueAveragely` (sorted ids) shares the queues;
 * `offsetCheckIntervalMs` replaces how often committed offsets are read back (5 s).
 */
export function createSource(options: {
  topic: string;
  groupId: string;
  properties?: Record<string, string>;
  logger?: Logger;
  clientId?: string;
  offsetCheckIntervalMs?: number;
}): SourceInstance {
  const properties = {
    'rocketmq.namesrv.addr': nameServer(),
    'rocketmq.consume.from.where': 'CONSUME_FROM_FIRST_OFFSET',
    'rocketmq.pull.suspend.ms': '1000',
    'rocketmq.rebalance.interval.ms': '1000',
    'rocketmq.lock.max.live.ms': '3000',
    ...options.properties,
  };
  const logger = options.logger ?? recordingLogger();
  if (options.clientId !== undefined || options.offsetCheckIntervalMs !== undefined) {
    const o = rocketmqSourceOptions({
      properties,
      topic: options.topic,
      groupId: options.groupId,
    });
    return new RocketMQSource(
      {
        ...o,
        ...(options.clientId !== undefined ? { clientId: `${options.clientId}#${o.topic}` } : {}),
        ...(options.offsetCheckIntervalMs !== undefined
          ? { offsetCheckIntervalMs: options.offsetCheckIntervalMs }
          : {}),
      },
      logger,
    );
  }
  return rocketmqSource.create({
    instance: options.topic,
    groupId: options.groupId,
    properties,
    configDir: process.cwd(),
    deps: { logger },
  });
}
