import { createReadStream } from 'node:fs';
import type { ChangeEvent } from '@sluice/plugin-api';
import {
  DecodeError,
  decodeCanalPayload,
  flatMessageFromJson,
  flatMessageToChangeEvents,
  preview,
  type MessageOrigin,
} from '@sluice/canal-protocol';
import type { CliIo } from '../io.js';
import { UsageError } from '../usageError.js';
import { parseCommandArgs } from './parse.js';

export const inspectHelp = `Usage: sluice inspect [--format flat|protobuf|auto] [--destination NAME] [FILE|-]

Decodes canal messages and prints one normalised ChangeEvent per line as JSON (stdout), as the
input arrives (tail -f … | sluice inspect works). Messages that cannot be decoded are reported
on stderr with their index and the reason. Reads FILE, or standard input when FILE is "-" or
missing. Ctrl-C (SIGINT) or SIGTERM stops it at once.

Input:
  flat      FlatMessage JSON: one message per line (JSON lines, streamed), a single JSON
            document, or a JSON array of messages (these two are read whole)
  protobuf  canal's non-flat MQ payload (a Packet, exactly as canal writes a Kafka record
            value): either one message (the whole input, read whole), or a stream of messages
            each preceded by its length as a 4-byte big-endian unsigned integer (canal's TCP
            framing; streamed). A stream is recognised by its first byte being below 0x08,
            which no protobuf Packet can start with.
  auto      flat when the input starts with "{" or "[" (after whitespace) or with other text,
            protobuf when it starts with a byte below 0x20 (a length prefix or a Packet tag)

Options:
  -f, --format FORMAT     flat, protobuf or auto (default: auto)
  -d, --destination NAME  destination recorded in each event (default: inspect)
  -h, --help              show this help

Each event's position is {source: FILE or "stdin", partition: "0", offset: message index}.
A line, frame or whole-input message may be at most 256 MiB.
Exit codes: 0 every message decoded, 1 some message failed, 2 usage error, 130 interrupted.
`;

const FORMATS = ['flat', 'protobuf', 'auto'] as const;
type InspectFormat = (typeof FORMATS)[number];

/** Largest line, frame or whole-input message held in memory (bytes). */
export const MAX_MESSAGE_BYTES = 256 * 1024 * 1024;

/** Bytes received and not consumed yet: a list of chunks, so appending and taking stay linear. */
class ByteQueue {
  #chunks: Uint8Array[] = [];
  #length = 0;

  get length(): number {
    return this.#length;
  }

  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    this.#chunks.push(chunk);
    this.#length += chunk.length;
  }

  /** The byte at `index` (< length). */
  at(index: number): number {
    for (const chunk of this.#chunks) {
      if (index < chunk.length) return chunk[index]!;
      index -= chunk.length;
    }
    throw new RangeError('ByteQueue.at past the end');
  }

  /** Index of the first `byte` at or after `from`, or -1; one pass over the chunks. */
  indexOf(byte: number, from: number): number {
    let base = 0;
    for (const chunk of this.#chunks) {
      if (from < base + chunk.length) {
        const i = chunk.indexOf(byte, Math.max(0, from - base));
        if (i >= 0) return base + i;
      }
      base += chunk.length;
    }
    return -1;
  }

  /** A copy of the first `n` bytes (n ≤ length), leaving them in the queue. */
  peek(n: number): Uint8Array {
    const out = new Uint8Array(n);
    let filled = 0;
    for (const chunk of this.#chunks) {
      if (filled === n) break;
      const part = Math.min(chunk.length, n - filled);
      out.set(chunk.subarray(0, part), filled);
      filled += part;
    }
    return out;
  }

  /** Removes and returns the first `n` bytes (n ≤ length). */
  take(n: number): Uint8Array {
    const first = this.#chunks[0];
    if (first !== undefined && first.length >= n) {
      const out = first.subarray(0, n);
      if (first.length === n) this.#chunks.shift();
      else this.#chunks[0] = first.subarray(n);
      this.#length -= n;
      return out;
    }
    const out = new Uint8Array(n);
    let filled = 0;
    while (filled < n) {
      const chunk = this.#chunks[0]!;
      const part = Math.min(chunk.length, n - filled);
      out.set(chunk.subarray(0, part), filled);
      filled += part;
      if (part === chunk.length) this.#chunks.shift();
      else this.#chunks[0] = chunk.subarray(part);
    }
    this.#length -= n;
    return out;
  }

  /** Everything, emptying the queue. */
  takeAll(): Uint8Array {
    return this.take(this.#length);
  }
}

