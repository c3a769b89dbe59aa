import { describe, expect, it } from 'vitest';
import { DecodeError } from '../decodeError.js';
import { Buffer } from 'node:buffer';
import {
  ProtoReader,
  ProtoWriter,
  WireType,
  cachedUtf8,
  wireTypeName,
  wrongWireType,
} from './wire.js';

const hex = (s: string) =>
  Uint8Array.from(
    s
      .trim()
      .split(/\s+/)
      .map((b) => parseInt(b, 16)),
  );

describe('ProtoWriter/ProtoReader varints', () => {
  it.each([0, 1, 127, 128, 300, 2 ** 31 - 1, 2 ** 32 - 1])('uint32 %d round-trips', (n) => {
    expect(new ProtoReader(new ProtoWriter().uint32(n).finish()).uint32()).toBe(n);
  });

  it.each([0, 1, -1, -5, -7, 2 ** 31 - 1, -(2 ** 31)])(
    'int32 %d round-trips; negatives take 10 bytes',
    (n) => {
      const bytes = new ProtoWriter().int32(n).finish();
      if (n < 0) expect(bytes).toHaveLength(10);
      expect(new ProtoReader(bytes).int32()).toBe(n);
    },
  );

  it.each([
    0n,
    1n,
    -1n,
    2n ** 53n + 1n,
    2n ** 63n - 1n,
    -(2n ** 63n),
    1718000000000n,
    2n ** 28n,
    2n ** 35n - 1n,
  ])('int64 %d round-trips', (n) => {
    expect(new ProtoReader(new ProtoWriter().int64(n).finish()).int64()).toBe(n);
  });

  it('reads batch_id -1 as canal writes it (reference §3.9)', () => {
    expect(new ProtoReader(hex('FF FF FF FF FF FF FF FF FF 01')).int64()).toBe(-1n);
  });

  it('reads only the low 32 bits of an oversized int32 (as Java does)', () => {
    expect(new ProtoReader(new ProtoWriter().int64(2n ** 32n + 5n).finish()).int32()).toBe(5);
  });

  it('rejects truncated and over-long varints', () => {
    expect(() => new ProtoReader(hex('80')).uint32()).toThrow(/truncated varint/);
    expect(() => new ProtoReader(hex('FF FF')).int64()).toThrow(DecodeError);
    expect(() => new ProtoReader(hex('FF FF FF FF FF FF FF FF FF FF 01')).int64()).toThrow(
      /longer than 10 bytes/,
    );
    expect(() => new ProtoReader(hex('FF FF FF FF FF FF FF FF FF FF 01')).uint32()).toThrow(
      /longer than 10 bytes/,
    );
    expect(() => new ProtoReader(new Uint8Array(0)).uint32()).toThrow(/truncated/);
  });
});

