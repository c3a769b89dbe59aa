import { DocumentError } from './document.js';
import { parseJsonExact, type EsJson } from './esValue.js';
import type { FieldMapping } from './searchApi.js';

/** The type of one top-level field of an index, as the conversion needs it. */
export interface FieldType {
  /** `long`, `boolean`, `date`, … ; `object` for a field with sub-`properties` and no type. */
  readonly type: string;
  /** The `format` of a date field, when the mapping sets one. */
  readonly format: string | undefined;
}

/**
 * The field types of an index from its top-level mapping properties (canal reads the same:
 * `ES8xTemplate#getEsType`, top level only, a property with sub-`properties` is `object`).
 */
export function fieldTypes(properties: Record<string, FieldMapping>): Map<string, FieldType> {
  const out = new Map<string, FieldType>();
  for (const [name, m] of Object.entries(properties)) {
    const type = typeof m.type === 'string' ? m.type : m.properties ? 'object' : undefined;
    if (type === undefined) continue;
    out.set(name, { type, format: typeof m.format === 'string' ? m.format : undefined });
  }
  return out;
}

const INTEGER_RANGES: Readonly<Record<string, readonly [bigint, bigint]>> = {
  byte: [-128n, 127n],
  short: [-32768n, 32767n],
  integer: [-2147483648n, 2147483647n],
  long: [-9223372036854775808n, 9223372036854775807n],
  unsigned_long: [0n, 18446744073709551615n],
};
const FLOATS = new Set(['double', 'float', 'half_float', 'scaled_float']);
const DATES = new Set(['date', 'date_nanos']);
const OBJECTS = new Set(['object', 'nested', 'flattened']);
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const INTEGER_TEXT = /^[+-]?\d+(?:\.0*)?$/;
const NUMBER_TEXT = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
/** What Elasticsearch's default date format (`strict_date_optional_time||epoch_millis`) reads. */
const ISO_DATE =
  /^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:[.,]\d{1,9})?)?(?:Z|[+-]\d{2}(?::?\d{2})?)?)?$/;
const SQL_DATETIME = /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?)$/;

const show = (v: EsJson): string => {
  const s = JSON.stringify(v);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
};

function integer(field: string, type: string, v: EsJson): EsJson {
  const [min, max] = INTEGER_RANGES[type]!;
  let n: bigint;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'number') {
    if (!Number.isInteger(v))
      throw new DocumentError(`field "${field}" (${type}): ${show(v)} is not an integer`);
    n = BigInt(v);
  } else if (typeof v === 'string' && INTEGER_TEXT.test(v.trim())) {
    n = BigInt(v.trim().replace(/\.0*$/, ''));
  } else throw new DocumentError(`field "${field}" (${type}): ${show(v)} is not an integer`);
  if (n < min || n > max)
    throw new DocumentError(
      `field "${field}" (${type}): ${n.toString()} is out of range [${min.toString()}, ${max.toString()}]`,
    );
  return n <= MAX_SAFE && n >= -MAX_SAFE ? Number(n) : n.toString();
}

function float(field: string, type: string, v: EsJson): EsJson {
  if (typeof v === 'number') return v;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'string' && NUMBER_TEXT.test(v.trim())) return Number(v.trim());
  throw new DocumentError(`field "${field}" (${type}): ${show(v)} is not a number`);
}

function boolean(field: string, v: EsJson): EsJson {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number') return v !== 0;
  if (typeof v === 'string') {
    const t = v.trim().toLowerCase();
    if (t === 'true' || t === '1') return true;
    if (t === 'false' || t === '0' || t === '') return false;
  }
  throw new DocumentError(
    `field "${field}" (boolean): ${show(v)} is not a boolean (expected true/false or a number)`,
  );
}

function date(field: string, type: string, format: string | undefined, v: EsJson): EsJson {
  // A custom format: Elasticsearch parses with it; the value goes as the source holds it.
  if (format !== undefined) return v;
  if (typeof v === 'number') return v; // epoch_millis
  if (typeof v === 'string') {
    const t = v.trim();
    if (/^0000-|^\d{4}-00-|^\d{4}-\d{2}-00/.test(t)) return null; // zero dates: canal → null
    if (ISO_DATE.test(t)) return t;
    const m = SQL_DATETIME.exec(t);
    if (m) return `${m[1]}T${m[2]}`;
    if (/^-?\d+$/.test(t)) return t; // epoch_millis as text
  }
  throw new DocumentError(
    `field "${field}" (${type}): ${show(v)} is not a date Elasticsearch reads with the default format (yyyy-MM-dd[THH:mm:ss[.f]][zone] or epoch milliseconds)`,
  );
}

function object(field: string, type: string, v: EsJson): EsJson {
  if (typeof v !== 'string') return v;
  if (v.trim() === '') return {}; // canal: an empty string is {}
  let parsed: EsJson;
  try {
    parsed = parseJsonExact(v);
  } catch (e) {
    throw new DocumentError(
      `field "${field}" (${type}): the value is not JSON (${(e as Error).message})`,
    );
  }
  if (parsed === null || typeof parsed !== 'object')
    throw new DocumentError(`field "${field}" (${type}): ${show(v)} is not a JSON object or array`);
  return parsed;
}

/**
 * Converts one document value for the type its field has in the index (canal's
 * `ESSyncUtil.typeConvert`, canal-adapter-behaviour.md §5.4, with clear errors instead of
 * canal's silent nulls): integer types (`byte`…`long`, `unsigned_long`) from numbers, booleans and
 * integral text (exact beyond 2^53, range-checked); `double`/`float`/`half_float`/`scaled_float`
 * from numbers, booleans and numeric text; `boolean` from numbers (≠ 0), `true`/`false`/`1`/`0`
 * text; `date`/`date_nanos` without a custom `format`: ISO text kept, `yyyy-MM-dd HH:mm:ss[.f]`
 * rewritten with a `T`, epoch milliseconds kept, zero dates → null (with a custom `format` the
 * value is left to Elasticsearch); `object`/`nested`/`flattened` from JSON text (empty → `{}`).
 * NULL, fields without a mapping, and every other type (`keyword`, `text`, `binary`,
 * `geo_point`, `join`, …) keep the value exactly as the source holds it.
 *
 * @throws DocumentError naming the field, its type and the value when it cannot be converted.
 */
export function convertValue(field: string, type: FieldType | undefined, v: EsJson): EsJson {
  if (v === null || type === undefined) return v;
  const t = type.type;
  if (Array.isArray(v)) return v.map((x) => convertValue(field, type, x));
  if (t in INTEGER_RANGES) return integer(field, t, v);
  if (FLOATS.has(t)) return float(field, t, v);
  if (t === 'boolean') return boolean(field, v);
  if (DATES.has(t)) return date(field, t, type.format, v);
  if (OBJECTS.has(t)) return object(field, t, v);
  return v;
}

/**
 * Converts every field of `doc` in place by the index's field types ({@link convertValue}),
 * except the fields in `keep` (`objFields` and relation join fields, whose values the mapping
 * file already shapes).
 *
 * @throws DocumentError for the first value that cannot be converted.
 */
export function convertDocument(
  doc: Record<string, EsJson>,
  types: ReadonlyMap<string, FieldType>,
  keep: ReadonlySet<string>,
): Record<string, EsJson> {
  for (const [field, v] of Object.entries(doc))
    if (!keep.has(field)) doc[field] = convertValue(field, types.get(field), v);
  return doc;
}
