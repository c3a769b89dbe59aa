import { describe, expect, it } from 'vitest';
import { classifyMysql, classifyPg } from './errorClass.js';

/**
 * Errors shaped as the drivers shape them (fields as mysql2 3.x and pg 8.x set them against the
 * testbed's MariaDB and PostgreSQL: a server error has `errno`, `code` and `sqlState` on mysql2,
 * `code` = SQLSTATE on pg; a socket error has Node's `code` and a negative `errno`, and mysql2
 * marks it `fatal`).
 */
const mysqlError = (errno: number, code: string, sqlState: string, message = code) =>
  Object.assign(new Error(message), { errno, code, sqlState, sqlMessage: message });
const pgError = (code: string, message = `pg ${code}`) =>
  Object.assign(new Error(message), { code, severity: 'ERROR' });
const socketError = (code: string, errno = -111) =>
  Object.assign(new Error(`connect ${code} 127.0.0.1:13306`), { code, errno, syscall: 'connect' });

const NETWORK_CODES = [
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
];

describe('classifyMysql', () => {
  it('a broken connection is notConnected: mysql2 marks it fatal, whatever else it carries', () => {
    // What mysql2 gives for a refused connection, a server that hung up, a closed connection.
    expect(classifyMysql(Object.assign(socketError('ECONNREFUSED'), { fatal: true }))).toBe(
      'notConnected',
    );
    expect(
      classifyMysql(
        Object.assign(new Error('Connection lost: The server closed the connection.'), {
          code: 'PROTOCOL_CONNECTION_LOST',
          fatal: true,
        }),
      ),
    ).toBe('notConnected');
    expect(
      classifyMysql(
        Object.assign(new Error("Can't add new command when connection is in closed state"), {
          fatal: true,
        }),
      ),
    ).toBe('notConnected');
    // `fatal` comes first: a fatal error with a data error's number is still a lost connection.
    expect(
      classifyMysql(Object.assign(mysqlError(1062, 'ER_DUP_ENTRY', '23000'), { fatal: true })),
    ).toBe('notConnected');
    expect(
      classifyMysql(Object.assign(mysqlError(1062, 'ER_DUP_ENTRY', '23000'), { fatal: false })),
    ).toBe('permanent');
    // Only `true` is fatal.
    expect(classifyMysql(Object.assign(new Error('x'), { fatal: 'true' }))).toBe('retryable');
    expect(classifyMysql(Object.assign(new Error('x'), { fatal: 1 }))).toBe('retryable');
  });

  it.each(NETWORK_CODES)('socket code %s is notConnected even without fatal', (code) => {
    expect(classifyMysql(socketError(code))).toBe('notConnected');
    // …and before the error number (a pool error may carry both).
    expect(classifyMysql(mysqlError(1045, code, '28000'))).toBe('notConnected');
  });

  it('a code is matched whole and as sent (not a prefix, not case-folded)', () => {
    expect(classifyMysql(socketError('ECONNREFUSEDX'))).toBe('retryable');
    expect(classifyMysql(socketError('econnrefused'))).toBe('retryable');
    expect(classifyMysql(socketError('EPROTO'))).toBe('retryable');
  });

  it('wrong user or password (1045) is fatal', () => {
    expect(
      classifyMysql(
        mysqlError(
          1045,
          'ER_ACCESS_DENIED_ERROR',
          '28000',
          "Access denied for user 'probe'@'127.0.0.1' (using password: YES)",
        ),
      ),
    ).toBe('fatal');
  });

  it('an unknown database (1049) and an unsupported authentication protocol (1251) are fatal', () => {
    // As the testbed's MariaDB sends 1049 (SQLSTATE 42000 would otherwise be retryable).
    expect(
      classifyMysql(mysqlError(1049, 'ER_BAD_DB_ERROR', '42000', "Unknown database 'no_such_db'")),
    ).toBe('fatal');
    expect(classifyMysql(mysqlError(1251, 'ER_NOT_SUPPORTED_AUTH_MODE', '08004'))).toBe('fatal');
  });

  // Errors that mean "this row can never go in", with the SQLSTATE the server sends; the number
  // decides (HY000/42S02/… would otherwise be retryable).
  it.each([
    [1048, 'ER_BAD_NULL_ERROR', '23000'],
    [1062, 'ER_DUP_ENTRY', '23000'],
    [1054, 'ER_BAD_FIELD_ERROR', '42S22'],
    [1146, 'ER_NO_SUCH_TABLE', '42S02'],
    [1136, 'ER_WRONG_VALUE_COUNT_ON_ROW', '21S01'],
    [1138, 'ER_INVALID_USE_OF_NULL', '22004'],
    [1169, 'ER_DUP_UNIQUE', '23000'],
    [1216, 'ER_NO_REFERENCED_ROW', '23000'],
    [1217, 'ER_ROW_IS_REFERENCED', '23000'],
    [1064, 'ER_PARSE_ERROR', '42000'],
    [1264, 'ER_WARN_DATA_OUT_OF_RANGE', '22003'],
    [1265, 'WARN_DATA_TRUNCATED', '01000'],
    [1292, 'ER_TRUNCATED_WRONG_VALUE', '22007'],
    [1366, 'ER_TRUNCATED_WRONG_VALUE_FOR_FIELD', '22007'],
    [1364, 'ER_NO_DEFAULT_FOR_FIELD', 'HY000'],
    [1367, 'ER_ILLEGAL_VALUE_FOR_TYPE', '22007'],
    [1406, 'ER_DATA_TOO_LONG', '22001'],
    [1411, 'ER_WRONG_VALUE_FOR_TYPE', 'HY000'],
    [1451, 'ER_ROW_IS_REFERENCED_2', '23000'],
    [1452, 'ER_NO_REFERENCED_ROW_2', '23000'],
    [1690, 'ER_DATA_OUT_OF_RANGE', '22003'],
    [1859, 'ER_DUP_UNKNOWN_IN_INDEX', '23000'],
    [3140, 'ER_INVALID_JSON_TEXT', '22032'],
    [3819, 'ER_CHECK_CONSTRAINT_VIOLATED', 'HY000'],
    [4025, 'ER_CONSTRAINT_FAILED', '23000'],
    [4078, 'ER_ILLEGAL_PARAMETER_DATA_TYPES2_FOR_OPERATION', 'HY000'],
  ])('%i (%s) is permanent', (errno, code, sqlState) => {
    expect(classifyMysql(mysqlError(errno, code, sqlState))).toBe('permanent');
    // The number alone decides.
    expect(classifyMysql(mysqlError(errno, code, 'HY000'))).toBe('permanent');
  });

  it('lock wait timeout (1205) and deadlock (1213) are contention', () => {
    expect(
      classifyMysql(
        mysqlError(
          1205,
          'ER_LOCK_WAIT_TIMEOUT',
          'HY000',
          'Lock wait timeout exceeded; try restarting transaction',
        ),
      ),
    ).toBe('contention');
    expect(
      classifyMysql(
        mysqlError(
          1213,
          'ER_LOCK_DEADLOCK',
          '40001',
          'Deadlock found when trying to get lock; try restarting transaction',
        ),
      ),
    ).toBe('contention');
  });

  // Transient server states. Their real SQLSTATEs are retryable by the default too; the number is
  // decided first, so even a (made-up) data-exception SQLSTATE beside it does not make it permanent.
  it.each([
    [1040, 'ER_CON_COUNT_ERROR', '08004'],
    [1041, 'ER_OUT_OF_RESOURCES', 'HY000'],
    [1043, 'ER_HANDSHAKE_ERROR', '08S01'],
    [1053, 'ER_SERVER_SHUTDOWN', '08S01'],
    [1077, 'ER_NORMAL_SHUTDOWN', 'HY000'],
    [1079, 'ER_SHUTDOWN_COMPLETE', 'HY000'],
    [1080, 'ER_FORCING_CLOSE', '08S01'],
    [1142, 'ER_TABLEACCESS_DENIED_ERROR', '42000'],
    [1143, 'ER_COLUMNACCESS_DENIED_ERROR', '42000'],
    [1044, 'ER_DBACCESS_DENIED_ERROR', '42000'],
    [1290, 'ER_OPTION_PREVENTS_STATEMENT', 'HY000'],
    [1836, 'ER_READ_ONLY_MODE', 'HY000'],
    [1927, 'ER_CONNECTION_KILLED', '70100'],
    [3024, 'ER_QUERY_TIMEOUT', 'HY000'],
    [4031, 'ER_CLIENT_INTERACTION_TIMEOUT', 'HY000'],
  ])('%i (%s) is retryable', (errno, code, sqlState) => {
    expect(classifyMysql(mysqlError(errno, code, sqlState))).toBe('retryable');
    expect(classifyMysql(mysqlError(errno, code, '22000'))).toBe('retryable');
    expect(classifyMysql(mysqlError(errno, code, '23000'))).toBe('retryable');
  });

  it('another number: SQLSTATE class 22 (data exception) or 23 (integrity constraint) is permanent', () => {
    expect(classifyMysql(mysqlError(1365, 'ER_DIVISION_BY_ZERO', '22012'))).toBe('permanent');
    expect(classifyMysql(mysqlError(1586, 'ER_DUP_ENTRY_WITH_KEY_NAME', '23000'))).toBe(
      'permanent',
    );
    // The class is the first two characters, not anywhere in the state.
    expect(classifyMysql(mysqlError(1999, 'ER_X', '42022'))).toBe('retryable');
    expect(classifyMysql(mysqlError(1999, 'ER_X', 'HY023'))).toBe('retryable');
    // A SQLSTATE alone, without a number.
    expect(classifyMysql(Object.assign(new Error('x'), { sqlState: '23000' }))).toBe('permanent');
    expect(classifyMysql(Object.assign(new Error('x'), { sqlState: 22001 }))).toBe('retryable');
  });

  it('anything else is retryable', () => {
    // As the testbed's MariaDB sends it: a killed query.
    expect(classifyMysql(mysqlError(1317, 'ER_QUERY_INTERRUPTED', '70100'))).toBe('retryable');
    // A number is a number: the text of a listed one is not it.
    expect(classifyMysql(Object.assign(new Error('x'), { errno: '1062' }))).toBe('retryable');
    expect(classifyMysql(Object.assign(new Error('x'), { errno: '1045' }))).toBe('retryable');
    expect(classifyMysql(new Error('The target pool is not open.'))).toBe('retryable');
    expect(classifyMysql(null)).toBe('retryable');
    expect(classifyMysql(undefined)).toBe('retryable');
    expect(classifyMysql('boom')).toBe('retryable');
    expect(classifyMysql({})).toBe('retryable');
  });
});

