import { createHmac } from 'node:crypto';
import { deflateSync } from 'node:zlib';
import {
  RemotingConnection,
  RemotingTransportError,
  RequestCode,
  ResponseCode,
  type RemotingCommand,
} from './remoting.js';
import { decodeMessages, encodeProperties, type StoredMessage } from './message.js';

/** A queue of a topic on one broker (`org.apache.rocketmq.common.message.MessageQueue`). */
export interface MessageQueue {
  readonly topic: string;
  readonly brokerName: string;
  readonly queueId: number;
}

/** Where a topic lives, from the name server. */
export interface TopicRoute {
  /** brokerName → master address (`host:port`). */
  readonly masters: ReadonlyMap<string, string>;
  /** Readable queues, sorted by broker name then queue id (the Java client's order). */
  readonly readQueues: readonly MessageQueue[];
  /** Writable queues, same order. */
  readonly writeQueues: readonly MessageQueue[];
}

/** The outcome of one PULL_MESSAGE. */
export type PullResult =
  | {
      readonly status: 'found';
      readonly messages: readonly StoredMessage[];
      readonly nextBeginOffset: bigint;
      readonly maxOffset: bigint;
    }
  | { readonly status: 'none'; readonly nextBeginOffset: bigint; readonly maxOffset: bigint }
  | { readonly status: 'offsetMoved'; readonly nextBeginOffset: bigint };

/** A broker or name server answered with an error code. */
export class RocketMQResponseError extends Error {
  readonly code: number;
  constructor(what: string, command: RemotingCommand) {
    super(`${what}: code ${command.code}${command.remark ? ` (${command.remark})` : ''}`);
    this.name = 'RocketMQResponseError';
    this.code = command.code;
  }
}

/** ACL credentials (`canal.aliyun.accessKey` / `secretKey`, i.e. `canal.conf.accessKey`). */
export interface AclCredentials {
  readonly accessKey: string;
  readonly secretKey: string;
}

/** Options of {@link RocketMQClient}. */
export interface RocketMQClientOptions {
  /** Name server addresses (`host:port`). */
  readonly nameServers: readonly string[];
  /** Timeout of an ordinary request, ms. */
  readonly requestTimeoutMs: number;
  /** TCP connect timeout, ms. */
  readonly connectTimeoutMs: number;
  /** Signs every request the way `AclClientRPCHook` does, when set. */
  readonly credentials?: AclCredentials | undefined;
  /** Requests brokers send us (NOTIFY_CONSUMER_IDS_CHANGED). */
  readonly onBrokerRequest?: (command: RemotingCommand, brokerAddress: string) => void;
}

/**
 * The request content `AclClientRPCHook` signs: the values of the extension fields plus
 * `AccessKey`, in key order, then the body; HMAC-SHA1 with the secret key, base64
 * (`org.apache.rocketmq.acl.common.AclUtils#combineRequestContent` / `calSignature`).
 */
export function aclSignature(
  extFields: Readonly<Record<string, string>>,
  body: Uint8Array | undefined,
  credentials: AclCredentials,
): string {
  const fields: Record<string, string> = { ...extFields, AccessKey: credentials.accessKey };
  let text = '';
  for (const key of Object.keys(fields).sort()) if (key !== 'Signature') text += fields[key];
  const hmac = createHmac('sha1', credentials.secretKey).update(Buffer.from(text, 'utf8'));
  if (body && body.byteLength > 0) hmac.update(body);
  return hmac.digest('base64');
}

const str = (v: string | number | bigint | boolean): string => String(v);

/**
 * The subset of RocketMQ's remoting client a queue-by-queue consumer needs (and a producer for
 * tests and dead letters). Connections are opened lazily and reopened after a failure.
 * Concurrency: every method may be called concurrently.
 */
export class RocketMQClient {
  readonly #o: RocketMQClientOptions;
  readonly #conns = new Map<string, Promise<RemotingConnection>>();
  #nameServerIndex = 0;
  #closed = false;

  constructor(options: RocketMQClientOptions) {
    if (options.nameServers.length === 0) throw new Error('no RocketMQ name server address');
    this.#o = options;
    this.#nameServerIndex = Math.floor(Math.random() * options.nameServers.length);
  }

