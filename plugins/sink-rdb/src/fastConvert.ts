/**
 * Compiled converters: {@link toParam} specialised once per (source column type, target column),
 * so that the common pairs skip the typed-value object and its parse/format round trip.
 *
 * A compiled converter returns exactly what {@link toParam} returns for the same arguments: for
 * the pairs below it checks the text with the same rule as `@sluice/canal-protocol`'s typed
 * accessor and returns the value without building a typed value; for any text that does not pass
 * that check (and for every other pair) it calls {@link toParam} itself, which returns the value
 * or throws the same error as before. `fastConvert.test.ts` compares the two over every source
 * family × target family and edge values.
 *
 * Fast pairs (source `mysqlType` family → target family):
 * - character types and JSON canal sent as text (not as bytes), and unknown types → every target
 *   but binary: the text as sent;
 * - integer → integer/year: the number (texts of at most 15 digits, in the source type's range;
 *   longer ones take the exact bigint path); → decimal/float/text: its canonical decimal text;
 * - DECIMAL, FLOAT/DOUBLE, DATE, TIME → every target but binary and (DECIMAL, FLOAT) boolean:
 *   the text as sent, once it has the shape the accessor requires;
 * - DATETIME/TIMESTAMP → every target but binary: the text as sent, or its UTC text for an
 *   instant target with a source time zone (MySQL);
 * - YEAR → integer/year: the number.
 */
import { parseMysqlType } from '@sluice/canal-protocol';
import type { ColumnMeta } from '@sluice/plugin-api';
import { toParam, type ConvertOptions } from './convert.js';
import type { Param } from './statementSql.js';
import type { TargetColumn } from './targetTypes.js';
import { wallClockToUtc } from './timeZone.js';

/** Converts one non-null canal text for one target column (see the module comment). */
export type Converter = (raw: string) => Param;

// The shapes the typed accessor requires (packages/canal-protocol/src/values/typedValue.ts).
const DECIMAL = /^-?[0-9]+(\.[0-9]+)?$/;
const FLOAT = /^(-?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][-+]?[0-9]+)?|-?Infinity|NaN)$/;
const DATE = /^[0-9]{4}-[0-9]{2}-[0-9]{2}$/;
const DATETIME = /^[0-9]{4}-[0-9]{2}-[0-9]{2}[ T][0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,9})?$/;
const TIME = /^-?[0-9]{2,3}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,9})?$/;
const YEAR = /^[0-9]{4}$/;

/** java.sql.Types codes of values canal sent as bytes (typedValue.ts, BINARY_SQL_TYPES). */
const BINARY_SQL_TYPES: ReadonlySet<number> = new Set([2004, -2, -3, -4]);

/** Converters that call {@link toParam} for every value (no fast path for their pair). */
const genericConverters = new WeakSet<Converter>();

/** Whether `c` converts through the typed accessor for every value (for tests and diagnostics). */
export function isGenericConverter(c: Converter): boolean {
  return genericConverters.has(c);
}

const INTEGER_BITS: ReadonlySet<number> = new Set([8, 16, 24, 32, 64]);

/**
 * The integer a text of at most 15 digits (optional `-`) stands for, when it is within
 * [min, max]; `undefined` otherwise (then the exact path decides). 15 digits stay below 2^53, so
 * `Number` is exact and the comparison with the (power-of-two based) bounds is too.
 */
function smallInteger(raw: string, min: number, max: number): number | undefined {
  const n = raw.length;
  if (n === 0 || n > 16) return undefined;
  let i = raw.charCodeAt(0) === 45 /* - */ ? 1 : 0;
  if (i === n || n - i > 15) return undefined;
  for (; i < n; i++) {
    const c = raw.charCodeAt(i);
    if (c < 48 || c > 57) return undefined;
  }
  const v = Number(raw);
  if (v < min || v > max) return undefined;
  return v === 0 ? 0 : v; // "-0" is 0, as BigInt("-0") is
}

/** The compiled converter of a source column (`meta`, `undefined` when the event has none). */
export function converterFor(
  meta: ColumnMeta | undefined,
  col: TargetColumn,
  o: ConvertOptions,
  sourceColumn: string,
): Converter {
  const generic: Converter = (raw) => toParam(raw, meta, col, o, sourceColumn);
  genericConverters.add(generic);
  if (
    meta !== undefined &&
    (typeof meta !== 'object' ||
      typeof meta.mysqlType !== 'string' ||
      typeof meta.sqlType !== 'number')
  )
    return generic;
  const type = parseMysqlType(meta?.mysqlType ?? '');
  const sentAsBytes = meta !== undefined && BINARY_SQL_TYPES.has(meta.sqlType);
  const target = col.family;
  if (target === 'binary') return generic;
  const checked =
    (shape: RegExp): Converter =>
    (raw) =>
      shape.test(raw) ? raw : generic(raw);
  switch (type.family) {
    case 'text':
    case 'json':
      return sentAsBytes ? generic : (raw) => raw;
    case 'unknown':
      return (raw) => raw;
    case 'integer': {
      if (!INTEGER_BITS.has(type.bits)) return generic;
      const bits = type.bits;
      const min = type.unsigned ? 0 : -(2 ** (bits - 1));
      const max = type.unsigned ? 2 ** bits - 1 : 2 ** (bits - 1) - 1;
      switch (target) {
        case 'integer':
        case 'year':
          return (raw) => smallInteger(raw, min, max) ?? generic(raw);
        case 'decimal':
        case 'float':
        case 'text':
          return (raw) => {
            const v = smallInteger(raw, min, max);
            return v === undefined ? generic(raw) : String(v);
          };
        default:
          return generic;
      }
    }
    case 'decimal':
      return target === 'boolean' ? generic : checked(DECIMAL);
    case 'float':
      return target === 'boolean' ? generic : checked(FLOAT);
    case 'date':
      return checked(DATE);
    case 'time':
      return checked(TIME);
    case 'datetime':
    case 'timestamp': {
      const zone = o.instantsFromZone;
      if (target === 'timestamp' && zone !== undefined)
        return (raw) => (DATETIME.test(raw) ? wallClockToUtc(raw, zone) : generic(raw));
      return checked(DATETIME);
    }
    case 'year':
      if (target === 'integer' || target === 'year')
        return (raw) => (YEAR.test(raw) ? Number(raw) : generic(raw));
      return generic;
    default:
      return generic;
  }
}