describe('classifyPg', () => {
  it.each(NETWORK_CODES)('socket code %s is notConnected', (code) => {
    expect(classifyPg(socketError(code))).toBe('notConnected');
  });

  it('pg and pg-pool connection errors (no code) are notConnected by their message', () => {
    for (const message of [
      'Connection terminated unexpectedly',
      'Connection terminated due to connection timeout',
      'Connection terminated',
      'Client has encountered a connection error and is not queryable',
      'timeout exceeded when trying to connect',
      // Matched anywhere in the message, in any case.
      'Error: connection TERMINATED by peer',
      'TIMEOUT EXCEEDED WHEN TRYING TO CONNECT',
      'the client has encountered a connection error',
    ])
      expect(classifyPg(new Error(message)), message).toBe('notConnected');
    // Only an Error's message is read.
    expect(classifyPg({ message: 'Connection terminated unexpectedly' })).toBe('retryable');
    expect(classifyPg(new Error('Connection was terminated'))).toBe('retryable');
    expect(classifyPg(new Error('timeout exceeded'))).toBe('retryable');
  });

  it('SQLSTATE class 08 and the shutdown codes 57P01-57P03 are notConnected', () => {
    for (const code of ['08000', '08003', '08006', '08001', '08004', '08P01'])
      expect(classifyPg(pgError(code)), code).toBe('notConnected');
    expect(
      classifyPg(pgError('57P01', 'terminating connection due to administrator command')),
    ).toBe('notConnected');
    expect(classifyPg(pgError('57P02'))).toBe('notConnected');
    expect(classifyPg(pgError('57P03', 'the database system is starting up'))).toBe('notConnected');
    // A code that ends in 08 is not of class 08.
    expect(classifyPg(pgError('XX008'))).toBe('retryable');
  });

  it('wrong password, unknown role and unknown database are fatal', () => {
    expect(classifyPg(pgError('28P01', 'password authentication failed for user "sluice"'))).toBe(
      'fatal',
    );
    expect(classifyPg(pgError('28000', 'role "nobody_here" does not exist'))).toBe('fatal');
    expect(classifyPg(pgError('3D000', 'database "no_such_db" does not exist'))).toBe('fatal');
  });

  it('serialization failure, deadlock and lock not available are contention', () => {
    expect(
      classifyPg(
        pgError(
          '40001',
          'could not serialize access due to read/write dependencies among transactions',
        ),
      ),
    ).toBe('contention');
    expect(classifyPg(pgError('40P01', 'deadlock detected'))).toBe('contention');
    expect(classifyPg(pgError('55P03', 'could not obtain lock on row in relation "t"'))).toBe(
      'contention',
    );
    // Class 40's other codes are not contention.
    expect(classifyPg(pgError('40002'))).toBe('retryable');
    expect(classifyPg(pgError('40003'))).toBe('retryable');
  });

  it('insufficient privilege (42501) is retryable, unlike the rest of class 42', () => {
    expect(classifyPg(pgError('42501', 'permission denied for table t'))).toBe('retryable');
  });

  it('data exceptions (22), integrity constraints (23) and class 42 (unknown table, column, syntax) are permanent', () => {
    for (const code of [
      '22001', // value too long
      '22003', // numeric value out of range
      '22007', // invalid datetime format
      '22P02', // invalid text representation
      '23502', // not null violation
      '23503', // foreign key violation
      '23505', // unique violation
      '23514', // check violation
      '42P01', // undefined table
      '42703', // undefined column
      '42601', // syntax error
      '42804', // datatype mismatch
    ])
      expect(classifyPg(pgError(code)), code).toBe('permanent');
    // The class is the first two characters.
    for (const code of ['XX022', 'XX023', 'XX042', 'P0022'])
      expect(classifyPg(pgError(code)), code).toBe('retryable');
  });

  it('anything else is retryable: statement timeout, object in use, insufficient resources, unknown', () => {
    for (const code of [
      '57014', // query_canceled (statement_timeout)
      '55006', // object_in_use
      '53000', // insufficient_resources
      '53100', // disk_full
      '53200', // out_of_memory
      '53300', // too_many_connections
      '25P02', // in_failed_sql_transaction
      '0A000', // feature_not_supported
      'XX000', // internal_error
      '',
    ])
      expect(classifyPg(pgError(code)), code).toBe('retryable');
    // A code that is not text is no SQLSTATE.
    expect(classifyPg(Object.assign(new Error('x'), { code: 23505 }))).toBe('retryable');
    expect(classifyPg(new Error('some failure'))).toBe('retryable');
    expect(classifyPg(null)).toBe('retryable');
    expect(classifyPg(undefined)).toBe('retryable');
    expect(classifyPg('boom')).toBe('retryable');
  });
});
