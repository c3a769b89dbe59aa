import { readFile } from 'node:fs/promises';
import type { ChangeEvent } from '@sluice/plugin-api';
import {
  DecodeError,
  decodeProtobufMessage,
  detectFormat,
  flatMessageFromJson,
  flatMessageToChangeEvents,
  decodeFlatMessage,
  type MessageOrigin,
} from '@sluice/canal-protocol';
import type { CliIo } from '../io.js';
import { UsageError } from '../usageError.js';
import { parseCommandArgs } from './parse.js';

export const inspectHelp = `Usage: sluice inspect [--format flat|protobuf|auto] [--destination NAME] [FILE|-]

Decodes canal messages and prints one normalised ChangeEvent per line as JSON (stdout).
Messages that cannot be decoded are reported on stderr with their index and the reason.
Reads FILE, or standard input when FILE is "-" or missing.

Input:
  flat      FlatMessage JSON: one message per line (JSON lines), a single JSON document,
            or a JSON array of messages
  protobuf  canal's non-flat MQ payload (a Packet, exactly as canal writes a Kafka record
            value): either one message (the whole input), or a stream of messages each
            preceded by its length as a 4-byte big-endian unsigned integer (canal's TCP
            framing). A stream is recognised by its first byte being below 0x08, which no
            protobuf Packet can start with.
  auto      flat when the input starts with "{" or "[" (after whitespace), else protobuf

Options:
  -f, --format FORMAT     flat, protobuf or auto (default: auto)
  -d, --destination NAME  destination recorded in each event (default: inspect)
  -h, --help              show this help

Each event's position is {source: FILE or "stdin", partition: "0", offset: message index}.
Exit codes: 0 every message decoded, 1 some message failed, 2 usage error.
`;

const FORMATS = ['flat', 'protobuf', 'auto'] as const;
type InspectFormat = (typeof FORMATS)[number];

/** One message cut from the input, or a failure to cut one. */
interface RawMessage {
  readonly index: number;
  /** Where it sits, for error messages: `line 4`, `byte 120`. */
  readonly where: string;
  readonly decode: (origin: MessageOrigin) => ChangeEvent[];
}

const utf8 = new TextDecoder('utf-8', { fatal: false });

function failing(index: number, where: string, error: DecodeError): RawMessage {
  return {
    index,
    where,
    decode: () => {
      throw error;
    },
  };
}

/** Cuts FlatMessage JSON into messages: JSON lines, one document, or an array of documents. */
export function splitFlat(input: Uint8Array): RawMessage[] {
  let text = utf8.decode(input);
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const trimmed = text.trim();
  if (trimmed === '') return [];
  if (trimmed.startsWith('[')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(trimmed);
    } catch (error) {
      return [
        failing(
          0,
          'the JSON array',
          new DecodeError(`not valid JSON (${(error as Error).message})`),
        ),
      ];
    }
    if (!Array.isArray(parsed))
      return [failing(0, 'the JSON array', new DecodeError('expected a JSON array of messages'))];
    return parsed.map((value, index) => ({
      index,
      where: `array element ${index}`,
      decode: (origin) => flatMessageToChangeEvents(flatMessageFromJson(value), origin),
    }));
  }
  const lines = text.split('\n');
  const first = lines.findIndex((line) => line.trim() !== '');
  let firstLineIsJson = true;
  try {
    JSON.parse(lines[first]!);
  } catch {
    firstLineIsJson = false;
  }
  if (!firstLineIsJson) {
    // A pretty-printed single document.
    return [
      {
        index: 0,
        where: 'the document',
        decode: (origin) => flatMessageToChangeEvents(decodeFlatMessage(trimmed), origin),
      },
    ];
  }
  const messages: RawMessage[] = [];
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    messages.push({
      index: messages.length,
      where: `line ${i + 1}`,
      decode: (origin) => flatMessageToChangeEvents(decodeFlatMessage(line), origin),
    });
  });
  return messages;
}

/** Cuts protobuf input into messages: one whole Packet, or a 4-byte big-endian length-prefixed stream. */
export function splitProtobuf(input: Uint8Array): RawMessage[] {
  if (input.length === 0) return [];
  if (input[0]! >= 0x08)
    return [
      { index: 0, where: 'byte 0', decode: (origin) => decodeProtobufMessage(input, origin) },
    ];
  const view = new DataView(input.buffer, input.byteOffset, input.byteLength);
  const messages: RawMessage[] = [];
  let pos = 0;
  while (pos < input.length) {
    const index = messages.length;
    if (pos + 4 > input.length) {
      messages.push(
        failing(
          index,
          `byte ${pos}`,
          new DecodeError(`truncated length prefix: ${input.length - pos} of 4 bytes`),
        ),
      );
      break;
    }
    const length = view.getUint32(pos);
    if (pos + 4 + length > input.length) {
      messages.push(
        failing(
          index,
          `byte ${pos}`,
          new DecodeError(
            `frame of ${length} bytes runs past the end of the input (${input.length - pos - 4} bytes left)`,
          ),
        ),
      );
      break;
    }
    const frame = input.subarray(pos + 4, pos + 4 + length);
    messages.push({
      index,
      where: `byte ${pos}`,
      decode: (origin) => decodeProtobufMessage(frame, origin),
    });
    pos += 4 + length;
  }
  return messages;
}

/**
 * Decodes `input` and writes one ChangeEvent per line to stdout, one error line per bad
 * message to stderr. Returns the exit code: 0 if every message decoded, 1 otherwise.
 */
export function inspectBytes(
  input: Uint8Array,
  options: { format: InspectFormat; destination: string; source: string },
  io: CliIo,
): number {
  const format = options.format === 'auto' ? detectFormat(input) : options.format;
  const messages = format === 'flat' ? splitFlat(input) : splitProtobuf(input);
  let failed = 0;
  let out = '';
  for (const message of messages) {
    const origin: MessageOrigin = {
      destination: options.destination,
      source: options.source,
      partition: '0',
      offset: String(message.index),
    };
    try {
      for (const event of message.decode(origin)) out += JSON.stringify(event) + '\n';
    } catch (error) {
      if (!(error instanceof DecodeError)) throw error;
      failed += 1;
      io.stderr(`sluice inspect: message ${message.index} (${message.where}): ${error.message}\n`);
    }
    if (out.length > 1 << 16) {
      io.stdout(out);
      out = '';
    }
  }
  if (out !== '') io.stdout(out);
  if (failed > 0)
    io.stderr(
      `sluice inspect: ${failed} of ${messages.length} ${format} messages could not be decoded\n`,
    );
  return failed > 0 ? 1 : 0;
}

async function readStdin(): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin)
    chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks);
}

/** `sluice inspect`: decodes canal messages from a file or stdin and prints ChangeEvents. */
export async function inspectCommand(
  args: readonly string[],
  io: CliIo,
  readInput: (file: string) => Promise<Uint8Array> = (file) => readFile(file),
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
  let input: Uint8Array;
  try {
    input = file === '-' ? await readStdin() : await readInput(file);
  } catch (error) {
    io.stderr(`sluice inspect: cannot read ${file}: ${(error as Error).message}\n`);
    return 1;
  }
  return inspectBytes(
    input,
    { format, destination: values.destination, source: file === '-' ? 'stdin' : file },
    io,
  );
}
