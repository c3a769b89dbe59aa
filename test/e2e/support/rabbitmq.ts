/**
 * RabbitMQ helpers of the end-to-end tests: a producer that publishes like canal-server's
 * RabbitMQ producer, a `canal.conf.mode: rabbitMQ` configuration writer, and the crash-safety
 * invariant for a queue (acked ⇒ applied).
 */
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type ChannelModel, type ConfirmChannel } from 'amqplib';
import { rabbitmqUrl, uniqueName } from '../../support/testbed.js';
import { recordingSinkPath, type E2eConfig } from './sluice.js';
import type { Recording } from './verify.js';
import type { Workload } from './workload.js';

/** The broker a test uses: host, port and credentials from `rabbitmqUrl()` (or another node). */
export interface RabbitBroker {
  readonly host: string;
  readonly port: number;
  readonly username: string;
  readonly password: string;
  readonly url: string;
}

export function rabbitBroker(url = rabbitmqUrl()): RabbitBroker {
  const u = new URL(url);
  return {
    host: u.hostname,
    port: Number(u.port || 5672),
    username: decodeURIComponent(u.username) || 'guest',
    password: decodeURIComponent(u.password) || 'guest',
    url,
  };
}

/**
 * Declares queues as canal's producer does (durable, not exclusive, not auto-delete, no
 * arguments) and publishes bodies as it does: default exchange, routing key = queue, persistent
 * `text/plain` (canal 1.1.8 CanalRabbitMQProducer: `basicPublish(exchange, queueName,
 * PERSISTENT_TEXT_PLAIN, body)`), waiting for publisher confirms.
 */
export class E2eRabbit {
  readonly queues: string[] = [];
  #conn: ChannelModel | undefined;
  #channel: ConfirmChannel | undefined;

  constructor(readonly broker: RabbitBroker = rabbitBroker()) {}

  async start(): Promise<this> {
    this.#conn = await connect(this.broker.url);
    this.#conn.on('error', () => {});
    this.#channel = await this.#conn.createConfirmChannel();
    this.#channel.on('error', () => {});
    return this;
  }

