import { createReadStream } from 'node:fs';
import { mkdir, readFile, readdir, rename, stat, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import {
  defineSource,
  type SourceHandler,
  type SourceInstance,
  type SourceMessage,
  type SourceRunOptions,
} from '@sluice/plugin-api';

/** consumerProperties this source reads. */
export interface FileSourceOptions {
  /** A `.jsonl` file, or a directory whose `*.jsonl` files are read in name order. */
  readonly path: string;
  /** Where committed line numbers are kept between runs; none by default (every run starts at line 1). */
  readonly offsetStore: string | undefined;
  /** How often to look for appended lines when following, ms. */
  readonly pollMs: number;
  /** Lines per delivered batch. */
  readonly batchSize: number;
}

/** Reads `consumerProperties` (`file.path`, `file.offsetStore`, `file.pollMs`, `file.batchSize`). */
export function fileSourceOptions(
  properties: Readonly<Record<string, string>>,
  configDir: string,
): FileSourceOptions {
  const abs = (p: string) => (isAbsolute(p) ? p : resolve(configDir, p));
  const path = properties['file.path'] || 'samples';
  const store = properties['file.offsetStore'];
  return {
    path: abs(path),
    offsetStore: store ? abs(store) : undefined,
    pollMs: Number(properties['file.pollMs'] || 250),
    batchSize: Number(properties['file.batchSize'] || 500),
  };
}

async function listFiles(path: string): Promise<string[]> {
  const info = await stat(path);
  if (!info.isDirectory()) return [path];
  const names = (await readdir(path)).filter((n) => n.endsWith('.jsonl')).sort();
  return names.map((n) => join(path, n));
}

/**
 * Reads complete lines of `file` starting after byte `from`. A trailing line without its newline
 * is left for the next read (it may still be being written) unless `final` (`--once`: the file is
 * complete, and its last line simply lacks the newline).
 */
async function readNewLines(
  file: string,
  from: number,
  final: boolean,
): Promise<{ lines: string[]; next: number }> {
  const size = (await stat(file)).size;
  if (size < from) {
    // Truncated or replaced: which of its lines were applied cannot be told any more.
    throw new Error(
      `The file "${file}" shrank from ${from} to ${size} bytes while being read (truncated or replaced); its line numbers no longer match what was delivered and committed. Append to the file instead, or reset the offset store.`,
    );
  }
  if (size === from) return { lines: [], next: from };
  const chunks: Buffer[] = [];
  for await (const chunk of createReadStream(file, { start: from, end: size - 1 }))
    chunks.push(chunk as Buffer);
  const buffer = Buffer.concat(chunks);
  const endsWithNewline = buffer[buffer.length - 1] === 0x0a;
  const lastNewline = final && !endsWithNewline ? buffer.length : buffer.lastIndexOf(0x0a);
  if (lastNewline < 0) return { lines: [], next: from };
  const complete = buffer.subarray(0, lastNewline).toString('utf8');
  return {
    lines: complete.split('\n').map((l) => l.replace(/\r$/, '')),
    next: from + lastNewline + 1,
  };
}

/**
 * Waits `ms`, or less when `signal` aborts. Resolves either way and leaves no listener on the
 * signal behind: the follow loop calls it on every idle poll (every `file.pollMs`, for as long as
 * the process runs), so a listener left per call would pile up on the one run signal
 * (MaxListenersExceededWarning, and memory growing with every poll).
 */
function idle(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise<void>((res) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      res();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

/** One partition per file; the offset of a message is its 1-based line number. */
class FileSource implements SourceInstance {
  readonly #o: FileSourceOptions;
  readonly #label: (file: string) => string;
  #committed = new Map<string, string>();
  #storeWrites: Promise<void> = Promise.resolve();

  constructor(options: FileSourceOptions, configDir: string) {
    this.#o = options;
    this.#label = (file) => relative(configDir, file) || file;
  }

  locate(partition: string, offset: string): string {
    return `line ${offset} of ${partition}`;
  }

  async connect(): Promise<void> {
    await stat(this.#o.path).catch((error: Error) => {
      throw new Error(`The file source path "${this.#o.path}" cannot be read: ${error.message}`);
    });
    if (this.#o.offsetStore) {
      const text = await readFile(this.#o.offsetStore, 'utf8').catch(() => '{}');
      this.#committed = new Map(Object.entries(JSON.parse(text) as Record<string, string>));
    }
  }

  async run(handler: SourceHandler, options: SourceRunOptions): Promise<void> {
    const files = await listFiles(this.#o.path);
    const cursors = new Map(files.map((f) => [f, { byte: 0, line: 0 }]));
    await handler.assigned?.(files.map(this.#label));
    for (;;) {
      let delivered = false;
      for (const file of files) {
        if (options.signal.aborted) return;
        const partition = this.#label(file);
        const cursor = cursors.get(file)!;
        const { lines, next } = await readNewLines(file, cursor.byte, options.once);
        cursor.byte = next;
        const skipBelow = Number(this.#committed.get(partition) ?? '1');
        let messages: SourceMessage[] = [];
        for (const line of lines) {
          cursor.line += 1;
          if (cursor.line < skipBelow || line.trim() === '') continue;
          messages.push({ offset: String(cursor.line), payload: line });
          if (messages.length >= this.#o.batchSize) {
            await handler.deliver({ partition, messages });
            messages = [];
          }
        }
        if (messages.length > 0) await handler.deliver({ partition, messages });
        if (cursor.line < skipBelow - 1) {
          // Lines up to skipBelow - 1 were committed, so the file had them: it was replaced.
          throw new Error(
            `The file "${file}" has fewer lines (${cursor.line}) than the offset store committed (${skipBelow - 1}): it was truncated or replaced, and reading on would silently skip new lines. Reset its entry in ${this.#o.offsetStore ?? 'the offset store'} to replay it from the start.`,
          );
        }
        delivered ||= lines.length > 0;
      }
      if (options.once) return;
      if (!delivered) await idle(this.#o.pollMs, options.signal);
      if (options.signal.aborted) return;
    }
  }

  /**
   * Records that the partition's lines before `nextOffset` were applied. With an offset store,
   * writes are serialised and atomic (a temporary file renamed over the store), so a crash or
   * two partitions committing at once never leave a torn file.
   */
  commit(partition: string, nextOffset: string): Promise<void> {
    this.#committed.set(partition, nextOffset);
    const store = this.#o.offsetStore;
    if (!store) return Promise.resolve();
    const write = async () => {
      const text = JSON.stringify(Object.fromEntries(this.#committed), null, 2);
      await mkdir(dirname(store), { recursive: true });
      const temporary = `${store}.${process.pid}.tmp`;
      await writeFile(temporary, text);
      await rename(temporary, store);
    };
    const done = this.#storeWrites.then(write);
    this.#storeWrites = done.catch(() => undefined);
    return done;
  }

  async close(): Promise<void> {}
}

/**
 * `canal.conf.mode: file`: canal FlatMessages, one JSON document per line, from files. Used by the
 * embedded default configuration, for replays and for tests. Follows appended lines unless
 * started with `--once`.
 */
export const fileSource = defineSource({
  name: 'file',
  description: 'Reads canal FlatMessages (JSON lines) from files and follows appended lines.',
  propertiesSchema: {
    type: 'object',
    properties: {
      'file.path': {
        type: 'string',
        path: 'existing',
        description: 'A .jsonl file or a directory of them, relative to the config directory.',
        default: 'samples',
      },
      'file.offsetStore': {
        type: 'string',
        path: 'created',
        description: 'JSON file keeping committed line numbers between runs.',
      },
      'file.pollMs': { type: 'integer', minimum: 10, default: 250 },
      'file.batchSize': { type: 'integer', minimum: 1, default: 500 },
    },
  },
  create: (ctx) => new FileSource(fileSourceOptions(ctx.properties, ctx.configDir), ctx.configDir),
});
