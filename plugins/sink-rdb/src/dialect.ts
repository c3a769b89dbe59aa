/**
 * The two target dialects: MySQL/MariaDB (mysql2) and PostgreSQL (pg). Each opens a pool, sets up
 * its sessions, reads the catalog, builds the statements (identifiers quoted, values as
 * parameters) and classifies the database's errors.
 */
import mysql from 'mysql2/promise';
import pg from 'pg';
import {
  targetTable,
  type TargetColumn,
  type TargetFamily,
  type TargetTable,
} from './targetTypes.js';

/** A parameter value: text, bytes, a number (ENUM index, SET mask, BIT on MySQL) or NULL. */
export type Param = string | number | bigint | Buffer | null;

/** What a failed statement means. */
export type ErrorClass = 'permanent' | 'retryable' | 'contention' | 'notConnected' | 'fatal';

/** One connection checked out of the pool, for one transaction. */
export interface Session {
  /** Runs one statement; resolves with the affected row count. */
  run(sql: string, params: readonly Param[]): Promise<number>;
  /** Runs a read; resolves with the rows as objects. */
  read(sql: string, params: readonly Param[]): Promise<Record<string, unknown>[]>;
  /** Gives the connection back (`broken`: destroy it instead). */
  release(broken?: boolean): void;
}

/** Connection settings of the target. */
export interface TargetOptions {
  readonly host: string;
  readonly port: number;
  readonly database: string;
  readonly user: string;
  readonly password: string;
  readonly params: Readonly<Record<string, string>>;
  readonly poolSize: number;
  /** Keep foreign-key enforcement on (default off). */
  readonly foreignKeyChecks: boolean;
  /** canal-server's zone for TIMESTAMP text; undefined = hand the text over as is. */
  readonly sourceTimeZone: string | undefined;
  /** Session name shown by the target (PostgreSQL application_name). */
  readonly applicationName?: string;
  /** Called once with a warning about the session setup (e.g. a setting that was refused). */
  readonly warn: (message: string, fields?: Record<string, unknown>) => void;
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

/** `schema.table`, each part quoted. */
export function qualified(d: Dialect, schema: string | undefined, table: string): string {
  return schema ? `${d.quote(schema)}.${d.quote(table)}` : d.quote(table);
}

function placeholders(count: number, rows: number, next: () => string): string {
  const out: string[] = [];
  for (let r = 0; r < rows; r++) {
    const one: string[] = [];
    for (let c = 0; c < count; c++) one.push(next());
    out.push(`(${one.join(',')})`);
  }
  return out.join(',');
}

/** `(?,?,…),(?,?,…)…`: `rows` groups of `count` question marks. */
function questionMarks(count: number, rows: number): string {
  const one = `(${'?,'.repeat(Math.max(0, count - 1))}?)`;
  return rows <= 0 ? '' : one + `,${one}`.repeat(rows - 1);
}

function errno(error: unknown): number | undefined {
  const n = (error as { errno?: unknown } | null)?.errno;
  return typeof n === 'number' ? n : undefined;
}
function codeOf(error: unknown): string {
  const c = (error as { code?: unknown } | null)?.code;
  return typeof c === 'string' ? c : '';
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'PROTOCOL_CONNECTION_LOST',
  'PROTOCOL_SEQUENCE_TIMEOUT',
  'ERR_SOCKET_CLOSED',
]);

/* ------------------------------------------------------------------ MySQL / MariaDB */

const MYSQL_FAMILY: Readonly<Record<string, TargetFamily>> = {
  tinyint: 'integer',
  smallint: 'integer',
  mediumint: 'integer',
  int: 'integer',
  integer: 'integer',
  bigint: 'integer',
  decimal: 'decimal',
  numeric: 'decimal',
  float: 'float',
  double: 'float',
  real: 'float',
  bit: 'bit',
  enum: 'enum',
  set: 'set',
  date: 'date',
  datetime: 'datetime',
  timestamp: 'timestamp',
  time: 'time',
  year: 'year',
  json: 'json',
  char: 'text',
  varchar: 'text',
  tinytext: 'text',
  text: 'text',
  mediumtext: 'text',
  longtext: 'text',
  binary: 'binary',
  varbinary: 'binary',
  tinyblob: 'binary',
  blob: 'binary',
  mediumblob: 'binary',
  longblob: 'binary',
};

