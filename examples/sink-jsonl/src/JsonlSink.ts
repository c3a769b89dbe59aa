import { randomUUID } from 'node:crypto';
import { mkdir, open, readFile, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import {
  APPLIED,
  FatalError,
  NotConnectedError,
  PermanentEventError,
  RetryableError,
  SinkClosedError,
  failed,
  type ChangeEvent,
  type ColumnValue,
  type Logger,
  type RowImage,
  type SinkInstance,
  type SinkRecord,
  type WriteOutcome,
  type WriteResult,
} from '@sluice/plugin-api';
import type { JsonlMapping } from './mapping.js';

/** One stored row: its primary-key values and its columns. One JSON document per line. */
interface StoredRow {
  readonly key: readonly string[];
  readonly row: Readonly<Record<string, ColumnValue>>;
}

type Table = Map<string, StoredRow>;

/** The lock file that makes one sink instance the owner of the directory. */
export const LOCK_FILE = '.sluice-jsonl.lock';

/**
 * The file of a table without a mapping: `<database>.<table>.jsonl`, unsafe characters replaced
 * by `_`. (Records routed by a `jsonl/*.yml` mapping go to its `targetFile`.)
 */
export function tableFile(database: string, table: string): string {
  return `${database}.${table}`.replace(/[^A-Za-z0-9_.-]/g, '_') + '.jsonl';
}

/** The primary-key values of `image`; a row without a usable key can never be stored. */
function keyOf(pkNames: readonly string[], image: RowImage | undefined): string[] {
  if (pkNames.length === 0)
    throw new PermanentEventError(
      'The table has no primary key: the jsonl sink stores rows by key.',
    );
  return pkNames.map((name) => {
    const value = image?.[name];
    if (value === null || value === undefined)
      throw new PermanentEventError(`The primary-key column "${name}" is missing or NULL.`);
    return value;
  });
}

/**
 * Keeps one JSON-lines file per table in a directory, one line per row, with upsert/delete
 * semantics by primary key, so replays converge. Every `write` rewrites the files it touched
 * atomically (temporary file, fsync, rename) before it resolves: a write is durable when it
 * resolves, and `flush` has nothing left to do.
 *
 * The instance owns the directory through a lock file holding a session id: if the lock file
 * disappears or is taken over, `write` fails with `NotConnectedError` and the core calls `connect`,
 * which takes the lock again and reloads the files.
 */
export class JsonlSink implements SinkInstance<JsonlMapping> {
  readonly #dir: string;
  readonly #logger: Logger;
  #tables = new Map<string, Table>();
  #session: string | undefined;
  #closed = false;
  /** Writes run one after the other: `write` may be called concurrently, files must not be. */
  #queue: Promise<unknown> = Promise.resolve();

  constructor(dir: string, logger: Logger) {
    this.#dir = dir;
    this.#logger = logger;
  }

  async connect(): Promise<void> {
    if (this.#closed) throw new SinkClosedError();
    try {
      await mkdir(this.#dir, { recursive: true });
    } catch (error) {
      throw new FatalError(
        `The jsonl directory "${this.#dir}" cannot be created: ${(error as Error).message}`,
        { cause: error },
      );
    }
    const session = randomUUID();
    await this.#durableWrite(join(this.#dir, LOCK_FILE), session);
    this.#tables = await this.#load();
    this.#session = session;
    this.#logger.info('Connected.', { dir: this.#dir, tables: this.#tables.size });
  }

  write(batch: readonly SinkRecord<JsonlMapping>[]): Promise<WriteResult> {
    const run = this.#queue.then(() => this.#write(batch));
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async flush(): Promise<void> {
    if (this.#closed) throw new SinkClosedError();
    await this.#queue;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#queue;
    const lock = join(this.#dir, LOCK_FILE);
    if (this.#session && (await readFile(lock, 'utf8').catch(() => '')) === this.#session)
      await rm(lock, { force: true });
    this.#session = undefined;
  }

  async healthcheck(): Promise<void> {
    await stat(this.#dir);
  }

  async #write(batch: readonly SinkRecord<JsonlMapping>[]): Promise<WriteResult> {
    if (this.#closed) throw new SinkClosedError();
    const lock = await readFile(join(this.#dir, LOCK_FILE), 'utf8').catch(() => undefined);
    if (this.#session === undefined || lock !== this.#session) {
      this.#session = undefined;
      throw new NotConnectedError(`The jsonl sink lost its lock on "${this.#dir}".`);
    }
    // Apply to copies of the touched tables; they replace the originals only once on disk.
    const touched = new Map<string, Table>();
    const tableFor = ({ event, mapping }: SinkRecord<JsonlMapping>): Table => {
      // The mapping file that routed the record names the target file.
      const file = mapping?.config.targetFile ?? tableFile(event.database, event.table);
      let table = touched.get(file);
      if (!table) touched.set(file, (table = new Map(this.#tables.get(file))));
      return table;
    };
    const outcomes = batch.map((record): WriteOutcome => {
      try {
        this.#apply(tableFor(record), record.event);
        return APPLIED;
      } catch (error) {
        if (error instanceof PermanentEventError) return failed(error);
        throw error;
      }
    });
    try {
      for (const [file, table] of touched) {
        const lines = [...table.values()].map((r) => JSON.stringify(r) + '\n').join('');
        await this.#durableWrite(join(this.#dir, file), lines);
      }
    } catch (error) {
      throw new RetryableError(
        `The jsonl sink could not write "${this.#dir}": ${(error as Error).message}`,
        { cause: error },
      );
    }
    for (const [file, table] of touched) this.#tables.set(file, table);
    return outcomes;
  }

  #apply(table: Table, event: ChangeEvent): void {
    if (event.kind === 'ddl') {
      if (event.type === 'TRUNCATE') table.clear();
      return;
    }
    if (event.type === 'DELETE') {
      table.delete(JSON.stringify(keyOf(event.pkNames, event.before)));
      return;
    }
    const key = keyOf(event.pkNames, event.after);
    if (event.type === 'UPDATE' && event.before) {
      // A primary-key change: the row leaves its old key.
      const old = JSON.stringify(keyOf(event.pkNames, event.before));
      if (old !== JSON.stringify(key)) table.delete(old);
    }
    table.set(JSON.stringify(key), { key, row: { ...event.after } });
  }

  async #load(): Promise<Map<string, Table>> {
    const tables = new Map<string, Table>();
    for (const file of (await readdir(this.#dir)).filter((f) => f.endsWith('.jsonl'))) {
      const table: Table = new Map();
      const text = await readFile(join(this.#dir, file), 'utf8');
      for (const [i, line] of text.split('\n').entries()) {
        if (line.trim() === '') continue;
        try {
          const stored = JSON.parse(line) as StoredRow;
          table.set(JSON.stringify(stored.key), stored);
        } catch (error) {
          throw new FatalError(
            `Line ${i + 1} of "${join(this.#dir, file)}" is not a stored row: ${(error as Error).message}`,
          );
        }
      }
      tables.set(file, table);
    }
    return tables;
  }

  async #durableWrite(path: string, content: string): Promise<void> {
    const tmp = `${path}.${process.pid}.tmp`;
    const handle = await open(tmp, 'w');
    try {
      await handle.writeFile(content);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, path);
  }
}
