import type { ChangeEvent } from '@sluice/plugin-api';
import { DecodeError } from './decodeError.js';
import { decodeFlatMessage } from './flatMessage.js';
import type { MessageOrigin } from './messageOrigin.js';
import type { DecodeNotice } from './notices.js';
import { preview } from './preview.js';
import { decodeProtobufMessage } from './protobuf/toChangeEvents.js';
import { looksLikeCanalPacket, looksLikeText, startsLikeJson } from './sniff.js';
import { adoptFlatMessageRows } from './toChangeEvents.js';

/** The two MQ payload formats canal writes (`canal.mq.flatMessage` true/false), or `auto`. */
export type PayloadFormat = 'flat' | 'protobuf' | 'auto';

/**
 * Tells a FlatMessage from a protobuf payload by its first byte: JSON text starts with `{` (or
 * `[`) after optional whitespace and byte-order mark; a canal `Packet` starts with a field tag
 * (`0x10` version or `0x18` type), never with those. Strings are always flat.
 */
export function detectFormat(payload: Uint8Array | string): 'flat' | 'protobuf' {
  if (typeof payload === 'string') return 'flat';
  return startsLikeJson(payload) ? 'flat' : 'protobuf';
}

/**
 * Decodes one canal MQ payload (one Kafka record value) into ChangeEvents. Throws
 * {@link DecodeError} on bad input, never anything else; its message names what the payload
 * looks like when it is not the expected format (protobuf under `flat`: "is
 * canal.conf.flatMessage set right?"; JSON under `protobuf`, the same; plain text: "neither
 * FlatMessage JSON nor canal protobuf"), with an escaped, bounded preview of it.
 *
 * `notices`, when given, receives what the message holds that is not an error but means data
 * is missing (see {@link DecodeNotice}); nothing is added when decoding throws.
 */
export function decodeCanalPayload(
  payload: Uint8Array | string,
  format: PayloadFormat,
  origin: MessageOrigin,
  notices?: DecodeNotice[],
): ChangeEvent[] {
  const actual = format === 'auto' ? detectFormat(payload) : format;
  if (actual === 'protobuf') {
    if (typeof payload === 'string')
      throw new DecodeError('a protobuf payload must be bytes, not text');
    return decodeProtobufMessage(payload, origin, notices);
  }
  let events: ChangeEvent[];
  const found: DecodeNotice[] | undefined = notices === undefined ? undefined : [];
  try {
    events = adoptFlatMessageRows(decodeFlatMessage(payload), origin, found);
  } catch (error) {
    throw notFlatHint(payload) ?? error;
  }
  if (found !== undefined) notices!.push(...found);
  return events;
}

/** A clearer error for a payload under `flat` that is not JSON at all; undefined otherwise. */
function notFlatHint(payload: Uint8Array | string): DecodeError | undefined {
  if (typeof payload === 'string') {
    if (/^[\s\ufeff]*[{[]/.test(payload)) return undefined;
    return new DecodeError(
      `neither FlatMessage JSON nor canal protobuf: the payload is plain text: ${preview(payload)}`,
    );
  }
  if (startsLikeJson(payload)) return undefined;
  if (looksLikeCanalPacket(payload) || !looksLikeText(payload))
    return new DecodeError(
      `not FlatMessage JSON: it is binary, like a canal protobuf Packet (is canal.conf.flatMessage set right?): ${preview(payload)}`,
    );
  return new DecodeError(
    `neither FlatMessage JSON nor canal protobuf: the payload is plain text: ${preview(payload)}`,
  );
}
