/**
 * Mapping shapes of canal's samples (renamed columns, mapAll, `db.table` targets, a target key
 * that differs from the source key) and refused rows (NOT NULL, out of range) on both targets.
 */
import type mysql from 'mysql2/promise';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FatalError } from '@sluice/plugin-api';
import { EventBuilder } from '@sluice/testkit';
import {
  applyAll,
  createSink,
  credentials,
  mapping,
  mysqlAdmin,
  mysqlJdbcUrl,
  never,
  pgAdmin,
  quiet,
  pgJdbcUrl,
  properties,
  records,
  uniqueName,
} from './helpers.js';
import { RdbSink } from '../src/rdbSink.js';

const columns = {
  id: { mysqlType: 'bigint(20)', sqlType: -5 },
  name: { mysqlType: 'varchar(50)', sqlType: 12 },
  qty: { mysqlType: 'int(11)', sqlType: 4 },
  price: { mysqlType: 'decimal(10,2)', sqlType: 3 },
};

function workload() {
  const ev = new EventBuilder({ database: 'shop', pkNames: ['id'], columns });
  const r = (id: number, name: string | null, qty: string, price = '1.50') => ({
    id: String(id),
    name,
    qty,
    price,
  });
  const good = [
    ev.insert('user', r(1, 'a', '1')),
    ev.insert('user', r(2, 'b', '2')),
    ev.update('user', r(1, 'a', '1'), r(1, 'a2', '10')),
    ev.insert('user', r(3, 'c', '3')),
    ev.update('user', r(3, 'c', '3'), r(30, 'c', '3')),
    ev.delete('user', r(2, 'b', '2')),
  ];
  const nullName = ev.insert('user', r(4, null, '4')); // NOT NULL violation
  const tooBig = ev.insert('user', r(5, 'e', '2147483647')); // beyond the target's SMALLINT
  const after = [
    ev.insert('user', r(6, 'f', '6', '99999999.99')),
    ev.update('user', r(1, 'a2', '10'), r(1, 'a3', '11')),
  ];
  return { batch: [...good, nullName, ...good.slice(0, 1), tooBig, ...after], failedAt: [6, 8] };
}

const expected = [
  { uid: '1', uname: 'a3', amount: 11, price: '1.50' },
  { uid: '30', uname: 'c', amount: 3, price: '1.50' },
  { uid: '6', uname: 'f', amount: 6, price: '99999999.99' },
];

describe('renamed columns, db.table target and refused rows on MariaDB', () => {
  const db = uniqueName('rdb_apply');
  let admin: mysql.Connection;
  beforeAll(async () => {
    admin = await mysqlAdmin();
    await admin.query(`CREATE DATABASE \`${db}\``);
    await admin.query(
      `CREATE TABLE \`${db}\`.t_user (UID bigint PRIMARY KEY, UNAME varchar(50) NOT NULL, AMOUNT smallint, PRICE decimal(10,2))`,
    );
  });
  afterAll(async () => {
    await admin.query(`DROP DATABASE IF EXISTS \`${db}\``);
    await admin.end();
  });

  it('applies the batch mates and dead-letters only the refused rows, with the database error', async () => {
    const { batch, failedAt } = workload();
    // targetTable "db.table" (two identifiers), target column names matched case-insensitively.
    const m = mapping('user', {
      database: 'shop',
      table: 'user',
      targetTable: `${db}.t_user`,
      targetPk: { uid: 'id' },
      targetColumns: { uid: 'id', uname: 'name', amount: 'qty', price: '' },
    });
    const [result] = await applyAll(
      createSink(properties({ 'jdbc.url': mysqlJdbcUrl('mysql'), ...credentials('mysql') })),
      [records(batch, m)],
    );
    const failed = result!.flatMap((o, i) => (o.status === 'failed' ? [i] : []));
    expect(failed).toEqual(failedAt);
    const messages = result!.flatMap((o) => (o.status === 'failed' ? [o.error.message] : []));
    expect(messages[0]).toMatch(/1048.*cannot be null/i);
    expect(messages[1]).toMatch(/1264.*out of range/i);
    const [rows] = await admin.query(
      `SELECT CAST(UID AS CHAR) AS uid, UNAME AS uname, AMOUNT AS amount, CAST(PRICE AS CHAR) AS price FROM \`${db}\`.t_user ORDER BY UNAME`,
    );
    expect(rows).toEqual(expected);
  });
});

describe('settings the target refuses stop the sink (no endless reconnect)', () => {
  it('an unknown MariaDB database (1049) is a FatalError naming it', async () => {
    const sink = createSink(
      properties({ 'jdbc.url': mysqlJdbcUrl(uniqueName('nodb')), ...credentials('mysql') }),
    );
    try {
      const error: unknown = await sink.connect(never).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(FatalError);
      expect((error as Error).message).toMatch(
        /^Connecting to the target: Unknown database 'nodb_/,
      );
    } finally {
      await sink.close(never);
    }
  });

  it('an unknown PostgreSQL database (3D000) is a FatalError naming it', async () => {
    const sink = createSink(
      properties({ 'jdbc.url': pgJdbcUrl(uniqueName('nodb')), ...credentials('pg') }),
    );
    try {
      const error: unknown = await sink.connect(never).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(FatalError);
      expect((error as Error).message).toMatch(/database "nodb_\w+" does not exist/);
    } finally {
      await sink.close(never);
    }
  });
});