  get channel(): ConfirmChannel {
    if (!this.#channel) throw new Error('E2eRabbit is not started.');
    return this.#channel;
  }

  async createQueue(prefix: string): Promise<string> {
    const queue = uniqueName(prefix);
    await this.channel.assertQueue(queue, { durable: true, exclusive: false, autoDelete: false });
    this.queues.push(queue);
    return queue;
  }

  async publish(queue: string, bodies: readonly (string | Uint8Array)[]): Promise<void> {
    for (let i = 0; i < bodies.length; i++) {
      this.channel.publish('', queue, Buffer.from(bodies[i]!), {
        deliveryMode: 2,
        contentType: 'text/plain',
        priority: 0,
      });
      if (i % 500 === 499) await this.channel.waitForConfirms();
    }
    await this.channel.waitForConfirms();
  }

  /** Ready messages (not delivered, or given back) and consumers of a queue. */
  async count(queue: string): Promise<{ messageCount: number; consumerCount: number }> {
    return this.channel.checkQueue(queue);
  }

  /**
   * Every message of a queue, in order, without removing them (taken unacked on a channel of
   * its own, which is then closed: the broker puts them back in their places).
   */
  async peek(queue: string): Promise<Buffer[]> {
    const ch = await this.#conn!.createChannel();
    ch.on('error', () => {});
    const out: Buffer[] = [];
    try {
      for (;;) {
        const m = await ch.get(queue, { noAck: false });
        if (m === false) return out;
        out.push(m.content);
      }
    } finally {
      await ch.close().catch(() => {});
    }
  }

  /** Closes the connection, keeping the queues. */
  async disconnect(): Promise<void> {
    await this.#conn?.close().catch(() => {});
    this.#conn = undefined;
    this.#channel = undefined;
  }

  /** Deletes the queues this instance created (and their `.dlq`), then disconnects. */
  async stop(): Promise<void> {
    for (const q of this.queues) {
      await this.#channel?.deleteQueue(q).catch(() => {});
      await this.#channel?.deleteQueue(`${q}.dlq`).catch(() => {});
    }
    await this.#conn?.close().catch(() => {});
  }
}

/** Writes `application.yml` in canal-adapter's rabbitMQ mode with the recording (or logger) sink. */
export async function writeRabbitConfig(options: {
  broker: RabbitBroker;
  queue: string;
  groupId?: string;
  /** Recording sink's Redis and key prefix; without them the logger sink is used. */
  redis?: string;
  prefix?: string;
  lanes?: number;
  syncBatchSize?: number;
  flatMessage?: boolean;
  sinkProperties?: Record<string, string>;
  /** `sluice.deadLetter.type`; `default` leaves it unset (rabbitMQ mode: the `<queue>.dlq` queue). */
  deadLetter?: 'file' | 'rabbitmq' | 'default';
  extraRabbit?: Record<string, string>;
  /** `sluice.admin.enabled` (default false: parallel tests would collide on the port). */
  admin?: boolean;
}): Promise<E2eConfig> {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-e2e-rmq-'));
  const dlqDir = join(dir, 'dlq');
  await mkdir(dlqDir, { recursive: true });
  const b = options.broker;
  // canal-adapter's shipped application.yml lists every MQ's keys side by side; keep a few of the
  // other transports' keys to show they pass through.
  const consumer: Record<string, string> = {
    'kafka.bootstrap.servers': '127.0.0.1:9092',
    'rocketmq.namespace': '',
    'rocketmq.namesrv.addr': '127.0.0.1:9876',
    'rabbitmq.host': `${b.host}:${b.port}`,
    'rabbitmq.virtual.host': '/',
    'rabbitmq.username': b.username,
    'rabbitmq.password': b.password,
    'rabbitmq.resource.ownerId': '',
    ...options.extraRabbit,
  };
  const sink =
    options.redis !== undefined
      ? `      - name: recording
        key: rec
        properties:
${Object.entries({
  redis: options.redis,
  prefix: options.prefix ?? 'rec',
  positionBy: 'executedAt',
  ...options.sinkProperties,
})
  .map(([k, v]) => `          ${k}: ${JSON.stringify(v)}`)
  .join('\n')}`
      : `      - name: logger`;
  const yaml = `# Written by test/e2e (canal-adapter rabbitMQ mode).
server:
  port: 8081
canal.conf:
  mode: rabbitMQ # kafka rocketMQ rabbitMQ
  flatMessage: ${options.flatMessage ?? true}
  zookeeperHosts:
  syncBatchSize: ${options.syncBatchSize ?? 200}
  retries: 3
  timeout:
  accessKey:
  secretKey:
  consumerProperties:
${Object.entries(consumer)
  .map(([k, v]) => `    ${k}: ${JSON.stringify(v)}`)
  .join('\n')}
  canalAdapters:
  - instance: ${options.queue}
    groups:
    - groupId: ${options.groupId ?? 'g1'}
      outerAdapters:
${sink}
sluice:
  plugins:
  - ${JSON.stringify(recordingSinkPath)}
  pipeline:
    lanes: ${options.lanes ?? 8}
  deadLetter:${options.deadLetter === 'default' ? '' : `\n    type: ${options.deadLetter ?? 'file'}`}
    dir: ${JSON.stringify(dlqDir)}
  admin:
    enabled: ${options.admin ?? false}
`;
  await writeFile(join(dir, 'application.yml'), yaml);
  return { dir, dlqDir };
}

/** The workload's messages of its single partition, in order (one queue = one partition). */
export function queueMessages(workload: Workload): string[] {
  if (workload.partitions.length !== 1) throw new Error('A queue workload has one partition.');
  return workload.partitions[0]!;
}

/** The `es` (binlog time, ms) of each message: the recording sink's position base. */
function messageTimes(workload: Workload): bigint[] {
  return queueMessages(workload).map((m) => BigInt((JSON.parse(m) as { es: number }).es));
}

/**
 * The crash-safety invariant for a queue: the first `acked` messages (a queue acks a prefix:
 * Sluice acks with `multiple` up to what was applied, and unacked messages go back to their
 * place) must all have been applied.
 */
export async function ackedButNotApplied(
  recording: Recording,
  workload: Workload,
  queue: string,
  acked: number,
  skip: ReadonlySet<number> = new Set(),
): Promise<string[]> {
  const applied = new Set(
    (await recording.redis.smembers(`${recording.prefix}:appliedp:${queue}`)).map(BigInt),
  );
  const times = messageTimes(workload);
  const problems: string[] = [];
  for (let m = 0; m < acked; m++) {
    if (skip.has(m)) continue;
    const rows = workload.rowsPerMessage[0]![m] ?? 0;
    for (let i = 0; i < rows; i++)
      if (!applied.has(times[m]! * 10000n + BigInt(i)))
        problems.push(`message ${m} row ${i} was acked but never applied`);
  }
  return problems;
}
