import { mkdir, open, readdir, rename, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { DeadLetterBatch, DeadLetterQueue, DeadLetterReader } from './queue.js';
import { parseDeadLetters, type DeadLetterRecord } from './record.js';

/** The JSONL file name of a destination: unsafe characters become `_` (`a/b` → `a_b.jsonl`). */
export function deadLetterFileName(destination: string): string {
  return `${destination.replace(/[^A-Za-z0-9._-]/g, '_') || 'default'}.jsonl`;
}

async function fsyncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r').catch(() => undefined);
  if (!handle) return; // not supported everywhere (Windows)
  try {
    await handle.sync().catch(() => undefined);
  } finally {
    await handle.close();
  }
}

/**
 * The `file` dead-letter queue (`sluice.deadLetter.type: file`): one JSONL file per destination,
 * `<dir>/<destination>.jsonl` ({@link deadLetterFileName}). Each `write` appends one line with a
 * single write call, fsyncs it and closes the file, so a record is durable once `write` resolves
 * and several processes (a running `sluice start`, `sluice dlq replay`) may append to one file.
 */
export class FileDeadLetterQueue implements DeadLetterQueue {
  readonly location: string;
  readonly #dir: string;

  /** @param dir absolute directory (created on the first write). */
  constructor(dir: string) {
    this.#dir = dir;
    this.location = dir;
  }

  /** The file of a destination. */
  fileFor(destination: string): string {
    return join(this.#dir, deadLetterFileName(destination));
  }

  async write(record: DeadLetterRecord, _signal?: AbortSignal): Promise<void> {
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

  async close(_signal?: AbortSignal): Promise<void> {}
}

/** The `*.jsonl` files of a dead-letter directory, sorted; `[]` when it does not exist. */
export async function deadLetterFiles(dir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  return names
    .filter((f) => f.endsWith('.jsonl'))
    .sort()
    .map((f) => join(dir, f));
}

/** What a dead-letter file held when read. */
export interface DeadLetterFileRead {
  readonly file: string;
  readonly records: DeadLetterRecord[];
  /** Bytes read: the records are the complete lines of the first `length` bytes. */
  readonly length: number;
}

/** Reads the complete lines of a dead-letter file (a torn last line is left for later). */
export async function readDeadLetterFile(file: string): Promise<DeadLetterFileRead> {
  const handle = await open(file, 'r');
  try {
    const bytes = await handle.readFile();
    const end = bytes.lastIndexOf(0x0a) + 1;
    return {
      file,
      records: parseDeadLetters(bytes.subarray(0, end).toString('utf8'), file),
      length: end,
    };
  } finally {
    await handle.close();
  }
}

async function readFrom(handle: FileHandle, from: number): Promise<Buffer> {
  const { size } = await handle.stat();
  if (size <= from) return Buffer.alloc(0);
  const buffer = Buffer.alloc(size - from);
  const { bytesRead } = await handle.read(buffer, 0, buffer.length, from);
  return buffer.subarray(0, bytesRead);
}

/** What {@link rewriteDeadLetterFile} did. */
export interface RewriteResult {
  /** Records of the rewritten prefix that were removed. */
  readonly removed: number;
  /** Records of the rewritten prefix that were kept. */
  readonly kept: number;
}

/**
 * Removes records from the first `prefix` bytes of a dead-letter file (those `keep` rejects),
 * keeping everything appended after them, atomically: the new content goes to a temporary file
 * in the same directory, is fsynced and renamed over the file (then the directory is fsynced), so
 * a crash leaves either the old or the new file, never a torn one. Lines a concurrent writer
 * appends to the old file while it is rewritten are carried over to the new one. A file left
 * without any line stays (empty), so `sluice dlq replay` can tell "no dead letters" from "no dead
 * letters were ever written here".
 *
 * @param prefix bytes to filter (default: the whole file); the rest is kept as is.
 * @throws Error when the file shrank below `prefix` (someone else rewrote it meanwhile), or on
 *   I/O errors (the file is then unchanged).
 */
export async function rewriteDeadLetterFile(
  file: string,
  keep: (record: DeadLetterRecord, index: number) => boolean,
  prefix?: number,
): Promise<RewriteResult> {
  const old = await open(file, 'r');
  try {
    const bytes = await old.readFile();
    const cut = prefix ?? bytes.lastIndexOf(0x0a) + 1;
    if (bytes.length < cut)
      throw new Error(`${file} changed while it was being read (it is shorter than before).`);
    const records = parseDeadLetters(bytes.subarray(0, cut).toString('utf8'), file);
    const kept = records.filter(keep);
    const head = kept.map((r) => JSON.stringify(r) + '\n').join('');
    const tail = bytes.subarray(cut);
    const tmp = join(dirname(file), `.${basename(file)}.${process.pid}.${Date.now()}.tmp`);
    const out = await open(tmp, 'wx');
    try {
      await out.write(head);
      if (tail.length > 0) await out.write(tail);
      await out.sync();
    } catch (error) {
      await out.close();
      await unlink(tmp).catch(() => undefined);
      throw error;
    }
    await out.close();
    await rename(tmp, file);
    await fsyncDir(dirname(file));
    // A writer that opened the old file before the rename appends to the old inode.
    const late = await readFrom(old, bytes.length);
    if (late.length > 0) {
      const live = await open(file, 'a');
      try {
        await live.write(late);
        await live.sync();
      } finally {
        await live.close();
      }
    }
    return { removed: records.length - kept.length, kept: kept.length };
  } finally {
    await old.close();
  }
}

/**
 * Reads `file` dead-letter queue files back (`sluice dlq replay|list|show|drop`). `read` takes
 * every complete line of the files; the batch's `commit` removes exactly those lines from their
 * files ({@link rewriteDeadLetterFile}), keeping what was appended since (records that failed
 * again during a replay, new dead letters of a running pipeline). No copy is left behind.
 */
export class FileDeadLetterReader implements DeadLetterReader {
  readonly location: string;
  readonly #files: () => Promise<string[]>;

  /**
   * @param location shown to the user (the directory or the file).
   * @param files the files to read, listed when `read` is called.
   */
  constructor(location: string, files: () => Promise<string[]>) {
    this.location = location;
    this.#files = files;
  }

  /** The files `read` would read now. */
  files(): Promise<string[]> {
    return this.#files();
  }

  /** Reads every complete line of the files (a missing file holds none). */
  async read(_signal?: AbortSignal): Promise<DeadLetterBatch & { files: DeadLetterFileRead[] }> {
    const reads: DeadLetterFileRead[] = [];
    for (const file of await this.#files()) {
      try {
        reads.push(await readDeadLetterFile(file));
      } catch (error) {
        // No file: nothing was dead-lettered there (the caller says where it looked).
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      }
    }
    return {
      files: reads,
      records: reads.flatMap((r) => r.records),
      commit: async () => {
        for (const r of reads)
          if (r.length > 0) await rewriteDeadLetterFile(r.file, () => false, r.length);
      },
    };
  }

  async close(_signal?: AbortSignal): Promise<void> {}
}
