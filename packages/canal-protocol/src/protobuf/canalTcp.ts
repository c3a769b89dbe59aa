/**
 * canal's client ↔ canal-server TCP protocol (default port 11111): length-prefixed frames of
 * `Packet`s carrying `Handshake`, `ClientAuth`, `Ack`, `Sub`/`Unsub`, `Get`, `Messages`,
 * `ClientAck` and `ClientRollback` bodies (`CanalProtocol.proto`, Java class `CanalPacket`,
 * proto3), and canal's password scramble (`SecurityUtil.scramble411`).
 * Source: shared/reference/canal-wire-formats.md §2.2 and §3 (canal 1.1.7/1.1.8
 * `server/.../netty/*`, `client/.../SimpleCanalConnector.java`).
 *
 * Encoders write what canal's Java client writes: no `version` field on client packets, an
 * omitted empty `body`, and `Get.timeout`/`Get.unit` always explicit (the server reads an
 * omitted timeout as 0 = block forever and an omitted unit as 0 = nanoseconds, §2.1, §3.6).
 * The server-side encoders and client-packet decoders exist for tests (an in-process server).
 */
import { Buffer } from 'node:buffer';
import { createHash } from 'node:crypto';
import { DecodeError } from '../decodeError.js';
import { preview } from '../preview.js';
import { decodeWhole } from './entryProtocol.js';
import { PacketType, type CanalPacket } from './canalProtocol.js';
import type { ProtoReader } from './wire.js';
import { ProtoWriter, WireType } from './wire.js';

/** The client id canal's Java client always uses (`ClientIdentity`, a Java `short`). */
export const CANAL_DEFAULT_CLIENT_ID = '1001';

/** Java `TimeUnit` ordinals as `Get.unit` carries them (§2.2). */
export const TimeUnitOrdinal = {
  NANOSECONDS: 0,
  MICROSECONDS: 1,
  MILLISECONDS: 2,
  SECONDS: 3,
} as const;

/** `Handshake` (server → client, first packet of a connection). */
export interface CanalHandshake {
  /** 8 random bytes the password scramble is salted with. */
  readonly seeds: Uint8Array;
  readonly communicationEncoding: string;
}

/** `ClientAuth` (client → server, the second packet). */
export interface CanalClientAuth {
  readonly username: string;
  /** UTF-8 bytes of the 40-char lowercase hex scramble, or empty without a password. */
  readonly password: Uint8Array;
  /** Server idle-read timeout, ms (≤0 or absent: 1 h). */
  readonly netReadTimeout: number;
  /** Server idle-write timeout, ms (≤0 or absent: 1 h). */
  readonly netWriteTimeout: number;
  readonly destination: string;
  readonly clientId: string;
  readonly filter: string;
}

/** `Ack` (server → client): `code` 0 is success; canal uses 400, 401, 402 (§3.8). */
export interface CanalAck {
  readonly code: number;
  readonly message: string;
}

/** `Sub` / `Unsub` (client → server). */
export interface CanalSubscription {
  readonly destination: string;
  readonly clientId: string;
  /** canal's AviaterRegexFilter list; empty keeps the instance's own filter. */
  readonly filter: string;
}

/** `Get` (client → server). */
export interface CanalGet {
  readonly destination: string;
  readonly clientId: string;
  /** Batch size (MEMSIZE units of 1 KiB by default, or entries with ITEMSIZE); must be > 0. */
  readonly fetchSize: number;
  /** -1: answer now (possibly empty); > 0: wait up to timeout × unit; 0: block until full. */
  readonly timeout: bigint;
  /** {@link TimeUnitOrdinal}. */
  readonly unit: number;
}

/** `ClientAck` / `ClientRollback` (client → server; batch id 0 rolls back everything). */
export interface CanalBatchRef {
  readonly destination: string;
  readonly clientId: string;
  readonly batchId: bigint;
}

/** Serializes `Packet{type, body}` as canal's Java client does (no version; empty body left out). */
export function encodePacket(type: number, body: Uint8Array, version?: number): Uint8Array {
  const w = new ProtoWriter();
  if (version !== undefined) w.tag(2, WireType.varint).int32(version);
  w.tag(3, WireType.varint).int32(type);
  if (body.length > 0) w.tag(5, WireType.lengthDelimited).bytes(body);
  return w.finish();
}

/** Prefixes a serialized packet with its 4-byte big-endian length (§3.1). */
export function frame(packet: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + packet.length);
  new DataView(out.buffer).setUint32(0, packet.length, false);
  out.set(packet, 4);
  return out;
}

