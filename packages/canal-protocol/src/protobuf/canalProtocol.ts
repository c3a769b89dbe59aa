/**
 * The parts of canal's `CanalProtocol.proto` (Java class `CanalPacket`, proto3) that carry MQ
 * payloads: `Packet`, `Messages` and `Ack`. See shared/reference/canal-wire-formats.md §2.2, §2.4.
 *
 * A non-flat MQ record value is always `Packet{type=MESSAGES, body=Messages{batch_id,
 * messages=[Entry bytes…]}}`, with no length prefix, in one of two layouts that a decoder must
 * both accept: canal's raw fast path (`18 07 2A …`, no version field) and the builder path
 * (`10 01 18 07 2A …`, batch_id left out so it reads as 0).
 */
import { DecodeError, withPathPrefix } from '../decodeError.js';
import { preview } from '../preview.js';
import { decodeEntry, decodeWhole, encodeEntry, type CanalEntry } from './entryProtocol.js';
import { ProtoReader, ProtoWriter, WireType, wrongWireType } from './wire.js';

/** `PacketType` enum values. */
export const PacketType = {
  HANDSHAKE: 1,
  CLIENTAUTHENTICATION: 2,
  ACK: 3,
  SUBSCRIPTION: 4,
  UNSUBSCRIPTION: 5,
  GET: 6,
  MESSAGES: 7,
  CLIENTACK: 8,
  SHUTDOWN: 9,
  DUMP: 10,
  HEARTBEAT: 11,
  CLIENTROLLBACK: 12,
} as const;

/** `Compression` enum values. canal never compresses; readers accept only 0 and NONE. */
export const Compression = { NONE: 1, ZLIB: 2, GZIP: 3, LZF: 4 } as const;

/** `Packet` (proto3: absent fields are 0). */
export interface CanalPacket {
  readonly magicNumber: number;
  readonly version: number;
  /** {@link PacketType}. */
  readonly type: number;
  /** {@link Compression}; 0 when absent. */
  readonly compression: number;
  /** The serialized inner message. */
  readonly body: Uint8Array;
}

/** One non-flat MQ message: the decoded `Messages` body of a MESSAGES packet. */
export interface CanalMessages {
  /** canal batch id: the real id on the raw path, 0 on the builder path, -1 for an empty batch. */
  readonly batchId: bigint;
  /** The entries, in binlog order (including any TRANSACTIONBEGIN/END). */
  readonly entries: readonly CanalEntry[];
}

function readPacket(r: ProtoReader): CanalPacket {
  let magicNumber = 0;
  let version = 0;
  let type = 0;
  let compression = 0;
  let body: Uint8Array = new Uint8Array(0);
  while (!r.atEnd()) {
    const tag = r.tag();
    const wt = tag & 7;
    const field = tag >>> 3;
    if (field === 5) {
      if (wt !== WireType.lengthDelimited)
        throw wrongWireType('body', wt, WireType.lengthDelimited);
      body = r.bytes();
    } else if (field >= 1 && field <= 4) {
      if (wt !== WireType.varint)
        throw wrongWireType(
          ['magicNumber', 'version', 'type', 'compression'][field - 1]!,
          wt,
          WireType.varint,
        );
      const value = r.int32();
      if (field === 1) magicNumber = value;
      else if (field === 2) version = value;
      else if (field === 3) type = value;
      else compression = value;
    } else {
      r.skip(wt);
    }
  }
  return { magicNumber, version, type, compression, body };
}

/** Decodes a serialized `Packet` (the body stays serialized). */
export function decodePacket(bytes: Uint8Array): CanalPacket {
  return decodeWhole(bytes, readPacket);
}

function readAck(r: ProtoReader): { code: number; message: string } {
  let code = 0;
  let message = '';
  while (!r.atEnd()) {
    const tag = r.tag();
    const wt = tag & 7;
    if (tag >>> 3 === 1 && wt === WireType.varint) code = r.int32();
    else if (tag >>> 3 === 2 && wt === WireType.lengthDelimited) message = r.string();
    else r.skip(wt);
  }
  return { code, message };
}

