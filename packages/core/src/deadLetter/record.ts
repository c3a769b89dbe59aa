import type { DeadLetterRecord } from '@sluice/plugin-api';

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

function isRecord(value: unknown): value is DeadLetterRecord {
  if (typeof value !== 'object' || value === null) return false;
  const r = value as Record<string, unknown>;
  return (
    typeof r['destination'] === 'string' &&
    typeof r['groupId'] === 'string' &&
    typeof r['partition'] === 'string' &&
    typeof r['offset'] === 'string' &&
    typeof r['payload'] === 'string' &&
    (r['payloadEncoding'] === 'utf8' || r['payloadEncoding'] === 'base64')
  );
}

/**
 * Parses one serialised dead letter (a JSONL line, a Kafka record value). A record written before
 * `attempts`/`reason`/`at` were required gets `1`/`''`/`''`.
 *
 * @throws Error naming `origin` when it is not JSON or not a dead-letter record.
 */
export function parseDeadLetter(text: string, origin: string): DeadLetterRecord {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new Error(`${origin}: not JSON (${(error as Error).message}).`);
  }
  if (!isRecord(value)) throw new Error(`${origin}: not a dead-letter record.`);
  const r = value as DeadLetterRecord & Record<string, unknown>;
  return {
    ...r,
    at: typeof r.at === 'string' ? r.at : '',
    reason: typeof r.reason === 'string' ? r.reason : '',
    attempts: typeof r.attempts === 'number' && r.attempts >= 1 ? r.attempts : 1,
  };
}

/** Parses dead letters from JSONL text (blank lines skipped); throws naming the first bad line. */
export function parseDeadLetters(text: string, origin: string): DeadLetterRecord[] {
  const out: DeadLetterRecord[] = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    out.push(parseDeadLetter(line, `${origin}:${i + 1}`));
  });
  return out;
}