/** Where one message sits in the input, for error lines: `line 4`, `byte 120`. */
type Where = string;

const utf8 = new TextDecoder('utf-8', { fatal: false });

/** True when `JSON.parse(text)` fails only because the text ends too early. */
function endsEarly(text: string): boolean {
  try {
    JSON.parse(text);
    return false;
  } catch (error) {
    const message = (error as Error).message;
    if (message.includes('end of JSON input')) return true;
    const at = / at position (\d+)/.exec(message);
    return at !== null && Number(at[1]) >= text.trimEnd().length;
  }
}

/**
 * Decodes canal messages from a stream of byte chunks as they arrive and writes one ChangeEvent
 * per line to `io.stdout` (one write per message), one error line per bad message to
 * `io.stderr`. Memory is bounded by the largest line or frame, except for the forms that are
 * read whole (a JSON array, a multi-line JSON document, a single protobuf message).
 */
export class InspectStream {
  readonly #io: CliIo;
  readonly #format: InspectFormat;
  readonly #destination: string;
  readonly #source: string;
  readonly #queue = new ByteQueue();
  /** How the input is cut, once known from its first bytes. */
  #mode: 'lines' | 'document' | 'frames' | 'whole' | undefined;
  #kind: 'flat' | 'protobuf' = 'flat';
  /** Bytes consumed before the queue's start (for `byte N`) and lines consumed (for `line N`). */
  #offset = 0;
  #line = 0;
  #scanned = 0;
  #skipping = false;
  #messages = 0;
  #failed = 0;
  #stopped = false;

  constructor(io: CliIo, options: { format: InspectFormat; destination: string; source: string }) {
    this.#io = io;
    this.#format = options.format;
    this.#destination = options.destination;
    this.#source = options.source;
  }

  /** Feeds the next chunk of input; decodes and prints every message it completes. */
  push(chunk: Uint8Array): void {
    if (this.#stopped) return;
    this.#queue.push(chunk);
    this.#drain(false);
  }

  /** The input ended: decodes what is left, prints the summary, returns the exit code. */
  end(): number {
    if (!this.#stopped) this.#drain(true);
    if (this.#failed > 0)
      this.#io.stderr(
        `sluice inspect: ${this.#failed} of ${this.#messages} ${this.#kind} messages could not be decoded\n`,
      );
    return this.#failed > 0 ? 1 : 0;
  }

  #decide(atEnd: boolean): boolean {
    const q = this.#queue;
    if (q.length === 0) return false;
    const first = q.at(0);
    if (this.#format !== 'flat' && first < 0x08) {
      this.#kind = 'protobuf';
      this.#mode = 'frames';
      return true;
    }
    if (this.#format === 'protobuf') {
      this.#kind = 'protobuf';
      this.#mode = 'whole';
      return true;
    }
    // Flat (or auto): find the first byte that is not whitespace.
    let i = 0;
    while (i < q.length && [0x20, 0x09, 0x0a, 0x0d, 0xef, 0xbb, 0xbf].includes(q.at(i))) i++;
    if (i === q.length) {
      if (!atEnd) return false;
      this.#mode = 'lines';
      return true;
    }
    const significant = q.at(i);
    if (this.#format === 'auto' && significant < 0x20) {
      // A Packet tag (0x10 version, 0x18 type …): one protobuf message.
      this.#kind = 'protobuf';
      this.#mode = 'whole';
      return true;
    }
    if (significant === 0x5b) {
      this.#mode = 'document';
      return true;
    }
    if (significant !== 0x7b) {
      // Text that is not JSON: line by line, each reported for what it is.
      this.#mode = 'lines';
      return true;
    }
    // `{`: JSON lines, unless the first line is only the start of a multi-line document.
    const newline = q.indexOf(0x0a, i);
    if (newline < 0 && !atEnd) return false;
    const firstLine = utf8.decode(q.peek(newline < 0 ? q.length : newline));
    this.#mode = endsEarly(firstLine.trim()) ? 'document' : 'lines';
    return true;
  }

  #drain(atEnd: boolean): void {
    if (this.#mode === undefined && !this.#decide(atEnd)) return;
    switch (this.#mode) {
      case 'lines':
        return this.#lines(atEnd);
      case 'frames':
        return this.#frames(atEnd);
      default:
        return this.#whole(atEnd);
    }
  }

  #lines(atEnd: boolean): void {
    const q = this.#queue;
    for (;;) {
      const newline = q.indexOf(0x0a, this.#scanned);
      if (newline < 0) {
        this.#scanned = q.length;
        if (this.#skipping) {
          this.#offset += q.length;
          q.takeAll();
          this.#scanned = 0;
        } else if (q.length > MAX_MESSAGE_BYTES) {
          this.#line += 1;
          this.#fail(
            `line ${this.#line}`,
            new DecodeError(`line longer than ${MAX_MESSAGE_BYTES} bytes: skipped`),
          );
          this.#skipping = true;
          this.#offset += q.length;
          q.takeAll();
          this.#scanned = 0;
        }
        if (atEnd && q.length > 0) {
          this.#line += 1;
          this.#decodeLine(q.takeAll());
        }
        return;
      }
      const line = q.take(newline + 1);
      this.#scanned = 0;
      this.#offset += line.length;
      if (this.#skipping) {
        this.#skipping = false;
        continue;
      }
      this.#line += 1;
      this.#decodeLine(line.subarray(0, newline));
    }
  }

