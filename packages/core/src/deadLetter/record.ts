import { parseDeadLetterRecord, type DeadLetterRecord } from '@sluice/plugin-api';

export type { DeadLetterRecord } from '@sluice/plugin-api';

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Encodes a raw payload for a {@link DeadLetterRecord}: text, and bytes that are valid UTF-8
 * (FlatMessage JSON read as bytes), stay readable text; other bytes (protobuf) become base64.
 * Either way the original bytes come back exactly ({@link decodePayload}).
 */
export function encodePayload(
  payload: Uint8Array | string,
): Pick<DeadLetterRecord, 'payload' | 'payloadEncoding'> {
  if (typeof payload === 'string') return { payload, payloadEncoding: 'utf8' };
  try {
    return { payload: strictUtf8.decode(payload), payloadEncoding: 'utf8' };
  } catch {
    return { payload: Buffer.from(payload).toString('base64'), payloadEncoding: 'base64' };
  }
}

/** The original message bytes of a record (the inverse of {@link encodePayload}). */
export function decodePayload(
  record: Pick<DeadLetterRecord, 'payload' | 'payloadEncoding'>,
): Uint8Array {
  return new Uint8Array(
    Buffer.from(record.payload, record.payloadEncoding === 'base64' ? 'base64' : 'utf8'),
  );
}

/**
 * Parses dead letters from JSONL text (blank lines skipped) with {@link parseDeadLetterRecord}.
 *
 * @throws FatalError naming `origin:line` of the first line that is not a dead-letter record.
 */
export function parseDeadLetters(text: string, origin: string): DeadLetterRecord[] {
  const out: DeadLetterRecord[] = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    out.push(parseDeadLetterRecord(line, `${origin}:${i + 1}`));
  });
  return out;
}
