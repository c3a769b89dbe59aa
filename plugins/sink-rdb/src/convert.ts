/**
 * Converts one canal value into a statement parameter for one target column. The source value is
 * read once with the typed accessor of `@sluice/canal-protocol` (by the source `mysqlType`); the
 * parameter is then chosen by the TARGET column's type from the catalog (README "rdb" value
 * table). A value that cannot be expressed is an error for that row, never a silent NULL/0; a
 * value the target refuses is refused by the database (strict mode) and dead-lettered with its
 * error.
 */
import { typedValue, type TypedValue } from '@sluice/canal-protocol';
import type { ColumnMeta, ColumnValue } from '@sluice/plugin-api';
import type { Param } from './statementSql.js';
import type { TargetColumn } from './targetTypes.js';
import { wallClockToUtc } from './timeZone.js';

/** How the dialect wants some values. */
export interface ConvertOptions {
  readonly kind: 'mysql' | 'postgresql';
  /** MySQL with `sourceTimeZone`: instant columns get UTC text (the session runs at +00:00). */
  readonly instantsFromZone: string | undefined;
}

/** A value that cannot be turned into a parameter for its target column. */
export class ValueError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ValueError';
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function bytesToText(bytes: Uint8Array, column: string): string {
  try {
    return utf8.decode(bytes);
  } catch {
    throw new ValueError(
      `Column ${column}: the binary value is not UTF-8 text and the target column is a text type.`,
    );
  }
}

function bigOf(v: number | bigint): bigint {
  return typeof v === 'bigint' ? v : BigInt(v);
}

/** BIT value for the target: bytes (MySQL, big-endian, the column's width) or `0101` text (PG). */
function bitParam(value: number | bigint, col: TargetColumn, o: ConvertOptions): Param {
  const big = bigOf(value);
  if (big < 0n) throw new ValueError(`Column ${col.name}: a negative number is not a BIT value.`);
  if (o.kind === 'mysql') {
    const width = Math.max(1, col.bitWidth || 64);
    const bytes = Buffer.alloc(Math.ceil(width / 8));
    let rest = big;
    for (let i = bytes.length - 1; i >= 0; i--) {
      bytes[i] = Number(rest & 0xffn);
      rest >>= 8n;
    }
    if (rest !== 0n)
      throw new ValueError(`Column ${col.name}: ${big} does not fit in BIT(${width}).`);
    return bytes;
  }
  let bits = big.toString(2);
  if (col.fixedBits && col.bitWidth > 0) {
    if (bits.length > col.bitWidth)
      throw new ValueError(`Column ${col.name}: ${big} does not fit in bit(${col.bitWidth}).`);
    bits = bits.padStart(col.bitWidth, '0');
  }
  return bits;
}

/**
 * The value as text, for text-like targets: labels for ENUM/SET, UTF-8 text for bytes, the
 * decoded text of a value canal sent as latin-1 bytes, integers without leading zeros; every
 * other value is canal's text as sent (decimals, dates and times).
 */
function asText(t: TypedValue, raw: string, col: TargetColumn): string {
  switch (t.kind) {
    case 'text':
      return t.value;
    case 'json':
      return t.text;
    case 'enum':
      return t.label;
    case 'enum-index':
      throw new ValueError(
        `Column ${col.name}: canal sent ENUM index ${t.index} but its mysqlType lists no members, so the label is unknown.`,
      );
    case 'set':
      return t.labels.join(',');
    case 'set-mask':
      if (bigOf(t.mask) === 0n) return '';
      throw new ValueError(
        `Column ${col.name}: canal sent SET bitmask ${t.mask} but its mysqlType lists no members, so the labels are unknown.`,
      );
    case 'bytes':
      return bytesToText(t.value, col.name);
    case 'integer':
    case 'bit':
      return String(t.value);
    default:
      return raw;
  }
}

