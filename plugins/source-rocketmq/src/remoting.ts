import { createConnection, type Socket } from 'node:net';

/**
 * RocketMQ's remoting protocol over TCP, the one its Java client (and canal's RocketMQ
 * connector, rocketmq-client 4.9.8) speaks to name servers and brokers.
 *
 * Frame (`org.apache.rocketmq.remoting.protocol.RemotingCommand#encode`):
 * `int32 length` (everything after this field) · `int32 headerInfo` (high byte: serialize type,
 * 0 = JSON; low 3 bytes: header length) · header JSON · body bytes. Big-endian.
 *
 * Header JSON: `{code, language, version, opaque, flag, remark?, extFields?}`. `flag` bit 0 marks
 * a response, bit 1 a one-way request. A response carries the request's `opaque`.
 */

/** Request codes used here (`org.apache.rocketmq.remoting.protocol.RequestCode`, 5.3.3). */
export const RequestCode = {
  SEND_MESSAGE: 10,
  PULL_MESSAGE: 11,
  QUERY_CONSUMER_OFFSET: 14,
  UPDATE_CONSUMER_OFFSET: 15,
  UPDATE_AND_CREATE_TOPIC: 17,
  GET_MAX_OFFSET: 30,
  GET_MIN_OFFSET: 31,
  HEART_BEAT: 34,
  UNREGISTER_CLIENT: 35,
  GET_CONSUMER_LIST_BY_GROUP: 38,
  NOTIFY_CONSUMER_IDS_CHANGED: 40,
  LOCK_BATCH_MQ: 41,
  UNLOCK_BATCH_MQ: 42,
  GET_ROUTEINFO_BY_TOPIC: 105,
  GET_BROKER_CLUSTER_INFO: 106,
  SEND_MESSAGE_V2: 310,
  DELETE_TOPIC_IN_BROKER: 215,
  DELETE_TOPIC_IN_NAMESRV: 216,
} as const;

/** Response codes used here (`ResponseCode` and `RemotingSysResponseCode`, 5.3.3). */
export const ResponseCode = {
  SUCCESS: 0,
  SYSTEM_ERROR: 1,
  SYSTEM_BUSY: 2,
  REQUEST_CODE_NOT_SUPPORTED: 3,
  SERVICE_NOT_AVAILABLE: 14,
  NO_PERMISSION: 16,
  TOPIC_NOT_EXIST: 17,
  PULL_NOT_FOUND: 19,
  PULL_RETRY_IMMEDIATELY: 20,
  PULL_OFFSET_MOVED: 21,
  QUERY_NOT_FOUND: 22,
  SUBSCRIPTION_PARSE_FAILED: 23,
  SUBSCRIPTION_NOT_EXIST: 24,
  SUBSCRIPTION_NOT_LATEST: 25,
  SUBSCRIPTION_GROUP_NOT_EXIST: 26,
} as const;

/** One decoded remoting command. */
export interface RemotingCommand {
  readonly code: number;
  readonly opaque: number;
  readonly flag: number;
  readonly remark?: string | null;
  readonly extFields?: Readonly<Record<string, string>> | null;
  readonly body?: Buffer;
}

/** The remoting version we announce: MQVersion.Version.V4_9_8 (canal's client version). */
const CLIENT_VERSION = 453;
const RESPONSE_FLAG = 1;
const ONEWAY_FLAG = 2;
/** Largest frame accepted (the broker's default `maxMessageSize` is 4 MiB; pulls batch many). */
const MAX_FRAME = 64 * 1024 * 1024;

/** A request that failed on the wire (connection refused, closed, timed out). Retryable. */
export class RemotingTransportError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RemotingTransportError';
  }
}

