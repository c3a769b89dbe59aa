import { hostname } from 'node:os';
import { ErrorCodes, SluiceError } from '@sluice/plugin-api';
import type { AclCredentials } from './client.js';

/** What the RocketMQ source does, derived from canal's `consumerProperties`. */
export interface RocketMQSourceOptions {
  /** `rocketmq.namesrv.addr`, split on `;` (RocketMQ's separator) or `,`. */
  readonly nameServers: readonly string[];
  /** The topic (`canalAdapters[].instance`), with the namespace prefix when one is set. */
  readonly topic: string;
  /** The consumer group (`groups[].groupId`), with the namespace prefix when one is set. */
  readonly groupId: string;
  /** `rocketmq.namespace` (empty when unset). */
  readonly namespace: string;
  /** `rocketmq.subscribe.filter`: canal's tag expression, `*` = every message. */
  readonly subscription: string;
  /** The tags of {@link subscription} (empty = every message). */
  readonly tags: ReadonlySet<string>;
  /**
   * `rocketmq.batch.size`: the most messages pulled from a queue and delivered as one batch
   * (canal's consumeMessageBatchMaxSize; the Java pull batch is 32, the broker caps pulls at 32
   * unless `maxTransferCountOnMessageInMemory` is raised). Default 32.
   */
  readonly batchSize: number;
  /** `CONSUME_FROM_LAST_OFFSET` (the Java consumer's default, canal's) or `..._FIRST_OFFSET`. */
  readonly consumeFromWhere: 'last' | 'first';
  /** Long-polling time of a pull, ms (`rocketmq.pull.suspend.ms`, Sluice's; default 15 000). */
  readonly suspendMs: number;
  /** Request timeout, ms (`rocketmq.request.timeout.ms`, Sluice's; default 10 000). */
  readonly requestTimeoutMs: number;
  /** How often members, routes and queue locks are refreshed, ms (Java: 20 000; default 10 000). */
  readonly rebalanceIntervalMs: number;
  /**
   * `rocketmq.lock.max.live.ms` (Sluice's; the Java client's `rocketmq.client.rebalance.lockMaxLiveTime`,
   * 30 000): a queue whose broker lock was not renewed for this long is not pulled or delivered
   * until it is (the broker may have given it to another member). Must stay below the broker's
   * `rocketmq.broker.rebalance.lockMaxLiveTime` (60 000 by default). Locks are renewed every
   * third of it, or every {@link rebalanceIntervalMs} when that is shorter.
   */
  readonly lockMaxLiveMs: number;
  /**
   * How often the committed offsets of the queues this member reads are read back from the
   * brokers and written again when a broker lost them, ms (the Java client writes every offset
   * again every 5 000, `persistConsumerOffsetInterval`). Not a configuration key (tests shorten
   * it). See `OffsetWriter` (offsets.ts).
   */
  readonly offsetCheckIntervalMs: number;
  /**
   * This member's client id: `host@pid@random#topic`. The topic is part of it because canal
   * configurations often use one groupId for several instances (topics): the broker lists every
   * member of a group whatever it subscribes to, and queues of a topic must be shared only among
   * the members that consume it.
   */
  readonly clientId: string;
  /** ACL credentials (`canal.aliyun.accessKey` / `canal.aliyun.secretKey`), when both set. */
  readonly credentials: AclCredentials | undefined;
  /** Keys that are read but cannot mean what they say here (logged once). */
  readonly notes: readonly string[];
}

/** A `consumerProperties` value that cannot be used (a configuration error: fatal). */
export class RocketMQOptionsError extends SluiceError {
  constructor(message: string) {
    super(ErrorCodes.config, message);
  }
}

function positiveInt(
  props: Readonly<Record<string, string>>,
  key: string,
  fallback: number,
  min = 1,
): number {
  const raw = props[key];
  if (raw === undefined || String(raw).trim() === '') return fallback;
  const value = Number(String(raw).trim());
  if (!Number.isInteger(value) || value < min)
    throw new RocketMQOptionsError(`${key} must be an integer ≥ ${min}, got "${raw}".`);
  return value;
}

/**
 * RocketMQ's `NamespaceUtil.wrapNamespace`: `namespace%resource` (no change when the namespace is
 * empty or the resource already carries it).
 */
export function wrapNamespace(namespace: string, resource: string): string {
  if (!namespace || resource.startsWith(`${namespace}%`)) return resource;
  return `${namespace}%${resource}`;
}

/**
 * Maps canal's `consumerProperties` (keys of `CanalRocketMQConsumer`, canal 1.1.8) to source
 * options. An environment variable named exactly like a key overrides it, as for Kafka.
 */
