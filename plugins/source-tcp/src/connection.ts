import { connect as netConnect, type Socket } from 'node:net';
import {
  FrameReader,
  PacketType,
  TimeUnitOrdinal,
  decodeAck,
  decodeHandshake,
  decodePacket,
  encodeClientAck,
  encodeClientAuth,
  encodeClientRollback,
  encodeGet,
  encodeSubscribe,
  frame,
  messagesBatchId,
  scramblePassword,
  type CanalPacket,
} from '@sluice/canal-protocol';
import type { HostPort } from './options.js';

/** The connection to canal-server broke or canal-server answered an error; reconnect. */
export class CanalConnectionError extends Error {
  /** canal's error code (400, 401, 402) when canal-server answered one. */
  readonly code: number | undefined;
  constructor(message: string, options?: { cause?: unknown; code?: number }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'CanalConnectionError';
    this.code = options?.code;
  }
}

/** canal-server refused the credentials (`Ack{400, "auth failed …"}` to ClientAuth). */
export class CanalAuthError extends CanalConnectionError {
  constructor(message: string, code: number) {
    super(message, { code });
    this.name = 'CanalAuthError';
  }
}

/** What one GET returned. */
export interface CanalBatch {
  /** canal's batch id; -1 for an empty batch. */
  readonly batchId: bigint;
  /** Number of entries. */
  readonly entries: number;
  /**
   * The serialized `Packet{MESSAGES}` as canal-server sent it: canal's non-flat MQ payload
   * layout (wire formats §2.4), which the core's protobuf decoder reads as it is.
   */
  readonly packet: Uint8Array;
}

/** How to open a session. */
export interface SessionOptions {
  readonly destination: string;
  readonly clientId: string;
  readonly username: string;
  readonly password: string;
  readonly filter: string;
  readonly idleTimeoutMs: number;
  readonly connectTimeoutMs: number;
}

interface Waiter {
  resolve(packet: CanalPacket): void;
  reject(error: unknown): void;
}

/**
 * One subscribed session with canal-server (wire formats §3.2): connect, handshake, auth,
 * subscribe, rollback of whatever a previous session left un-acked. Then GETs, ACKs and
 * ROLLBACKs in the order they are called (canal handles one connection's requests in order).
 *
 * Replies are matched in order. ACK and ROLLBACK get no reply on success; their error replies
 * arrive asynchronously (§3.7), so an ACK-type packet where MESSAGES is expected, or any packet
 * nobody waits for, fails the session ({@link CanalConnectionError}); the caller reconnects and
 * canal redelivers everything un-acked. Once failed, every call rejects. Not safe for concurrent
 * GETs (one outstanding GET at a time); ack/rollback may be called while a GET waits.
 */
export class CanalSession {
  readonly address: HostPort;
  readonly #socket: Socket;
  readonly #frames = new FrameReader();
  readonly #waiters: Waiter[] = [];
  readonly #o: SessionOptions;
  #failure: CanalConnectionError | undefined;
  readonly #closedListeners = new Set<(error: CanalConnectionError) => void>();

  private constructor(socket: Socket, address: HostPort, options: SessionOptions) {
    this.#socket = socket;
    this.address = address;
    this.#o = options;
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('error', (error) =>
      this.#fail(new CanalConnectionError(`connection error: ${error.message}`, { cause: error })),
    );
    socket.on('close', () =>
      this.#fail(new CanalConnectionError('canal-server closed the connection')),
    );
  }

  /** `host:port`, for messages. */
  get where(): string {
    return `${this.address.host}:${this.address.port}`;
  }

  /** The error that ended the session, if it ended. */
  get failure(): CanalConnectionError | undefined {
    return this.#failure;
  }

