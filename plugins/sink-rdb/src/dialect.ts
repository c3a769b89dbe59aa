/**
 * The two target dialects: MySQL/MariaDB (mysql2) and PostgreSQL (pg). Each opens a pool, sets up
 * its sessions and runs the statements; what they send and how their errors are read is built
 * without a connection in statementSql.ts (statement text, quoting), errorClass.ts (error
 * classes), catalog.ts (catalog queries, type families) and connectionSettings.ts (pool options,
 * session setup). This module's own part is covered by the integration tests against the
 * testbed's MariaDB and PostgreSQL (plugins/sink-rdb/test).
 */
import mysql from 'mysql2/promise';
import pg from 'pg';
import { loadMysqlTable, loadPgTable, mysqlDefaultSchema, pgDefaultSchema } from './catalog.js';
import {
  mysqlPoolOptions,
  mysqlSessionSetup,
  pgPoolOptions,
  pgSessionSetup,
  type TargetOptions,
} from './connectionSettings.js';
import { classifyMysql, classifyPg, type ErrorClass } from './errorClass.js';
import {
  mysqlDelete,
  mysqlUpsert,
  pgDelete,
  pgUpsert,
  quoteMysql,
  quotePg,
  type Param,
} from './statementSql.js';
import type { TargetTable } from './targetTypes.js';

/** One connection checked out of the pool, for one transaction. */
export interface Session {
  /** Runs one statement; resolves with the affected row count. */
  run(sql: string, params: readonly Param[]): Promise<number>;
  /** Runs a read; resolves with the rows as objects. */
  read(sql: string, params: readonly Param[]): Promise<Record<string, unknown>[]>;
  /** Gives the connection back (`broken`: destroy it instead). */
  release(broken?: boolean): void;
}

/** One target database product. */
export interface Dialect {
  readonly kind: 'mysql' | 'postgresql';
  /** Quotes one identifier. */
  quote(identifier: string): string;
  /** Opens the pool (no connection yet). */
  open(): void;
  /** Checks out a connection with its session set up. */
  acquire(): Promise<Session>;
  /** The schema used when a mapping names none (URL database on MySQL, current_schema() on PG). */
  defaultSchema(session: Session): Promise<string>;
  /** Reads a table's columns, or `undefined` when it does not exist. */
  loadTable(session: Session, schema: string, table: string): Promise<TargetTable | undefined>;
  /** `INSERT … VALUES (…),(…) ON DUPLICATE KEY UPDATE / ON CONFLICT DO UPDATE`. */
  upsert(
    table: string,
    columns: readonly string[],
    keyColumns: readonly string[],
    rows: number,
  ): string;
  /** `DELETE … WHERE (k…) IN ((…),(…))`. */
  delete(table: string, keyColumns: readonly string[], rows: number): string;
  /** Most parameters one statement may carry. */
  readonly maxParams: number;
  /** True when TIMESTAMP text must be converted to UTC by the sink (MySQL); PG's session zone does it. */
  readonly convertsInstants: boolean;
  classify(error: unknown): ErrorClass;
  /** Closes the pool; destroys connections when `signal` aborts. */
  close(signal?: AbortSignal): Promise<void>;
}

/** Ends a pool; with `signal`, stops waiting for it when the signal aborts. */
async function endPool(p: { end(): Promise<void> }, signal?: AbortSignal): Promise<void> {
  const ended = p.end().catch(() => undefined);
  if (!signal) return ended;
  await Promise.race([
    ended,
    new Promise<void>((resolve) => {
      if (signal.aborted) resolve();
      signal.addEventListener('abort', () => resolve(), { once: true });
    }),
  ]);
}

/* ------------------------------------------------------------------ MySQL / MariaDB */