export function rocketmqSourceOptions(input: {
  readonly properties: Readonly<Record<string, string>>;
  readonly topic: string;
  readonly groupId: string;
  readonly env?: Readonly<Record<string, string | undefined>>;
}): RocketMQSourceOptions {
  const env = input.env ?? process.env;
  const props: Record<string, string> = {};
  for (const [key, value] of Object.entries(input.properties))
    props[key] = env[key] ?? String(value ?? '');
  const nameServers = (props['rocketmq.namesrv.addr'] ?? '')
    .split(/[;,]/)
    .map((a) => a.trim().replace(/^[a-z]+:\/\//i, ''))
    .filter(Boolean);
  if (nameServers.length === 0)
    throw new RocketMQOptionsError(
      'canal.conf.consumerProperties needs rocketmq.namesrv.addr (host:port[;host:port…]) in rocketMQ mode.',
    );
  for (const a of nameServers)
    if (!/^[^:\s]+:\d{1,5}$/.test(a))
      throw new RocketMQOptionsError(
        `rocketmq.namesrv.addr "${a}" is not host:port (RocketMQ's name server listens on 9876 by default).`,
      );
  const topic = input.topic.trim();
  if (!topic)
    throw new RocketMQOptionsError('canalAdapters[].instance (the RocketMQ topic) is empty.');
  if (!input.groupId.trim())
    throw new RocketMQOptionsError('groups[].groupId (the RocketMQ consumer group) is empty.');
  const namespace = (props['rocketmq.namespace'] ?? '').trim();
  const subscription = (props['rocketmq.subscribe.filter'] ?? '').trim() || '*';
  const tags =
    subscription === '*'
      ? new Set<string>()
      : new Set(
          subscription
            .split('||')
            .map((t) => t.trim())
            .filter(Boolean),
        );
  const notes: string[] = [];
  if ((props['rocketmq.enable.message.trace'] ?? '').trim().toLowerCase() === 'true')
    notes.push(
      'rocketmq.enable.message.trace: true is ignored: Sluice writes no RocketMQ message traces (its own metrics and logs cover consumption).',
    );
  if ((props['rocketmq.access.channel'] ?? '').trim().toLowerCase() === 'cloud')
    notes.push(
      'rocketmq.access.channel: cloud is ignored: Sluice talks the open-source remoting protocol and signs requests with canal.aliyun.accessKey/secretKey when they are set.',
    );
  const from = (props['rocketmq.consume.from.where'] ?? 'CONSUME_FROM_LAST_OFFSET')
    .trim()
    .toUpperCase();
  if (from !== 'CONSUME_FROM_LAST_OFFSET' && from !== 'CONSUME_FROM_FIRST_OFFSET')
    throw new RocketMQOptionsError(
      `rocketmq.consume.from.where must be CONSUME_FROM_LAST_OFFSET or CONSUME_FROM_FIRST_OFFSET, got "${props['rocketmq.consume.from.where']}".`,
    );
  const accessKey = (props['canal.aliyun.accessKey'] ?? '').trim();
  const secretKey = (props['canal.aliyun.secretKey'] ?? '').trim();
  if (Boolean(accessKey) !== Boolean(secretKey))
    throw new RocketMQOptionsError(
      'canal.aliyun.accessKey and canal.aliyun.secretKey must be set together (RocketMQ ACL).',
    );
  return {
    nameServers,
    topic: wrapNamespace(namespace, topic),
    groupId: wrapNamespace(namespace, input.groupId.trim()),
    namespace,
    subscription,
    tags,
    batchSize: positiveInt(props, 'rocketmq.batch.size', 32),
    consumeFromWhere: from === 'CONSUME_FROM_FIRST_OFFSET' ? 'first' : 'last',
    suspendMs: positiveInt(props, 'rocketmq.pull.suspend.ms', 15_000, 0),
    requestTimeoutMs: positiveInt(props, 'rocketmq.request.timeout.ms', 10_000),
    rebalanceIntervalMs: positiveInt(props, 'rocketmq.rebalance.interval.ms', 10_000, 100),
    lockMaxLiveMs: positiveInt(props, 'rocketmq.lock.max.live.ms', 30_000, 300),
    offsetCheckIntervalMs: 5_000,
    clientId: `${hostname()}@${process.pid}@${Math.random().toString(36).slice(2, 8)}#${wrapNamespace(namespace, topic)}`,
    credentials: accessKey ? { accessKey, secretKey } : undefined,
    notes,
  };
}
