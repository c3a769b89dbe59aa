import { FatalError } from './errors.js';

/**
 * One dead-lettered item: a message that could not be decoded, or an event a sink rejected
 * permanently. Serialised as one JSON object (a JSONL line, a Kafka record value, a queue
 * message body); every field is plain JSON.
 */
export interface DeadLetterRecord {
  /** When it was dead-lettered (ISO 8601, UTC). */
  readonly at: string;
  /** `canalAdapters[].instance` (Kafka topic, canal destination, queue) it came from. */
  readonly destination: string;
  /** `groups[].groupId` of the pipeline that dead-lettered it. */
  readonly groupId: string;
  /** Source partition of the original message. */
  readonly partition: string;
  /** Source offset of the original message (decimal string). */
  readonly offset: string;
  /** Row index within the message, for a rejected event. */
  readonly index?: number;
  /** Sink instance key, for a rejected event. */
  readonly sink?: string;
  /** Mapping file (relative to the configuration directory), for a rejected event that had one. */
  readonly mapping?: string;
  /** Why: the decode error or the sink's error message. */
  readonly reason: string;
  /** How many times it was dead-lettered: 1 the first time, one more after each failed replay. */
  readonly attempts: number;
  /** The original message: text as is, bytes as base64 (`payloadEncoding`). */
  readonly payload: string;
  /** How `payload` encodes the original bytes. */
  readonly payloadEncoding: 'utf8' | 'base64';
}

/**
 * Where dead letters go (a Kafka topic, a RabbitMQ queue, a JSONL directory).
 *
 * The core calls `write` from one flow per partition, possibly concurrently for different
 * partitions, and treats the record as safe only once `write` resolved; a rejection is retried
 * by the core with backoff (the partition waits: nothing is committed past an undurable dead
 * letter). `close` is called once at shutdown.
 */
export interface DeadLetterQueue {
  /** Human-readable location for log lines (`topic orders.dlq on 10.0.0.1:9092`), no secrets. */
  readonly location: string;
  /** Stores one record durably (acknowledged by the broker, fsynced). */
  write(record: DeadLetterRecord, signal: AbortSignal): Promise<void>;
  /**
   * Optional check at start, before the first event is consumed: that dead letters can be
   * written here (a broker queue declared, the permissions there). Called once per queue by
   * the core after the source connected. Throw a `FatalError` whose message names the
   * queue and what to change when they cannot (the start fails with it); any other error (the
   * broker is not reachable now) is logged and the start goes on (writes retry with backoff).
   */
  prepare?(signal: AbortSignal): Promise<void>;
  /** Releases connections. Idempotent. Give up when `signal` aborts. */
  close(signal: AbortSignal): Promise<void>;
}

/** Records read back from a dead-letter queue, and how to mark them done. */
export interface DeadLetterBatch {
  /** The records, in queue order. */
  readonly records: readonly DeadLetterRecord[];
  /**
   * Marks the records as replayed (commits the replay position), so the next read starts after
   * them. Called by the core only once every record was applied or written back to the queue.
   */
  commit(signal: AbortSignal): Promise<void>;
}

/** Reads a transport's dead-letter queue back for `sluice dlq replay` and `sluice dlq list`. */
export interface DeadLetterReader {
  /** Human-readable location, as in {@link DeadLetterQueue.location}. */
  readonly location: string;
  /**
   * The records not yet replayed, from the committed replay position to the end the queue had
   * when called. Called once per replay.
   */
  read(signal: AbortSignal): Promise<DeadLetterBatch>;
  /**
   * Optional: how many records wait (not yet replayed), counted cheaply without reading them
   * (Kafka: the topic's end offsets minus the replay group's committed offsets). The core polls
   * it for the `dead_letter_depth` gauge and `sluice status`; absent when counting would cost a
   * read. Rejects when the transport cannot be reached.
   */
  depth?(signal: AbortSignal): Promise<number>;
  /** Releases connections. Idempotent. */
  close(signal: AbortSignal): Promise<void>;
}

/** What a source's dead-letter factories receive. Nothing in it does I/O. */
export interface DeadLetterContext {
  /** `canalAdapters[].instance` whose dead letters these are. */
  readonly instance: string;
  /**
   * The queue name configured by `sluice.deadLetter.topic`, or `undefined` for the transport's
   * default (`<instance>.dlq`).
   */
  readonly name: string | undefined;
  /** `canal.conf.consumerProperties`, as the source gets them: the same connection options. */
  readonly properties: Readonly<Record<string, string>>;
  /** The configuration directory. */
  readonly configDir: string;
}

/**
 * A source transport's own dead-letter queue (`sluice.deadLetter.type` = the source's mode),
 * built from the same connection options as the source so TLS/SASL and credentials apply.
 */
export interface DeadLetterCapability {
  /** The writer the pipeline uses. Must not do I/O; connect lazily on the first `write`. */
  queue(context: DeadLetterContext): DeadLetterQueue;
  /** The reader `sluice dlq replay` uses. Must not do I/O until `read`. */
  reader(context: DeadLetterContext): DeadLetterReader;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;

/**
 * Parses one serialised {@link DeadLetterRecord} (a JSONL line, a Kafka record value, a RabbitMQ
 * or RocketMQ message body): every reader of a dead-letter queue uses it, so all transports accept
 * and refuse the same records. Records written before `at`, `reason` and `attempts` were required
 * get `''`, `''` and `1`.
 *
 * @param origin - where the text came from (file:line, topic/partition/offset), quoted in errors.
 * @throws FatalError naming `origin` when the text is not JSON or not a dead-letter record (a
 *   foreign producer wrote to the queue: replaying it blindly could apply anything, skipping it
 *   would lose it).
 */
export function parseDeadLetterRecord(text: string, origin: string): DeadLetterRecord {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new FatalError(`${origin}: not JSON (${(error as Error).message}).`);
  }
  const optional = (v: unknown, type: 'string' | 'number') => v === undefined || typeof v === type;
  const ok =
    isObject(value) &&
    typeof value['destination'] === 'string' &&
    typeof value['groupId'] === 'string' &&
    typeof value['partition'] === 'string' &&
    typeof value['offset'] === 'string' &&
    typeof value['payload'] === 'string' &&
    (value['payloadEncoding'] === 'utf8' || value['payloadEncoding'] === 'base64') &&
    optional(value['at'], 'string') &&
    optional(value['reason'], 'string') &&
    optional(value['attempts'], 'number') &&
    optional(value['index'], 'number') &&
    optional(value['sink'], 'string') &&
    optional(value['mapping'], 'string');
  if (!ok) throw new FatalError(`${origin}: not a Sluice dead-letter record.`);
  const r = value as Partial<DeadLetterRecord>;
  return {
    ...(value as unknown as DeadLetterRecord),
    at: r.at ?? '',
    reason: r.reason ?? '',
    attempts: r.attempts !== undefined && r.attempts >= 1 ? r.attempts : 1,
  };
}