describe('length-delimited fields and skipping', () => {
  it('reads strings: ASCII, unicode, and invalid UTF-8 as U+FFFD', () => {
    const w = new ProtoWriter()
      .string('abc')
      .string('Zoë 🚀 张三')
      .string('x'.repeat(1000))
      .bytes(hex('61 FF 62'));
    const r = new ProtoReader(w.finish());
    expect([r.string(), r.string(), r.string().length, r.string()]).toEqual([
      'abc',
      'Zoë 🚀 张三',
      1000,
      'a\uFFFDb',
    ]);
    expect(r.atEnd()).toBe(true);
  });

  it('keeps latin-1 text (canal BLOB values) intact through UTF-8', () => {
    const text = String.fromCharCode(...Array.from({ length: 256 }, (_, i) => i));
    expect(new ProtoReader(new ProtoWriter().string(text).finish()).string()).toBe(text);
  });

  it('rejects a length running past the message, also inside a narrowed sub-message', () => {
    expect(() => new ProtoReader(hex('05 61 62')).string()).toThrow(/runs past the end/);
    const r = new ProtoReader(hex('02 05 61 62 63 64 65'));
    r.enter();
    expect(() => r.string()).toThrow(/runs past the end/);
    expect(() => new ProtoReader(hex('FF FF FF FF 0F')).bytes()).toThrow(/4294967295 bytes/);
  });

  it('bytes() is a view, not a copy', () => {
    const input = hex('02 61 62');
    const view = new ProtoReader(input).bytes();
    expect(view.buffer).toBe(input.buffer);
  });

  it('skips unknown fields of every supported wire type and rejects groups', () => {
    const w = new ProtoWriter();
    w.tag(20, WireType.varint).int64(-1n);
    w.tag(21, WireType.lengthDelimited).string('skip me');
    w.tag(22, WireType.fixed64)
      .uint32(0)
      .uint32(0)
      .uint32(0)
      .uint32(0)
      .uint32(0)
      .uint32(0)
      .uint32(0)
      .uint32(0);
    w.tag(23, WireType.fixed32).uint32(0).uint32(0).uint32(0).uint32(0);
    const r = new ProtoReader(w.finish());
    while (!r.atEnd()) r.skip(r.tag() & 7);
    expect(() => new ProtoReader(hex('0B')).skip(WireType.startGroup)).toThrow(/start-group/);
    expect(() => new ProtoReader(hex('01 02 03')).skip(WireType.fixed64)).toThrow(
      /truncated fixed64/,
    );
    expect(() => new ProtoReader(hex('01')).skip(WireType.fixed32)).toThrow(/truncated fixed32/);
    expect(() => new ProtoReader(hex('00')).skip(7)).toThrow(/wire type 7/);
  });

  it('rejects field number 0', () => {
    expect(() => new ProtoReader(hex('02')).tag()).toThrow(/field number 0/);
  });
});

