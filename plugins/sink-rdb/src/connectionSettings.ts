/**
 * What the target's connections are opened and set up with: the pool options handed to mysql2 and
 * pg, and the statements each new session runs first. Built from {@link TargetOptions} (the
 * `jdbc.url` and the sink's properties); opening the pool is dialect.ts's part.
 */
import type { PoolOptions } from 'mysql2/promise';
import type { PoolConfig } from 'pg';

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

/**
 * mysql2's pool options: utf8mb4; big numbers, DECIMAL and dates as text (never a lossy JS
 * number or a Date); one statement per query; the URL's `connectTimeout` in milliseconds
 * (default 10 s); TLS when the URL says `useSSL=true` or `sslMode=REQUIRED`.
 */
export function mysqlPoolOptions(o: TargetOptions): PoolOptions {
  return {
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
  };
}

/**
 * pg's pool options: the URL's `connectTimeout` in seconds (PgJDBC's unit; default 10 s); TLS
 * without certificate checks when the URL says `ssl=true` or `sslmode=require`; the URL's
 * `currentSchema` as the session's search_path; `application_name` the sink's name.
 */
export function pgPoolOptions(o: TargetOptions): PoolConfig {
  return {
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
  };
}

/**
 * The statements a new MySQL/MariaDB session runs first: utf8mb4; the target's own SQL modes
 * minus NO_BACKSLASH_ESCAPES (the client escapes with backslashes) plus strict mode (a value the
 * column cannot hold is an error, never a silent 0/NULL); foreign-key checks off unless kept; the
 * UTC session zone when the sink converts TIMESTAMP text to UTC itself.
 */
export function mysqlSessionSetup(o: TargetOptions): string[] {
  return [
    'SET NAMES utf8mb4',
    "SET SESSION sql_mode = TRIM(BOTH ',' FROM REPLACE(CONCAT(',', @@GLOBAL.sql_mode, ','), ',NO_BACKSLASH_ESCAPES,', ','))",
    "SET SESSION sql_mode = CONCAT_WS(',', NULLIF(@@SESSION.sql_mode, ''), 'STRICT_ALL_TABLES')",
    ...(o.foreignKeyChecks ? [] : ['SET SESSION foreign_key_checks = 0']),
    ...(o.sourceTimeZone !== undefined ? ["SET SESSION time_zone = '+00:00'"] : []),
  ];
}

/**
 * The statements a new PostgreSQL session runs first: UTF-8, and the source's zone as the
 * session zone (PostgreSQL then reads TIMESTAMP text in it). Turning foreign keys off
 * (`session_replication_role`) may be refused, so dialect.ts runs it apart.
 */
export function pgSessionSetup(o: TargetOptions): string[] {
  return [
    "SET client_encoding = 'UTF8'",
    ...(o.sourceTimeZone !== undefined
      ? [`SET TIME ZONE '${o.sourceTimeZone.replace(/'/g, "''")}'`]
      : []),
  ];
}
