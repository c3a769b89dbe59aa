// A LEFT JOINed group_concat sub-query (canal's documented shape, objFields array:;) against the
// testbed MariaDB and both Elasticsearch 8.19 and OpenSearch 2.19: label inserts, updates, moves
// and deletes rewrite every user document that joins them. After each step every document is
// compared with the source rows read by SQL.
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
const db = uniqueName('es_sql_gc');
let conn: mysql.Connection;

const SUBQUERY =
  "select user_id, group_concat(label order by id desc separator ';') as labels from label group by user_id";

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
  await conn.query('CREATE TABLE user (id BIGINT PRIMARY KEY, name VARCHAR(50))');
  await conn.query(
    'CREATE TABLE label (id BIGINT PRIMARY KEY, user_id BIGINT, label VARCHAR(50), KEY (user_id))',
  );
});
afterAll(async () => {
  await conn.query(`DROP DATABASE IF EXISTS \`${db}\``);
  await conn.end();
});

/** The documents the mapping should give, from the source (by _id). */
async function expected(): Promise<Record<string, Record<string, unknown>>> {
  const [rows] = await conn.query(
    `SELECT a.id, a.name, l.labels FROM user a LEFT JOIN (${SUBQUERY}) l ON l.user_id = a.id`,
  );
  const out: Record<string, Record<string, unknown>> = {};
  for (const r of rows as Record<string, unknown>[])
    out[String(r['id'])] = {
      name: r['name'],
      labels: r['labels'] === null ? null : String(r['labels']).split(';'),
    };
  return out;
}

async function actual(api: SearchApi, index: string): Promise<Record<string, unknown>> {
  await api.refresh([index], signal);
  const [res] = await api.msearch([{ index }, { query: { match_all: {} }, size: 1000 }], signal);
  if (!res || 'error' in res) throw new Error(`search failed: ${JSON.stringify(res)}`);
  return Object.fromEntries(res.hits.hits.map((h) => [h._id, h._source]));
}

describe.each([
  ['Elasticsearch 8.19', () => esUrl()],
  ['OpenSearch 2.19', () => opensearchUrl()],
])('user with a group_concat sub-query of label on %s', (_name, url) => {
  const index = `es-sql-${uniqueName('gc')}`;
  let api: SearchApi;
  let sink: EsSinkInstance;
  let mapping: MappingFile<EsMapping>;
  let offset = 0;
  const ev = new EventBuilder({
    destination: 'example',
    database: db,
    columns: {
      id: { mysqlType: 'bigint(20)', sqlType: -5 },
      user_id: { mysqlType: 'bigint(20)', sqlType: -5 },
    },
  });
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
  const label = (id: number, userId: number, text: string) => ({
    id: String(id),
    user_id: String(userId),
    label: text,
  });

  beforeAll(async () => {
    api = await openSearchApi(
      connection(url(), { requestTimeoutMs: 10_000, refresh: false, server: 'auto' }, '/', 't'),
      signal,
    );
    mapping = mappingFile({
      _index: index,
      _id: '_id',
      sql: `select a.id as _id, a.name, l.labels from user a left join (${SUBQUERY}) l on l.user_id = a.id`,
      objFields: { labels: 'array:;' },
    });
    sink = createSink({}, url(), dataSources('defaultDS', db));
    await sink.connect(signal);
    await conn.query('DELETE FROM user');
    await conn.query('DELETE FROM label');
  });
  afterAll(async () => {
    await sink.close(signal);
    await fetch(`${url()}/${index}`, { method: 'DELETE' });
    await api.close();
  });

  it('inserts: each user document carries its labels, newest first', async () => {
    await conn.query("INSERT INTO user VALUES (1, 'u1'), (2, 'u2'), (3, 'u3')");
    await conn.query("INSERT INTO label VALUES (1, 1, 'a'), (2, 1, 'b'), (3, 2, 'c')");
    await apply(
      ev.insert('user', { id: '1', name: 'u1' }),
      ev.insert('user', { id: '2', name: 'u2' }),
      ev.insert('user', { id: '3', name: 'u3' }),
      ev.insert('label', label(1, 1, 'a')),
      ev.insert('label', label(2, 1, 'b')),
      ev.insert('label', label(3, 2, 'c')),
    );
    const docs = await actual(api, index);
    expect(docs).toEqual(await expected());
    expect(docs['1']).toEqual({ name: 'u1', labels: ['b', 'a'] });
    expect(docs['3']).toEqual({ name: 'u3', labels: null });
  });

  it('a new label of a user without labels reaches its document', async () => {
    await conn.query("INSERT INTO label VALUES (4, 3, 'd')");
    await apply(ev.insert('label', label(4, 3, 'd')));
    const docs = await actual(api, index);
    expect(docs['3']).toEqual({ name: 'u3', labels: ['d'] });
    expect(docs).toEqual(await expected());
  });

  it('a renamed label and a label moved to another user rewrite both documents', async () => {
    await conn.query("UPDATE label SET label = 'z' WHERE id = 1");
    await conn.query('UPDATE label SET user_id = 2 WHERE id = 2');
    await apply(
      ev.update('label', label(1, 1, 'a'), label(1, 1, 'z')),
      ev.update('label', label(2, 1, 'b'), label(2, 2, 'b')),
    );
    const docs = await actual(api, index);
    expect(docs['1']).toEqual({ name: 'u1', labels: ['z'] });
    expect(docs['2']).toEqual({ name: 'u2', labels: ['c', 'b'] });
    expect(docs).toEqual(await expected());
  });

  it("deleting a user's last label empties its document's labels (canal leaves them stale)", async () => {
    await conn.query('DELETE FROM label WHERE id = 4');
    await apply(ev.delete('label', label(4, 3, 'd')));
    const docs = await actual(api, index);
    expect(docs['3']).toEqual({ name: 'u3', labels: null });
    expect(docs).toEqual(await expected());
  });
});
