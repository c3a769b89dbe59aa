/**
 * An in-process stand-in for canal-server's TCP side, written from
 * shared/reference/canal-wire-formats.md §3 (canal 1.1.7/1.1.8 `SessionHandler`,
 * `CanalServerWithEmbedded`, `MemoryMetaManager`): handshake, scramble411 auth against a
 * `canal.passwd`, SUB/GET/CLIENTACK/CLIENTROLLBACK with canal's batch rules (un-acked batches
 * stream forward, acks must name the oldest outstanding batch, a rollback rewinds to the last
 * ack, errors as asynchronous `Ack{400}` packets, no reply to ack/rollback), batch ids that
 * restart with the server. For the source's protocol-level tests (fault injection that the real
 * server cannot do on demand); the integration tests run against the testbed's real canal-server.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import {
  FrameReader,
  PacketType,
  checkScrambledPassword,
  decodeBatchRef,
  decodeClientAuth,
  decodeGet,
  decodePacket,
  decodeSubscription,
  encodeAckPacket,
  encodeCanalMessages,
  encodeHandshake,
  frame,
} from '@sluice/canal-protocol';

interface Destination {
  readonly entries: Uint8Array[];
  /** Index of the first entry not acked. */
  acked: number;
  /** Index of the next entry to hand out. */
  cursor: number;
  /** Outstanding batches in fetch order: id → [start, end). */
  outstanding: { id: bigint; start: number; end: number }[];
  filter: string;
}

export interface FakeCanalOptions {
  /** canal.user; empty: no authentication. */
  readonly user?: string;
  /** canal.passwd: hex of SHA1(SHA1(plaintext)). */
  readonly passwd?: string;
  /** Most entries per batch (canal's MEMSIZE budget reduced to a count); default 1. */
  readonly entriesPerBatch?: number;
}

export class FakeCanalServer {
  #server: Server;
  readonly #sockets = new Set<Socket>();
  readonly #destinations = new Map<string, Destination>();
  readonly #o: FakeCanalOptions;
  #nextBatchId = 1n;
  #port = 0;
  /** Every batch id acked, in order (for assertions). */
  readonly acks: bigint[] = [];
  /** Every error reply sent (for assertions). */
  readonly errors: string[] = [];
  /** Sessions that completed auth. */
  sessions = 0;
  /** Every GET received: fetch size and timeout as sent (for assertions). */
  readonly gets: { fetchSize: number; timeout: bigint }[] = [];
  /** Rollbacks received. */
  rollbacks = 0;
  /** Answer the next CLIENTACK with canal's asynchronous error reply instead of acking. */
  failNextAck = false;

  constructor(options: FakeCanalOptions = {}) {
    this.#o = options;
    this.#server = createServer((socket) => this.#accept(socket));
  }

  get port(): number {
    return this.#port;
  }

  get address(): string {
    return `127.0.0.1:${this.#port}`;
  }

