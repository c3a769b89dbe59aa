import type { ChangeEvent } from '@sluice/plugin-api';
import { DecodeError, decodeFlatMessage, flatMessageToChangeEvents, type MessageOrigin } from '@sluice/canal-protocol';

/** How the payloads of a source are encoded (`canal.conf.flatMessage`). */
export type MessageFormat = 'flat' | 'protobuf';

/** Decodes one raw canal message into ChangeEvents; throws {@link DecodeError} on bad input. */
export function decodeMessage(payload: Uint8Array | string, format: MessageFormat, origin: MessageOrigin): ChangeEvent[] {
  if (format === 'protobuf') {
    throw new DecodeError('protobuf messages are not supported by this build');
  }
  return flatMessageToChangeEvents(decodeFlatMessage(payload), origin);
}
