// Write-mode ETL from MariaDB: keyset pagination over a composite primary key, typed JSON values,
// progress, and never overwriting what an event wrote or deleted.
import mysql from 'mysql2/promise';
import type { DataSources } from '@sluice/plugin-api';
import { EventBuilder } from '@sluice/testkit';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { mysqlEndpoint, uniqueName } from '../../../test/support/testbed.js';
import { createSink, keysUnder, mappingFile, testClient, wipe } from './helpers.js';

const db = uniqueName('redis_etl');
const prefix = `${uniqueName('etl')}:`;
const client = testClient();
let conn: mysql.Connection;
const ep = mysqlEndpoint();
const dataSources: DataSources = {
  get: (key) =>
    key === 'src'
      ? {
          key,
          kind: 'mysql',
          host: ep.host,
          port: ep.port,
          database: db,
          user: ep.user,
          password: ep.password,
          params: {},
          maxActive: 3,
        }
      : undefined,
  keys: () => ['src'],
};

beforeAll(async () => {
  conn = await mysql.createConnection({
    host: ep.host,
    port: ep.port,
    user: ep.user,
    password: ep.password,
  });
  await conn.query(`CREATE DATABASE \`${db}\``);
  await conn.query(
    `CREATE TABLE \`${db}\`.items (shop INT, id INT, name VARCHAR(20), price DECIMAL(10,2), big BIGINT UNSIGNED, PRIMARY KEY (shop, id))`,
  );
  const rows = [];
  for (let shop = 1; shop <= 3; shop++)
    for (let id = 1; id <= 9; id++)
      rows.push([shop, id, `n${shop}-${id}`, '1.50', '18446744073709551615']);
  await conn.query(`INSERT INTO \`${db}\`.items VALUES ?`, [rows]);
});

afterAll(async () => {
  await conn.query(`DROP DATABASE IF EXISTS \`${db}\``);
  await conn.end();
  await wipe(client, prefix);
  client.disconnect();
});

it('warms the cache from the source in key order, skipping keys an event wrote or deleted', async () => {
  const mapping = mappingFile(
    {
      database: db,
      table: 'items',
      mode: 'write',
      keys: ['item:{shop}:{id}'],
      readBatch: 4,
      etlCondition: 'where shop >= {}',
    },
    'items.yml',
    { dataSourceKey: 'src' },
  );
  const sink = createSink({ prefix, dataSources });
  const signal = new AbortController().signal;
  await sink.connect(signal);
  try {
    const ev = new EventBuilder({
      database: db,
      columns: { price: { mysqlType: 'decimal(10,2)', sqlType: 3 } },
    });
    // Events first: item 2/1 was updated (newer than the snapshot), 2/2 deleted.
    await sink.write(
      [
        {
          event: ev.update(
            'items',
            { shop: '2', id: '1', name: 'old', price: '1.50' },
            { shop: '2', id: '1', name: 'from-event', price: '9.00' },
          ),
          mapping,
        },
        { event: ev.delete('items', { shop: '2', id: '2', name: 'n2-2', price: '1.50' }), mapping },
      ],
      signal,
    );
    const progress: number[] = [];
    const result = await sink.etl(
      { mapping, params: ['2'], onProgress: (n) => progress.push(n) },
      signal,
    );
    expect(result).toEqual({ rows: 18, errors: [] });
    expect(progress).toEqual([4, 8, 12, 16, 18]);
    const keys = await keysUnder(client, prefix);
    expect(keys).toHaveLength(17); // shops 2 and 3, minus the deleted 2/2
    expect(JSON.parse((await client.get(`${prefix}item:3:9`))!)).toEqual({
      shop: 3,
      id: 9,
      name: 'n3-9',
      price: '1.50',
      big: '18446744073709551615',
    });
    expect(JSON.parse((await client.get(`${prefix}item:2:1`))!)).toMatchObject({
      name: 'from-event',
    });
    expect(await client.get(`${prefix}item:2:2`)).toBeNull();
    expect(await client.get(`${prefix}item:1:1`)).toBeNull(); // filtered out by etlCondition
    expect(await sink.count(mapping, signal)).toBe(17);
    // An event after the ETL overwrites the ETL value (it has no version).
    await sink.write(
      [
        {
          event: ev.update(
            'items',
            { shop: '3', id: '9', name: 'n3-9' },
            { shop: '3', id: '9', name: 'x' },
          ),
          mapping,
        },
      ],
      signal,
    );
    expect(JSON.parse((await client.get(`${prefix}item:3:9`))!)).toMatchObject({ name: 'x' });
  } finally {
    await sink.close(signal);
  }
});

it('refuses ETL in evict mode', async () => {
  const sink = createSink({ prefix, dataSources });
  const signal = new AbortController().signal;
  await sink.connect(signal);
  try {
    await expect(
      sink.etl({ mapping: mappingFile({ keys: ['a:{id}'] }), params: [] }, signal),
    ).rejects.toThrow(/evict needs no ETL/);
  } finally {
    await sink.close(signal);
  }
});

it('applies etlCondition only with params (canal’s rule) and refuses a placeholder/param mismatch', async () => {
  const own = `${uniqueName('etl_cond')}:`;
  const mapping = mappingFile(
    {
      database: db,
      table: 'items',
      mode: 'write',
      keys: ['item:{shop}:{id}'],
      readBatch: 10,
      etlCondition: 'WHERE shop = {} -- one shop',
    },
    'items.yml',
    { dataSourceKey: 'src' },
  );
  const sink = createSink({ prefix: own, dataSources });
  const signal = new AbortController().signal;
  await sink.connect(signal);
  try {
    // A trailing comment in the condition does not hide the rest of the query.
    expect(await sink.etl({ mapping, params: ['3'] }, signal)).toEqual({ rows: 9, errors: [] });
    expect(await keysUnder(client, own)).toHaveLength(9);
    await wipe(client, own);
    // Without params the condition is ignored: the whole table.
    expect(await sink.etl({ mapping, params: [] }, signal)).toEqual({ rows: 27, errors: [] });
    expect(await keysUnder(client, own)).toHaveLength(27);
    await expect(sink.etl({ mapping, params: ['1', '2'] }, signal)).rejects.toThrow(
      'redis/items.yml: etlCondition has 1 {} placeholder(s) but 2 param(s) were given.',
    );
  } finally {
    await sink.close(signal);
    await wipe(client, own);
  }
});
