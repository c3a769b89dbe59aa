import {
  decodeCanalMessages,
  decodeFlatMessage,
  encodeEntry,
  flatMessageToEntry,
} from '@sluice/canal-protocol';
import type {
  Logger,
  SourceBatch,
  SourceHandler,
  SourceInstance,
  SourceRunOptions,
} from '@sluice/plugin-api';
import { tcpSource } from '../src/index.js';

/** Log lines captured by {@link recordingLogger}. */
export interface LogLine {
  level: 'debug' | 'info' | 'warn' | 'error';
  message: string;
  fields: Record<string, unknown> | undefined;
  /** The fields of the call itself, without the child loggers' (a key in both is printed twice). */
  own: Record<string, unknown> | undefined;
}

/** A logger that keeps every line (and prints them when SLUICE_TEST_VERBOSE is set). */
export function recordingLogger(lines: LogLine[] = []): Logger & { lines: LogLine[] } {
  const make = (base: Record<string, unknown>): Logger => {
    const at = (level: LogLine['level']) => (message: string, fields?: Record<string, unknown>) => {
      lines.push({ level, message, fields: { ...base, ...fields }, own: fields });
      if (process.env.SLUICE_TEST_VERBOSE)
        console.error(level, message, JSON.stringify({ ...base, ...fields }));
    };
    return {
      debug: at('debug'),
      info: at('info'),
      warn: at('warn'),
      error: at('error'),
      child: (f) => make({ ...base, ...f }),
    };
  };
  return Object.assign(make({}), { lines });
}

export function createSource(options: {
  destination: string;
  properties: Record<string, string>;
  logger?: Logger;
}): SourceInstance {
  return tcpSource.create({
    instance: options.destination,
    groupId: 'g1',
    properties: options.properties,
    configDir: process.cwd(),
    deps: { logger: options.logger ?? recordingLogger() },
  });
}

/** A FlatMessage JSON text as the serialized canal `Entry` canal-server would store. */
export function entryOf(flatMessageJson: string): Uint8Array {
  return encodeEntry(flatMessageToEntry(decodeFlatMessage(flatMessageJson)));
}

/**
 * Wraps a tcp source so that each delivered canal batch of one entry is handed on as the
 * FlatMessage text it was made from (looked up by entry bytes), for the source contract suite,
 * which identifies messages by their text. Offsets and commits pass through unchanged.
 */
export function asFlatText(source: SourceInstance, texts: Map<string, string>): SourceInstance {
  const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
  return {
    connect: (signal) => source.connect(signal),
    commit: (p, o) => source.commit(p, o),
    close: (signal) => source.close(signal),
    run: (handler: SourceHandler, options: SourceRunOptions) =>
      source.run(
        {
          ...(handler.assigned ? { assigned: (p) => handler.assigned!(p) } : {}),
          ...(handler.revoked ? { revoked: (p) => handler.revoked!(p) } : {}),
          deliver: (batch: SourceBatch) =>
            handler.deliver({
              partition: batch.partition,
              messages: batch.messages.map((m) => {
                const packet = m.payload as Uint8Array;
                const { entries } = decodeCanalMessages(packet);
                if (entries.length !== 1)
                  throw new Error(`expected 1 entry, got ${entries.length}`);
                const bytes = encodeEntry(entries[0]!);
                return { ...m, payload: texts.get(hex(bytes)) ?? `unknown entry ${hex(bytes)}` };
              }),
            }),
        },
        options,
      ),
  };
}
