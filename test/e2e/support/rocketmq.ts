/**
 * RocketMQ helpers for the end-to-end tests: canal-like publishing (one queue per canal
 * partition, zlib above 4 KiB), broker-side committed offsets, and a canal-adapter
 * `application.yml` in rocketMQ mode (canal 1.1.8's shipped file, recording sink).
 */
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { RocketMQClient } from '../../../plugins/source-rocketmq/src/index.js';
import { rocketmqNameServer, uniqueName } from '../../support/testbed.js';
import { recordingSinkPath, type E2eConfig } from './sluice.js';
import type { Workload } from './workload.js';

export class E2eRocketMQ {
  readonly client: RocketMQClient;
  broker = '';
  brokerName = '';

  constructor(readonly nameServer: string = rocketmqNameServer()) {
    this.client = new RocketMQClient({
      nameServers: [nameServer],
      requestTimeoutMs: 10_000,
      connectTimeoutMs: 5_000,
    });
  }

  async start(): Promise<this> {
    for (let i = 0; ; i++) {
      try {
        const [first] = [...(await this.client.brokers())];
        if (first) {
          [this.brokerName, this.broker] = first;
          return this;
        }
      } catch (error) {
        if (i > 100) throw error;
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  async createTopic(queues: number, prefix: string): Promise<string> {
    const topic = uniqueName(prefix);
    await this.client.createTopic(this.broker, topic, queues);
    for (let i = 0; ; i++) {
      const route = await this.client.route(topic);
      if (route?.readQueues.length === queues) return topic;
      if (i > 100) throw new Error(`topic ${topic} did not show up on the name server`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Sends each partition's payloads to the queue of the same index, in order (canal's selector). */
  async produce(topic: string, partitions: readonly (readonly string[])[]): Promise<void> {
    await Promise.all(
      partitions.map(async (payloads, queueId) => {
        for (const body of payloads)
          await this.client.send(this.broker, {
            topic,
            queueId,
            body: Buffer.from(body, 'utf8'),
            compress: true,
          });
      }),
    );
  }

  /** Committed offsets per queue (0 when the group has none). */
  async committed(groupId: string, topic: string, queues: number): Promise<bigint[]> {
    const out: bigint[] = [];
    for (let q = 0; q < queues; q++)
      out.push((await this.client.queryOffset(this.broker, groupId, topic, q)) ?? 0n);
    return out;
  }

  async ends(topic: string, queues: number): Promise<bigint[]> {
    const out: bigint[] = [];
    for (let q = 0; q < queues; q++)
      out.push(await this.client.queueOffset(this.broker, topic, q, 'max'));
    return out;
  }

  stop(): void {
    this.client.close();
  }
}

/**
 * The crash invariant with RocketMQ partition names (`<broker>:<queue>`): every row of every
 * message below the committed offset of its queue was applied (positions are offset * 10000 +
 * row index, see the recording sink).
 */
export async function committedButNotAppliedRmq(
  redis: Redis,
  prefix: string,
  brokerName: string,
  workload: Workload,
  committed: readonly bigint[],
): Promise<string[]> {
  const problems: string[] = [];
  for (let p = 0; p < workload.partitions.length; p++) {
    const applied = new Set(
      (await redis.smembers(`${prefix}:appliedp:${brokerName}:${p}`)).map(BigInt),
    );
    for (let offset = 0; offset < Number(committed[p] ?? 0n); offset++) {
      const rows = workload.rowsPerMessage[p]![offset] ?? 0;
      for (let i = 0; i < rows; i++)
        if (!applied.has(BigInt(offset) * 10000n + BigInt(i)))
          problems.push(`queue ${p} offset ${offset} row ${i} committed but never applied`);
    }
  }
  return problems;
}

/** canal-adapter 1.1.8's shipped `application.yml`, mode rocketMQ, with the recording sink. */
export async function writeRocketMQConfig(options: {
  nameServer: string;
  topic: string;
  groupId: string;
  redis: string;
  prefix: string;
  syncBatchSize?: number;
  sinkProperties?: Record<string, string>;
  batchSize?: number;
  /** `sluice.deadLetter.type` (default file). */
  deadLetter?: 'file' | 'rocketmq';
  /** A new group starts at the queue's first message (Sluice's rocketmq.consume.from.where). */
  consumeFromFirst?: boolean;
}): Promise<E2eConfig> {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-e2e-rmq-'));
  const dlqDir = join(dir, 'dlq');
  await mkdir(dlqDir, { recursive: true });
  const sink = { redis: options.redis, prefix: options.prefix, ...options.sinkProperties };
  const yaml = `server:
  port: 8081
spring:
  jackson:
    date-format: yyyy-MM-dd HH:mm:ss
    time-zone: GMT+8
    default-property-inclusion: non_null

canal.conf:
  mode: rocketMQ #tcp kafka rocketMQ rabbitMQ
  flatMessage: true
  zookeeperHosts:
  syncBatchSize: ${options.syncBatchSize ?? 1000}
  retries: -1
  timeout:
  accessKey:
  secretKey:
  consumerProperties:
    # canal tcp consumer
    canal.tcp.server.host: 127.0.0.1:11111
    canal.tcp.zookeeper.hosts:
    canal.tcp.batch.size: 500
    canal.tcp.username:
    canal.tcp.password:
    # kafka consumer
    kafka.bootstrap.servers: 127.0.0.1:9092
    kafka.enable.auto.commit: false
    kafka.auto.commit.interval.ms: 1000
    kafka.auto.offset.reset: latest
    kafka.request.timeout.ms: 40000
    kafka.session.timeout.ms: 30000
    kafka.isolation.level: read_committed
    kafka.max.poll.records: 1000
    # rocketMQ consumer
    rocketmq.namespace:
    rocketmq.namesrv.addr: ${options.nameServer}
    rocketmq.batch.size: ${options.batchSize ?? 1000}
    rocketmq.enable.message.trace: false
    rocketmq.customized.trace.topic:
    rocketmq.access.channel:
    rocketmq.subscribe.filter:
${options.consumeFromFirst ? '    rocketmq.consume.from.where: CONSUME_FROM_FIRST_OFFSET\n' : ''}    # rabbitMQ consumer
    rabbitmq.host:
    rabbitmq.virtual.host:
    rabbitmq.username:
    rabbitmq.password:
    rabbitmq.resource.ownerId:

  canalAdapters:
  - instance: ${options.topic} # canal instance Name or mq topic name
    groups:
    - groupId: ${options.groupId}
      outerAdapters:
      - name: recording
        key: rec
        properties:
${Object.entries(sink)
  .map(([k, v]) => `          ${k}: ${JSON.stringify(v)}`)
  .join('\n')}
sluice:
  plugins:
  - ${JSON.stringify(recordingSinkPath)}
  pipeline:
    lanes: 8
  deadLetter:
    type: ${options.deadLetter ?? 'file'}
    dir: ${JSON.stringify(dlqDir)}
  admin:
    enabled: false
`;
  await writeFile(join(dir, 'application.yml'), yaml);
  return { dir, dlqDir };
}