/**
 * Splits a byte stream into frames (§3.1: a u32 big-endian length, then that many bytes of one
 * `Packet`). Feed it chunks in arrival order; each call returns the frames completed so far
 * (views of one buffer, valid until the next `push`… copy to keep). Frames larger than
 * `maxFrameBytes` are refused with a {@link DecodeError}: canal has no limit, but a corrupt
 * length would otherwise make the reader wait for gigabytes. Not thread-safe (one per socket).
 */
export class FrameReader {
  #buf: Uint8Array = new Uint8Array(0);
  #start = 0;
  #end = 0;
  readonly #max: number;

  constructor(maxFrameBytes = 256 * 1024 * 1024) {
    this.#max = maxFrameBytes;
  }

  /** Bytes received but not yet part of a complete frame. */
  get buffered(): number {
    return this.#end - this.#start;
  }

  /** Appends `chunk` and returns the complete frames (packet bytes without the length). */
  push(chunk: Uint8Array): Uint8Array[] {
    this.#append(chunk);
    const frames: Uint8Array[] = [];
    for (;;) {
      const available = this.#end - this.#start;
      if (available < 4) break;
      const b = this.#buf;
      const s = this.#start;
      const length = ((b[s]! << 24) >>> 0) + (b[s + 1]! << 16) + (b[s + 2]! << 8) + b[s + 3]!;
      if (length > this.#max)
        throw new DecodeError(
          `frame length ${length} exceeds the limit of ${this.#max} bytes (corrupt stream?)`,
          { path: 'frame' },
        );
      if (available < 4 + length) break;
      frames.push(b.slice(s + 4, s + 4 + length));
      this.#start = s + 4 + length;
    }
    if (this.#start === this.#end) this.#start = this.#end = 0;
    return frames;
  }

  #append(chunk: Uint8Array): void {
    const need = this.#end - this.#start + chunk.length;
    if (this.#end + chunk.length > this.#buf.length) {
      const next = new Uint8Array(Math.max(need * 2, 64 * 1024));
      next.set(this.#buf.subarray(this.#start, this.#end));
      this.#buf = next;
      this.#end -= this.#start;
      this.#start = 0;
    }
    this.#buf.set(chunk, this.#end);
    this.#end += chunk.length;
  }
}

function sha1(...parts: Uint8Array[]): Buffer {
  const h = createHash('sha1');
  for (const p of parts) h.update(p);
  return h.digest();
}

/**
 * canal's `SecurityUtil.scramble411` as its client sends it (§3.3): `SHA1(seed ‖
 * SHA1(SHA1(password))) XOR SHA1(password)`, as the UTF-8 bytes of its lowercase hex (40 bytes).
 * An empty password gives empty bytes (the Java client sends none; the server then accepts
 * only when `canal.passwd` is empty).
 */
export function scramblePassword(password: string, seed: Uint8Array): Uint8Array {
  if (password === '') return new Uint8Array(0);
  const stage1 = sha1(new TextEncoder().encode(password));
  const stage2 = sha1(stage1);
  const token = sha1(seed, stage2);
  for (let i = 0; i < token.length; i++) token[i] = token[i]! ^ stage1[i]!;
  return new TextEncoder().encode(token.toString('hex'));
}

/**
 * The server's check of a scrambled password (`SecurityUtil.scrambleServerAuth`): `passwd` is
 * canal.properties' `canal.passwd`, the hex of SHA1(SHA1(plaintext)). For tests (an in-process
 * server).
 */
export function checkScrambledPassword(
  scrambled: Uint8Array,
  seed: Uint8Array,
  passwd: string,
): boolean {
  const stage2 = Buffer.from(passwd, 'hex');
  const supplied = Buffer.from(new TextDecoder().decode(scrambled), 'hex');
  if (stage2.length !== 20 || supplied.length !== 20) return false;
  const stage1 = sha1(seed, stage2);
  for (let i = 0; i < 20; i++) stage1[i] = stage1[i]! ^ supplied[i]!;
  return sha1(stage1).equals(stage2);
}

/** The `canal.passwd` value for a plaintext password: hex of SHA1(SHA1(plaintext)), uppercase. */
export function canalPasswd(password: string): string {
  return sha1(sha1(new TextEncoder().encode(password)))
    .toString('hex')
    .toUpperCase();
}

// ---- client → server ----

/** CLIENTAUTHENTICATION packet (unframed). */
export function encodeClientAuth(
  auth: Partial<CanalClientAuth> & { username: string },
): Uint8Array {
  const w = new ProtoWriter();
  if (auth.username !== '') w.tag(1, WireType.lengthDelimited).string(auth.username);
  if (auth.password && auth.password.length > 0)
    w.tag(2, WireType.lengthDelimited).bytes(auth.password);
  if (auth.netReadTimeout !== undefined) w.tag(3, WireType.varint).int32(auth.netReadTimeout);
  if (auth.netWriteTimeout !== undefined) w.tag(4, WireType.varint).int32(auth.netWriteTimeout);
  if (auth.destination) w.tag(5, WireType.lengthDelimited).string(auth.destination);
  if (auth.clientId) w.tag(6, WireType.lengthDelimited).string(auth.clientId);
  if (auth.filter) w.tag(7, WireType.lengthDelimited).string(auth.filter);
  return encodePacket(PacketType.CLIENTAUTHENTICATION, w.finish());
}

function identity(w: ProtoWriter, destination: string, clientId: string): ProtoWriter {
  if (destination !== '') w.tag(1, WireType.lengthDelimited).string(destination);
  if (clientId !== '') w.tag(2, WireType.lengthDelimited).string(clientId);
  return w;
}

/** SUBSCRIPTION packet (unframed). The filter is field 7 (§2.2). */
export function encodeSubscribe(sub: CanalSubscription): Uint8Array {
  const w = identity(new ProtoWriter(), sub.destination, sub.clientId);
  if (sub.filter !== '') w.tag(7, WireType.lengthDelimited).string(sub.filter);
  return encodePacket(PacketType.SUBSCRIPTION, w.finish());
}

/** UNSUBSCRIPTION packet (unframed). */
export function encodeUnsubscribe(sub: CanalSubscription): Uint8Array {
  const w = identity(new ProtoWriter(), sub.destination, sub.clientId);
  if (sub.filter !== '') w.tag(7, WireType.lengthDelimited).string(sub.filter);
  return encodePacket(PacketType.UNSUBSCRIPTION, w.finish());
}

/** GET packet (unframed); timeout and unit are always written, `auto_ack` false as Java does. */
export function encodeGet(get: CanalGet): Uint8Array {
  if (!(get.fetchSize > 0)) throw new RangeError(`fetchSize must be > 0, got ${get.fetchSize}`);
  const w = identity(new ProtoWriter(), get.destination, get.clientId);
  w.tag(3, WireType.varint).int32(get.fetchSize);
  w.tag(4, WireType.varint).int64(get.timeout);
  w.tag(5, WireType.varint).int32(get.unit);
  w.tag(6, WireType.varint).bool(false);
  return encodePacket(PacketType.GET, w.finish());
}

/** CLIENTACK packet (unframed). canal answers nothing on success. */
export function encodeClientAck(ack: CanalBatchRef): Uint8Array {
  const w = identity(new ProtoWriter(), ack.destination, ack.clientId);
  if (ack.batchId !== 0n) w.tag(3, WireType.varint).int64(ack.batchId);
  return encodePacket(PacketType.CLIENTACK, w.finish());
}

/** CLIENTROLLBACK packet (unframed); batch id 0 (left out) rolls back every un-acked batch. */
export function encodeClientRollback(rollback: CanalBatchRef): Uint8Array {
  const w = identity(new ProtoWriter(), rollback.destination, rollback.clientId);
  if (rollback.batchId !== 0n) w.tag(3, WireType.varint).int64(rollback.batchId);
  return encodePacket(PacketType.CLIENTROLLBACK, w.finish());
}

// ---- server → client ----

/** HANDSHAKE packet as canal-server sends it (`version=1`); for tests. */
export function encodeHandshake(seeds: Uint8Array): Uint8Array {
  return encodePacket(
    PacketType.HANDSHAKE,
    new ProtoWriter().tag(2, WireType.lengthDelimited).bytes(seeds).finish(),
    1,
  );
}

function readFields(
  bytes: Uint8Array,
  onField: (field: number, wt: number, r: ProtoReader) => boolean,
): void {
  decodeWhole(bytes, (r) => {
    while (!r.atEnd()) {
      const tag = r.tag();
      const wt = tag & 7;
      if (!onField(tag >>> 3, wt, r)) r.skip(wt);
    }
    return undefined;
  });
}

/** Decodes a `Handshake` body. */
export function decodeHandshake(body: Uint8Array): CanalHandshake {
  let seeds: Uint8Array = new Uint8Array(0);
  let communicationEncoding = '';
  readFields(body, (f, wt, r) => {
    if (f === 1 && wt === WireType.lengthDelimited) communicationEncoding = r.string();
    else if (f === 2 && wt === WireType.lengthDelimited) seeds = r.bytes();
    else return false;
    return true;
  });
  return { seeds, communicationEncoding };
}

/** Decodes an `Ack` body (code 0 when absent). */
export function decodeAck(body: Uint8Array): CanalAck {
  let code = 0;
  let message = '';
  readFields(body, (f, wt, r) => {
    if (f === 1 && wt === WireType.varint) code = r.int32();
    else if (f === 2 && wt === WireType.lengthDelimited) message = r.string();
    else return false;
    return true;
  });
  return { code, message };
}

/** Decodes a `ClientAuth` body; for tests (an in-process server). */
export function decodeClientAuth(body: Uint8Array): CanalClientAuth {
  let username = '';
  let password: Uint8Array = new Uint8Array(0);
  let netReadTimeout = 0;
  let netWriteTimeout = 0;
  let destination = '';
  let clientId = '';
  let filter = '';
  readFields(body, (f, wt, r) => {
    if (f === 1 && wt === WireType.lengthDelimited) username = r.string();
    else if (f === 2 && wt === WireType.lengthDelimited) password = r.bytes();
    else if (f === 3 && wt === WireType.varint) netReadTimeout = r.int32();
    else if (f === 4 && wt === WireType.varint) netWriteTimeout = r.int32();
    else if (f === 5 && wt === WireType.lengthDelimited) destination = r.string();
    else if (f === 6 && wt === WireType.lengthDelimited) clientId = r.string();
    else if (f === 7 && wt === WireType.lengthDelimited) filter = r.string();
    else return false;
    return true;
  });
  return { username, password, netReadTimeout, netWriteTimeout, destination, clientId, filter };
}

/** Decodes a `Sub`/`Unsub` body; for tests. */
export function decodeSubscription(body: Uint8Array): CanalSubscription {
  let destination = '';
  let clientId = '';
  let filter = '';
  readFields(body, (f, wt, r) => {
    if (f === 1 && wt === WireType.lengthDelimited) destination = r.string();
    else if (f === 2 && wt === WireType.lengthDelimited) clientId = r.string();
    else if (f === 7 && wt === WireType.lengthDelimited) filter = r.string();
    else return false;
    return true;
  });
  return { destination, clientId, filter };
}

/** Decodes a `Get` body (proto3: absent timeout/unit read as 0, as the server reads them); for tests. */
export function decodeGet(body: Uint8Array): CanalGet {
  let destination = '';
  let clientId = '';
  let fetchSize = 0;
  let timeout = 0n;
  let unit = 0;
  readFields(body, (f, wt, r) => {
    if (f === 1 && wt === WireType.lengthDelimited) destination = r.string();
    else if (f === 2 && wt === WireType.lengthDelimited) clientId = r.string();
    else if (f === 3 && wt === WireType.varint) fetchSize = r.int32();
    else if (f === 4 && wt === WireType.varint) timeout = r.int64();
    else if (f === 5 && wt === WireType.varint) unit = r.int32();
    else return false;
    return true;
  });
  return { destination, clientId, fetchSize, timeout, unit };
}

/** Decodes a `ClientAck`/`ClientRollback` body (batch id 0 when absent); for tests. */
export function decodeBatchRef(body: Uint8Array): CanalBatchRef {
  let destination = '';
  let clientId = '';
  let batchId = 0n;
  readFields(body, (f, wt, r) => {
    if (f === 1 && wt === WireType.lengthDelimited) destination = r.string();
    else if (f === 2 && wt === WireType.lengthDelimited) clientId = r.string();
    else if (f === 3 && wt === WireType.varint) batchId = r.int64();
    else return false;
    return true;
  });
  return { destination, clientId, batchId };
}

/**
 * Reads the batch id of a MESSAGES packet without decoding its entries (the entries are
 * decoded later, by the core, from the same bytes). -1 is canal's empty batch; 0 when absent.
 * Throws {@link DecodeError} when the packet is not MESSAGES: an ACK packet's error code and
 * message are in the error text.
 */
export function messagesBatchId(packet: CanalPacket): { batchId: bigint; entries: number } {
  if (packet.type === PacketType.ACK) {
    const ack = decodeAck(packet.body);
    throw new DecodeError(
      `canal-server answered error ${ack.code}${ack.message ? `: ${preview(ack.message, 500)}` : ''}`,
      { path: 'type' },
    );
  }
  if (packet.type !== PacketType.MESSAGES)
    throw new DecodeError(`is packet type ${packet.type}, expected MESSAGES (7)`, { path: 'type' });
  let batchId = 0n;
  let entries = 0;
  readFields(packet.body, (f, wt, r) => {
    if (f === 1 && wt === WireType.varint) batchId = r.int64();
    else if (f === 2 && wt === WireType.lengthDelimited) {
      r.skip(wt);
      entries++;
    } else return false;
    return true;
  });
  return { batchId, entries };
}
