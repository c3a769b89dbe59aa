import mysql from 'mysql2/promise';
import { afterAll, describe, expect, it } from 'vitest';
import { mysqlEndpoint, uniqueName } from '../support/testbed.js';

interface MasterStatus {
  File: string;
  Position: number | string;
}

describe('testbed smoke: MariaDB with a row binlog', () => {
  const ep = mysqlEndpoint();
  const db = uniqueName('smoke_db');
  const pool = mysql.createPool({
    host: ep.host,
    port: ep.port,
    user: ep.user,
    password: ep.password,
    connectionLimit: 2,
  });

  afterAll(async () => {
    await pool.query(`DROP DATABASE IF EXISTS \`${db}\``).catch(() => {});
    await pool.end();
  });

  const masterStatus = async (conn: mysql.Pool | mysql.Connection): Promise<MasterStatus> => {
    const [rows] = await conn.query<mysql.RowDataPacket[]>('SHOW MASTER STATUS');
    const row = rows[0] as MasterStatus | undefined;
    if (!row) throw new Error('SHOW MASTER STATUS returned nothing: is log_bin on?');
    return row;
  };

  it('logs rows: log_bin=ON, binlog_format=ROW, binlog_row_image=FULL', async () => {
    const [rows] = await pool.query<mysql.RowDataPacket[]>(
      'SELECT @@log_bin AS log_bin, @@binlog_format AS fmt, @@binlog_row_image AS image',
    );
    expect(rows[0]).toMatchObject({ log_bin: 1, fmt: 'ROW', image: 'FULL' });
  });

  it('advances the binlog position on INSERT', async () => {
    await pool.query(`CREATE DATABASE \`${db}\``);
    await pool.query(
      `CREATE TABLE \`${db}\`.t (id INT PRIMARY KEY, name VARCHAR(64) NOT NULL) ENGINE=InnoDB`,
    );
    const before = await masterStatus(pool);
    await pool.query(`INSERT INTO \`${db}\`.t (id, name) VALUES (1, 'smoke')`);
    const after = await masterStatus(pool);
    const advanced =
      after.File > before.File ||
      (after.File === before.File && Number(after.Position) > Number(before.Position));
    expect(advanced, `${JSON.stringify(before)} -> ${JSON.stringify(after)}`).toBe(true);
    const [rows] = await pool.query<mysql.RowDataPacket[]>(`SELECT name FROM \`${db}\`.t`);
    expect(rows).toEqual([{ name: 'smoke' }]);
  });

  it('has a replication account that can read the binlog position (as canal does)', async () => {
    const conn = await mysql.createConnection({
      host: ep.host,
      port: ep.port,
      user: ep.replication.user,
      password: ep.replication.password,
    });
    try {
      const status = await masterStatus(conn);
      expect(status.File).toMatch(/bin\.\d+$/);
      const [grants] = await conn.query<mysql.RowDataPacket[]>('SHOW GRANTS');
      const text = grants.map((g) => String(Object.values(g)[0])).join('\n');
      expect(text).toMatch(/REPLICATION SLAVE/);
    } finally {
      await conn.end();
    }
  });
});
