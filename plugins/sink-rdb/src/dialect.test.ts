import { RetryableError } from '@sluice/plugin-api';
import { describe, expect, it } from 'vitest';
import { mysqlDialect, pgDialect, type TargetOptions } from './dialect.js';
import { sinkError } from './rdbSink.js';

const options: TargetOptions = {
  host: '127.0.0.1',
  port: 1,
  database: 'd',
  user: 'u',
  password: '',
  params: {},
  poolSize: 1,
  foreignKeyChecks: false,
  sourceTimeZone: undefined,
  warn: () => undefined,
};

/** A driver error as mysql2 / pg shape it. */
const mysqlError = (errno: number, sqlState = 'HY000') =>
  Object.assign(new Error(`errno ${errno}`), { errno, sqlState, code: 'ER_X' });
const pgError = (code: string) => Object.assign(new Error(`code ${code}`), { code });

describe('error classes', () => {
  it('MySQL/MariaDB: deadlock and lock wait timeout are contention; other transient errors retryable; data errors permanent', () => {
    const d = mysqlDialect(options);
    expect(d.classify(mysqlError(1213, '40001'))).toBe('contention');
    expect(d.classify(mysqlError(1205))).toBe('contention');
    expect(d.classify(mysqlError(1040))).toBe('retryable');
    expect(d.classify(mysqlError(1048, '23000'))).toBe('permanent');
    expect(d.classify(mysqlError(1045, '28000'))).toBe('fatal');
  });

  it('PostgreSQL: serialization failure, deadlock and lock not available are contention', () => {
    const d = pgDialect(options);
    expect(d.classify(pgError('40001'))).toBe('contention');
    expect(d.classify(pgError('40P01'))).toBe('contention');
    expect(d.classify(pgError('55P03'))).toBe('contention');
    expect(d.classify(pgError('57014'))).toBe('retryable');
    expect(d.classify(pgError('23505'))).toBe('permanent');
  });

  it('contention becomes a RetryableError that does not use up retries; other retryable errors do', () => {
    const contention = sinkError('contention', mysqlError(1213), 'Writing to the target');
    expect(contention).toBeInstanceOf(RetryableError);
    expect((contention as RetryableError).countsAsAttempt).toBe(false);
    expect(contention.message).toBe('Writing to the target: errno 1213');
    const busy = sinkError('retryable', mysqlError(1040), 'Writing to the target');
    expect((busy as RetryableError).countsAsAttempt).toBe(true);
  });
});
