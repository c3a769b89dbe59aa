// Join mappings against the testbed MariaDB (source) and both Elasticsearch 8.19 and OpenSearch
// 2.19: canal's sample mytest_user mapping (LEFT JOIN role). The test changes the source rows
// and feeds the matching row events, as canal would read them from the binlog; after each step
// every document is compared with the source rows read by SQL.
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChangeEvent, MappingFile } from '@sluice/plugin-api';
import { EventBuilder } from '@sluice/testkit';
import { esUrl, mysqlEndpoint, opensearchUrl, uniqueName } from '../../../test/support/testbed.js';
import type { EsMapping } from '../src/index.js';
import { connection } from '../src/properties.js';
import { openSearchApi, type SearchApi } from '../src/searchApi.js';
import { createSink, dataSources, mappingFile } from './helpers.js';
import type { EsSinkInstance } from './types.js';

const signal = new AbortController().signal;
const db = uniqueName('esjoin');
let conn: mysql.Connection;

beforeAll(async () => {
  const e = mysqlEndpoint();
  conn = await mysql.createConnection({
    host: e.host,
    port: e.port,
    user: e.user,
    password: e.password,
  });
  await conn.query(`CREATE DATABASE \`${db}\``);
  await conn.query(`USE \`${db}\``);
  await conn.query('CREATE TABLE role (id BIGINT PRIMARY KEY, role_name VARCHAR(50))');
  await conn.query(
    'CREATE TABLE user (id BIGINT PRIMARY KEY, name VARCHAR(50), role_id BIGINT, c_time DATETIME)',
  );
});
afterAll(async () => {
  await conn.query(`DROP DATABASE IF EXISTS \`${db}\``);
  await conn.end();
});

/** The documents the mapping should give, from the source (by _id). */
async function expected(): Promise<Record<string, Record<string, unknown>>> {
  const [rows] = await conn.query(
    `SELECT a.id, a.name, a.role_id, b.role_name, DATE_FORMAT(a.c_time, '%Y-%m-%dT%H:%i:%s') AS c_time
       FROM user a LEFT JOIN role b ON b.id = a.role_id`,
  );
  const out: Record<string, Record<string, unknown>> = {};
  for (const r of rows as Record<string, unknown>[])
    out[String(r['id'])] = {
      name: r['name'],
      role_id: r['role_id'] === null ? null : Number(r['role_id']),
      role_name: r['role_name'],
      c_time: r['c_time'],
    };
  return out;
}

/** Every document of the index, by _id. */
async function actual(api: SearchApi, index: string): Promise<Record<string, unknown>> {
  await api.refresh([index], signal);
  const [res] = await api.msearch([{ index }, { query: { match_all: {} }, size: 1000 }], signal);
  if (!res || 'error' in res) throw new Error(`search failed: ${JSON.stringify(res)}`);
  return Object.fromEntries(res.hits.hits.map((h) => [h._id, h._source]));
}

