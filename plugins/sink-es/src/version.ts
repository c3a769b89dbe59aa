import type { EventPosition } from '@sluice/plugin-api';

/** Bits of the version that hold the event's index within its source message. */
export const INDEX_BITS = 20n;
/** Largest source offset a version can encode: 2^43 − 1 (≈ 8.8 · 10^12). */
export const MAX_OFFSET = (1n << (63n - INDEX_BITS)) - 1n;
/** Largest index within one message a version can encode: 2^20 − 1 (1 048 575 rows). */
export const MAX_INDEX = (1 << Number(INDEX_BITS)) - 1;

/**
 * The Elasticsearch external version of an event: `offset · 2^20 + index`, a signed 63-bit long
 * (Elasticsearch's limit) that increases with the position within one partition, so a replayed
 * older event loses against a newer write (409, counted as applied).
 *
 * Limits: the offset must be below 2^43 and the index (row of a canal message) below 2^20; the
 * order is only meaningful within one partition of one source, so every write to a document must
 * come through the same partition (canal's `partitionHash` by primary key gives that).
 *
 * @returns the version as decimal text, or a reason string when the position cannot be encoded.
 */
export function externalVersion(position: EventPosition): { version: string } | { reason: string } {
  let offset: bigint;
  try {
    offset = BigInt(position.offset);
  } catch {
    return { reason: `the event offset "${position.offset}" is not an integer` };
  }
  if (offset < 0n || offset > MAX_OFFSET)
    return {
      reason: `the event offset ${position.offset} does not fit an Elasticsearch version (offset · 2^20 + index must stay below 2^63; offsets up to ${MAX_OFFSET})`,
    };
  if (!Number.isInteger(position.index) || position.index < 0 || position.index > MAX_INDEX)
    return {
      reason: `the event index ${position.index} within its message does not fit an Elasticsearch version (at most ${MAX_INDEX})`,
    };
  return { version: ((offset << INDEX_BITS) + BigInt(position.index)).toString() };
}
