/**
 * What a failed statement or connection means, from the error the driver gives: mysql2's
 * `errno` (MySQL/MariaDB server error number), `sqlState`, `code` and `fatal`; pg's `code`
 * (SQLSTATE) and message; Node's socket error codes for both.
 */

/**
 * What a failed statement means: `permanent` (this row can never go in: dead-lettered),
 * `retryable` (transient: retried), `contention` (lock contention between transactions: retried
 * without using up `retries`), `notConnected` (the connection is gone: reconnect), `fatal` (the
 * settings are wrong: stop).
 */
export type ErrorClass = 'permanent' | 'retryable' | 'contention' | 'notConnected' | 'fatal';

/** The fields of a mysql2 or pg error that classification reads; any of them may be absent. */
type DriverError =
  { fatal?: unknown; errno?: unknown; code?: unknown; sqlState?: unknown } | null | undefined;

/** Node socket errors and mysql2's protocol errors that mean the connection is gone. */
function isNetworkCode(code: unknown): boolean {
  switch (code) {
    case 'ECONNREFUSED':
    case 'ECONNRESET':
    case 'EPIPE':
    case 'ETIMEDOUT':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'PROTOCOL_CONNECTION_LOST':
    case 'PROTOCOL_SEQUENCE_TIMEOUT':
    case 'ERR_SOCKET_CLOSED':
      return true;
  }
  return false;
}

/**
 * The class of a MySQL/MariaDB server error number, `undefined` when the number is none of
 * these (reference: MySQL and MariaDB server error codes). The `retryable` numbers are what the
 * default gives too, but they are decided here, before the SQLSTATE class.
 */
function mysqlErrnoClass(errno: unknown): ErrorClass | undefined {
  switch (errno) {
    case 1045: // access denied (wrong user/password)
    case 1049: // unknown database (PostgreSQL's 3D000 is fatal too)
    case 1251: // client does not support the server's authentication protocol (SQLSTATE 08004)
      return 'fatal';
    // "This row can never go in."
    case 1048: // column cannot be null
    case 1062: // duplicate entry (a unique key other than the target key)
    case 1054: // unknown column
    case 1146: // table does not exist
    case 1136: // column count mismatch
    case 1138: // invalid use of NULL
    case 1169: // unique constraint violated
    case 1216: // FK: no parent
    case 1217: // FK: row referenced
    case 1064: // syntax error (PostgreSQL's 42601 is permanent too)
    case 1264: // out of range
    case 1265: // data truncated
    case 1292: // incorrect date/time value
    case 1366: // incorrect integer/string value
    case 1364: // field has no default
    case 1367: // illegal value
    case 1406: // data too long
    case 1411: // incorrect value for function
    case 1451: // FK: cannot delete parent
    case 1452: // FK: cannot add child
    case 1690: // value out of range (arithmetic)
    case 1859: // duplicate entry (unique on a partition)
    case 3140: // invalid JSON text
    case 3819: // check constraint violated (MySQL)
    case 4025: // check constraint failed (MariaDB)
    case 4078: // illegal parameter data types
      return 'permanent';
    // Lock contention between concurrent transactions: retried without using up `retries`.
    case 1205: // lock wait timeout
    case 1213: // deadlock
      return 'contention';
    case 1040: // too many connections
    case 1041: // out of memory
    case 1043: // bad handshake
    case 1053: // server shutdown
    case 1077: // normal shutdown
    case 1079: // shutdown complete
    case 1080: // forcing close of thread
    case 1142: // command denied (grants revoked for a moment)
    case 1143: // column command denied
    case 1044: // access denied to database
    case 1290: // --read-only
    case 1836: // read-only mode
    case 1927: // connection was killed (MariaDB)
    case 3024: // max execution time exceeded
    case 4031: // disconnected for inactivity
      return 'retryable';
  }
  return undefined;
}

/**
 * MySQL/MariaDB through mysql2: a `fatal` error (mysql2's mark of a broken connection) or a
 * socket error code is `notConnected`; then by server error number; then SQLSTATE class 22
 * (data exception) or 23 (integrity constraint) is `permanent`; anything else `retryable`.
 */
export function classifyMysql(error: unknown): ErrorClass {
  const e = error as DriverError;
  if (e?.fatal === true || isNetworkCode(e?.code)) return 'notConnected';
  const byNumber = mysqlErrnoClass(e?.errno);
  if (byNumber !== undefined) return byNumber;
  const state = e?.sqlState;
  if (typeof state === 'string' && (state.startsWith('22') || state.startsWith('23')))
    return 'permanent';
  return 'retryable';
}

/**
 * The class of a PostgreSQL SQLSTATE, `undefined` for the codes left to the classes after it.
 * Retryable by the default (no case of their own): 57014 query_canceled (statement_timeout),
 * 55006 object_in_use, class 53 (insufficient resources: too many connections, disk full, out of
 * memory).
 */
function pgCodeClass(code: string | undefined): ErrorClass | undefined {
  switch (code) {
    case '57P01': // admin_shutdown
    case '57P02': // crash_shutdown
    case '57P03': // cannot_connect_now
      return 'notConnected';
    case '28P01': // invalid_password
    case '28000': // invalid_authorization_specification
    case '3D000': // invalid_catalog_name (the database does not exist)
      return 'fatal';
    // Serialization failure, deadlock, lock not available: retried without using up `retries`.
    case '40001':
    case '40P01':
    case '55P03':
      return 'contention';
    case '42501': // insufficient_privilege (a grant missing for a moment), not class 42's permanent
      return 'retryable';
  }
  return undefined;
}

/**
 * PostgreSQL through pg: a socket error code, pg's and pg-pool's connection messages and
 * SQLSTATE class 08 (connection exception) are `notConnected`; then the codes above; classes 22
 * (data exception), 23 (integrity constraint) and 42 (syntax error or access rule: unknown table
 * or column) `permanent`; anything else (class 53 and 57014 among them) `retryable`.
 */
export function classifyPg(error: unknown): ErrorClass {
  const c = (error as DriverError)?.code;
  const code = typeof c === 'string' ? c : undefined;
  if (isNetworkCode(code)) return 'notConnected';
  if (
    error instanceof Error &&
    /Connection terminated|Client has encountered a connection error|timeout exceeded when trying to connect/i.test(
      error.message,
    )
  )
    return 'notConnected';
  if (code?.startsWith('08')) return 'notConnected';
  const byCode = pgCodeClass(code);
  if (byCode !== undefined) return byCode;
  if (code?.startsWith('22') || code?.startsWith('23') || code?.startsWith('42'))
    return 'permanent';
  return 'retryable';
}