describe('exact bounds and error texts', () => {
  const message = (f: () => unknown): string => {
    try {
      f();
    } catch (error) {
      return (error as Error).message;
    }
    throw new Error('did not throw');
  };

  it('names the byte where a varint is truncated or too long', () => {
    expect(message(() => new ProtoReader(hex('61 80 80'), 1).uint32())).toBe(
      'truncated varint at byte 1',
    );
    expect(message(() => new ProtoReader(hex('61 80'), 1).int64())).toBe(
      'truncated varint at byte 1',
    );
    expect(message(() => new ProtoReader(hex('61'), 1).int64())).toBe('truncated varint at byte 1');
    expect(message(() => new ProtoReader(hex('61 ' + 'FF '.repeat(10) + '01'), 1).uint32())).toBe(
      'varint longer than 10 bytes at byte 1',
    );
    expect(message(() => new ProtoReader(hex('61 ' + 'FF '.repeat(10) + '01'), 1).int64())).toBe(
      'varint longer than 10 bytes at byte 1',
    );
    expect(message(() => new ProtoReader(hex('61 02'), 1).tag())).toBe(
      'invalid field number 0 at byte 2',
    );
  });

  it('reads a varint that ends exactly at the limit, and not past a narrowed limit', () => {
    const tenBytes = hex('FF FF FF FF FF FF FF FF FF 01');
    expect(new ProtoReader(tenBytes).uint32()).toBe(0xffffffff);
    const r = new ProtoReader(tenBytes);
    r.uint32();
    expect(r.atEnd()).toBe(true);
    expect(r.pos).toBe(10);
    // The same bytes with a limit one short are truncated, although the array goes on.
    expect(() => new ProtoReader(tenBytes, 0, 9).uint32()).toThrow('truncated varint at byte 0');
    expect(() => new ProtoReader(tenBytes, 0, 9).int64()).toThrow('truncated varint at byte 0');
    expect(() => new ProtoReader(hex('96 01'), 0, 1).uint32()).toThrow('truncated varint');
    expect(() => new ProtoReader(hex('05'), 1).uint32()).toThrow('truncated varint at byte 1');
  });

  it('keeps only the low 4 bits of the 5th uint32 byte and ignores bytes 6–10', () => {
    // 0x7F in the 5th byte: only 0x0F lands (bits 28–31); the rest is above 32 bits.
    expect(new ProtoReader(hex('80 80 80 80 7F')).uint32()).toBe(0xf0000000);
    expect(new ProtoReader(hex('81 80 80 80 8F 7F')).uint32()).toBe(0xf0000001);
    expect(new ProtoReader(hex('FF FF FF FF 0F')).uint32()).toBe(0xffffffff);
    expect(new ProtoReader(hex('FF FF FF FF 7F')).int32()).toBe(-1);
    expect(new ProtoReader(hex('80 80 80 80 08')).int32()).toBe(-(2 ** 31));
    expect(new ProtoReader(hex('80 80 80 40')).uint32()).toBe(2 ** 27);
    expect(new ProtoReader(hex('80 80 80 80 01')).uint32()).toBe(2 ** 28);
  });

  it('reads int64 across the 28-bit split exactly', () => {
    expect(new ProtoReader(hex('FF FF FF 7F')).int64()).toBe(2n ** 28n - 1n);
    expect(new ProtoReader(hex('80 80 80 80 01')).int64()).toBe(2n ** 28n);
    expect(new ProtoReader(hex('81 80 80 80 01')).int64()).toBe(2n ** 28n + 1n);
    expect(new ProtoReader(hex('80 80 80 80 80 01')).int64()).toBe(2n ** 35n);
    expect(new ProtoReader(hex('FF FF FF FF FF FF FF FF 7F')).int64()).toBe(2n ** 63n - 1n);
    expect(new ProtoReader(hex('80 80 80 80 80 80 80 80 80 01')).int64()).toBe(-(2n ** 63n));
    const r = new ProtoReader(hex('80 80 80 80 01 05'));
    r.int64();
    expect(r.pos).toBe(5);
  });

  it('reads a bool as any non-zero varint', () => {
    expect(new ProtoReader(hex('00')).bool()).toBe(false);
    expect(new ProtoReader(hex('01')).bool()).toBe(true);
    expect(new ProtoReader(hex('02')).bool()).toBe(true);
  });

  it('says how long a field is, where it starts and how much is left', () => {
    expect(message(() => new ProtoReader(hex('61 05 61 62'), 1).string())).toBe(
      'string field of 5 bytes at byte 1 runs past the end of its message (2 bytes left)',
    );
    expect(message(() => new ProtoReader(hex('61 05 61 62'), 1).cachedString())).toBe(
      'string field of 5 bytes at byte 1 runs past the end of its message (2 bytes left)',
    );
    expect(message(() => new ProtoReader(hex('03 61 62')).bytes())).toBe(
      'bytes field of 3 bytes at byte 0 runs past the end of its message (2 bytes left)',
    );
    expect(message(() => new ProtoReader(hex('03 61 62')).enter())).toBe(
      'embedded message of 3 bytes at byte 0 runs past the end of its message (2 bytes left)',
    );
    expect(message(() => new ProtoReader(hex('03 61 62')).skip(WireType.lengthDelimited))).toBe(
      'unknown field of 3 bytes at byte 0 runs past the end of its message (2 bytes left)',
    );
    // Exactly filling the message is fine.
    const r = new ProtoReader(hex('02 61 62'));
    expect(r.string()).toBe('ab');
    expect(r.atEnd()).toBe(true);
  });

  it('skips fixed fields of exactly the bytes left, and names truncation with its byte', () => {
    const eight = new ProtoReader(hex('00 01 02 03 04 05 06 07'));
    eight.skip(WireType.fixed64);
    expect(eight.pos).toBe(8);
    const four = new ProtoReader(hex('00 01 02 03'));
    four.skip(WireType.fixed32);
    expect(four.pos).toBe(4);
    expect(message(() => new ProtoReader(hex('00 01 02 03 04 05 06 07'), 1).skip(1))).toBe(
      'truncated fixed64 at byte 1',
    );
    expect(message(() => new ProtoReader(hex('00 01 02 03'), 1).skip(5))).toBe(
      'truncated fixed32 at byte 1',
    );
    expect(message(() => new ProtoReader(hex('00 01'), 1).skip(WireType.endGroup))).toBe(
      'unsupported end-group at byte 1',
    );
    expect(message(() => new ProtoReader(hex('00'), 0).skip(6))).toBe(
      'unsupported wire type 6 at byte 0',
    );
    const varint = new ProtoReader(hex('FF FF FF FF FF 01 07'));
    varint.skip(WireType.varint);
    expect(varint.pos).toBe(6);
  });

  it('names wire types in the wrong-wire-type error', () => {
    const error = wrongWireType('header.schemaName', WireType.varint, WireType.lengthDelimited);
    expect(error.message).toBe('header.schemaName: has varint encoding, expected length-delimited');
    expect(wireTypeName(WireType.fixed64)).toBe('fixed64');
    expect(wireTypeName(WireType.startGroup)).toBe('start-group');
    expect(wireTypeName(WireType.fixed32)).toBe('fixed32');
    expect(wireTypeName(7)).toBe('wire type 7');
    expect(wireTypeName(9)).toBe('wire type 9');
  });

  it('enter/leave narrow and restore the limit, leaving at the sub-message end', () => {
    const r = new ProtoReader(hex('03 01 02 03 09'));
    const outer = r.enter();
    expect(outer).toBe(5);
    expect(r.limit).toBe(4);
    r.uint32();
    expect(r.atEnd()).toBe(false);
    r.leave(outer);
    expect(r.pos).toBe(4);
    expect(r.limit).toBe(5);
    expect(r.uint32()).toBe(9);
    expect(r.atEnd()).toBe(true);
  });

  it('reads from a Uint8Array view with an offset and from a Buffer alike', () => {
    const backing = hex('AA BB 03 61 62 63');
    const view = backing.subarray(2);
    const r = new ProtoReader(view);
    expect(r.string()).toBe('abc');
    const b = new ProtoReader(Buffer.from(view)).bytes();
    expect(Array.from(b)).toEqual([0x61, 0x62, 0x63]);
    const v = new ProtoReader(view).bytes();
    expect(Array.from(v)).toEqual([0x61, 0x62, 0x63]);
    expect(v.byteOffset).toBe(3);
    expect(v.constructor).toBe(Uint8Array);
    const fromBuffer = new ProtoReader(Buffer.from(view)).bytes();
    expect(fromBuffer.constructor).toBe(Uint8Array);
  });
});