  async #connection(address: string, broker: boolean): Promise<RemotingConnection> {
    if (this.#closed) throw new RemotingTransportError('the RocketMQ client is closed');
    let pending = this.#conns.get(address);
    if (!pending) {
      pending = RemotingConnection.open(address, {
        connectTimeoutMs: this.#o.connectTimeoutMs,
        ...(broker && this.#o.onBrokerRequest
          ? { onRequest: (c: RemotingCommand) => this.#o.onBrokerRequest?.(c, address) }
          : {}),
      });
      this.#conns.set(address, pending);
      pending.then(
        (conn) =>
          conn.onClose(() => {
            if (this.#conns.get(address) === pending) this.#conns.delete(address);
          }),
        () => {
          if (this.#conns.get(address) === pending) this.#conns.delete(address);
        },
      );
    }
    return pending;
  }

  /** Sends one request to `address` (signed when credentials are set). */
  async request(
    address: string,
    code: number,
    extFields: Record<string, string>,
    body?: Uint8Array,
    options: { timeoutMs?: number; nameServer?: boolean } = {},
  ): Promise<RemotingCommand> {
    const conn = await this.#connection(address, !options.nameServer);
    const fields = { ...extFields };
    if (this.#o.credentials) {
      fields.AccessKey = this.#o.credentials.accessKey;
      fields.Signature = aclSignature(fields, body, this.#o.credentials);
    }
    return conn.request(code, fields, body, options.timeoutMs ?? this.#o.requestTimeoutMs);
  }

  /** Asks the name servers, trying each once from a rotating start. */
  async #nameServerRequest(
    code: number,
    extFields: Record<string, string>,
  ): Promise<RemotingCommand> {
    const servers = this.#o.nameServers;
    let last: unknown;
    for (let i = 0; i < servers.length; i++) {
      const address = servers[(this.#nameServerIndex + i) % servers.length]!;
      try {
        const response = await this.request(address, code, extFields, undefined, {
          nameServer: true,
        });
        this.#nameServerIndex = (this.#nameServerIndex + i) % servers.length;
        return response;
      } catch (error) {
        last = error;
      }
    }
    throw last;
  }

  /**
   * The topic's route. Resolves `undefined` when the name server does not know the topic.
   * Rejects with {@link RemotingTransportError} when no name server answers.
   */
  async route(topic: string): Promise<TopicRoute | undefined> {
    const response = await this.#nameServerRequest(RequestCode.GET_ROUTEINFO_BY_TOPIC, {
      topic,
      acceptStandardJsonOnly: 'true',
    });
    if (response.code === ResponseCode.TOPIC_NOT_EXIST) return undefined;
    if (response.code !== ResponseCode.SUCCESS || !response.body)
      throw new RocketMQResponseError(`route of topic "${topic}"`, response);
    const data = JSON.parse(response.body.toString('utf8')) as {
      brokerDatas?: Array<{ brokerName: string; brokerAddrs: Record<string, string> }>;
      queueDatas?: Array<{
        brokerName: string;
        readQueueNums: number;
        writeQueueNums: number;
        perm: number;
      }>;
    };
    const masters = new Map<string, string>();
    for (const b of data.brokerDatas ?? []) {
      const master = b.brokerAddrs['0'];
      if (master) masters.set(b.brokerName, master);
    }
    const readQueues: MessageQueue[] = [];
    const writeQueues: MessageQueue[] = [];
    const queueDatas = [...(data.queueDatas ?? [])].sort((a, b) =>
      a.brokerName < b.brokerName ? -1 : a.brokerName > b.brokerName ? 1 : 0,
    );
    for (const q of queueDatas) {
      if (!masters.has(q.brokerName)) continue;
      if (q.perm & 4)
        for (let i = 0; i < q.readQueueNums; i++)
          readQueues.push({ topic, brokerName: q.brokerName, queueId: i });
      if (q.perm & 2)
        for (let i = 0; i < q.writeQueueNums; i++)
          writeQueues.push({ topic, brokerName: q.brokerName, queueId: i });
    }
    return { masters, readQueues, writeQueues };
  }

  /**
   * The master broker of every broker name in the cluster(s) the name server knows
   * (GET_BROKER_CLUSTER_INFO). The name server writes numeric map keys unquoted (fastjson), which
   * are quoted here before parsing.
   */
  async brokers(): Promise<Map<string, string>> {
    const response = await this.#nameServerRequest(RequestCode.GET_BROKER_CLUSTER_INFO, {});
    if (response.code !== ResponseCode.SUCCESS || !response.body)
      throw new RocketMQResponseError('cluster info', response);
    const text = response.body.toString('utf8').replace(/([{,])(-?\d+):/g, '$1"$2":');
    const data = JSON.parse(text) as {
      brokerAddrTable?: Record<string, { brokerAddrs?: Record<string, string> }>;
    };
    const out = new Map<string, string>();
    for (const [name, b] of Object.entries(data.brokerAddrTable ?? {})) {
      const master = b.brokerAddrs?.['0'];
      if (master) out.set(name, master);
    }
    return out;
  }

  /**
   * Pulls up to `maxNums` messages of one queue from `offset`. With `suspendMs` > 0 the broker
   * holds the request until a message arrives or the time passes (long polling).
   */
  async pull(
    address: string,
    request: {
      readonly group: string;
      readonly topic: string;
      readonly queueId: number;
      readonly offset: bigint;
      readonly maxNums: number;
      readonly suspendMs: number;
      readonly subscription: string;
    },
  ): Promise<PullResult> {
    // PullSysFlag: FLAG_SUSPEND 2 | FLAG_SUBSCRIPTION 4 (the subscription travels with the pull,
    // so the broker needs no heartbeat to know it). No FLAG_COMMIT_OFFSET: offsets are
    // committed only by UPDATE_CONSUMER_OFFSET, once applied.
    const sysFlag = (request.suspendMs > 0 ? 2 : 0) | 4;
    const response = await this.request(
      address,
      RequestCode.PULL_MESSAGE,
      {
        consumerGroup: request.group,
        topic: request.topic,
        queueId: str(request.queueId),
        queueOffset: str(request.offset),
        maxMsgNums: str(request.maxNums),
        sysFlag: str(sysFlag),
        commitOffset: '0',
        suspendTimeoutMillis: str(request.suspendMs),
        subscription: request.subscription,
        subVersion: str(Date.now()),
        expressionType: 'TAG',
      },
      undefined,
      { timeoutMs: this.#o.requestTimeoutMs + request.suspendMs },
    );
    const ext = response.extFields ?? {};
    const next = BigInt(ext.nextBeginOffset ?? str(request.offset));
    const max = BigInt(ext.maxOffset ?? '0');
    switch (response.code) {
      case ResponseCode.SUCCESS:
        return {
          status: 'found',
          messages: response.body ? decodeMessages(response.body) : [],
          nextBeginOffset: next,
          maxOffset: max,
        };
      case ResponseCode.PULL_NOT_FOUND:
      case ResponseCode.PULL_RETRY_IMMEDIATELY:
        return { status: 'none', nextBeginOffset: next, maxOffset: max };
      case ResponseCode.PULL_OFFSET_MOVED:
        return { status: 'offsetMoved', nextBeginOffset: next };
      default:
        throw new RocketMQResponseError(
          `pull ${request.topic} queue ${request.queueId} offset ${request.offset}`,
          response,
        );
    }
  }

  /** The group's committed offset of a queue; `undefined` when it has none. */
  async queryOffset(
    address: string,
    group: string,
    topic: string,
    queueId: number,
  ): Promise<bigint | undefined> {
    const response = await this.request(address, RequestCode.QUERY_CONSUMER_OFFSET, {
      consumerGroup: group,
      topic,
      queueId: str(queueId),
    });
    if (response.code === ResponseCode.QUERY_NOT_FOUND) return undefined;
    if (response.code !== ResponseCode.SUCCESS)
      throw new RocketMQResponseError(`query offset of ${topic} queue ${queueId}`, response);
    return BigInt(response.extFields?.offset ?? '-1');
  }

  /** Stores the group's offset of a queue (the next message to consume). */
  async updateOffset(
    address: string,
    group: string,
    topic: string,
    queueId: number,
    offset: bigint,
  ): Promise<void> {
    const response = await this.request(address, RequestCode.UPDATE_CONSUMER_OFFSET, {
      consumerGroup: group,
      topic,
      queueId: str(queueId),
      commitOffset: str(offset),
    });
    if (response.code !== ResponseCode.SUCCESS)
      throw new RocketMQResponseError(`commit offset of ${topic} queue ${queueId}`, response);
  }

  /** The queue's end (the offset the next message will get) or start. */
  async queueOffset(
    address: string,
    topic: string,
    queueId: number,
    which: 'max' | 'min',
  ): Promise<bigint> {
    const response = await this.request(
      address,
      which === 'max' ? RequestCode.GET_MAX_OFFSET : RequestCode.GET_MIN_OFFSET,
      { topic, queueId: str(queueId) },
    );
    if (response.code !== ResponseCode.SUCCESS)
      throw new RocketMQResponseError(`${which} offset of ${topic} queue ${queueId}`, response);
    return BigInt(response.extFields?.offset ?? '0');
  }

  /** Registers this client as a member of `group` subscribed to `topic` (HEART_BEAT). */
  async heartbeat(
    address: string,
    clientId: string,
    group: string,
    topic: string,
    subscription: string,
  ): Promise<void> {
    const body = {
      clientID: clientId,
      producerDataSet: [],
      consumerDataSet: [
        {
          groupName: group,
          consumeType: 'CONSUME_PASSIVELY',
          messageModel: 'CLUSTERING',
          consumeFromWhere: 'CONSUME_FROM_LAST_OFFSET',
          unitMode: false,
          subscriptionDataSet: [
            {
              classFilterMode: false,
              topic,
              subString: subscription,
              tagsSet: tagsOf(subscription),
              codeSet: tagsOf(subscription).map(javaStringHash),
              subVersion: Date.now(),
              expressionType: 'TAG',
            },
          ],
        },
      ],
    };
    const response = await this.request(
      address,
      RequestCode.HEART_BEAT,
      {},
      Buffer.from(JSON.stringify(body), 'utf8'),
    );
    if (response.code !== ResponseCode.SUCCESS)
      throw new RocketMQResponseError(`heartbeat to ${address}`, response);
  }

  /** Removes this client from the group at once (instead of after the 120 s channel expiry). */
  async unregister(address: string, clientId: string, group: string): Promise<void> {
    await this.request(address, RequestCode.UNREGISTER_CLIENT, {
      clientID: clientId,
      consumerGroup: group,
    });
  }

  /** The client ids of the group's members the broker knows (from their heartbeats). */
  async consumerIds(address: string, group: string): Promise<string[]> {
    const response = await this.request(address, RequestCode.GET_CONSUMER_LIST_BY_GROUP, {
      consumerGroup: group,
    });
    if (response.code !== ResponseCode.SUCCESS || !response.body)
      throw new RocketMQResponseError(`members of group "${group}"`, response);
    const data = JSON.parse(response.body.toString('utf8')) as { consumerIdList?: string[] };
    return data.consumerIdList ?? [];
  }

  /**
   * Locks queues for `clientId` on the broker (what orderly Java consumers do before consuming;
   * a lock lasts 60 s unless renewed). Resolves with the queue ids that are ours.
   */
  async lock(
    address: string,
    group: string,
    clientId: string,
    queues: readonly MessageQueue[],
  ): Promise<Set<number>> {
    const response = await this.request(
      address,
      RequestCode.LOCK_BATCH_MQ,
      {},
      Buffer.from(JSON.stringify({ consumerGroup: group, clientId, mqSet: queues }), 'utf8'),
    );
    if (response.code !== ResponseCode.SUCCESS)
      throw new RocketMQResponseError(`lock queues of group "${group}"`, response);
    const data = JSON.parse(response.body?.toString('utf8') || '{}') as {
      lockOKMQSet?: MessageQueue[];
    };
    return new Set((data.lockOKMQSet ?? []).map((q) => q.queueId));
  }

  /** Releases queue locks (best effort). */
  async unlock(
    address: string,
    group: string,
    clientId: string,
    queues: readonly MessageQueue[],
  ): Promise<void> {
    const response = await this.request(
      address,
      RequestCode.UNLOCK_BATCH_MQ,
      {},
      Buffer.from(JSON.stringify({ consumerGroup: group, clientId, mqSet: queues }), 'utf8'),
    );
    if (response.code !== ResponseCode.SUCCESS)
      throw new RocketMQResponseError(`unlock queues of group "${group}"`, response);
  }

  /**
   * Sends one message to a given queue (what canal's producer does through its
   * MessageQueueSelector). Resolves with the queue offset the broker gave it.
   */
  async send(
    address: string,
    message: {
      readonly topic: string;
      readonly queueId: number;
      readonly body: Uint8Array;
      readonly properties?: ReadonlyMap<string, string>;
      readonly producerGroup?: string;
      /**
       * Compress bodies of 4 KiB and more with zlib, as rocketmq-client 4.x does by default
       * (`compressMsgBodyOverHowmuch` 4096) — canal's producer.
       */
      readonly compress?: boolean;
    },
  ): Promise<bigint> {
    const properties = new Map(message.properties ?? []);
    let body = message.body;
    let sysFlag = 0;
    if (message.compress && body.byteLength >= 4096) {
      body = deflateSync(body);
      sysFlag = 1;
    }
    if (!properties.has('WAIT')) properties.set('WAIT', 'true');
    // SEND_MESSAGE_V2 (what the Java producer sends): SendMessageRequestHeader with one-letter
    // field names, a = producerGroup … m = batch (`SendMessageRequestHeaderV2`).
    const response = await this.request(
      address,
      RequestCode.SEND_MESSAGE_V2,
      {
        a: message.producerGroup ?? 'SLUICE_PRODUCER',
        b: message.topic,
        c: 'TBW102',
        d: '4',
        e: str(message.queueId),
        f: str(sysFlag),
        g: str(Date.now()),
        h: '0',
        i: encodeProperties(properties),
        j: '0',
        k: 'false',
        m: 'false',
      },
      body,
    );
    // Only SUCCESS means stored as asked: FLUSH_DISK_TIMEOUT, FLUSH_SLAVE_TIMEOUT and
    // SLAVE_NOT_AVAILABLE (10-12) are not durable yet, so they fail like any other code.
    if (response.code !== ResponseCode.SUCCESS)
      throw new RocketMQResponseError(
        `send to ${message.topic} queue ${message.queueId}`,
        response,
      );
    const queueOffset = response.extFields?.queueOffset;
    if (queueOffset === undefined || !/^\d+$/.test(queueOffset))
      throw new RocketMQResponseError(
        `send to ${message.topic} queue ${message.queueId}: no queue offset in the reply`,
        response,
      );
    return BigInt(queueOffset);
  }

  /** Creates or updates a topic on a broker (read and write queues = `queues`). */
  async createTopic(address: string, topic: string, queues: number): Promise<void> {
    const response = await this.request(address, RequestCode.UPDATE_AND_CREATE_TOPIC, {
      topic,
      defaultTopic: 'TBW102',
      readQueueNums: str(queues),
      writeQueueNums: str(queues),
      perm: '6',
      topicFilterType: 'SINGLE_TAG',
      topicSysFlag: '0',
      order: 'false',
      attributes: '',
    });
    if (response.code !== ResponseCode.SUCCESS)
      throw new RocketMQResponseError(`create topic "${topic}"`, response);
  }

  /** Closes every connection. Idempotent. */
  close(): void {
    this.#closed = true;
    for (const pending of this.#conns.values())
      pending.then(
        (c) => c.close(),
        () => {},
      );
    this.#conns.clear();
  }
}

/** The tags of a subscription expression (`*` → none: everything). */
export function tagsOf(subscription: string): string[] {
  const trimmed = subscription.trim();
  if (trimmed === '' || trimmed === '*') return [];
  return trimmed
    .split('||')
    .map((t) => t.trim())
    .filter(Boolean);
}

/** Java's `String#hashCode` (the broker filters consume-queue entries by the tag's hash code). */
export function javaStringHash(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(31, h) + s.charCodeAt(i)) | 0;
  return h;
}
