/**
 * Previews of payloads and values for log lines and error messages: short, on one line, and
 * safe to print. A message that fails to decode can hold anything (newlines, terminal escape
 * sequences, megabytes of binary); every preview of it goes through {@link preview}, so no raw
 * payload byte reaches a log line.
 */

/** Characters kept as they are: printable, and not able to move the cursor or reorder text. */
function escapeChar(code: number): string | undefined {
  if (code === 0x22) return '\\"';
  if (code === 0x5c) return '\\\\';
  if (code >= 0x20 && code < 0x7f) return undefined;
  switch (code) {
    case 0x0a:
      return '\\n';
    case 0x0d:
      return '\\r';
    case 0x09:
      return '\\t';
  }
  if (
    code < 0x20 ||
    (code >= 0x7f && code <= 0x9f) || // DEL, C1 controls (CSI and friends)
    code === 0x2028 ||
    code === 0x2029 || // line/paragraph separators
    (code >= 0x202a && code <= 0x202e) ||
    (code >= 0x2066 && code <= 0x2069) || // bidi overrides and isolates
    code === 0x200e ||
    code === 0x200f ||
    code === 0xfeff ||
    code === 0xfffd
  )
    return `\\u${code.toString(16).padStart(4, '0')}`;
  return undefined;
}

function quoted(text: string, maxChars: number): string {
  const [body, tail] = escaped(text, maxChars, true);
  return `"${body}"${tail}`;
}

/**
 * `text` with unsafe characters escaped (and `"` and backslashes too when `quotes`), cut after
 * `maxChars` characters (a surrogate pair counts as one); returns the escaped text and the
 * marker of the cut (`…(+N chars)`, or `""` when nothing was cut).
 */
function escaped(text: string, maxChars: number, quotes: boolean): [string, string] {
  let out = '';
  let shown = 0;
  let i = 0;
  for (; i < text.length && shown < maxChars; shown++) {
    const code = text.charCodeAt(i);
    if (code >= 0xd800 && code <= 0xdbff) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        out += text.slice(i, i + 2);
        i += 2;
        continue;
      }
      out += `\\u${code.toString(16)}`;
      i++;
      continue;
    }
    if (code >= 0xdc00 && code <= 0xdfff) {
      out += `\\u${code.toString(16)}`;
      i++;
      continue;
    }
    const escape = quotes || (code !== 0x22 && code !== 0x5c) ? escapeChar(code) : undefined;
    out += escape ?? text[i];
    i++;
  }
  const rest = text.length - i;
  return [out, rest > 0 ? `…(+${rest} chars)` : ''];
}

/**
 * `text` made safe for one log line without quoting it: control characters, line breaks, bidi
 * controls and lone surrogates escaped (`\n`, `\u001b`); quotes and backslashes kept, so text
 * that is already escaped stays as it is. Cut after `maxChars` characters with `…(+N chars)`.
 * For error messages and paths that may hold pieces of a payload (column names, …).
 */
export function printable(text: string, maxChars = 1000): string {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || c >= 0x7f) {
      const [body, tail] = escaped(text, maxChars, false);
      return body + tail;
    }
  }
  return text.length > maxChars
    ? `${text.slice(0, maxChars)}…(+${text.length - maxChars} chars)`
    : text;
}

/**
 * The text of `bytes` when they are UTF-8 text (no control characters other than tab, CR and
 * LF, no invalid sequence; a sequence cut at the end is allowed), looking at most at the first
 * `limit` bytes; otherwise undefined.
 */
export function asText(bytes: Uint8Array, limit: number): string | undefined {
  const head = bytes.length > limit ? bytes.subarray(0, limit) : bytes;
  for (const b of head) {
    if ((b < 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d) || b === 0x7f) return undefined;
  }
  try {
    // `stream: true`: a multi-byte character cut at `limit` is not an error.
    return new TextDecoder('utf-8', { fatal: true }).decode(head, {
      stream: head.length < bytes.length,
    });
  } catch {
    return undefined;
  }
}

/**
 * A printable one-line preview of a payload or value, at most about `maxChars` characters of it:
 *
 * - text (a string, or bytes that are UTF-8 text): in double quotes with newlines, tabs,
 *   quotes, backslashes, control characters (C0, DEL, C1), line separators, bidi controls and
 *   lone surrogates escaped JSON-style (`\n`, `\u001b`), cut at a character boundary, then
 *   `…(+N chars)` (`…(N bytes in all)` for bytes) when cut;
 * - other bytes: the first `maxChars / 3` bytes in hex, `<18 07 2a …(+N bytes)>`.
 *
 * Never throws; the result never contains a control character or a line break.
 */
export function preview(value: string | Uint8Array, maxChars = 60): string {
  const max = Math.max(1, Math.floor(maxChars));
  if (typeof value === 'string') return quoted(value, max);
  const text = asText(value, max * 4 + 4);
  if (text !== undefined) {
    const [body, tail] = escaped(text, max, true);
    const cut = tail !== '' || value.length > max * 4 + 4;
    return `"${body}"${cut ? `…(${value.length} bytes in all)` : ''}`;
  }
  const n = Math.max(1, Math.floor(max / 3));
  const shown = value.subarray(0, n);
  let hex = '';
  for (const b of shown) hex += (hex === '' ? '' : ' ') + b.toString(16).padStart(2, '0');
  const rest = value.length - shown.length;
  return `<${hex}${rest > 0 ? ` …(+${rest} bytes)` : ''}>`;
}