describe('MariaDB sessions', () => {
  it('run at READ COMMITTED: no gap locks for parallel lanes to deadlock on', async () => {
    const sink = new RdbSink({
      key: 'rc',
      properties: properties({ 'jdbc.url': mysqlJdbcUrl('mysql'), ...credentials('mysql') }),
      logger: quiet,
    });
    await sink.connect(never);
    try {
      const session = await sink.dialect.acquire();
      const rows = await session.read('SELECT @@SESSION.tx_isolation AS level', []);
      session.release(false);
      expect(rows[0]?.['level']).toBe('READ-COMMITTED');
    } finally {
      await sink.close(never);
    }
  });
});

describe('renamed columns and refused rows on PostgreSQL', () => {
  const schema = uniqueName('rdb_apply');
  let admin: pg.Client;
  beforeAll(async () => {
    admin = await pgAdmin();
    await admin.query(`CREATE SCHEMA "${schema}"`);
    await admin.query(
      `CREATE TABLE "${schema}".t_user (uid bigint PRIMARY KEY, uname varchar(50) NOT NULL, amount smallint, price numeric(10,2))`,
    );
  });
  afterAll(async () => {
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await admin.end();
  });

  it('applies the batch mates and dead-letters only the refused rows, with the database error', async () => {
    const { batch, failedAt } = workload();
    const m = mapping('user', {
      database: 'shop',
      table: 'user',
      targetDb: schema,
      targetTable: 't_user',
      targetPk: { uid: 'id' },
      targetColumns: { uid: 'id', uname: 'name', amount: 'qty', price: '' },
    });
    const [result] = await applyAll(
      createSink(properties({ 'jdbc.url': pgJdbcUrl(), ...credentials('pg') })),
      [records(batch, m)],
    );
    expect(result!.flatMap((o, i) => (o.status === 'failed' ? [i] : []))).toEqual(failedAt);
    const messages = result!.flatMap((o) => (o.status === 'failed' ? [o.error.message] : []));
    expect(messages[0]).toMatch(/23502.*null value/i);
    expect(messages[1]).toMatch(/22003.*out of range/i);
    const { rows } = await admin.query(
      `SELECT uid::text AS uid, uname, amount, price::text AS price FROM "${schema}".t_user ORDER BY uname`,
    );
    expect(rows).toEqual(expected);
  });
});

describe('target catalog on MariaDB', () => {
  const db = uniqueName('rdb_catalog');
  let admin: mysql.Connection;
  beforeAll(async () => {
    admin = await mysqlAdmin();
    await admin.query(`CREATE DATABASE \`${db}\``);
    await admin.query(`CREATE TABLE \`${db}\`.item (id bigint PRIMARY KEY, name varchar(8))`);
  });
  afterAll(async () => {
    await admin.query(`DROP DATABASE IF EXISTS \`${db}\``);
    await admin.end();
  });

  it('plans with the column types read again after a DDL (compiled row plans are dropped with the catalog)', async () => {
    const ev = new EventBuilder({
      database: 'shop',
      pkNames: ['id'],
      columns: {
        id: { mysqlType: 'bigint(20)', sqlType: -5 },
        name: { mysqlType: 'varchar(8)', sqlType: 12 },
        extra: { mysqlType: 'varchar(8)', sqlType: 12 },
      },
    });
    const m = mapping('item', {
      database: 'shop',
      table: 'item',
      targetTable: `${db}.item`,
      mapAll: true,
    });
    const sink = createSink(
      properties({ 'jdbc.url': mysqlJdbcUrl('mysql'), ...credentials('mysql') }),
    );
    await sink.connect(never);
    try {
      const first = await sink.write(
        records([ev.insert('item', { id: '1', name: 'a', extra: 'x' })], m),
        never,
      );
      expect(first[0]?.status).toBe('failed');
      await admin.query(`ALTER TABLE \`${db}\`.item ADD COLUMN extra varchar(8)`);
      const second = await sink.write(
        records(
          [
            ev.ddl('item', 'ALTER TABLE item ADD COLUMN extra varchar(8)'),
            ev.insert('item', { id: '2', name: 'b', extra: 'y' }),
          ],
          m,
        ),
        never,
      );
      expect(second.map((o) => o.status)).toEqual(['applied', 'applied']);
    } finally {
      await sink.close(never);
    }
    const [rows] = await admin.query(
      `SELECT CAST(id AS CHAR) AS id, name, extra FROM \`${db}\`.item ORDER BY id`,
    );
    expect(rows).toEqual([{ id: '2', name: 'b', extra: 'y' }]);
  });
});
