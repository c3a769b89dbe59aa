/**
 * A minimal protobuf wire-format reader and writer: varints (32- and 64-bit), length-delimited
 * fields, fixed32/fixed64 (skipped only) and unknown-field skipping. No dependencies; every
 * read is bounds-checked and fails with a {@link DecodeError}, so truncated or random input can
 * never read past its message or loop forever.
 */
import { Buffer } from 'node:buffer';
import { DecodeError } from '../decodeError.js';

/** `Buffer#utf8Slice`: undocumented in the typings, present in every supported Node. */
type NodeBuffer = Buffer & { utf8Slice(start: number, end: number): string };

/** Protobuf wire types. */
export const WireType = {
  varint: 0,
  fixed64: 1,
  lengthDelimited: 2,
  startGroup: 3,
  endGroup: 4,
  fixed32: 5,
} as const;

/** Human-readable name of a wire type, for error messages. */
export function wireTypeName(wireType: number): string {
  switch (wireType) {
    case WireType.varint:
      return 'varint';
    case WireType.fixed64:
      return 'fixed64';
    case WireType.lengthDelimited:
      return 'length-delimited';
    case WireType.startGroup:
      return 'start-group';
    case WireType.endGroup:
      return 'end-group';
    case WireType.fixed32:
      return 'fixed32';
    default:
      return `wire type ${wireType}`;
  }
}

const CACHE_SLOTS = 4096;
const CACHED_MAX_LENGTH = 64;
const cacheKeys: (Uint8Array | undefined)[] = new Array<Uint8Array | undefined>(CACHE_SLOTS);
const cacheValues: (string | undefined)[] = new Array<string | undefined>(CACHE_SLOTS);

/**
 * UTF-8 decodes `buf[start, end)` through a small cache of recently seen short strings, so a
 * value that repeats (column names and types, schema and table names) is the same string each
 * time: no new allocation, and fast as a property key and in comparisons.
 */
export function cachedUtf8(buf: Buffer, start: number, end: number): string {
  const length = end - start;
  if (length > CACHED_MAX_LENGTH) return (buf as NodeBuffer).utf8Slice(start, end);
  let h = Math.imul(length, 0x9e3779b1);
  for (let i = start; i < end; i++) h = Math.imul(h ^ buf[i]!, 0x01000193);
  const slot = (h ^ (h >>> 15)) & (CACHE_SLOTS - 1);
  const key = cacheKeys[slot];
  if (key !== undefined && key.length === length) {
    let i = 0;
    while (i < length && key[i] === buf[start + i]) i++;
    if (i === length) return cacheValues[slot]!;
  }
  const value = (buf as NodeBuffer).utf8Slice(start, end);
  cacheKeys[slot] = Uint8Array.prototype.slice.call(buf, start, end);
  cacheValues[slot] = value;
  return value;
}

/**
 * Reads protobuf fields from a byte array. `limit` is the end of the message being read; nested
 * messages narrow it with {@link ProtoReader.enter} and restore it with {@link ProtoReader.leave}.
 */
export class ProtoReader {
  readonly buf: Buffer;
  private readonly u8: Uint8Array;
  pos: number;
  limit: number;

  constructor(bytes: Uint8Array, start = 0, end = bytes.length) {
    this.buf = Buffer.isBuffer(bytes)
      ? bytes
      : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.u8 =
      bytes.constructor === Uint8Array
        ? bytes
        : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.pos = start;
    this.limit = end;
  }

  /** True when the current message has no bytes left. */
  atEnd(): boolean {
    return this.pos >= this.limit;
  }

  private truncated(what: string): DecodeError {
    return new DecodeError(`truncated ${what} at byte ${this.pos}`);
  }

  /** Reads a field tag; returns `fieldNumber << 3 | wireType`. Rejects field number 0. */
  tag(): number {
    const tag = this.uint32();
    if (tag >>> 3 === 0) throw new DecodeError(`invalid field number 0 at byte ${this.pos}`);
    return tag;
  }

  /** Reads a varint and returns its low 32 bits as an unsigned number. */
  uint32(): number {
    const buf = this.buf;
    const limit = this.limit;
    let pos = this.pos;
    if (pos >= limit) throw this.truncated('varint');
    let b = buf[pos++]!;
    if (b < 0x80) {
      this.pos = pos;
      return b;
    }
    let value = b & 0x7f;
    let shift = 7;
    for (;;) {
      if (pos >= limit) throw this.truncated('varint');
      b = buf[pos++]!;
      if (shift < 28) value |= (b & 0x7f) << shift;
      else if (shift === 28) value |= (b & 0x0f) << 28;
      if (b < 0x80) break;
      shift += 7;
      if (shift >= 70) throw new DecodeError(`varint longer than 10 bytes at byte ${this.pos}`);
    }
    this.pos = pos;
    return value >>> 0;
  }

  /** Reads an `int32` (or enum) varint: the low 32 bits, signed. */
  int32(): number {
    return this.uint32() | 0;
  }

  /** Reads a `bool` varint. */
  bool(): boolean {
    return this.uint32() !== 0;
  }

