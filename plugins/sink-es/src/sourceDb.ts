import mysql from 'mysql2/promise';
import {
  FatalError,
  NotConnectedError,
  RetryableError,
  type DataSourceOptions,
} from '@sluice/plugin-api';
import type { EsJson } from './esValue.js';

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const BINARY_CHARSET = 63;
const NETWORK = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENOTFOUND',
  'PROTOCOL_CONNECTION_LOST',
  'PROTOCOL_SEQUENCE_TIMEOUT',
  'ER_CON_COUNT_ERROR',
  'ER_LOCK_DEADLOCK',
  'ER_LOCK_WAIT_TIMEOUT',
]);

/** A result value as the document gets it (same forms as `toEsValue` gives for event values). */
function cast(field: mysql.TypeCastField, next: () => unknown): EsJson {
  const text = (): string | null => field.string();
  switch (field.type) {
    case 'TINY':
    case 'SHORT':
    case 'LONG':
    case 'INT24':
    case 'YEAR':
    case 'LONGLONG':
    case 'BIT': {
      if (field.type === 'BIT') {
        const b = field.buffer();
        if (b === null) return null;
        let v = 0n;
        for (const x of b) v = (v << 8n) | BigInt(x);
        return v <= MAX_SAFE ? Number(v) : v.toString();
      }
      const t = text();
      if (t === null) return null;
      const v = BigInt(t);
      return v <= MAX_SAFE && v >= -MAX_SAFE ? Number(v) : t;
    }
    case 'FLOAT':
    case 'DOUBLE': {
      const t = text();
      return t === null ? null : Number(t);
    }
    case 'DATE': {
      const t = text();
      return t === null || t.startsWith('0000') || /-00/.test(t) ? null : t;
    }
    case 'DATETIME':
    case 'TIMESTAMP': {
      const t = text();
      return t === null || t.startsWith('0000') || /^\d{4}-00|^\d{4}-\d\d-00/.test(t)
        ? null
        : t.replace(' ', 'T');
    }
    case 'NULL':
      return next() as null;
    default: {
      const charset = (field as unknown as { characterSet?: number }).characterSet;
      if (charset === BINARY_CHARSET && field.type !== 'NEWDECIMAL' && field.type !== 'JSON') {
        const b = field.buffer();
        return b === null ? null : b.toString('base64');
      }
      return text();
    }
  }
}

/**
 * The source database of join mappings (`srcDataSources.<dataSourceKey>`, MySQL/MariaDB): a
 * mysql2 pool of `maxActive` connections, opened at the first query. Every query is
 * parameterised. Values come back in the document's forms: integers as numbers (exact decimal
 * text beyond 2^53), DECIMAL as text, DATETIME/TIMESTAMP as `yyyy-MM-ddTHH:mm:ss[.f]`, zero dates
 * as null, binary as base64, the rest as text. Safe to use concurrently.
 */
export class SourceDb {
  readonly #options: DataSourceOptions;
  readonly #where: string;
  #pool: mysql.Pool | undefined;

  constructor(options: DataSourceOptions, where: string) {
    this.#options = options;
    this.#where = `${where}: srcDataSources.${options.key}`;
  }

  /**
   * Runs `sql` with `params` and returns the rows as arrays in select order.
   *
   * @throws RetryableError/NotConnectedError when the source is unreachable or busy (deadlock,
   *   lock wait); FatalError for an SQL error (the mapping SQL does not run on the source).
   */
  async rows(sql: string, params: readonly unknown[]): Promise<EsJson[][]> {
    if (this.#options.kind === 'postgresql')
      throw new FatalError(
        `${this.#where} is PostgreSQL; join mappings read MySQL/MariaDB sources`,
      );
    this.#pool ??= mysql.createPool({
      host: this.#options.host,
      port: this.#options.port,
      user: this.#options.user,
      password: this.#options.password,
      database: this.#options.database || undefined,
      connectionLimit: Math.max(1, this.#options.maxActive),
      charset: 'utf8mb4_general_ci',
      supportBigNumbers: true,
      bigNumberStrings: true,
      dateStrings: true,
      typeCast: cast,
    });
    try {
      const [rows] = await this.#pool.query({ sql, rowsAsArray: true, values: [...params] });
      return rows as EsJson[][];
    } catch (e) {
      const err = e as { code?: string; fatal?: boolean; message: string };
      const message = `${this.#where}: ${err.message}`;
      if (err.code !== undefined && NETWORK.has(err.code))
        throw err.code.startsWith('ER_LOCK')
          ? new RetryableError(message, { cause: e })
          : new NotConnectedError(message, { cause: e });
      if (err.fatal) throw new NotConnectedError(message, { cause: e });
      throw new FatalError(`${message} (query: ${sql})`, { cause: e });
    }
  }

  async close(): Promise<void> {
    const pool = this.#pool;
    this.#pool = undefined;
    await pool?.end().catch(() => undefined);
  }
}