/** MySQL/MariaDB error numbers that mean "this row can never go in" (reference: MySQL server error codes). */
const MYSQL_PERMANENT = new Set([
  1048, // column cannot be null
  1062, // duplicate entry (a unique key other than the target key)
  1054, // unknown column
  1146, // table does not exist
  1136, // column count mismatch
  1138, // invalid use of NULL
  1169, // unique constraint violated
  1216, // FK: no parent
  1217, // FK: row referenced
  1251,
  1264, // out of range
  1265, // data truncated
  1292, // incorrect date/time value
  1366, // incorrect integer/string value
  1364, // field has no default
  1367, // illegal value
  1406, // data too long
  1411, // incorrect value for function
  1451, // FK: cannot delete parent
  1452, // FK: cannot add child
  1690, // value out of range (arithmetic)
  1859, // duplicate entry (unique on a partition)
  3140, // invalid JSON text
  3819, // check constraint violated (MySQL)
  4025, // check constraint failed (MariaDB)
  4078, // illegal parameter data types
]);
/** Lock contention between concurrent transactions: retried without using up `retries`. */
const MYSQL_CONTENTION = new Set([
  1205, // lock wait timeout
  1213, // deadlock
]);
const MYSQL_RETRYABLE = new Set([
  1040, // too many connections
  1041, // out of memory
  1043, // bad handshake
  1053, // server shutdown
  1077, // normal shutdown
  1079,
  1080,
  1142, // command denied (grants revoked for a moment)
  1143,
  1044, // access denied to database
  1290, // --read-only
  1836, // read-only mode
  1927, // connection was killed (MariaDB)
  3024, // max execution time exceeded
  4031, // disconnected for inactivity
]);