  #decodeLine(line: Uint8Array): void {
    let blank = true;
    for (const b of line) {
      if (b !== 0x20 && b !== 0x09 && b !== 0x0d) {
        blank = false;
        break;
      }
    }
    if (blank) return;
    this.#decode(`line ${this.#line}`, (origin) => decodeCanalPayload(line, 'flat', origin));
  }

  #frames(atEnd: boolean): void {
    const q = this.#queue;
    while (q.length >= 4) {
      const length = ((q.at(0) << 24) | (q.at(1) << 16) | (q.at(2) << 8) | q.at(3)) >>> 0;
      const where = `byte ${this.#offset}`;
      if (length > MAX_MESSAGE_BYTES) {
        this.#fail(
          where,
          new DecodeError(
            `frame length ${length} exceeds ${MAX_MESSAGE_BYTES} bytes: not a 4-byte big-endian length-prefixed stream; stopped`,
          ),
        );
        this.#stopped = true;
        return;
      }
      if (q.length < 4 + length) break;
      q.take(4);
      const frame = q.take(length);
      this.#offset += 4 + length;
      this.#decode(where, (origin) => decodeCanalPayload(frame, 'protobuf', origin));
    }
    if (!atEnd || q.length === 0) return;
    const where = `byte ${this.#offset}`;
    if (q.length < 4)
      this.#fail(where, new DecodeError(`truncated length prefix: ${q.length} of 4 bytes`));
    else {
      const length = ((q.at(0) << 24) | (q.at(1) << 16) | (q.at(2) << 8) | q.at(3)) >>> 0;
      this.#fail(
        where,
        new DecodeError(
          `frame of ${length} bytes runs past the end of the input (${q.length - 4} bytes left)`,
        ),
      );
    }
  }

  /** A JSON array, a multi-line document or one protobuf message: decoded at the end. */
  #whole(atEnd: boolean): void {
    const q = this.#queue;
    if (q.length > MAX_MESSAGE_BYTES) {
      this.#fail(
        'the input',
        new DecodeError(
          `input read whole (a JSON array or document, or one protobuf message) is larger than ${MAX_MESSAGE_BYTES} bytes; use JSON lines or a length-prefixed stream`,
        ),
      );
      this.#stopped = true;
      return;
    }
    if (!atEnd) return;
    const input = q.takeAll();
    if (this.#kind === 'protobuf') {
      this.#decode('byte 0', (origin) => decodeCanalPayload(input, 'protobuf', origin));
      return;
    }
    let text = utf8.decode(input);
    if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    const trimmed = text.trim();
    if (!trimmed.startsWith('[')) {
      this.#decode('the document', (origin) => decodeCanalPayload(trimmed, 'flat', origin));
      return;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(trimmed);
    } catch {
      this.#fail(
        'the JSON array',
        new DecodeError(`not a valid JSON array of messages: ${preview(trimmed)}`),
      );
      return;
    }
    if (!Array.isArray(parsed)) {
      this.#fail('the JSON array', new DecodeError('expected a JSON array of messages'));
      return;
    }
    parsed.forEach((value: unknown, index) =>
      this.#decode(`array element ${index}`, (origin) =>
        flatMessageToChangeEvents(flatMessageFromJson(value), origin),
      ),
    );
  }

  #decode(where: Where, decode: (origin: MessageOrigin) => ChangeEvent[]): void {
    const index = this.#messages;
    const origin: MessageOrigin = {
      destination: this.#destination,
      source: this.#source,
      partition: '0',
      offset: String(index),
    };
    let out = '';
    try {
      for (const event of decode(origin)) out += JSON.stringify(event) + '\n';
    } catch (error) {
      if (!(error instanceof DecodeError)) throw error;
      this.#fail(where, error);
      return;
    }
    this.#messages += 1;
    if (out !== '') this.#io.stdout(out);
  }

  #fail(where: Where, error: DecodeError): void {
    const index = this.#messages;
    this.#messages += 1;
    this.#failed += 1;
    this.#io.stderr(`sluice inspect: message ${index} (${where}): ${error.message}\n`);
  }
}

