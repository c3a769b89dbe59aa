import type { TypedValue } from '@sluice/canal-protocol';

/** A JSON value as it goes into an Elasticsearch `_source`. */
export type EsJson = string | number | boolean | null | EsJson[] | { [key: string]: EsJson };

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** An integer as a JSON number when exact (|v| ≤ 2^53 − 1), else as its decimal text. */
function exactInteger(v: number | bigint): number | string {
  if (typeof v === 'number') return v;
  return v <= MAX_SAFE && v >= -MAX_SAFE ? Number(v) : v.toString();
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

function isZeroDate(v: { year: number; month: number; day: number }): boolean {
  return v.year === 0 || v.month === 0 || v.day === 0;
}

/**
 * Converts one typed column value (`@sluice/canal-protocol`'s `typedValue`) into the JSON value
 * sent to Elasticsearch. Unlike canal-adapter (canal-adapter-behaviour.md §5.4) it does not read
 * the index mapping: values keep their MySQL meaning and Elasticsearch coerces them to the field
 * type.
 *
 * - integers and BIT: a JSON number when |v| ≤ 2^53 − 1, else the exact decimal text (Elasticsearch
 *   parses a `long` from text without losing digits);
 * - DECIMAL: the exact decimal text (`"19.90"`); FLOAT/DOUBLE: a number (text for NaN/±Infinity);
 * - DATE: `yyyy-MM-dd`; DATETIME/TIMESTAMP: `yyyy-MM-ddTHH:mm:ss[.fraction]` without a zone (canal
 *   does not say which zone TIMESTAMP text was rendered in; Elasticsearch reads it as UTC); zero
 *   dates (`0000-00-00`, month or day 0) → `null`, as canal turns unparsable dates into null;
 *   TIME: its text; YEAR: a number;
 * - ENUM: its label (the index when labels are unknown); SET: the labels joined with `,` (MySQL's
 *   text form; the bitmask when labels are unknown);
 * - JSON and character types: the text (parse with `objFields: {f: object}`);
 * - BINARY/BLOB: base64 (canal's conversion for a `binary` field); unknown types: the text.
 */
export function toEsValue(v: TypedValue): EsJson {
  switch (v.kind) {
    case 'null':
      return null;
    case 'integer':
      return exactInteger(v.value);
    case 'bit':
      return exactInteger(v.value);
    case 'decimal':
      return v.value;
    case 'float':
      return Number.isFinite(v.value) ? v.value : String(v.value);
    case 'enum':
      return v.label;
    case 'enum-index':
      return v.index;
    case 'set':
      return v.labels.join(',');
    case 'set-mask':
      return exactInteger(v.mask);
    case 'date':
      return isZeroDate(v) ? null : `${pad(v.year, 4)}-${pad(v.month)}-${pad(v.day)}`;
    case 'datetime':
    case 'timestamp':
      return isZeroDate(v)
        ? null
        : `${pad(v.year, 4)}-${pad(v.month)}-${pad(v.day)}T${pad(v.hour)}:${pad(v.minute)}:${pad(v.second)}${v.fraction ? `.${v.fraction}` : ''}`;
    case 'time':
      return v.text;
    case 'year':
      return v.value;
    case 'json':
      return v.text;
    case 'text':
      return v.value;
    case 'bytes':
      return Buffer.from(v.value).toString('base64');
    case 'unknown':
      return v.text;
  }
}

/** The text of a value for `objFields` (`array:<sep>`, `object`): JSON/character text as sent. */
export function textOf(v: TypedValue): string | null {
  if (v.kind === 'bytes') return Buffer.from(v.value).toString('utf8');
  // NULL → null; JSON and character values → their text as sent; the rest → the text of
  // their Elasticsearch value.
  const j = toEsValue(v);
  return j === null ? null : String(j as string | number);
}

/** What an `objFields` entry asks for (canal-adapter-behaviour.md §5.4). */
export type ObjFieldSpec =
  { readonly kind: 'array'; readonly separator: RegExp } | { readonly kind: 'object' };

/**
 * Reads an `objFields` spec: `array:<separator>` (the separator is a regular expression, as in
 * canal, where it is a Java regex: write `\|` for a pipe), `object…` or `json` (JSON text parsed
 * into objects or arrays). Returns a reason string for anything else (canal silently writes null
 * for it).
 */
export function parseObjFieldSpec(spec: string): ObjFieldSpec | string {
  if (spec.startsWith('array:')) {
    const sep = spec.slice('array:'.length);
    if (sep === '') return 'array: needs a separator (e.g. array:;)';
    try {
      return { kind: 'array', separator: new RegExp(sep) };
    } catch (e) {
      return `array separator "${sep}" is not a valid regular expression: ${(e as Error).message}`;
    }
  }
  if (spec.startsWith('object') || spec === 'json') return { kind: 'object' };
  return `unknown objFields spec "${spec}" (expected array:<separator>, object or json)`;
}

/**
 * Applies an `objFields` spec to a value's text. `array`: split (an empty string gives `[]`);
 * `object`: `JSON.parse`. NULL stays null.
 *
 * @throws SyntaxError for text that is not JSON (the record then fails to the dead-letter queue).
 */
export function applyObjField(spec: ObjFieldSpec, text: string | null): EsJson {
  if (text === null) return null;
  if (spec.kind === 'array') return text === '' ? [] : text.split(spec.separator);
  return parseJsonExact(text);
}

const JSON_TOKEN = /"(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/g;

/**
 * `JSON.parse`, except that integers beyond ±(2^53 − 1) become their exact decimal text
 * (Elasticsearch parses a `long` from text) instead of a rounded number. Fractions keep JSON's
 * double precision.
 *
 * @throws SyntaxError for text that is not JSON.
 */
export function parseJsonExact(text: string): EsJson {
  const exact = text.replace(JSON_TOKEN, (token) =>
    token.startsWith('"') || /[.eE]/.test(token) || Number.isSafeInteger(Number(token))
      ? token
      : `"${token}"`,
  );
  return JSON.parse(exact) as EsJson;
}
