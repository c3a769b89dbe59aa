import { createRequire } from 'node:module';
import { Writable } from 'node:stream';
import { pino, stdTimeFunctions, type DestinationStream } from 'pino';
import type PinoPretty from 'pino-pretty';
import { printable } from '@sluice/canal-protocol';
import type { Logger } from '@sluice/plugin-api';
import { redact } from './redact.js';

/** Log levels, lowest first. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** `json`: one JSON object per line; `pretty`: one readable line; `auto`: pretty on a terminal. */
export type LogFormat = 'json' | 'pretty' | 'auto';

/** Options of {@link createLogger}. */
export interface LoggerOptions {
  /** The lowest level written; default `SLUICE_LOG_LEVEL` or `info`. */
  readonly level?: LogLevel;
  /** Default `SLUICE_LOG_FORMAT` or `auto` (pretty when the destination is a terminal). */
  readonly format?: LogFormat;
  /** Where lines go (one call per line, without its newline); default stderr. */
  readonly write?: (line: string) => void;
  /**
   * Whether the destination is a terminal (readable, coloured lines under `auto`). Default:
   * stderr's `isTTY` when `write` is not given, false when it is (a caller that writes to
   * stderr itself, as the CLI does, passes stderr's).
   */
  readonly terminal?: boolean;
  /** Fields on every line. */
  readonly fields?: Record<string, unknown>;
}

const LEVELS = new Set<LogLevel>(['debug', 'info', 'warn', 'error']);

function envLevel(): LogLevel | undefined {
  const v = process.env['SLUICE_LOG_LEVEL']?.toLowerCase();
  return v && LEVELS.has(v as LogLevel) ? (v as LogLevel) : undefined;
}

function envFormat(): LogFormat | undefined {
  const v = process.env['SLUICE_LOG_FORMAT']?.toLowerCase();
  return v === 'json' || v === 'pretty' || v === 'auto' ? v : undefined;
}

/**
 * pino-pretty, loaded on first use: only a terminal needs it, and a process without one keeps its
 * ~1 MB of heap (a larger heap slows JSON.parse: BENCHMARKS.md, issue 11, session 17).
 */
function prettyStream(): typeof PinoPretty {
  return createRequire(import.meta.url)('pino-pretty') as typeof PinoPretty;
}

/**
 * The core's {@link Logger}, on pino: JSON lines (`{"level":"warn","time":"…","msg":"…",…}`)
 * for log collectors, or one readable line per entry on a terminal (pino-pretty, in-process and
 * synchronous so nothing is lost at exit). Fields are redacted in one place ({@link redact}):
 * secret-looking keys never reach a line, whatever plugin logged them. Synchronous, never
 * throws; `child` shares the destination.
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? envLevel() ?? 'info';
  const write = options.write ?? ((line: string) => void process.stderr.write(line + '\n'));
  const format = options.format ?? envFormat() ?? 'auto';
  const terminal = options.terminal ?? (!options.write && process.stderr.isTTY === true);
  const pretty = format === 'pretty' || (format === 'auto' && terminal);
  const sink: DestinationStream = { write: (chunk: string) => write(chunk.replace(/\n$/, '')) };
  // pino-pretty writes to a stream; this one hands each line on synchronously.
  const prettySink = new Writable({
    write(chunk: Buffer | string, _encoding, done) {
      for (const line of chunk.toString().split('\n')) if (line !== '') write(line);
      done();
    },
  });
  const destination = pretty
    ? prettyStream()({
        destination: prettySink,
        sync: true,
        colorize: terminal,
        translateTime: 'SYS:HH:MM:ss.l',
        ignore: 'pid,hostname',
        singleLine: true,
      })
    : sink;
  const root = pino(
    {
      level,
      base: undefined,
      timestamp: stdTimeFunctions.isoTime,
      formatters: {
        level: (label) => ({ level: label }),
        log: (object) => redact(object) as Record<string, unknown>,
      },
    },
    destination,
  );
  return wrap(
    options.fields ? root.child(redact(options.fields) as Record<string, unknown>) : root,
  );
}

function wrap(p: pino.Logger): Logger {
  const emit =
    (level: LogLevel) =>
    (message: string, fields?: Record<string, unknown>): void => {
      // One entry, one line, also in pretty mode: a message can quote a payload (line breaks).
      const text = printable(message, 8000);
      try {
        if (fields) p[level](fields, text);
        else p[level](text);
      } catch {
        // A logger never throws (a broken destination must not stop the pipeline).
      }
    };
  return {
    debug: emit('debug'),
    info: emit('info'),
    warn: emit('warn'),
    error: emit('error'),
    child: (fields) => {
      // A binding the parent already has with the same value is not repeated (a plugin's
      // `child({ groupId })` under the group logger would print the key twice).
      const bound = p.bindings();
      const added = Object.fromEntries(
        Object.entries(redact(fields) as Record<string, unknown>).filter(
          ([k, v]) => !(k in bound) || bound[k] !== v,
        ),
      );
      return wrap(Object.keys(added).length > 0 ? p.child(added) : p);
    },
  };
}
