import { open, stat } from 'node:fs/promises';

interface Seen {
  /** Inode and birth time: a rewrite (`rename`) makes a new file; inode numbers get reused. */
  ino: number;
  born: number;
  size: number;
  /** Complete records (newline-terminated lines) in the first `size` bytes. */
  records: number;
}

const countNewlines = (bytes: Buffer): number => {
  let n = 0;
  for (let i = bytes.indexOf(0x0a); i !== -1; i = bytes.indexOf(0x0a, i + 1)) n++;
  return n;
};

/**
 * How many records wait in each file of a `file` dead-letter queue (one JSONL line each),
 * kept up to date without reading whole files again: {@link refresh} stats each file and reads
 * only the bytes appended since the last refresh (new dead letters, from this process or
 * another). When a file was replaced or shrank (`sluice dlq replay|drop` rewrite it atomically,
 * a new inode) it is counted again from the start. A missing file holds 0.
 *
 * Cost per refresh: one `stat` per file, plus reading what was appended (or the whole file after
 * a rewrite). Concurrency: refreshes are serialised; a refresh during one joins it.
 */
export class FileDeadLetterDepth {
  readonly #files: ReadonlyMap<string, string>;
  readonly #seen = new Map<string, Seen>();
  #running: Promise<ReadonlyMap<string, number>> | undefined;

  /** @param files destination → its dead-letter file (absolute path). */
  constructor(files: ReadonlyMap<string, string>) {
    this.#files = files;
  }

  /** The depth last counted per destination (0 before the first refresh). No I/O. */
  current(): ReadonlyMap<string, number> {
    return new Map([...this.#files.keys()].map((d) => [d, this.#seen.get(d)?.records ?? 0]));
  }

  /** Counts again (incrementally); resolves with every destination's depth. Never rejects. */
  refresh(): Promise<ReadonlyMap<string, number>> {
    this.#running ??= this.#refresh().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  async #refresh(): Promise<ReadonlyMap<string, number>> {
    for (const [destination, file] of this.#files) {
      try {
        this.#seen.set(destination, await this.#count(file, this.#seen.get(destination)));
      } catch (error) {
        // Unreadable for now (permissions, a rename in progress): keep the last count.
        if ((error as NodeJS.ErrnoException).code === 'ENOENT')
          this.#seen.set(destination, { ino: -1, born: 0, size: 0, records: 0 });
      }
    }
    return this.current();
  }

  async #count(file: string, seen: Seen | undefined): Promise<Seen> {
    const st = await stat(file);
    const same = seen !== undefined && seen.ino === st.ino && seen.born === st.birthtimeMs;
    if (same && seen.size === st.size) return seen;
    const from = same && st.size > seen.size ? seen.size : 0;
    const handle = await open(file, 'r');
    try {
      const length = st.size - from;
      const buffer = Buffer.alloc(length);
      const { bytesRead } = await handle.read(buffer, 0, length, from);
      const bytes = buffer.subarray(0, bytesRead);
      // Only complete lines count; a torn tail is counted once its newline arrives.
      const end = bytes.lastIndexOf(0x0a) + 1;
      return {
        ino: st.ino,
        born: st.birthtimeMs,
        size: from + end,
        records: (from > 0 ? seen!.records : 0) + countNewlines(bytes.subarray(0, end)),
      };
    } finally {
      await handle.close();
    }
  }
}
