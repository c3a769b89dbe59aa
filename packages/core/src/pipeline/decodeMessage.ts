import type { ChangeEvent } from '@sluice/plugin-api';
import { decodeCanalPayload, type MessageOrigin } from '@sluice/canal-protocol';

/**
 * How the payloads of a source are encoded: `flat` (FlatMessage JSON, `canal.conf.flatMessage:
 * true`), `protobuf` (canal's non-flat `Packet{MESSAGES}` bytes), or `auto` (decided per
 * message by its first byte: `{` is JSON, anything else protobuf).
 */
export type MessageFormat = 'flat' | 'protobuf' | 'auto';

/**
 * Decodes one raw canal message (one Kafka record value, one file line, …) into ChangeEvents.
 * Throws {@link DecodeError} (from `@sluice/canal-protocol`) on bad input, naming the field.
 * For protobuf, one message holds many entries: every event gets the message's offset and a
 * running `index` across those entries.
 */
export function decodeMessage(
  payload: Uint8Array | string,
  format: MessageFormat,
  origin: MessageOrigin,
): ChangeEvent[] {
  return decodeCanalPayload(payload, format, origin);
}