  async listen(port = 0): Promise<this> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(port, '127.0.0.1', () => resolve());
    });
    const address = this.#server.address();
    this.#port = typeof address === 'object' && address ? address.port : 0;
    return this;
  }

  /** Creates a destination (empty). */
  createDestination(name: string): void {
    if (!this.#destinations.has(name))
      this.#destinations.set(name, {
        entries: [],
        acked: 0,
        cursor: 0,
        outstanding: [],
        filter: '',
      });
  }

  /** Appends serialized `Entry`s to a destination's store. */
  append(name: string, entries: readonly Uint8Array[]): void {
    this.createDestination(name);
    this.#destinations.get(name)!.entries.push(...entries);
  }

  /** Entries acked so far. */
  ackedCount(name: string): number {
    return this.#destinations.get(name)?.acked ?? 0;
  }

  /** Drops every client connection (a network failure). */
  dropConnections(): void {
    for (const s of this.#sockets) s.destroy();
  }

  /**
   * A canal-server restart with persisted meta (canal's default file meta manager): connections
   * drop, un-acked batches are forgotten (the next session starts from the last ack), batch ids
   * start again at 1.
   */
  async restart(): Promise<void> {
    await this.close();
    for (const d of this.#destinations.values()) {
      d.cursor = d.acked;
      d.outstanding = [];
    }
    this.#nextBatchId = 1n;
    this.#server = createServer((socket) => this.#accept(socket));
    await this.listen(this.#port);
  }

  async close(): Promise<void> {
    this.dropConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #accept(socket: Socket): void {
    this.#sockets.add(socket);
    socket.on('close', () => this.#sockets.delete(socket));
    socket.on('error', () => {});
    const seeds = randomBytes(8);
    const reader = new FrameReader();
    let authed = false;
    let chain = Promise.resolve();
    const send = (packet: Uint8Array) => {
      if (!socket.destroyed) socket.write(frame(packet));
    };
    const error = (code: number, text: string) => {
      this.errors.push(text);
      send(encodeAckPacket(code, text));
    };
    send(encodeHandshake(seeds));
    socket.on('data', (chunk) => {
      for (const bytes of reader.push(chunk)) {
        chain = chain.then(async () => {
          if (socket.destroyed) return;
          const packet = decodePacket(bytes);
          if (!authed) {
            const auth = decodeClientAuth(packet.body);
            const user = this.#o.user ?? '';
            const passwd = this.#o.passwd ?? '';
            const ok =
              (user === '' || user === auth.username) &&
              (passwd === '' || checkScrambledPassword(auth.password, seeds, passwd));
            if (!ok) return error(400, `auth failed for user:${auth.username}`);
            authed = true;
            this.sessions++;
            return send(encodeAckPacket(0, ''));
          }
          switch (packet.type) {
            case PacketType.SUBSCRIPTION: {
              const sub = decodeSubscription(packet.body);
              if (!sub.destination || !sub.clientId)
                return error(401, 'destination or clientId is null');
              const d = this.#destinations.get(sub.destination);
              if (!d) return error(400, `can't find destination:${sub.destination}`);
              if (sub.filter) d.filter = sub.filter;
              return send(encodeAckPacket(0, ''));
            }
            case PacketType.GET: {
              const get = decodeGet(packet.body);
              this.gets.push({ fetchSize: get.fetchSize, timeout: get.timeout });
              const d = this.#destinations.get(get.destination);
              if (!d) return error(400, `destination:${get.destination} should start first`);
              const per = Math.max(1, this.#o.entriesPerBatch ?? 1);
              if (d.cursor >= d.entries.length && get.timeout > 0n) {
                const until = Date.now() + Number(get.timeout);
                while (d.cursor >= d.entries.length && Date.now() < until && !socket.destroyed)
                  await new Promise((r) => setTimeout(r, 5));
              }
              if (socket.destroyed) return;
              if (d.cursor >= d.entries.length) {
                // canal's empty reply: the builder layout, batch id -1.
                return send(encodeCanalMessages({ batchId: -1n, entries: [] }, 'builder'));
              }
              const start = d.cursor;
              const end = Math.min(d.entries.length, start + Math.min(per, get.fetchSize));
              const id = this.#nextBatchId++;
              d.outstanding.push({ id, start, end });
              d.cursor = end;
              return send(
                encodeCanalMessages({ batchId: id, entries: d.entries.slice(start, end) }, 'raw'),
              );
            }
            case PacketType.CLIENTACK: {
              const ack = decodeBatchRef(packet.body);
              const d = this.#destinations.get(ack.destination);
              if (ack.batchId === -1n) return;
              if (ack.batchId === 0n) return error(402, 'batchId should assign value');
              if (this.failNextAck) {
                this.failNextAck = false;
                return error(
                  400,
                  `something goes wrong with channel:[id: 0x1] on ack ${ack.batchId}`,
                );
              }
              const first = d?.outstanding[0];
              if (!d || !first || first.id !== ack.batchId)
                return error(
                  400,
                  `batchId:${ack.batchId} is not the firstly:${first?.id ?? 'none'}`,
                );
              d.outstanding.shift();
              d.acked = first.end;
              this.acks.push(ack.batchId);
              return;
            }
            case PacketType.CLIENTROLLBACK: {
              const rb = decodeBatchRef(packet.body);
              const d = this.#destinations.get(rb.destination);
              this.rollbacks++;
              if (!d) return;
              d.outstanding = [];
              d.cursor = d.acked;
              return;
            }
            default:
              return error(400, `packet type=${packet.type} is NOT supported!`);
          }
        });
      }
    });
  }
}
