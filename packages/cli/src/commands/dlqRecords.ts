import { decodePayload, type DeadLetterRecord } from '@sluice/core';
import { UsageError } from '../usageError.js';

/** The `sluice dlq` record filters; every given one must match. */
export interface DeadLetterFilter {
  /** `destination` equals. */
  readonly destination?: string | undefined;
  /** `sink` equals (`-` matches records without a sink: undecodable messages). */
  readonly sink?: string | undefined;
  /** `mapping` equals. */
  readonly mapping?: string | undefined;
  /** `reason` contains this, ignoring case. */
  readonly reason?: string | undefined;
  /** `partition` equals. */
  readonly partition?: string | undefined;
  /** Source offset range, inclusive at both ends (either end open). */
  readonly offsetFrom?: bigint | undefined;
  readonly offsetTo?: bigint | undefined;
}

const OFFSET = /^\d+$/;

/**
 * Parses `--offset N`, `--offset N..M`, `--offset N..` or `--offset ..M` (source offsets,
 * inclusive).
 *
 * @throws UsageError on anything else.
 */
export function parseOffsetRange(text: string): { from?: bigint; to?: bigint } {
  const [from, to, extra] = text.split('..');
  const ok =
    extra === undefined &&
    (from === '' || OFFSET.test(from!)) &&
    (to === undefined ? from !== '' : to === '' || OFFSET.test(to)) &&
    !(from === '' && to === '');
  if (!ok)
    throw new UsageError(
      `sluice dlq: --offset "${text}" is not an offset or range (N, N..M, N.. or ..M)`,
    );
  const range: { from?: bigint; to?: bigint } = {};
  if (from !== '') range.from = BigInt(from!);
  if (to === undefined) range.to = BigInt(from!);
  else if (to !== '') range.to = BigInt(to);
  if (range.from !== undefined && range.to !== undefined && range.from > range.to)
    throw new UsageError(`sluice dlq: --offset "${text}" is an empty range`);
  return range;
}

/** True when no filter is set. */
export function isEmptyFilter(f: DeadLetterFilter): boolean {
  return Object.values(f).every((v) => v === undefined);
}

/** Whether `record` passes every filter of `f`. */
export function matches(record: DeadLetterRecord, f: DeadLetterFilter): boolean {
  if (f.destination !== undefined && record.destination !== f.destination) return false;
  if (f.sink !== undefined && (record.sink ?? '-') !== f.sink) return false;
  if (f.mapping !== undefined && record.mapping !== f.mapping) return false;
  if (f.partition !== undefined && record.partition !== f.partition) return false;
  if (f.reason !== undefined && !record.reason.toLowerCase().includes(f.reason.toLowerCase()))
    return false;
  if (f.offsetFrom !== undefined || f.offsetTo !== undefined) {
    if (!OFFSET.test(record.offset)) return false;
    const offset = BigInt(record.offset);
    if (f.offsetFrom !== undefined && offset < f.offsetFrom) return false;
    if (f.offsetTo !== undefined && offset > f.offsetTo) return false;
  }
  return true;
}

/**
 * Makes untrusted text safe for a terminal: control characters (ESC, CR, NUL …) and lone
 * surrogates become JSON-style escapes; printable Unicode stays.
 */
export function escapeText(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029\\]|[\ud800-\udfff]/gu, (c) =>
    c === '\\' ? '\\\\' : JSON.stringify(c).slice(1, -1),
  );
}

/** At most `max` characters of `text`, escaped, with how much was cut. */
function truncate(text: string, max: number): string {
  const chars = [...text];
  const shown = escapeText(chars.slice(0, max).join(''));
  return chars.length > max ? `${shown}… (${chars.length - max} more characters)` : shown;
}

/** One line per record: where it came from, which sink and mapping, attempts, the reason. */
export function formatLine(r: DeadLetterRecord): string {
  const where = `${r.destination} ${r.groupId} partition ${r.partition} offset ${r.offset}${r.index !== undefined ? ` row ${r.index}` : ''}`;
  const sink = r.sink !== undefined ? ` sink ${r.sink}` : ' undecodable';
  const mapping = r.mapping !== undefined ? ` mapping ${r.mapping}` : '';
  return `${escapeText(where)}${escapeText(sink)}${escapeText(mapping)} attempts ${r.attempts} at ${escapeText(r.at)}: ${truncate(r.reason, 120)}`;
}

/**
 * The full record, one field a line, and a preview of the original message: text escaped and cut
 * at `previewChars` characters; bytes that are not UTF-8 (protobuf) as a hex dump of the first
 * `previewChars / 2` bytes.
 */
export function formatRecord(r: DeadLetterRecord, previewChars: number): string {
  const lines = [
    `destination: ${escapeText(r.destination)}`,
    `groupId:     ${escapeText(r.groupId)}`,
    `partition:   ${escapeText(r.partition)}`,
    `offset:      ${escapeText(r.offset)}`,
  ];
  if (r.index !== undefined) lines.push(`row:         ${r.index}`);
  lines.push(
    `sink:        ${r.sink !== undefined ? escapeText(r.sink) : '- (undecodable message)'}`,
  );
  if (r.mapping !== undefined) lines.push(`mapping:     ${escapeText(r.mapping)}`);
  lines.push(`at:          ${escapeText(r.at)}`, `attempts:    ${r.attempts}`);
  lines.push(`reason:      ${escapeText(r.reason)}`);
  if (r.payloadEncoding === 'utf8') {
    lines.push(`payload:     text, ${Buffer.byteLength(r.payload)} bytes`);
    lines.push(`  ${truncate(r.payload, previewChars)}`);
  } else {
    const bytes = decodePayload(r);
    const n = Math.max(1, Math.floor(previewChars / 2));
    const hex = Buffer.from(bytes.subarray(0, n)).toString('hex');
    lines.push(`payload:     binary, ${bytes.length} bytes (hex)`);
    lines.push(`  ${hex}${bytes.length > n ? `… (${bytes.length - n} more bytes)` : ''}`);
  }
  return lines.join('\n') + '\n';
}
