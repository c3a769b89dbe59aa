/**
 * The sink contract suite (packages/testkit) against the testbed's MariaDB and PostgreSQL.
 * Poison: a `qty` that is not a number, refused by the INT target column (strict mode on MySQL).
 * Disconnect: the sink's sessions are killed on the server.
 */
import type mysql from 'mysql2/promise';
import type pg from 'pg';
import { afterAll, beforeAll } from 'vitest';
import { runSinkContractSuite } from '@sluice/testkit';
import {
  createSink,
  credentials,
  mapping,
  mysqlAdmin,
  mysqlJdbcUrl,
  pgAdmin,
  pgJdbcUrl,
  properties,
  uniqueName,
} from './helpers.js';

const SOURCE_DB = 'sluice_contract';
const TABLE = 'items';
const poison = (
  event: Parameters<NonNullable<Parameters<typeof runSinkContractSuite>[0]['target']['poison']>>[0],
) => ({
  ...event,
  after: { ...event.after, qty: 'not a number' },
});

// ---------------------------------------------------------------- MariaDB
const myDb = uniqueName('rdb_contract');
let my: mysql.Connection;
beforeAll(async () => {
  my = await mysqlAdmin();
  await my.query(`CREATE DATABASE \`${myDb}\` DEFAULT CHARACTER SET utf8mb4`);
  await my.query(
    `CREATE TABLE \`${myDb}\`.items (id varchar(64) NOT NULL PRIMARY KEY, name varchar(255), qty int)`,
  );
});
afterAll(async () => {
  await my.query(`DROP DATABASE IF EXISTS \`${myDb}\``);
  await my.end();
});

runSinkContractSuite({
  name: 'rdb sink contract (MariaDB)',
  database: SOURCE_DB,
  table: TABLE,
  target: {
    createSink: () =>
      createSink(properties({ 'jdbc.url': mysqlJdbcUrl(myDb), ...credentials('mysql') })),
    mapping: mapping('items', {
      database: SOURCE_DB,
      table: TABLE,
      targetTable: 'items',
      targetPk: { id: 'id' },
      mapAll: true,
    }),
    reset: async () => {
      await my.query(`DELETE FROM \`${myDb}\`.items`);
    },
    async readState() {
      const [rows] = await my.query(`SELECT id, name, qty FROM \`${myDb}\`.items`);
      return new Map((rows as Record<string, unknown>[]).map((r) => [String(r['id']), r]));
    },
    poison,
    async disconnect() {
      const [rows] = await my.query(
        'SELECT ID AS id FROM information_schema.PROCESSLIST WHERE DB = ? AND ID <> CONNECTION_ID()',
        [myDb],
      );
      for (const r of rows as { id: number }[])
        await my.query(`KILL CONNECTION ${Number(r.id)}`).catch(() => undefined);
    },
  },
});

// ---------------------------------------------------------------- PostgreSQL
const pgSchema = uniqueName('rdb_contract');
// The disconnect hook kills the sessions of this key only (other test files run in parallel).
const pgKey = uniqueName('contract');
let pgc: pg.Client;
beforeAll(async () => {
  pgc = await pgAdmin();
  await pgc.query(`CREATE SCHEMA "${pgSchema}"`);
  await pgc.query(
    `CREATE TABLE "${pgSchema}".items (id varchar(64) PRIMARY KEY, name varchar(255), qty int)`,
  );
});
afterAll(async () => {
  await pgc.query(`DROP SCHEMA IF EXISTS "${pgSchema}" CASCADE`);
  await pgc.end();
});

runSinkContractSuite({
  name: 'rdb sink contract (PostgreSQL)',
  database: SOURCE_DB,
  table: TABLE,
  target: {
    createSink: () =>
      createSink(properties({ 'jdbc.url': pgJdbcUrl(), ...credentials('pg') }), { key: pgKey }),
    mapping: mapping('items', {
      database: SOURCE_DB,
      table: TABLE,
      targetDb: pgSchema,
      targetTable: 'items',
      targetPk: { id: 'id' },
      mapAll: true,
    }),
    reset: async () => {
      await pgc.query(`DELETE FROM "${pgSchema}".items`);
    },
    async readState() {
      const r = await pgc.query(`SELECT id, name, qty FROM "${pgSchema}".items`);
      return new Map(r.rows.map((row: Record<string, unknown>) => [String(row['id']), row]));
    },
    poison,
    async disconnect() {
      await pgc.query(
        'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1 AND pid <> pg_backend_pid()',
        [`sluice-rdb:${pgKey}`],
      );
    },
  },
});