/** MySQL/MariaDB through mysql2: backticks, `ON DUPLICATE KEY UPDATE`, `?` parameters. */
export function mysqlDialect(o: TargetOptions): Dialect {
  let pool: mysql.Pool | undefined;
  const ready = new WeakSet<object>();
  const sessionSetup = mysqlSessionSetup(o);
  let statementWarned = false;
  /**
   * READ COMMITTED for the session: each lane's transaction writes keys no other lane holds (the
   * lane scheduler sees to that), so REPEATABLE READ's gap and next-key locks only make parallel
   * lanes deadlock each other (a multi-row DELETE … IN locking the neighbours of absent keys
   * against another lane's INSERT, seen in the crash-convergence test). Not with
   * `binlog_format=STATEMENT`, where InnoDB refuses writes at READ COMMITTED (error 1665): then
   * the server's level stays, and deadlocks are retried.
   */
  const readCommitted = async (conn: mysql.PoolConnection): Promise<void> => {
    const [rows] = await conn.query('SELECT @@SESSION.binlog_format AS f');
    const format = (rows as { f?: unknown }[])[0]?.f;
    if (format === 'STATEMENT') {
      if (!statementWarned)
        o.warn(
          'The target logs its binlog as STATEMENT: sessions keep the server’s isolation level (REPEATABLE READ by default) instead of READ COMMITTED, so parallel lanes may deadlock more often (retried, never dead-lettered).',
        );
      statementWarned = true;
      return;
    }
    await conn.query('SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED');
  };
  return {
    kind: 'mysql',
    maxParams: 60_000,
    convertsInstants: true,
    quote: quoteMysql,
    open() {
      pool ??= mysql.createPool(mysqlPoolOptions(o));
    },
    async acquire() {
      if (!pool) throw new Error('The target pool is not open.');
      const conn = await pool.getConnection();
      const raw = conn.connection as unknown as object;
      if (!ready.has(raw)) {
        try {
          for (const sql of sessionSetup) await conn.query(sql);
          await readCommitted(conn);
        } catch (error) {
          conn.destroy();
          throw error;
        }
        ready.add(raw);
      }
      return {
        async run(sql, params) {
          const [result] = await conn.query(sql, params as unknown[]);
          return (result as { affectedRows?: number }).affectedRows ?? 0;
        },
        async read(sql, params) {
          const [rows] = await conn.query(sql, params as unknown[]);
          return rows as Record<string, unknown>[];
        },
        release(broken) {
          if (broken) conn.destroy();
          else conn.release();
        },
      };
    },
    defaultSchema: mysqlDefaultSchema,
    loadTable: loadMysqlTable,
    upsert: mysqlUpsert,
    delete: mysqlDelete,
    classify: classifyMysql,
    async close(signal) {
      const p = pool;
      pool = undefined;
      if (p) await endPool(p, signal);
    },
  };
}

/* ------------------------------------------------------------------ PostgreSQL */

/** PostgreSQL through pg: double quotes, `ON CONFLICT (key) DO UPDATE`, `$n` parameters. */
export function pgDialect(o: TargetOptions): Dialect {
  let pool: pg.Pool | undefined;
  const ready = new WeakSet<object>();
  const sessionSetup = pgSessionSetup(o);
  let fkWarned = false;
  return {
    kind: 'postgresql',
    maxParams: 65_535,
    convertsInstants: false,
    quote: quotePg,
    open() {
      // Called again on every reconnect: the pool (and its one listener) is made once.
      if (pool) return;
      pool = new pg.Pool(pgPoolOptions(o));
      // An idle client that loses its connection emits 'error' on the pool; without a listener
      // that would crash the process. The next checkout gets a fresh client.
      pool.on('error', () => undefined);
    },
    async acquire() {
      if (!pool) throw new Error('The target pool is not open.');
      const client = await pool.connect();
      if (!ready.has(client)) {
        // A checked-out client whose connection dies emits 'error'; the running query rejects
        // too (and is classified), so the event itself needs only a listener, not to crash.
        client.on('error', () => undefined);
        try {
          for (const sql of sessionSetup) await client.query(sql);
          if (!o.foreignKeyChecks) {
            try {
              await client.query('SET session_replication_role = replica');
            } catch (error) {
              if (!fkWarned) {
                fkWarned = true;
                o.warn(
                  'The target user may not set session_replication_role: foreign keys stay enforced; rows of tables linked by foreign keys may be refused when they arrive out of order (set foreignKeyChecks: true to silence this, or grant the right).',
                  { error: (error as Error).message },
                );
              }
            }
          }
        } catch (error) {
          client.release(true);
          throw error;
        }
        ready.add(client);
      }
      return {
        async run(sql, params) {
          const r = await client.query(sql, params as unknown[]);
          return r.rowCount ?? 0;
        },
        async read(sql, params) {
          const r = await client.query(sql, params as unknown[]);
          return r.rows as Record<string, unknown>[];
        },
        release(broken) {
          client.release(broken === true);
        },
      };
    },
    defaultSchema: pgDefaultSchema,
    loadTable: loadPgTable,
    upsert: pgUpsert,
    delete: pgDelete,
    classify: classifyPg,
    async close(signal) {
      const p = pool;
      pool = undefined;
      if (p) await endPool(p, signal);
    },
  };
}
