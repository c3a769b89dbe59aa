/**
 * Support for the pipeline engine's tests: a quiet logger, a FlatMessage builder, and the
 * testkit's doubles (in-memory source, recording sink, in-memory dead-letter queue).
 */
import type { Logger } from '@sluice/plugin-api';
import { MemorySource as TestkitMemorySource } from '../../../testkit/src/index.js';

/** A logger that drops everything (or collects lines when `lines` is given). */
export function quietLogger(lines?: string[]): Logger {
  const log = (level: string) => (message: string, fields?: Record<string, unknown>) => {
    lines?.push(`${level} ${message} ${fields ? JSON.stringify(fields) : ''}`);
  };
  const logger: Logger = {
    debug: log('debug'),
    info: log('info'),
    warn: log('warn'),
    error: log('error'),
    child: () => logger,
  };
  return logger;
}

/** One row of a test message. */
export interface Row {
  readonly [column: string]: string | null;
}

/** Builds a canal FlatMessage JSON text. */
export function flat(options: {
  type: 'INSERT' | 'UPDATE' | 'DELETE' | 'ALTER' | 'QUERY';
  database?: string;
  table?: string;
  data?: Row[];
  old?: Row[];
  pkNames?: string[];
  es?: number;
  sql?: string;
}): string {
  const isDdl = !['INSERT', 'UPDATE', 'DELETE'].includes(options.type);
  return JSON.stringify({
    data: options.data ?? null,
    database: options.database ?? 'db',
    es: options.es ?? 1_700_000_000_000,
    id: 1,
    isDdl,
    mysqlType: isDdl ? null : { id: 'int(11)', v: 'varchar(20)' },
    old: options.old ?? null,
    pkNames: isDdl ? null : (options.pkNames ?? ['id']),
    sql: options.sql ?? '',
    sqlType: isDdl ? null : { id: 4, v: 12 },
    table: options.table ?? 't',
    ts: (options.es ?? 1_700_000_000_000) + 5,
    type: options.type,
  });
}

/**
 * The test doubles are the testkit's, shared with plugin authors (one set, no private copies):
 * imported by path because the testkit's `runtime` entry point depends on the core.
 */
export {
  MemoryDeadLetters,
  RecordingSink,
  sequentialState,
  type WriteScript,
} from '../../../testkit/src/index.js';

/**
 * The testkit's {@link TestkitMemorySource} with the defaults these tests were written for:
 * offsets from 0 and batches of 10.
 */
export class MemorySource extends TestkitMemorySource {
  constructor(
    partitions: Record<string, string[]>,
    options: { batchSize?: number; firstOffset?: bigint } = {},
  ) {
    super(partitions, {
      batchSize: options.batchSize ?? 10,
      firstOffset: options.firstOffset ?? 0n,
    });
  }
}

/** A promise with its resolve function exposed. */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}
