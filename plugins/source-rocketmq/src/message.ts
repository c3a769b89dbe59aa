import { inflateSync } from 'node:zlib';

/**
 * RocketMQ's stored-message format, as a PULL_MESSAGE response body carries it (one or more
 * messages back to back). Layout from `org.apache.rocketmq.common.message.MessageDecoder#decode`
 * (5.3.3), big-endian:
 *
 * totalSize i32 · magic i32 · bodyCRC i32 · queueId i32 · flag i32 · queueOffset i64 ·
 * physicalOffset i64 · sysFlag i32 · bornTimestamp i64 · bornHost (4+4, or 16+4 with
 * BORNHOST_V6_FLAG) · storeTimestamp i64 · storeHost (4+4, or 16+4 with STOREHOSTADDRESS_V6_FLAG) ·
 * reconsumeTimes i32 · preparedTransactionOffset i64 · bodyLength i32 · body · topicLength (i8,
 * or i16 with MESSAGE_MAGIC_CODE_V2) · topic · propertiesLength i16 · properties.
 *
 * Properties are `name\u0001value\u0002…`. A body with COMPRESSED_FLAG is compressed with the type
 * in sysFlag bits 8-10 (0 or 3 = zlib, what rocketmq-client 4.x — canal's producer — uses above
 * 4 KiB; 1 = LZ4 and 2 = zstd, which only 5.x producers use when configured to).
 */

const MAGIC_V1 = -626843481;
const MAGIC_V2 = -626843477;
const COMPRESSED_FLAG = 1;
const BORNHOST_V6_FLAG = 16;
const STOREHOSTADDRESS_V6_FLAG = 32;
const COMPRESSION_TYPE_COMPARATOR = 0x700;

/** One message as stored by the broker. */
export interface StoredMessage {
  readonly topic: string;
  readonly queueId: number;
  /** Position in the queue (the consume-queue offset). */
  readonly queueOffset: bigint;
  /** The body, decompressed. */
  readonly body: Buffer;
  readonly bornTimestamp: number;
  readonly storeTimestamp: number;
  readonly reconsumeTimes: number;
  /** User and system properties (`TAGS`, `KEYS`, `UNIQ_KEY`, …). */
  readonly properties: ReadonlyMap<string, string>;
}

/** A body this client cannot read (an unknown compression). The message is poison, not lost. */
export class MessageFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MessageFormatError';
  }
}

/** Parses `name\u0001value\u0002…`. */
export function decodeProperties(text: string): Map<string, string> {
  const map = new Map<string, string>();
  for (const item of text.split('\u0002')) {
    if (!item) continue;
    const sep = item.indexOf('\u0001');
    if (sep < 0) continue;
    map.set(item.slice(0, sep), item.slice(sep + 1));
  }
  return map;
}

/** Writes properties the way `MessageDecoder#messageProperties2String` does. */
export function encodeProperties(properties: ReadonlyMap<string, string>): string {
  let out = '';
  for (const [k, v] of properties) out += `${k}\u0001${v}\u0002`;
  return out;
}

/** Decodes every message of a PULL_MESSAGE body. Throws {@link MessageFormatError}. */
export function decodeMessages(buffer: Buffer): StoredMessage[] {
  const out: StoredMessage[] = [];
  let at = 0;
  while (at + 4 <= buffer.length) {
    const start = at;
    const totalSize = buffer.readInt32BE(at);
    if (totalSize <= 0 || start + totalSize > buffer.length)
      throw new MessageFormatError(`message at byte ${start} has a bad size ${totalSize}`);
    const magic = buffer.readInt32BE(at + 4);
    if (magic !== MAGIC_V1 && magic !== MAGIC_V2)
      throw new MessageFormatError(`message at byte ${start} has an unknown magic code ${magic}`);
    at += 12; // size, magic, body crc
    const queueId = buffer.readInt32BE(at);
    at += 8; // queueId, flag
    const queueOffset = buffer.readBigInt64BE(at);
    at += 16; // queueOffset, physicalOffset
    const sysFlag = buffer.readInt32BE(at);
    at += 4;
    const bornTimestamp = Number(buffer.readBigInt64BE(at));
    at += 8;
    at += sysFlag & BORNHOST_V6_FLAG ? 20 : 8;
    const storeTimestamp = Number(buffer.readBigInt64BE(at));
    at += 8;
    at += sysFlag & STOREHOSTADDRESS_V6_FLAG ? 20 : 8;
    const reconsumeTimes = buffer.readInt32BE(at);
    at += 12; // reconsumeTimes, prepared transaction offset
    const bodyLength = buffer.readInt32BE(at);
    at += 4;
    let body = buffer.subarray(at, at + bodyLength);
    at += bodyLength;
    let topicLength: number;
    if (magic === MAGIC_V2) {
      topicLength = buffer.readInt16BE(at);
      at += 2;
    } else {
      topicLength = buffer.readUInt8(at);
      at += 1;
    }
    const topic = buffer.toString('utf8', at, at + topicLength);
    at += topicLength;
    const propertiesLength = buffer.readInt16BE(at);
    at += 2;
    const properties = decodeProperties(buffer.toString('utf8', at, at + propertiesLength));
    at = start + totalSize;
    if (sysFlag & COMPRESSED_FLAG) {
      const type = (sysFlag & COMPRESSION_TYPE_COMPARATOR) >> 8;
      if (type === 0 || type === 3) {
        try {
          body = inflateSync(body);
        } catch (error) {
          throw new MessageFormatError(
            `message ${topic} queue ${queueId} offset ${queueOffset}: zlib body does not inflate (${(error as Error).message})`,
          );
        }
      } else {
        throw new MessageFormatError(
          `message ${topic} queue ${queueId} offset ${queueOffset} is compressed with ${type === 1 ? 'LZ4' : type === 2 ? 'zstd' : `type ${type}`}, which this client cannot read; let the producer use zlib (rocketmq-client's default, and canal's)`,
        );
      }
    }
    out.push({
      topic,
      queueId,
      queueOffset,
      body,
      bornTimestamp,
      storeTimestamp,
      reconsumeTimes,
      properties,
    });
  }
  return out;
}