describe('cachedUtf8 (the decoded-string cache)', () => {
  it('returns exactly the decoded text for many distinct strings, hash collisions included', () => {
    // 12 000 strings over 4 096 slots: most slots are reused by several strings.
    const texts: string[] = [];
    for (let i = 0; i < 12_000; i++) texts.push(`c${i.toString(36)}${'é'.repeat(i % 5)}`);
    const bufs = texts.map((t) => Buffer.from(t));
    for (let round = 0; round < 2; round++)
      for (let i = 0; i < texts.length; i++)
        expect(cachedUtf8(bufs[i]!, 0, bufs[i]!.length)).toBe(texts[i]);
  });

  it('never mistakes a prefix, an extension or a same-length neighbour for a cached string', () => {
    const pairs = ['ab', 'abc', 'abd', 'a', '', 'b', 'ba', 'abcd', 'x'.repeat(64), 'x'.repeat(63)];
    for (let round = 0; round < 3; round++)
      for (const t of pairs) {
        const buf = Buffer.from(`##${t}##`);
        expect(cachedUtf8(buf, 2, 2 + Buffer.byteLength(t))).toBe(t);
      }
  });

  it('decodes past the cached length and invalid UTF-8 like utf8Slice', () => {
    const long = 'y'.repeat(65) + '张';
    const buf = Buffer.from(long);
    expect(cachedUtf8(buf, 0, buf.length)).toBe(long);
    expect(cachedUtf8(buf, 0, buf.length)).toBe(long);
    expect(cachedUtf8(Buffer.from(hex('61 FF 62')), 0, 3)).toBe('a\uFFFDb');
  });

  it('returns the same string for a repeated value (a stored copy of the bytes, not a view)', () => {
    const buf = Buffer.from('repeat-me');
    const first = cachedUtf8(buf, 0, buf.length);
    buf.write('XXXXXX-me');
    expect(cachedUtf8(buf, 0, buf.length)).toBe('XXXXXX-me');
    buf.write('repeat-me');
    expect(cachedUtf8(buf, 0, buf.length)).toBe(first);
  });
});

