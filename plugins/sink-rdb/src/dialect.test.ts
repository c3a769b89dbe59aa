import { RetryableError } from '@sluice/plugin-api';
import { describe, expect, it } from 'vitest';
import { loadMysqlTable, loadPgTable, mysqlDefaultSchema, pgDefaultSchema } from './catalog.js';
import type { TargetOptions } from './connectionSettings.js';
import { mysqlDialect, pgDialect } from './dialect.js';
import { classifyMysql, classifyPg } from './errorClass.js';
import { sinkError } from './rdbSink.js';
import {
  mysqlDelete,
  mysqlUpsert,
  pgDelete,
  pgUpsert,
  quoteMysql,
  quotePg,
} from './statementSql.js';

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

describe('dialects', () => {
  // The pieces themselves are pinned in statementSql/errorClass/catalog/connectionSettings tests;
  // pools, sessions and queries by the integration tests (plugins/sink-rdb/test).
  it('MySQL/MariaDB: backticks, ? parameters, mysql2 error numbers, TIMESTAMP converted by the sink', () => {
    const d = mysqlDialect(options);
    expect(d.kind).toBe('mysql');
    expect(d.maxParams).toBe(60_000);
    expect(d.convertsInstants).toBe(true);
    expect(d.quote).toBe(quoteMysql);
    expect(d.upsert).toBe(mysqlUpsert);
    expect(d.delete).toBe(mysqlDelete);
    expect(d.classify).toBe(classifyMysql);
    expect(d.defaultSchema).toBe(mysqlDefaultSchema);
    expect(d.loadTable).toBe(loadMysqlTable);
  });

  it('PostgreSQL: double quotes, $n parameters, SQLSTATEs, TIMESTAMP read in the session zone', () => {
    const d = pgDialect(options);
    expect(d.kind).toBe('postgresql');
    expect(d.maxParams).toBe(65_535);
    expect(d.convertsInstants).toBe(false);
    expect(d.quote).toBe(quotePg);
    expect(d.upsert).toBe(pgUpsert);
    expect(d.delete).toBe(pgDelete);
    expect(d.classify).toBe(classifyPg);
    expect(d.defaultSchema).toBe(pgDefaultSchema);
    expect(d.loadTable).toBe(loadPgTable);
  });

  it('opening again on every reconnect keeps one pool and one error listener (no MaxListeners warning)', async () => {
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on('warning', onWarning);
    try {
      for (const d of [mysqlDialect(options), pgDialect(options)]) {
        for (let i = 0; i < 12; i++) d.open();
        await new Promise((resolve) => setImmediate(resolve));
        await d.close();
      }
    } finally {
      process.off('warning', onWarning);
    }
    expect(warnings.map((w) => w.name)).toEqual([]);
  });

  it('a pool that was never opened is refused at checkout; closing it is a no-op', async () => {
    for (const d of [mysqlDialect(options), pgDialect(options)]) {
      await expect(d.acquire()).rejects.toThrow('The target pool is not open.');
      await expect(d.close()).resolves.toBeUndefined();
    }
  });
});

describe('sink errors', () => {
  it('contention becomes a RetryableError that does not use up retries; other retryable errors do', () => {
    const contention = sinkError('contention', mysqlError(1213), 'Writing to the target');
    expect(contention).toBeInstanceOf(RetryableError);
    expect((contention as RetryableError).countsAsAttempt).toBe(false);
    expect(contention.message).toBe('Writing to the target: errno 1213');
    const busy = sinkError('retryable', mysqlError(1040), 'Writing to the target');
    expect((busy as RetryableError).countsAsAttempt).toBe(true);
    expect(sinkError('permanent', pgError('23505'), 'Writing').message).toBe('Writing: code 23505');
  });
});
