import { describe, expect, it } from 'vitest';
import { DecodeError } from '../decodeError.js';
import { ProtoReader, ProtoWriter, WireType } from './wire.js';

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