describe.each([
  ['Elasticsearch 8.19', () => esUrl()],
  ['OpenSearch 2.19', () => opensearchUrl()],
])('mytest_user with LEFT JOIN role on %s', (_name, url) => {
  const index = uniqueName('mytest_user');
  let api: SearchApi;
  let sink: EsSinkInstance;
  let mapping: MappingFile<EsMapping>;
  let ev: EventBuilder;
  let offset = 0;

  const apply = async (...events: ChangeEvent[]) => {
    const result = await sink.write(
      events.map((event) => ({
        event: { ...event, position: { ...event.position, offset: String(++offset) } },
        mapping,
      })),
      signal,
    );
    expect(result.map((o) => ('error' in o ? String(o.error) : o.status))).toEqual(
      events.map(() => 'applied'),
    );
  };
  const user = (id: number, name: string, roleId: number | null) => ({
    id: String(id),
    name,
    role_id: roleId === null ? null : String(roleId),
    c_time: '2026-11-30 10:00:00',
  });

  beforeAll(async () => {
    api = await openSearchApi(
      connection(url(), { requestTimeoutMs: 10_000, refresh: false, server: 'auto' }, '/', 't'),
      signal,
    );
    // conf/es8/mytest_user.yml of canal's samples, with the test's index and database.
    mapping = mappingFile({
      _index: index,
      _id: '_id',
      sql: 'select a.id as _id, a.name, a.role_id, b.role_name, a.c_time from user a left join role b on b.id=a.role_id',
    });
    sink = createSink({}, url(), dataSources('defaultDS', db));
    await sink.connect(signal);
    ev = new EventBuilder({
      destination: 'example',
      database: db,
      columns: {
        id: { mysqlType: 'bigint(20)', sqlType: -5 },
        role_id: { mysqlType: 'bigint(20)', sqlType: -5 },
        c_time: { mysqlType: 'datetime', sqlType: 93 },
      },
    });
    await conn.query('DELETE FROM user');
    await conn.query('DELETE FROM role');
  });
  afterAll(async () => {
    await sink.close(signal);
    await fetch(`${url()}/${index}`, { method: 'DELETE' });
    await api.close();
  });

  it('inserts build documents from the source rows (roles joined)', async () => {
    await conn.query("INSERT INTO role VALUES (1, 'admin'), (2, 'guest')");
    await conn.query(
      "INSERT INTO user VALUES (1,'u1',1,'2026-11-30 10:00:00'),(2,'u2',1,'2026-11-30 10:00:00'),(3,'u3',2,'2026-11-30 10:00:00'),(4,'u4',NULL,'2026-11-30 10:00:00'),(5,'u5',1,'2026-11-30 10:00:00')",
    );
    await apply(
      ev.insert('role', { id: '1', role_name: 'admin' }),
      ev.insert('role', { id: '2', role_name: 'guest' }),
      ev.insert('user', user(1, 'u1', 1)),
      ev.insert('user', user(2, 'u2', 1)),
      ev.insert('user', user(3, 'u3', 2)),
      ev.insert('user', user(4, 'u4', null)),
      ev.insert('user', user(5, 'u5', 1)),
    );
    const docs = await actual(api, index);
    expect(docs).toEqual(await expected());
    expect(docs['1']).toEqual({
      name: 'u1',
      role_id: 1,
      role_name: 'admin',
      c_time: '2026-11-30T10:00:00',
    });
  });

  it('renaming a role updates every user document that joins it', async () => {
    await conn.query("UPDATE role SET role_name = 'root' WHERE id = 1");
    await apply(ev.update('role', { id: '1', role_name: 'admin' }, { id: '1', role_name: 'root' }));
    const docs = await actual(api, index);
    expect(docs).toEqual(await expected());
    expect(
      Object.values(docs).filter((d) => (d as { role_name: string }).role_name === 'root'),
    ).toHaveLength(3);
  });

  it('a deleted role nulls its fields in the documents that joined it', async () => {
    await conn.query('DELETE FROM role WHERE id = 2');
    await apply(ev.delete('role', { id: '2', role_name: 'guest' }));
    const docs = await actual(api, index);
    expect(docs).toEqual(await expected());
    expect(docs['3']).toMatchObject({ role_id: 2, role_name: null });
  });

  it('a user changing role, a primary-key change and a delete', async () => {
    await conn.query('UPDATE user SET role_id = 1 WHERE id = 4');
    await conn.query('UPDATE user SET id = 50 WHERE id = 5');
    await conn.query('DELETE FROM user WHERE id = 2');
    await apply(
      ev.update('user', user(4, 'u4', null), user(4, 'u4', 1)),
      ev.update('user', user(5, 'u5', 1), user(50, 'u5', 1)),
      ev.delete('user', user(2, 'u2', 1)),
    );
    const docs = await actual(api, index);
    expect(docs).toEqual(await expected());
    expect(Object.keys(docs).sort()).toEqual(['1', '3', '4', '50']);
  });

  it('a replayed old event writes the current state again (idempotent)', async () => {
    await apply(
      ev.insert('role', { id: '1', role_name: 'admin' }),
      ev.insert('user', user(5, 'u5', 1)),
      ev.update('user', user(2, 'u2', 1), user(2, 'u2x', 1)),
    );
    expect(await actual(api, index)).toEqual(await expected());
  });
});
