import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { pgEndpoint, uniqueName } from '../support/testbed.js';

describe('testbed smoke: PostgreSQL', () => {
  const client = new pg.Client({ connectionString: pgEndpoint().uri });
  const table = uniqueName('smoke_tbl');
  let connected = false;

  afterAll(async () => {
    if (connected) {
      await client.query(`DROP TABLE IF EXISTS "${table}"`).catch(() => {});
      await client.end();
    }
  });

  it('answers a query', async () => {
    await client.connect();
    connected = true;
    const r = await client.query<{ one: number; db: string }>(
      'SELECT 1::int AS one, current_database() AS db',
    );
    expect(r.rows).toEqual([{ one: 1, db: pgEndpoint().database }]);
  });

  it('creates, writes and reads a table', async () => {
    await client.query(`CREATE TABLE "${table}" (id int PRIMARY KEY, name text NOT NULL)`);
    await client.query(`INSERT INTO "${table}" VALUES ($1, $2)`, [1, 'smoke']);
    const r = await client.query<{ id: number; name: string }>(`SELECT id, name FROM "${table}"`);
    expect(r.rows).toEqual([{ id: 1, name: 'smoke' }]);
  });
});