/** A DECIMAL or FLOAT target: the exact number as text (`007` → `7`); any other value as sent. */
function numericText(t: TypedValue, raw: string): string {
  switch (t.kind) {
    case 'integer':
    case 'bit':
      return t.value.toString();
    case 'enum':
      return String(t.index);
    case 'set':
      return t.mask.toString();
    case 'year':
      return String(t.value);
    default:
      return raw;
  }
}

/** An integer or YEAR target: a number (bigint as text), an ENUM's index, a SET's bitmask. */
function integerParam(t: TypedValue, raw: string, col: TargetColumn): Param {
  switch (t.kind) {
    case 'integer':
    case 'bit':
      return typeof t.value === 'bigint' ? t.value.toString() : t.value;
    case 'enum':
      return t.index;
    case 'set':
      return typeof t.mask === 'bigint' ? t.mask.toString() : t.mask;
    case 'year':
      return t.value;
    case 'bytes':
      return bytesToText(t.value, col.name);
    default:
      // DECIMAL and the rest: the text as sent; the target converts or refuses it.
      return raw;
  }
}

/** A boolean target: `true` for a non-zero number; any other value as sent. */
function booleanParam(t: TypedValue, raw: string): Param {
  switch (t.kind) {
    case 'integer':
    case 'bit':
    case 'decimal':
    case 'float':
      // canal sends every number (BIT included) as its decimal text.
      return Number(raw) !== 0 ? 'true' : 'false';
    default:
      return raw;
  }
}

/** A BIT target: the bits of an integer, BIT or SET bitmask; MySQL takes bytes as they are. */
function bitTargetParam(t: TypedValue, raw: string, col: TargetColumn, o: ConvertOptions): Param {
  switch (t.kind) {
    case 'bit':
    case 'integer':
      return bitParam(t.value, col, o);
    case 'set':
    case 'set-mask':
      return bitParam(t.mask, col, o);
    case 'bytes':
      return o.kind === 'mysql' ? Buffer.from(t.value) : raw;
    default:
      return raw;
  }
}

/**
 * The parameter for `raw` (canal's text, or null) of a source column with type information
 * `meta` (its `mysqlType`, and its `sqlType`, which tells whether canal sent text as latin-1 bytes,
 * e.g. MariaDB JSON), written to `col`. Throws {@link ValueError} (or the accessor's DecodeError) when it cannot be done.
 */
export function toParam(
  raw: ColumnValue,
  meta: ColumnMeta | undefined,
  col: TargetColumn,
  o: ConvertOptions,
  sourceColumn: string,
): Param {
  if (raw === null) return null;
  // Read (and validated) by the source type even where the text goes on as sent.
  const t = typedValue(raw, meta ?? '', sourceColumn);
  switch (col.family) {
    case 'integer':
    case 'year':
      return integerParam(t, raw, col);
    case 'boolean':
      return booleanParam(t, raw);
    case 'decimal':
    case 'float':
      return numericText(t, raw);
    case 'bit':
      return bitTargetParam(t, raw, col, o);
    case 'enum':
      // Labels unknown: the index, which an ENUM column takes as a number.
      if (t.kind === 'enum-index') return t.index;
      return asText(t, raw, col);
    case 'set':
      // Labels unknown: the bitmask, which a SET column takes as a number.
      if (t.kind === 'set-mask') return typeof t.mask === 'bigint' ? t.mask.toString() : t.mask;
      return asText(t, raw, col);
    case 'timestamp':
      if (o.instantsFromZone !== undefined && (t.kind === 'datetime' || t.kind === 'timestamp'))
        return wallClockToUtc(t.text, o.instantsFromZone);
      return asText(t, raw, col);
    case 'binary':
      if (t.kind === 'bytes')
        return Buffer.from(t.value.buffer, t.value.byteOffset, t.value.length);
      return Buffer.from(asText(t, raw, col), 'utf8');
    case 'date':
    case 'datetime':
    case 'time':
    case 'interval':
    case 'json':
    case 'text':
    case 'other':
      return asText(t, raw, col);
  }
}
