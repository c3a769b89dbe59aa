import { mkdir, open } from 'node:fs/promises';
import { dirname, join } from 'node:path';

/** One dead-lettered item: an undecodable message, or an event a sink rejected permanently. */
export interface DeadLetterRecord {
  /** When it was dead-lettered (ISO 8601). */
  readonly at: string;
  readonly destination: string;
  readonly groupId: string;
  readonly partition: string;
  readonly offset: string;
  /** Row index within the message, for a rejected event. */
  readonly index?: number;
  /** Sink instance key, for a rejected event. */
  readonly sink?: string;
  /** Mapping file, for a rejected event that had one. */
  readonly mapping?: string;
  /** Why: the decode error or the sink's error message. */
  readonly reason: string;
  readonly attempts: number;
  /** The original message: text as is, bytes as base64 (`payloadEncoding`). */
  readonly payload: string;
  readonly payloadEncoding: 'utf8' | 'base64';
}

/** Where dead letters go. `write` resolves only once the record is durable. */
export interface DeadLetterQueue {
  /** Human-readable location, for log lines. */
  readonly location: string;
  write(record: DeadLetterRecord): Promise<void>;
  close(): Promise<void>;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Encodes a raw payload for a {@link DeadLetterRecord}: text, and bytes that are valid UTF-8
 * (FlatMessage JSON read as bytes), stay readable text; other bytes (protobuf) become base64.
 * Either way the original bytes come back exactly (`Buffer.from(payload, encoding)`).
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

/** A JSONL file per destination under `dir`, appended and fsynced per record. */
export class FileDeadLetterQueue implements DeadLetterQueue {
  readonly location: string;
  readonly #dir: string;

  constructor(dir: string) {
    this.#dir = dir;
    this.location = dir;
  }

  fileFor(destination: string): string {
    return join(this.#dir, `${destination.replace(/[^A-Za-z0-9._-]/g, '_') || 'default'}.jsonl`);
  }

  async write(record: DeadLetterRecord): Promise<void> {
    const file = this.fileFor(record.destination);
    await mkdir(dirname(file), { recursive: true });
    const handle = await open(file, 'a');
    try {
      await handle.write(JSON.stringify(record) + '\n');
      await handle.sync();
    } finally {
      await handle.close();
    }
  }

  async close(): Promise<void> {}
}