  /**
   * Calls `listener` once when the session ends (at once when it already has). Returns a
   * function that removes the listener.
   */
  onClosed(listener: (error: CanalConnectionError) => void): () => void {
    if (this.#failure) {
      listener(this.#failure);
      return () => {};
    }
    this.#closedListeners.add(listener);
    return () => this.#closedListeners.delete(listener);
  }

  /**
   * Opens a session: TCP connect, handshake, auth, subscribe, rollback(0). Rejects with
   * {@link CanalAuthError} on refused credentials, {@link CanalConnectionError} otherwise.
   */
  static async open(
    address: HostPort,
    options: SessionOptions,
    signal?: AbortSignal,
  ): Promise<CanalSession> {
    const socket = netConnect({ host: address.host, port: address.port });
    socket.setNoDelay(true);
    const session = new CanalSession(socket, address, options);
    const timer = setTimeout(
      () =>
        session.#fail(
          new CanalConnectionError(
            `no session with canal-server within ${options.connectTimeoutMs} ms (connect, handshake, auth, subscribe)`,
          ),
        ),
      options.connectTimeoutMs,
    );
    const onAbort = () => session.#fail(new CanalConnectionError('aborted'));
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const handshake = await session.#next();
      if (handshake.type !== PacketType.HANDSHAKE)
        throw new CanalConnectionError(
          `expected canal's HANDSHAKE packet, got packet type ${handshake.type} (is ${session.where} canal-server's TCP port?)`,
        );
      const { seeds } = decodeHandshake(handshake.body);
      const authReply = session.#request(
        encodeClientAuth({
          username: options.username,
          password: scramblePassword(options.password, seeds),
          netReadTimeout: options.idleTimeoutMs,
          netWriteTimeout: options.idleTimeoutMs,
        }),
      );
      const auth = await authReply;
      const authAck = auth.type === PacketType.ACK ? decodeAck(auth.body) : undefined;
      if (!authAck || authAck.code !== 0)
        throw authAck
          ? new CanalAuthError(
              `canal-server refused the credentials of user "${options.username}" (error ${authAck.code}: ${authAck.message}); set canal.tcp.username/canal.tcp.password to canal.user and the plaintext of canal.passwd`,
              authAck.code,
            )
          : new CanalConnectionError(`expected an ACK to ClientAuth, got packet type ${auth.type}`);
      const sub = await session.#request(
        encodeSubscribe({
          destination: options.destination,
          clientId: options.clientId,
          filter: options.filter,
        }),
      );
      session.#expectOk(sub, `subscribing to destination "${options.destination}"`);
      // Redeliver whatever a previous session (this process before a reconnect, or one killed)
      // fetched but did not ack; canal answers nothing on success.
      session.rollback(0n);
      return session;
    } catch (error) {
      session.close();
      throw error;
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    }
  }

  /**
   * GET: waits up to `timeoutMs` on the server (−1: answer at once) for up to `fetchSize`.
   * Rejects with {@link CanalConnectionError} when the session fails or canal answers an error.
   */
  async get(fetchSize: number, timeoutMs: number): Promise<CanalBatch> {
    const reply = await this.#request(
      encodeGet({
        destination: this.#o.destination,
        clientId: this.#o.clientId,
        fetchSize,
        timeout: BigInt(timeoutMs),
        unit: TimeUnitOrdinal.MILLISECONDS,
      }),
    );
    if (reply.type === PacketType.ACK) {
      const ack = decodeAck(reply.body);
      const error = new CanalConnectionError(
        `canal-server answered error ${ack.code} (to a GET, or to an earlier ACK/ROLLBACK): ${firstLine(ack.message)}`,
        { code: ack.code },
      );
      this.#fail(error);
      throw error;
    }
    try {
      const { batchId, entries } = messagesBatchId(reply);
      return { batchId, entries, packet: reply.raw };
    } catch (error) {
      const failure = new CanalConnectionError(
        `canal-server sent an unreadable reply to GET: ${error instanceof Error ? error.message : String(error)}`,
        { cause: error },
      );
      this.#fail(failure);
      throw failure;
    }
  }

  /** CLIENTACK of `batchId` (no reply; an error reply fails the session later). */
  ack(batchId: bigint): void {
    this.#send(
      encodeClientAck({ destination: this.#o.destination, clientId: this.#o.clientId, batchId }),
    );
  }

  /** CLIENTROLLBACK (0: everything un-acked); canal redelivers from the last ack. */
  rollback(batchId: bigint): void {
    this.#send(
      encodeClientRollback({
        destination: this.#o.destination,
        clientId: this.#o.clientId,
        batchId,
      }),
    );
  }

  /**
   * Closes the session (no unsubscribe: canal keeps the cursor, as canal-adapter does). Acks
   * already written are flushed first (a half-close), then the socket is destroyed after at
   * most a second.
   */
  close(): void {
    if (this.#failure) return;
    this.#fail(new CanalConnectionError('closed'), true);
  }

  #expectOk(packet: RawPacket, what: string): void {
    if (packet.type !== PacketType.ACK)
      throw new CanalConnectionError(`${what}: expected an ACK, got packet type ${packet.type}`);
    const ack = decodeAck(packet.body);
    if (ack.code !== 0)
      throw new CanalConnectionError(
        `${what}: canal-server answered error ${ack.code}: ${firstLine(ack.message)}`,
        {
          code: ack.code,
        },
      );
  }

  #send(packet: Uint8Array): void {
    if (this.#failure) throw this.#failure;
    this.#socket.write(frame(packet));
  }

  #request(packet: Uint8Array): Promise<RawPacket> {
    if (this.#failure) return Promise.reject(this.#failure);
    const reply = this.#next();
    this.#send(packet);
    return reply;
  }

  #next(): Promise<RawPacket> {
    if (this.#failure) return Promise.reject(this.#failure);
    return new Promise<RawPacket>((resolve, reject) =>
      this.#waiters.push({ resolve: resolve as (p: CanalPacket) => void, reject }),
    );
  }

  #onData(chunk: Buffer): void {
    let frames: Uint8Array[];
    try {
      frames = this.#frames.push(chunk);
    } catch (error) {
      this.#fail(new CanalConnectionError(`unreadable stream: ${String(error)}`, { cause: error }));
      return;
    }
    for (const bytes of frames) {
      if (this.#failure) return;
      let packet: RawPacket;
      try {
        packet = { ...decodePacket(bytes), raw: bytes };
      } catch (error) {
        this.#fail(
          new CanalConnectionError(`unreadable packet: ${String(error)}`, { cause: error }),
        );
        return;
      }
      const waiter = this.#waiters.shift();
      if (waiter) {
        waiter.resolve(packet);
      } else {
        const ack = packet.type === PacketType.ACK ? decodeAck(packet.body) : undefined;
        this.#fail(
          new CanalConnectionError(
            ack
              ? `canal-server answered error ${ack.code} to an ACK or ROLLBACK: ${firstLine(ack.message)}`
              : `unexpected packet type ${packet.type} from canal-server`,
            ack ? { code: ack.code } : undefined,
          ),
        );
      }
    }
  }

  #fail(error: CanalConnectionError, graceful = false): void {
    if (this.#failure) return;
    this.#failure = error;
    if (graceful && !this.#socket.destroyed) {
      this.#socket.end();
      setTimeout(() => this.#socket.destroy(), 1000).unref();
    } else {
      this.#socket.destroy();
    }
    for (const w of this.#waiters.splice(0)) w.reject(error);
    for (const l of this.#closedListeners) l(error);
    this.#closedListeners.clear();
  }
}

/** A decoded packet with its serialized bytes. */
type RawPacket = CanalPacket & { readonly raw: Uint8Array };

/** canal's error messages carry Java stack traces; the first line says what happened. */
function firstLine(text: string): string {
  const line = text.split('\n', 1)[0] ?? '';
  return line.length > 500 ? `${line.slice(0, 500)}…` : line;
}
