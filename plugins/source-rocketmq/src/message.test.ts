import { deflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { decodeMessages, decodeProperties, encodeProperties } from './message.js';

/** Builds a stored message the way CommitLog#DefaultAppendMessageCallback lays it out. */
function stored(opts: {
  queueId: number;
  queueOffset: bigint;
  body: Buffer;
  sysFlag?: number;
  topic?: string;
  properties?: string;
  v2?: boolean;
  ipv6?: boolean;
}): Buffer {
  const topic = Buffer.from(opts.topic ?? 'orders');
  const props = Buffer.from(opts.properties ?? 'TAGS\u0001a\u0002');
  const sysFlag = (opts.sysFlag ?? 0) | (opts.ipv6 ? 16 | 32 : 0);
  const host = opts.ipv6 ? 20 : 8;
  const parts: Buffer[] = [];
  const i32 = (v: number) => {
    const b = Buffer.alloc(4);
    b.writeInt32BE(v);
    parts.push(b);
  };
  const i64 = (v: bigint) => {
    const b = Buffer.alloc(8);
    b.writeBigInt64BE(v);
    parts.push(b);
  };
  i32(0); // size, patched below
  i32(opts.v2 ? -626843477 : -626843481);
  i32(123); // body crc
  i32(opts.queueId);
  i32(0); // flag
  i64(opts.queueOffset);
  i64(999n); // physical offset
  i32(sysFlag);
  i64(1_700_000_000_000n);
  parts.push(Buffer.alloc(host));
  i64(1_700_000_000_500n);
  parts.push(Buffer.alloc(host));
  i32(2); // reconsume times
  i64(0n);
  i32(opts.body.length);
  parts.push(opts.body);
  if (opts.v2) {
    const b = Buffer.alloc(2);
    b.writeInt16BE(topic.length);
    parts.push(b);
  } else parts.push(Buffer.from([topic.length]));
  parts.push(topic);
  const pl = Buffer.alloc(2);
  pl.writeInt16BE(props.length);
  parts.push(pl, props);
  const out = Buffer.concat(parts);
  out.writeInt32BE(out.length, 0);
  return out;
}

describe('stored message decoding (MessageDecoder#decode layout)', () => {
  it('decodes consecutive messages: v1 and v2 magic, IPv4 and IPv6 hosts, zlib bodies', () => {
    const big = Buffer.from('x'.repeat(5000));
    const buf = Buffer.concat([
      stored({ queueId: 2, queueOffset: 10n, body: Buffer.from('{"a":1}') }),
      stored({ queueId: 2, queueOffset: 11n, body: deflateSync(big), sysFlag: 1, v2: true }),
      stored({
        queueId: 2,
        queueOffset: 12n,
        body: deflateSync(big),
        sysFlag: 1 | 0x300,
        ipv6: true,
      }),
    ]);
    const msgs = decodeMessages(buf);
    expect(msgs.map((m) => m.queueOffset)).toEqual([10n, 11n, 12n]);
    expect(msgs[0]).toMatchObject({
      topic: 'orders',
      queueId: 2,
      reconsumeTimes: 2,
      bornTimestamp: 1_700_000_000_000,
      storeTimestamp: 1_700_000_000_500,
    });
    expect(msgs[0]!.body.toString()).toBe('{"a":1}');
    expect(msgs[1]!.body.equals(big)).toBe(true);
    expect(msgs[2]!.body.equals(big)).toBe(true);
    expect(msgs[0]!.properties.get('TAGS')).toBe('a');
  });

  it('refuses what it cannot read instead of passing garbage on', () => {
    expect(() =>
      decodeMessages(
        stored({ queueId: 0, queueOffset: 0n, body: Buffer.from('lz4'), sysFlag: 1 | 0x100 }),
      ),
    ).toThrow(/LZ4/);
    expect(() =>
      decodeMessages(
        stored({ queueId: 0, queueOffset: 0n, body: Buffer.from('zz'), sysFlag: 1 | 0x200 }),
      ),
    ).toThrow(/zstd/);
    expect(() =>
      decodeMessages(
        stored({ queueId: 0, queueOffset: 0n, body: Buffer.from('not zlib'), sysFlag: 1 }),
      ),
    ).toThrow(/does not inflate/);
    const bad = stored({ queueId: 0, queueOffset: 0n, body: Buffer.from('a') });
    bad.writeInt32BE(7, 4);
    expect(() => decodeMessages(bad)).toThrow(/magic/);
    const short = stored({ queueId: 0, queueOffset: 0n, body: Buffer.from('a') });
    expect(() => decodeMessages(short.subarray(0, short.length - 3))).toThrow(/bad size/);
  });

  it('round-trips properties', () => {
    const map = new Map([
      ['KEYS', 'k1 k2'],
      ['TAGS', 't'],
    ]);
    expect(decodeProperties(encodeProperties(map))).toEqual(map);
    expect(decodeProperties('')).toEqual(new Map());
  });
});
