/**
 * What a payload looks like from its first bytes, for clear errors when it is not the format
 * Sluice was told to expect (canal's `canal.mq.flatMessage` and Sluice's format disagree, or
 * the topic carries something else).
 */
import { asText } from './preview.js';

/** Offset of the first byte after a UTF-8 byte-order mark and JSON whitespace. */
function firstSignificant(payload: Uint8Array): number {
  let i = 0;
  if (payload[0] === 0xef && payload[1] === 0xbb && payload[2] === 0xbf) i = 3;
  while (
    i < payload.length &&
    (payload[i] === 0x20 || payload[i] === 0x0a || payload[i] === 0x0d || payload[i] === 0x09)
  )
    i++;
  return i;
}

/**
 * True when the payload starts like JSON text: `{` or `[` after optional whitespace and
 * byte-order mark. A canal `Packet` never does: it starts with a field tag (`0x10` version or
 * `0x18` type), and `{`/`[` are start-group tags, which canal's messages never use.
 */
export function startsLikeJson(payload: Uint8Array): boolean {
  const first = payload[firstSignificant(payload)];
  return first === 0x7b || first === 0x5b;
}

/**
 * True when `bytes` look like UTF-8 text rather than binary: their first 512 bytes are valid
 * UTF-8 without control characters other than tab, CR and LF. Protobuf never does: every canal
 * `Packet` starts with a field tag below 0x20.
 */
export function looksLikeText(bytes: Uint8Array): boolean {
  return bytes.length > 0 && asText(bytes, 512) !== undefined;
}

/**
 * True when the payload starts like a canal `Packet{type=MESSAGES}`, in either layout canal
 * writes (reference §2.4): `18 07` (raw path: type=MESSAGES first) or `10 01 18 07` (builder
 * path: version=1, then type).
 */
export function looksLikeCanalPacket(payload: Uint8Array): boolean {
  if (payload[0] === 0x18 && payload[1] === 0x07) return true;
  return payload[0] === 0x10 && payload[1] === 0x01 && payload[2] === 0x18 && payload[3] === 0x07;
}
