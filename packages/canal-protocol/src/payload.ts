import type { ChangeEvent } from '@sluice/plugin-api';
import { DecodeError } from './decodeError.js';
import { decodeFlatMessage } from './flatMessage.js';
import type { MessageOrigin } from './messageOrigin.js';
import { decodeProtobufMessage } from './protobuf/toChangeEvents.js';
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
  let i = 0;
  if (payload[0] === 0xef && payload[1] === 0xbb && payload[2] === 0xbf) i = 3;
  while (
    i < payload.length &&
    (payload[i] === 0x20 || payload[i] === 0x0a || payload[i] === 0x0d || payload[i] === 0x09)
  )
    i++;
  const first = payload[i];
  return first === 0x7b || first === 0x5b ? 'flat' : 'protobuf';
}

/**
 * Decodes one canal MQ payload (one Kafka record value) into ChangeEvents. Throws
 * {@link DecodeError} on bad input, never anything else.
 */
export function decodeCanalPayload(
  payload: Uint8Array | string,
  format: PayloadFormat,
  origin: MessageOrigin,
): ChangeEvent[] {
  const actual = format === 'auto' ? detectFormat(payload) : format;
  if (actual === 'protobuf') {
    if (typeof payload === 'string')
      throw new DecodeError('a protobuf payload must be bytes, not text');
    return decodeProtobufMessage(payload, origin);
  }
  return adoptFlatMessageRows(decodeFlatMessage(payload), origin);
}