/**
 * Decodes one non-flat MQ payload (a Kafka record value): `Packet{MESSAGES}` → `Messages` →
 * each `Entry`. An ACK packet (canal's error reply) or any other packet type, and compression
 * other than none, are {@link DecodeError}s, as in canal's own deserializer.
 */
export function decodeCanalMessages(bytes: Uint8Array): CanalMessages {
  const packet = decodePacket(bytes);
  if (packet.type === PacketType.ACK) {
    const ack = decodeWhole(packet.body, readAck);
    throw new DecodeError(
      `is an ACK packet, not MESSAGES: error ${ack.code}${ack.message ? ` ${preview(ack.message, 200)}` : ''}`,
      { path: 'type' },
    );
  }
  if (packet.type !== PacketType.MESSAGES) {
    throw new DecodeError(`is packet type ${packet.type}, expected MESSAGES (7)`, { path: 'type' });
  }
  if (packet.compression !== 0 && packet.compression !== Compression.NONE) {
    throw new DecodeError(
      `compression ${packet.compression} is not supported (canal never compresses)`,
      { path: 'compression' },
    );
  }
  const r = new ProtoReader(packet.body);
  let batchId = 0n;
  const entries: CanalEntry[] = [];
  try {
    while (!r.atEnd()) {
      const tag = r.tag();
      const wt = tag & 7;
      const field = tag >>> 3;
      if (field === 1) {
        if (wt !== WireType.varint) throw wrongWireType('batchId', wt, WireType.varint);
        batchId = r.int64();
      } else if (field === 2) {
        if (wt !== WireType.lengthDelimited)
          throw wrongWireType(`messages[${entries.length}]`, wt, WireType.lengthDelimited);
        const entryBytes = r.bytes();
        try {
          entries.push(decodeEntry(entryBytes));
        } catch (error) {
          throw withPathPrefix(error, `messages[${entries.length}]`);
        }
      } else {
        r.skip(wt);
      }
    }
  } catch (error) {
    throw withPathPrefix(error, 'body');
  }
  return { batchId, entries };
}

/** Layout of an encoded MQ payload: canal's raw fast path or its builder path (§2.4). */
export type PacketLayout = 'raw' | 'builder';

/**
 * Serializes one non-flat MQ payload. `raw` writes `Packet{type, body}` with `batch_id` always
 * present (canal's fast path); `builder` writes `Packet{version=1, type, body}` and leaves a zero
 * `batch_id` out (canal's rebuilt path). Entries may be given decoded or already serialized.
 */
export function encodeCanalMessages(
  message: { batchId: bigint; entries: readonly (CanalEntry | Uint8Array)[] },
  layout: PacketLayout = 'raw',
): Uint8Array {
  const body = new ProtoWriter();
  if (layout === 'raw' || message.batchId !== 0n)
    body.tag(1, WireType.varint).int64(message.batchId);
  for (const entry of message.entries) {
    body
      .tag(2, WireType.lengthDelimited)
      .bytes(entry instanceof Uint8Array ? entry : encodeEntry(entry));
  }
  const w = new ProtoWriter();
  if (layout === 'builder') w.tag(2, WireType.varint).int32(1);
  w.tag(3, WireType.varint).int32(PacketType.MESSAGES);
  w.tag(5, WireType.lengthDelimited).bytes(body.finish());
  return w.finish();
}

/** Serializes an ACK packet (canal's error reply); for tests. */
export function encodeAckPacket(code: number, message: string): Uint8Array {
  const body = new ProtoWriter();
  if (code !== 0) body.tag(1, WireType.varint).int32(code);
  if (message !== '') body.tag(2, WireType.lengthDelimited).string(message);
  return new ProtoWriter()
    .tag(2, WireType.varint)
    .int32(1)
    .tag(3, WireType.varint)
    .int32(PacketType.ACK)
    .tag(5, WireType.lengthDelimited)
    .bytes(body.finish())
    .finish();
}
