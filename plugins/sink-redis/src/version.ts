/**
 * Versions of written values, from `event.position`, in a form Lua compares with `<`/`>=`.
 *
 * `<source>/<partition>@<offset: 20 digits><index: 10 digits>`. Offsets are unsigned 64-bit
 * decimals (at most 20 digits, Kafka's are < 2^63) and the row index fits 10 digits, so for one
 * stream (source and partition) the fixed-width tail orders exactly like `comparePositions`
 * (plugin-api changeEvent.ts). Versions of different streams are not comparable: the script then
 * lets the newer write win (a re-partitioned or re-created topic overwrites).
 */
import type { EventPosition } from '@sluice/plugin-api';

/** Width of the comparable tail: 20 offset digits + 10 index digits. */
export const VERSION_TAIL = 30;

/** Encodes a position as a version string. */
export function encodeVersion(position: EventPosition): string {
  const offset = position.offset.replace(/^0+(?=\d)/, '');
  if (!/^\d{1,20}$/.test(offset))
    throw new RangeError(`Event offset "${position.offset}" is not an unsigned 64-bit decimal.`);
  if (!Number.isInteger(position.index) || position.index < 0 || position.index > 9_999_999_999)
    throw new RangeError(`Event index ${position.index} is out of range.`);
  return `${position.source}/${position.partition}@${offset.padStart(20, '0')}${String(position.index).padStart(10, '0')}`;
}

/** Suffix of the companion key that holds a value's version. */
export const VERSION_SUFFIX = ':sluice-version';

/**
 * The key holding `key`'s version, in the same Redis Cluster slot: `key` + suffix when `key` has a
 * hash tag, `{key}` + suffix when it has no braces at all (the tag is then the whole key, which
 * hashes like the key), else `key` + suffix (a different slot in Cluster: such keys are rejected
 * per event with CROSSSLOT).
 */
export function versionKeyOf(key: string): string {
  const open = key.indexOf('{');
  if (open >= 0) return key + VERSION_SUFFIX;
  if (key.includes('}')) return key + VERSION_SUFFIX;
  return `{${key}}${VERSION_SUFFIX}`;
}
