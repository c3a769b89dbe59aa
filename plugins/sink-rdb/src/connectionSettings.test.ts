import { describe, expect, it } from 'vitest';
import {
  mysqlPoolOptions,
  mysqlSessionSetup,
  pgPoolOptions,
  pgSessionSetup,
  type TargetOptions,
} from './connectionSettings.js';

const base: TargetOptions = {
  host: 'db.example',
  port: 3306,
  database: 'shop',
  user: 'sluice',
  password: 'secret',
  params: {},
  poolSize: 4,
  foreignKeyChecks: false,
  sourceTimeZone: undefined,
  warn: () => undefined,
};
const withParams = (params: Record<string, string>): TargetOptions => ({ ...base, params });

describe('mysqlPoolOptions', () => {
  it('text for big numbers, DECIMAL and dates, one statement per query, 10 s to connect', () => {
    expect(mysqlPoolOptions(base)).toStrictEqual({
      host: 'db.example',
      port: 3306,
      user: 'sluice',
      password: 'secret',
      database: 'shop',
      connectionLimit: 4,
      charset: 'utf8mb4_general_ci',
      supportBigNumbers: true,
      bigNumberStrings: true,
      decimalNumbers: false,
      dateStrings: true,
      multipleStatements: false,
      connectTimeout: 10_000,
      enableKeepAlive: true,
      trace: false,
    });
  });

  it('no database in the URL: none passed', () => {
    expect('database' in mysqlPoolOptions({ ...base, database: '' })).toBe(false);
  });

  it('connectTimeout from the URL, in milliseconds', () => {
    expect(mysqlPoolOptions(withParams({ connectTimeout: '2500' })).connectTimeout).toBe(2500);
  });

  it('TLS with useSSL=true or sslMode=REQUIRED, not otherwise', () => {
    expect(mysqlPoolOptions(withParams({ useSSL: 'true' })).ssl).toStrictEqual({});
    expect(mysqlPoolOptions(withParams({ sslMode: 'REQUIRED' })).ssl).toStrictEqual({});
    const noTls: Record<string, string>[] = [
      { useSSL: 'false' },
      { useSSL: 'TRUE' },
      { sslMode: 'PREFERRED' },
      { sslMode: 'required' },
      { ssl: 'true' },
      { sslmode: 'require' },
    ];
    for (const params of noTls)
      expect('ssl' in mysqlPoolOptions(withParams(params)), JSON.stringify(params)).toBe(false);
  });
});

describe('pgPoolOptions', () => {
  it('application_name, 10 s to connect, keep-alive', () => {
    expect(pgPoolOptions({ ...base, port: 5432, applicationName: 'sluice-rdb:pg1' })).toStrictEqual(
      {
        host: 'db.example',
        port: 5432,
        database: 'shop',
        user: 'sluice',
        password: 'secret',
        max: 4,
        application_name: 'sluice-rdb:pg1',
        connectionTimeoutMillis: 10_000,
        keepAlive: true,
      },
    );
  });

  it('without a name: sluice-rdb; without a database: pg’s default', () => {
    const o = pgPoolOptions({ ...base, database: '' });
    expect(o.application_name).toBe('sluice-rdb');
    expect(o.database).toBeUndefined();
    expect('database' in o).toBe(true);
  });

  it('connectTimeout from the URL, in seconds (PgJDBC’s unit)', () => {
    expect(pgPoolOptions(withParams({ connectTimeout: '3' })).connectionTimeoutMillis).toBe(3000);
  });

  it('TLS without certificate checks with ssl=true or sslmode=require, not otherwise', () => {
    expect(pgPoolOptions(withParams({ ssl: 'true' })).ssl).toStrictEqual({
      rejectUnauthorized: false,
    });
    expect(pgPoolOptions(withParams({ sslmode: 'require' })).ssl).toStrictEqual({
      rejectUnauthorized: false,
    });
    const noTls: Record<string, string>[] = [
      { ssl: 'false' },
      { sslmode: 'prefer' },
      { sslmode: 'REQUIRE' },
      { useSSL: 'true' },
      { sslMode: 'REQUIRED' },
    ];
    for (const params of noTls)
      expect('ssl' in pgPoolOptions(withParams(params)), JSON.stringify(params)).toBe(false);
  });

  it('currentSchema from the URL as the search_path', () => {
    expect(pgPoolOptions(withParams({ currentSchema: 'app' })).options).toBe('-c search_path=app');
    expect('options' in pgPoolOptions(withParams({ currentSchema: '' }))).toBe(false);
    expect('options' in pgPoolOptions(base)).toBe(false);
  });
});

describe('session setup', () => {
  const SQL_MODE = [
    'SET NAMES utf8mb4',
    "SET SESSION sql_mode = TRIM(BOTH ',' FROM REPLACE(CONCAT(',', @@GLOBAL.sql_mode, ','), ',NO_BACKSLASH_ESCAPES,', ','))",
    "SET SESSION sql_mode = CONCAT_WS(',', NULLIF(@@SESSION.sql_mode, ''), 'STRICT_ALL_TABLES')",
  ];

  it('MySQL/MariaDB: utf8mb4, strict mode without NO_BACKSLASH_ESCAPES, foreign keys off', () => {
    expect(mysqlSessionSetup(base)).toEqual([...SQL_MODE, 'SET SESSION foreign_key_checks = 0']);
  });

  it('MySQL/MariaDB: foreign keys kept; the UTC zone when TIMESTAMP text is converted', () => {
    expect(mysqlSessionSetup({ ...base, foreignKeyChecks: true })).toEqual(SQL_MODE);
    expect(mysqlSessionSetup({ ...base, sourceTimeZone: 'Asia/Shanghai' })).toEqual([
      ...SQL_MODE,
      'SET SESSION foreign_key_checks = 0',
      "SET SESSION time_zone = '+00:00'",
    ]);
    expect(
      mysqlSessionSetup({ ...base, foreignKeyChecks: true, sourceTimeZone: '+08:00' }),
    ).toEqual([...SQL_MODE, "SET SESSION time_zone = '+00:00'"]);
  });

  it('PostgreSQL: UTF8, and the source zone as the session zone (quotes doubled)', () => {
    expect(pgSessionSetup(base)).toEqual(["SET client_encoding = 'UTF8'"]);
    expect(pgSessionSetup({ ...base, sourceTimeZone: 'Asia/Shanghai' })).toEqual([
      "SET client_encoding = 'UTF8'",
      "SET TIME ZONE 'Asia/Shanghai'",
    ]);
    expect(pgSessionSetup({ ...base, sourceTimeZone: "a'b''c" })).toEqual([
      "SET client_encoding = 'UTF8'",
      "SET TIME ZONE 'a''b''''c'",
    ]);
    // Foreign keys are not in the list: dialect.ts sets session_replication_role apart.
    expect(pgSessionSetup({ ...base, foreignKeyChecks: true })).toEqual([
      "SET client_encoding = 'UTF8'",
    ]);
  });
});