/** MySQL/MariaDB through mysql2: backticks, `ON DUPLICATE KEY UPDATE`, `?` parameters. */
export function mysqlDialect(o: TargetOptions): Dialect {
  let pool: mysql.Pool | undefined;
  const ready = new WeakSet<object>();
  const sessionSetup = [
    'SET NAMES utf8mb4',
    // The target's own modes, minus NO_BACKSLASH_ESCAPES (the client escapes with backslashes),
    // plus strict mode: a value the column cannot hold is an error, never a silent 0/NULL.
    "SET SESSION sql_mode = TRIM(BOTH ',' FROM REPLACE(CONCAT(',', @@GLOBAL.sql_mode, ','), ',NO_BACKSLASH_ESCAPES,', ','))",
    "SET SESSION sql_mode = CONCAT_WS(',', NULLIF(@@SESSION.sql_mode, ''), 'STRICT_ALL_TABLES')",
    ...(o.foreignKeyChecks ? [] : ['SET SESSION foreign_key_checks = 0']),
    ...(o.sourceTimeZone !== undefined ? ["SET SESSION time_zone = '+00:00'"] : []),
  ];
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
  const dialect: Dialect = {
    kind: 'mysql',
    maxParams: 60_000,
    convertsInstants: true,
    quote: (id) => '`' + id.replace(/`/g, '``') + '`',
    open() {
      pool ??= mysql.createPool({
        host: o.host,
        port: o.port,
        user: o.user,
        password: o.password,
        ...(o.database ? { database: o.database } : {}),
        connectionLimit: o.poolSize,
        charset: 'utf8mb4_general_ci',
        supportBigNumbers: true,
        bigNumberStrings: true,
        decimalNumbers: false,
        dateStrings: true,
        multipleStatements: false,
        connectTimeout: Number(o.params['connectTimeout'] ?? 10_000),
        enableKeepAlive: true,
        // No call-site stack captured per query (mysql2's default): errors keep their codes.
        trace: false,
        ...(o.params['useSSL'] === 'true' || o.params['sslMode'] === 'REQUIRED' ? { ssl: {} } : {}),
      });
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
    async defaultSchema(session) {
      const rows = await session.read('SELECT DATABASE() AS db', []);
      const db = rows[0]?.['db'];
      if (typeof db !== 'string' || db === '')
        throw new Error('jdbc.url names no database and the mapping has no targetDb.');
      return db;
    },
    async loadTable(session, schema, table) {
      const rows = await session.read(
        'SELECT COLUMN_NAME AS name, DATA_TYPE AS dataType, COLUMN_TYPE AS columnType, NUMERIC_PRECISION AS prec ' +
          'FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION',
        [schema, table],
      );
      if (rows.length === 0) return undefined;
      const columns: TargetColumn[] = rows.map((r) => {
        const dataType = String(r['dataType']).toLowerCase();
        const bits = /^bit\((\d+)\)/i.exec(String(r['columnType']));
        return {
          name: String(r['name']),
          dataType,
          family: MYSQL_FAMILY[dataType] ?? 'other',
          bitWidth: bits ? Number(bits[1]) : dataType === 'bit' ? 1 : 0,
          fixedBits: false,
        };
      });
      return targetTable(schema, table, columns);
    },
    upsert(table, columns, keyColumns, rows) {
      const keys = new Set(keyColumns);
      const q = dialect.quote;
      const rest = columns.filter((c) => !keys.has(c));
      const update = (rest.length > 0 ? rest : [columns[0]!])
        .map((c) => `${q(c)}=VALUES(${q(c)})`)
        .join(',');
      return (
        `INSERT INTO ${table} (${columns.map(q).join(',')}) VALUES ` +
        questionMarks(columns.length, rows) +
        ` ON DUPLICATE KEY UPDATE ${update}`
      );
    },
    delete(table, keyColumns, rows) {
      const q = dialect.quote;
      if (keyColumns.length === 1)
        return `DELETE FROM ${table} WHERE ${q(keyColumns[0]!)} IN (${rows <= 0 ? '' : '?' + ',?'.repeat(rows - 1)})`;
      return (
        `DELETE FROM ${table} WHERE (${keyColumns.map(q).join(',')}) IN (` +
        questionMarks(keyColumns.length, rows) +
        ')'
      );
    },
    classify(error) {
      const n = errno(error);
      const code = codeOf(error);
      if ((error as { fatal?: unknown } | null)?.fatal === true || NETWORK_CODES.has(code))
        return 'notConnected';
      if (n === 1045) return 'fatal'; // access denied (wrong user/password)
      if (n !== undefined && MYSQL_PERMANENT.has(n)) return 'permanent';
      if (n !== undefined && MYSQL_CONTENTION.has(n)) return 'contention';
      if (n !== undefined && MYSQL_RETRYABLE.has(n)) return 'retryable';
      const state = (error as { sqlState?: unknown } | null)?.sqlState;
      if (typeof state === 'string' && (state.startsWith('22') || state.startsWith('23')))
        return 'permanent';
      return 'retryable';
    },
    async close(signal) {
      const p = pool;
      pool = undefined;
      if (!p) return;
      const ended = p.end().catch(() => undefined);
      if (!signal) return ended;
      await Promise.race([
        ended,
        new Promise<void>((resolve) => {
          if (signal.aborted) resolve();
          signal.addEventListener('abort', () => resolve(), { once: true });
        }),
      ]);
    },
  };
  return dialect;
}

/* ------------------------------------------------------------------ PostgreSQL */

const PG_FAMILY: Readonly<Record<string, TargetFamily>> = {
  smallint: 'integer',
  integer: 'integer',
  bigint: 'integer',
  numeric: 'decimal',
  real: 'float',
  'double precision': 'float',
  boolean: 'boolean',
  bit: 'bit',
  'bit varying': 'bit',
  date: 'date',
  'timestamp without time zone': 'datetime',
  'timestamp with time zone': 'timestamp',
  'time without time zone': 'time',
  'time with time zone': 'time',
  interval: 'interval',
  json: 'json',
  jsonb: 'json',
  text: 'text',
  'character varying': 'text',
  character: 'text',
  bytea: 'binary',
};

/** Serialization failure, deadlock, lock not available: retried without using up `retries`. */
const PG_CONTENTION = new Set(['40001', '40P01', '55P03']);
const PG_RETRYABLE = new Set(['57014', '55006', '42501']);

/** PostgreSQL through pg: double quotes, `ON CONFLICT (key) DO UPDATE`, `$n` parameters. */
export function pgDialect(o: TargetOptions): Dialect {
  let pool: pg.Pool | undefined;
  const ready = new WeakSet<object>();
  let fkWarned = false;
  const dialect: Dialect = {
    kind: 'postgresql',
    maxParams: 65_535,
    convertsInstants: false,
    quote: (id) => '"' + id.replace(/"/g, '""') + '"',
    open() {
      pool ??= new pg.Pool({
        host: o.host,
        port: o.port,
        database: o.database || undefined,
        user: o.user,
        password: o.password,
        max: o.poolSize,
        application_name: o.applicationName ?? 'sluice-rdb',
        connectionTimeoutMillis: Number(o.params['connectTimeout'] ?? 10) * 1000,
        keepAlive: true,
        ...(o.params['ssl'] === 'true' || o.params['sslmode'] === 'require'
          ? { ssl: { rejectUnauthorized: false } }
          : {}),
        ...(o.params['currentSchema']
          ? { options: `-c search_path=${o.params['currentSchema']}` }
          : {}),
      });
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
          await client.query("SET client_encoding = 'UTF8'");
          if (o.sourceTimeZone !== undefined)
            await client.query(`SET TIME ZONE '${o.sourceTimeZone.replace(/'/g, "''")}'`);
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
    async defaultSchema(session) {
      const rows = await session.read('SELECT current_schema() AS s', []);
      const s = rows[0]?.['s'];
      return typeof s === 'string' && s !== '' ? s : 'public';
    },
    async loadTable(session, schema, table) {
      const rows = await session.read(
        'SELECT column_name AS name, data_type AS "dataType", character_maximum_length AS len ' +
          'FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position',
        [schema, table],
      );
      if (rows.length === 0) return undefined;
      const columns: TargetColumn[] = rows.map((r) => {
        const dataType = String(r['dataType']).toLowerCase();
        return {
          name: String(r['name']),
          dataType,
          family: PG_FAMILY[dataType] ?? (dataType === 'user-defined' ? 'text' : 'other'),
          bitWidth: dataType.startsWith('bit') && r['len'] !== null ? Number(r['len']) : 0,
          fixedBits: dataType === 'bit',
        };
      });
      return targetTable(schema, table, columns);
    },
    upsert(table, columns, keyColumns, rows) {
      const keys = new Set(keyColumns);
      const q = dialect.quote;
      let n = 0;
      const rest = columns.filter((c) => !keys.has(c));
      const action =
        rest.length > 0
          ? `DO UPDATE SET ${rest.map((c) => `${q(c)}=EXCLUDED.${q(c)}`).join(',')}`
          : 'DO NOTHING';
      return (
        `INSERT INTO ${table} (${columns.map(q).join(',')}) VALUES ` +
        placeholders(columns.length, rows, () => `$${++n}`) +
        ` ON CONFLICT (${keyColumns.map(q).join(',')}) ${action}`
      );
    },
    delete(table, keyColumns, rows) {
      const q = dialect.quote;
      let n = 0;
      if (keyColumns.length === 1)
        return `DELETE FROM ${table} WHERE ${q(keyColumns[0]!)} IN (${Array.from({ length: rows }, () => `$${++n}`).join(',')})`;
      return (
        `DELETE FROM ${table} WHERE (${keyColumns.map(q).join(',')}) IN (` +
        placeholders(keyColumns.length, rows, () => `$${++n}`) +
        ')'
      );
    },
    classify(error) {
      const code = codeOf(error);
      if (NETWORK_CODES.has(code)) return 'notConnected';
      const message = error instanceof Error ? error.message : '';
      if (
        /Connection terminated|Client has encountered a connection error|timeout exceeded when trying to connect/i.test(
          message,
        )
      )
        return 'notConnected';
      if (code.startsWith('08') || code === '57P01' || code === '57P02' || code === '57P03')
        return 'notConnected';
      if (code === '28P01' || code === '28000' || code === '3D000') return 'fatal';
      if (PG_CONTENTION.has(code)) return 'contention';
      if (PG_RETRYABLE.has(code) || code.startsWith('53')) return 'retryable';
      if (code.startsWith('22') || code.startsWith('23') || code.startsWith('42'))
        return 'permanent';
      return 'retryable';
    },
    async close(signal) {
      const p = pool;
      pool = undefined;
      if (!p) return;
      const ended = p.end().catch(() => undefined);
      if (!signal) return ended;
      await Promise.race([
        ended,
        new Promise<void>((resolve) => {
          if (signal.aborted) resolve();
          signal.addEventListener('abort', () => resolve(), { once: true });
        }),
      ]);
    },
  };
  return dialect;
}