  /** Reads an `int64` varint as a signed bigint (two's complement, as Java's `long`). */
  int64(): bigint {
    const buf = this.buf;
    const limit = this.limit;
    let pos = this.pos;
    let lo = 0;
    let hi = 0;
    let shift = 0;
    for (;;) {
      if (pos >= limit) throw this.truncated('varint');
      const b = buf[pos++]!;
      if (shift < 28) lo |= (b & 0x7f) << shift;
      else hi += (b & 0x7f) * 2 ** (shift - 28);
      if (b < 0x80) break;
      shift += 7;
      if (shift >= 70) throw new DecodeError(`varint longer than 10 bytes at byte ${this.pos}`);
    }
    this.pos = pos;
    if (hi === 0) return BigInt(lo);
    return BigInt.asIntN(64, (BigInt(hi) << 28n) | BigInt(lo));
  }

  /** Reads a length prefix and checks that many bytes remain; returns the end offset. */
  private lengthEnd(what: string): number {
    const start = this.pos;
    const length = this.uint32();
    const end = this.pos + length;
    if (end > this.limit) {
      throw new DecodeError(
        `${what} of ${length} bytes at byte ${start} runs past the end of its message (${this.limit - this.pos} bytes left)`,
      );
    }
    return end;
  }

  /** Reads a length-delimited field as a view into the input (a plain Uint8Array, no copy). */
  bytes(): Uint8Array {
    const end = this.lengthEnd('bytes field');
    const view = this.u8.subarray(this.pos, end);
    this.pos = end;
    return view;
  }

  /**
   * Reads a `string` field. Invalid UTF-8 becomes U+FFFD, as canal's Java runtime does for
   * proto2 string fields.
   */
  string(): string {
    const end = this.lengthEnd('string field');
    const start = this.pos;
    this.pos = end;
    // Node's native UTF-8 slice: the fastest way to short strings, and it replaces invalid
    // sequences with U+FFFD.
    return (this.buf as NodeBuffer).utf8Slice(start, end);
  }

  /**
   * Reads a `string` field that repeats across messages (column names, column types, schema
   * and table names) through a small cache, so repeated values are the same string: no new
   * allocation, and fast as property keys and in comparisons. Same result as {@link string}.
   */
  cachedString(): string {
    const end = this.lengthEnd('string field');
    const start = this.pos;
    this.pos = end;
    return cachedUtf8(this.buf, start, end);
  }

  /**
   * Narrows the reader to a length-delimited sub-message. Returns the outer limit, which the
   * caller passes to {@link ProtoReader.leave} when the sub-message is read.
   */
  enter(): number {
    const end = this.lengthEnd('embedded message');
    const outer = this.limit;
    this.limit = end;
    return outer;
  }

  /** Restores the outer limit after a sub-message (see {@link ProtoReader.enter}). */
  leave(outer: number): void {
    this.pos = this.limit;
    this.limit = outer;
  }

  /** Skips a field of the given wire type (unknown fields). Groups are rejected. */
  skip(wireType: number): void {
    switch (wireType) {
      case WireType.varint:
        this.int64();
        return;
      case WireType.fixed64:
        if (this.pos + 8 > this.limit) throw this.truncated('fixed64');
        this.pos += 8;
        return;
      case WireType.lengthDelimited:
        this.pos = this.lengthEnd('unknown field');
        return;
      case WireType.fixed32:
        if (this.pos + 4 > this.limit) throw this.truncated('fixed32');
        this.pos += 4;
        return;
      default:
        throw new DecodeError(`unsupported ${wireTypeName(wireType)} at byte ${this.pos}`);
    }
  }
}

/** Fails when a known field arrives with the wrong wire type (the bytes are not what we think). */
export function wrongWireType(field: string, wireType: number, expected: number): DecodeError {
  return new DecodeError(
    `has ${wireTypeName(wireType)} encoding, expected ${wireTypeName(expected)}`,
    { path: field },
  );
}

const utf8 = new TextEncoder();

/** Writes protobuf fields into a growing buffer. Used by the encoders (tests, benchmarks). */
export class ProtoWriter {
  private buf = new Uint8Array(256);
  private pos = 0;

  private ensure(extra: number): void {
    if (this.pos + extra <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + extra) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
  }

  /** Writes a field tag. */
  tag(field: number, wireType: number): this {
    return this.uint32(((field << 3) | wireType) >>> 0);
  }

  /** Writes an unsigned 32-bit varint. */
  uint32(value: number): this {
    this.ensure(5);
    let v = value >>> 0;
    while (v > 0x7f) {
      this.buf[this.pos++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    this.buf[this.pos++] = v;
    return this;
  }

  /** Writes an `int32`/enum varint (negative values take 10 bytes, as protobuf requires). */
  int32(value: number): this {
    return value < 0 ? this.int64(BigInt(value)) : this.uint32(value);
  }

  /** Writes an `int64` varint (two's complement for negative values). */
  int64(value: bigint): this {
    this.ensure(10);
    let v = BigInt.asUintN(64, value);
    while (v > 0x7fn) {
      this.buf[this.pos++] = Number(v & 0x7fn) | 0x80;
      v >>= 7n;
    }
    this.buf[this.pos++] = Number(v);
    return this;
  }

  /** Writes a `bool` varint. */
  bool(value: boolean): this {
    return this.uint32(value ? 1 : 0);
  }

  /** Writes length-prefixed bytes. */
  bytes(value: Uint8Array): this {
    this.uint32(value.length);
    this.ensure(value.length);
    this.buf.set(value, this.pos);
    this.pos += value.length;
    return this;
  }

  /** Writes a length-prefixed UTF-8 string. */
  string(value: string): this {
    return this.bytes(utf8.encode(value));
  }

  /** The bytes written so far (a copy). */
  finish(): Uint8Array {
    return this.buf.slice(0, this.pos);
  }
}