/**
 * Decodes a whole input at once (tests and callers that hold it in memory): the same output as
 * streaming it through {@link InspectStream}. Returns the exit code.
 */
export function inspectBytes(
  input: Uint8Array,
  options: { format: InspectFormat; destination: string; source: string },
  io: CliIo,
): number {
  const stream = new InspectStream(io, options);
  stream.push(input);
  return stream.end();
}

/** Opens the input as a stream of chunks; `-` is standard input. */
export type OpenInput = (file: string) => AsyncIterable<Uint8Array> & { destroy(): void };

const openInput: OpenInput = (file) =>
  file === '-' ? process.stdin : createReadStream(file, { highWaterMark: 64 * 1024 });

/**
 * `sluice inspect`: decodes canal messages from a file or stdin as they arrive and prints
 * ChangeEvents. Stops at once when `signal` aborts (SIGINT/SIGTERM): the input is closed, what
 * was printed stays printed, and the exit code is 130.
 */
export async function inspectCommand(
  args: readonly string[],
  io: CliIo,
  signal: AbortSignal = new AbortController().signal,
  open: OpenInput = openInput,
): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    'inspect',
    args,
    {
      format: { type: 'string', short: 'f', default: 'auto' },
      destination: { type: 'string', short: 'd', default: 'inspect' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    true,
  );
  if (values.help) {
    io.stdout(inspectHelp);
    return 0;
  }
  const format = values.format as InspectFormat;
  if (!FORMATS.includes(format))
    throw new UsageError(
      `sluice inspect: --format must be flat, protobuf or auto, not "${values.format}"`,
    );
  if (positionals.length > 1)
    throw new UsageError(`sluice inspect: expected at most one FILE, got ${positionals.length}`);
  const file = positionals[0] ?? '-';
  const stream = new InspectStream(io, {
    format,
    destination: values.destination,
    source: file === '-' ? 'stdin' : file,
  });
  if (signal.aborted) return 130;
  const input = open(file);
  const stop = (): void => input.destroy();
  signal.addEventListener('abort', stop, { once: true });
  try {
    for await (const chunk of input) {
      if (signal.aborted) break;
      stream.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
    }
  } catch (error) {
    if (!signal.aborted) {
      io.stderr(`sluice inspect: cannot read ${file}: ${(error as Error).message}\n`);
      return 1;
    }
  } finally {
    signal.removeEventListener('abort', stop);
  }
  if (signal.aborted) {
    input.destroy();
    stream.end();
    return 130;
  }
  return stream.end();
}