describe('ProtoWriter', () => {
  it('grows past its first 256 bytes and keeps what was written', () => {
    const w = new ProtoWriter();
    const big = new Uint8Array(1000).map((_, i) => i & 0xff);
    w.uint32(7)
      .bytes(big)
      .string('z'.repeat(300))
      .uint32(2 ** 32 - 1);
    const r = new ProtoReader(w.finish());
    expect(r.uint32()).toBe(7);
    expect(Array.from(r.bytes())).toEqual(Array.from(big));
    expect(r.string()).toBe('z'.repeat(300));
    expect(r.uint32()).toBe(2 ** 32 - 1);
    expect(r.atEnd()).toBe(true);
  });

  it('writes each varint byte by byte at the boundaries', () => {
    expect(Array.from(new ProtoWriter().uint32(127).finish())).toEqual([0x7f]);
    expect(Array.from(new ProtoWriter().uint32(128).finish())).toEqual([0x80, 0x01]);
    expect(Array.from(new ProtoWriter().int64(127n).finish())).toEqual([0x7f]);
    expect(Array.from(new ProtoWriter().int64(128n).finish())).toEqual([0x80, 0x01]);
    expect(Array.from(new ProtoWriter().int32(0).finish())).toEqual([0x00]);
    expect(Array.from(new ProtoWriter().tag(1, WireType.lengthDelimited).finish())).toEqual([0x0a]);
    expect(Array.from(new ProtoWriter().tag(16, WireType.varint).finish())).toEqual([0x80, 0x01]);
    expect(Array.from(new ProtoWriter().bool(true).bool(false).finish())).toEqual([1, 0]);
  });

  it('finish() is a copy', () => {
    const w = new ProtoWriter().uint32(1);
    const a = w.finish();
    w.uint32(2);
    expect(Array.from(a)).toEqual([1]);
    expect(Array.from(w.finish())).toEqual([1, 2]);
  });
});

describe('more exact edges', () => {
  it('names every wire type', () => {
    expect([0, 1, 2, 3, 4, 5, 6, 7].map(wireTypeName)).toEqual([
      'varint',
      'fixed64',
      'length-delimited',
      'start-group',
      'end-group',
      'fixed32',
      'wire type 6',
      'wire type 7',
    ]);
  });

  it('never reads a one-byte varint that lies past the limit', () => {
    expect(() => new ProtoReader(hex('00 05'), 1, 1).uint32()).toThrow(
      'truncated varint at byte 1',
    );
    expect(() => new ProtoReader(hex('00 05'), 2, 1).uint32()).toThrow('truncated varint');
  });

  it('a same-length string of the same cache slot is compared byte by byte, in order', () => {
    // The cache's hash (wire.ts cachedUtf8), to build a collision on purpose.
    const slotOf = (bytes: Uint8Array): number => {
      let h = Math.imul(bytes.length, 0x9e3779b1);
      for (const b of bytes) h = Math.imul(h ^ b, 0x01000193);
      return (h ^ (h >>> 15)) & 4095;
    };
    const key = Buffer.from('abc');
    let other: Buffer | undefined;
    for (let x = 0; x < 256 && other === undefined; x++)
      for (let y = 0; y < 256; y++) {
        const candidate = Buffer.from([0x61, x, y]);
        if (!candidate.equals(key) && slotOf(candidate) === slotOf(key)) {
          other = candidate;
          break;
        }
      }
    if (other === undefined) throw new Error('no collision found');
    expect(cachedUtf8(key, 0, 3)).toBe('abc');
    // The colliding bytes, preceded by the key's bytes in reverse: read in order, never as "abc".
    const buf = Buffer.concat([Buffer.from('cb'), other]);
    expect(cachedUtf8(buf, 2, 5)).toBe(other.toString('utf8'));
    expect(cachedUtf8(key, 0, 3)).toBe('abc');
  });
});