/** Encodes one command as a frame (exported for tests). */
export function encodeCommand(
  code: number,
  opaque: number,
  flag: number,
  extFields: Readonly<Record<string, string>> | undefined,
  body: Uint8Array | undefined,
  remark?: string,
): Buffer {
  const header = Buffer.from(
    JSON.stringify({
      code,
      language: 'JAVA',
      version: CLIENT_VERSION,
      opaque,
      flag,
      ...(remark !== undefined ? { remark } : {}),
      extFields: extFields ?? {},
      serializeTypeCurrentRPC: 'JSON',
    }),
    'utf8',
  );
  const bodyLength = body?.byteLength ?? 0;
  const frame = Buffer.allocUnsafe(8 + header.length + bodyLength);
  frame.writeInt32BE(4 + header.length + bodyLength, 0);
  frame.writeInt32BE(header.length & 0xffffff, 4); // serialize type 0 = JSON
  header.copy(frame, 8);
  if (body && bodyLength > 0)
    Buffer.from(body.buffer, body.byteOffset, bodyLength).copy(frame, 8 + header.length);
  return frame;
}

/** Splits a byte stream into commands; keeps the unfinished tail between calls. */
export class FrameDecoder {
  #pending: Buffer = Buffer.alloc(0);

  /** Adds bytes and returns the commands they complete. Throws on a malformed frame. */
  push(chunk: Buffer): RemotingCommand[] {
    this.#pending = this.#pending.length === 0 ? chunk : Buffer.concat([this.#pending, chunk]);
    const out: RemotingCommand[] = [];
    while (this.#pending.length >= 4) {
      const length = this.#pending.readInt32BE(0);
      if (length < 4 || length > MAX_FRAME) throw new Error(`bad remoting frame length ${length}`);
      if (this.#pending.length < 4 + length) break;
      const frame = this.#pending.subarray(4, 4 + length);
      this.#pending = this.#pending.subarray(4 + length);
      out.push(decodeFrame(frame));
    }
    return out;
  }
}

function decodeFrame(frame: Buffer): RemotingCommand {
  const info = frame.readInt32BE(0);
  const type = (info >>> 24) & 0xff;
  const headerLength = info & 0xffffff;
  if (type !== 0)
    throw new Error(
      `remoting header serialize type ${type} is not JSON (0); set the server to JSON`,
    );
  if (headerLength > frame.length - 4) throw new Error('remoting header longer than its frame');
  const header = JSON.parse(frame.subarray(4, 4 + headerLength).toString('utf8')) as {
    code?: unknown;
    opaque?: unknown;
    flag?: unknown;
    remark?: unknown;
    extFields?: unknown;
  };
  const body = frame.subarray(4 + headerLength);
  return {
    code: Number(header.code),
    opaque: Number(header.opaque),
    flag: Number(header.flag ?? 0),
    remark: typeof header.remark === 'string' ? header.remark : null,
    extFields:
      header.extFields && typeof header.extFields === 'object'
        ? (header.extFields as Record<string, string>)
        : null,
    ...(body.length > 0 ? { body } : {}),
  };
}

/** Handles a request the server sends us (NOTIFY_CONSUMER_IDS_CHANGED, running-info queries). */
export type ServerRequestHandler = (command: RemotingCommand) => void;

/**
 * One TCP connection to a name server or broker. Requests are multiplexed by `opaque`.
 * Concurrency: any number of requests may be outstanding. Once closed (by either side) every
 * outstanding and later request rejects with {@link RemotingTransportError}.
 */
export class RemotingConnection {
  readonly address: string;
  #socket: Socket | undefined;
  #opaque = 1;
  #pending = new Map<
    number,
    { resolve: (c: RemotingCommand) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }
  >();
  #closed: Error | undefined;
  #onClose: Array<(error: Error) => void> = [];

  private constructor(address: string) {
    this.address = address;
  }

  /** Opens a connection to `host:port`; rejects with {@link RemotingTransportError}. */
  static open(
    address: string,
    options: { connectTimeoutMs: number; onRequest?: ServerRequestHandler },
  ): Promise<RemotingConnection> {
    const conn = new RemotingConnection(address);
    const colon = address.lastIndexOf(':');
    const host = address.slice(0, colon);
    const port = Number(address.slice(colon + 1));
    if (colon <= 0 || !Number.isInteger(port) || port <= 0 || port > 65535)
      return Promise.reject(new RemotingTransportError(`bad RocketMQ address "${address}"`));
    return new Promise((resolve, reject) => {
      const socket = createConnection({ host, port, noDelay: true });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new RemotingTransportError(`connecting to ${address} timed out`));
      }, options.connectTimeoutMs);
      const decoder = new FrameDecoder();
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.setKeepAlive(true, 10_000);
        conn.#socket = socket;
        resolve(conn);
      });
      socket.on('data', (chunk: Buffer) => {
        let commands: RemotingCommand[];
        try {
          commands = decoder.push(chunk);
        } catch (error) {
          conn.#fail(new RemotingTransportError(`${address}: ${(error as Error).message}`));
          socket.destroy();
          return;
        }
        for (const command of commands) {
          if (command.flag & RESPONSE_FLAG) {
            const waiter = conn.#pending.get(command.opaque);
            if (!waiter) continue;
            conn.#pending.delete(command.opaque);
            clearTimeout(waiter.timer);
            waiter.resolve(command);
          } else {
            options.onRequest?.(command);
            if (!(command.flag & ONEWAY_FLAG)) {
              // We implement no server-initiated request; answer so the broker does not wait.
              conn.#write(
                encodeCommand(
                  ResponseCode.REQUEST_CODE_NOT_SUPPORTED,
                  command.opaque,
                  RESPONSE_FLAG,
                  undefined,
                  undefined,
                  `request code ${command.code} not supported by the Sluice client`,
                ),
              );
            }
          }
        }
      });
      socket.on('error', (error) => {
        clearTimeout(timer);
        const wrapped = new RemotingTransportError(`${address}: ${error.message}`, {
          cause: error,
        });
        if (!conn.#socket) reject(wrapped);
        conn.#fail(wrapped);
      });
      socket.on('close', () => {
        clearTimeout(timer);
        if (!conn.#socket) reject(new RemotingTransportError(`${address}: connection closed`));
        conn.#fail(new RemotingTransportError(`${address}: connection closed`));
      });
    });
  }

  /** False once the connection closed or failed. */
  get open(): boolean {
    return this.#closed === undefined;
  }

  /** Called once when the connection closes or fails. */
  onClose(listener: (error: Error) => void): void {
    if (this.#closed) listener(this.#closed);
    else this.#onClose.push(listener);
  }

  /**
   * Sends a request and resolves with the response (any response code: callers check it).
   * Rejects with {@link RemotingTransportError} when the connection fails or `timeoutMs` passes.
   */
  request(
    code: number,
    extFields: Readonly<Record<string, string>> | undefined,
    body: Uint8Array | undefined,
    timeoutMs: number,
  ): Promise<RemotingCommand> {
    if (this.#closed) return Promise.reject(this.#closed);
    const opaque = this.#opaque++;
    if (this.#opaque > 0x7fffffff) this.#opaque = 1;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(opaque);
        reject(
          new RemotingTransportError(
            `${this.address}: request ${code} got no answer within ${timeoutMs} ms`,
          ),
        );
      }, timeoutMs);
      this.#pending.set(opaque, { resolve, reject, timer });
      this.#write(encodeCommand(code, opaque, 0, extFields, body));
    });
  }

  /** Closes the connection; outstanding requests reject. Idempotent. */
  close(): void {
    this.#fail(new RemotingTransportError(`${this.address}: connection closed by us`));
    this.#socket?.destroy();
  }

  #write(frame: Buffer): void {
    this.#socket?.write(frame);
  }

  #fail(error: Error): void {
    if (this.#closed) return;
    this.#closed = error;
    for (const [, waiter] of this.#pending) {
      clearTimeout(waiter.timer);
      waiter.reject(error);
    }
    this.#pending.clear();
    for (const listener of this.#onClose.splice(0)) listener(error);
    this.#socket?.destroy();
  }
}
