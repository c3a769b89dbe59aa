// Parent/child `relations` (canal's customer.yml / biz_order.yml samples, one index holding both)
// against the testbed OpenSearch 2.19, which has the parent-join module; Elasticsearch 8.19's
// integ-test-zip has none, so there the sink must refuse the mapping instead of writing plain
// objects. The index has 3 shards and the test picks ids and parents that land on different
// shards, so a write, move or delete without the right routing leaves a visible ghost.
import { Client as OpenSearchClient } from '@opensearch-project/opensearch';
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChangeEvent, MappingFile } from '@sluice/plugin-api';
import { EventBuilder } from '@sluice/testkit';
import { esUrl, mysqlEndpoint, opensearchUrl, uniqueName } from '../../../test/support/testbed.js';
import type { EsMapping } from '../src/index.js';
import { createSink, dataSources, mappingFile } from './helpers.js';
import type { EsSinkInstance } from './types.js';

const signal = new AbortController().signal;
const os = new OpenSearchClient({ node: opensearchUrl(), maxRetries: 0 });
afterAll(async () => {
  await os.close();
});

/** The index of canal's customer.yml comment: customers and their orders, joined. */
const CUSTOMER_INDEX = {
  settings: { number_of_shards: 3, number_of_replicas: 0 },
  mappings: {
    properties: {
      id: { type: 'long' },
      name: { type: 'text' },
      email: { type: 'text' },
      order_id: { type: 'long' },
      order_serial: { type: 'text' },
      order_time: { type: 'date' },
      customer_order: { type: 'join', relations: { customer: 'order' } },
    },
  },
} as const;

interface Hit {
  _id: string;
  _routing?: string;
  _source: Record<string, unknown>;
}

async function search(index: string, query: object): Promise<Hit[]> {
  await os.indices.refresh({ index });
  const r = await os.search({ index, body: { query, size: 100 } });
  const hits = r.body.hits.hits as unknown as Hit[];
  return hits.sort((a, b) => (a._id < b._id ? -1 : a._id > b._id ? 1 : 0));
}

/** The shard a routing value (or an _id) goes to. */
async function shardOf(index: string, routing: string): Promise<number> {
  const r = await os.transport.request({
    method: 'GET',
    path: `/${index}/_search_shards`,
    querystring: { routing },
  });
  return (r.body as { shards: { shard: number }[][] }).shards[0]![0]!.shard;
}

describe('relations on OpenSearch 2.19 (customer.yml + biz_order.yml)', () => {
  const index = `es-sql-${uniqueName('rel')}`;
  let sink: EsSinkInstance;
  let customers: MappingFile<EsMapping>;
  let orders: MappingFile<EsMapping>;
  const ev = new EventBuilder({
    destination: 'example',
    database: 'mytest',
    columns: {
      id: { mysqlType: 'bigint(20)', sqlType: -5 },
      customer_id: { mysqlType: 'bigint(20)', sqlType: -5 },
      c_time: { mysqlType: 'datetime', sqlType: 93 },
    },
  });
  const apply = async (...events: ChangeEvent[]) => {
    const records = events.map((event) => ({
      event,
      mapping: event.kind === 'row' && event.table === 'customer' ? customers : orders,
    }));
    const result = await sink.write(records, signal);
    expect(result.map((o) => ('error' in o ? String(o.error) : o.status))).toEqual(
      events.map(() => 'applied'),
    );
  };
  const order = (id: string, customer: string, serial = `S${id}`) => ({
    id,
    customer_id: customer,
    serial_code: serial,
    c_time: '2026-12-01 08:00:00',
  });
  // Chosen in beforeAll: parents and order ids whose shards differ.
  let other = '';
  let far = '';

  beforeAll(async () => {
    await os.indices.create({ index, body: CUSTOMER_INDEX });
    customers = mappingFile({
      _index: index,
      _id: 'id',
      relations: { customer_order: { name: 'customer' } },
      sql: 'select t.id, t.name, t.email from customer t',
    });
    // biz_order.yml with a plain _id (the sample's concat('oid_', t.id) is covered by the join
    // path test); order ids start at 1000 so they never collide with customer ids.
    orders = mappingFile({
      _index: index,
      _id: '_id',
      relations: { customer_order: { name: 'order', parent: 'customer_id' } },
      sql: 'select t.id as _id, t.customer_id, t.id as order_id, t.serial_code as order_serial, t.c_time as order_time from biz_order t',
      skips: ['customer_id'],
    });
    const home = await shardOf(index, '1');
    for (let c = 2; c < 30 && other === ''; c++)
      if ((await shardOf(index, String(c))) !== home) other = String(c);
    for (let o = 1001; o < 1100 && far === ''; o++)
      if ((await shardOf(index, String(o))) !== home) far = String(o);
    expect(other).not.toBe('');
    expect(far).not.toBe('');
    sink = createSink({}, opensearchUrl());
    await sink.connect(signal);
  });
  afterAll(async () => {
    await sink.close(signal);
    await os.indices.delete({ index, ignore_unavailable: true });
  });

  it('writes parents with {name} and children with {name, parent} routed to the parent', async () => {
    await apply(
      ev.insert('customer', { id: '1', name: 'ann', email: 'a@x' }),
      ev.insert('customer', { id: other, name: 'bob', email: 'b@x' }),
      ev.insert('biz_order', order('1000', '1')),
      ev.insert('biz_order', order(far, '1')),
    );
    const hits = await search(index, { match_all: {} });
    const byId = new Map(hits.map((h) => [h._id, h]));
    // The _id field (id) is not written to _source, as canal does.
    expect(byId.get('1')?._source).toEqual({
      name: 'ann',
      email: 'a@x',
      customer_order: { name: 'customer' },
    });
    expect(byId.get('1000')?._routing).toBe('1');
    expect(byId.get('1000')?._source).toEqual({
      order_id: 1000,
      order_serial: 'S1000',
      order_time: '2026-12-01T08:00:00',
      customer_order: { name: 'order', parent: '1' },
    });
    expect(byId.get(far)?._routing).toBe('1');
    // has_child finds the parent through the relation.
    const parents = await search(index, {
      has_child: { type: 'order', query: { match: { order_serial: 'S1000' } } },
    });
    expect(parents.map((h) => h._id)).toEqual(['1']);
  });

  it('a child that changes parent moves to the new parent (no copy left under the old routing)', async () => {
    await apply(ev.update('biz_order', order(far, '1'), order(far, other)));
    const copies = await search(index, { ids: { values: [far] } });
    expect(copies.map((h) => [h._routing, h._source['customer_order']])).toEqual([
      [other, { name: 'order', parent: other }],
    ]);
    const parents = await search(index, {
      has_child: { type: 'order', query: { match_all: {} } },
    });
    expect(parents.map((h) => h._id).sort()).toEqual(['1', other].sort());
  });

  it('a replayed older event does not move the child back', async () => {
    const back = ev.update('biz_order', order(far, other), order(far, '1'));
    const move = ev.update('biz_order', order(far, '1'), order(far, other));
    await apply(back, move); // positions: back < move; the document ends under `other`
    await apply(back); // replay of the older one: 409 → applied, nothing changes
    const copies = await search(index, { ids: { values: [far] } });
    expect(copies.map((h) => h._routing)).toEqual([other]);
  });

  it('deleting a child deletes it on its parent shard', async () => {
    await apply(ev.delete('biz_order', order(far, other)));
    expect(await search(index, { ids: { values: [far] } })).toEqual([]);
    const parents = await search(index, {
      has_child: { type: 'order', query: { match_all: {} } },
    });
    expect(parents.map((h) => h._id)).toEqual(['1']);
  });

  it('a child row without a parent id is dead-lettered alone', async () => {
    const result = await sink.write(
      [
        {
          event: ev.insert('biz_order', { ...order('1001', '1'), customer_id: null }),
          mapping: orders,
        },
        { event: ev.insert('biz_order', order('1002', '1')), mapping: orders },
      ],
      signal,
    );
    expect(result.map((o) => ('error' in o ? String(o.error) : o.status))).toEqual([
      expect.stringMatching(/parent field "customer_id" is NULL or empty/),
      'applied',
    ]);
  });
});

describe("canal's exact biz_order.yml (computed _id concat('oid_', t.id)) re-queried from MariaDB, on OpenSearch 2.19", () => {
  const index = `es-sql-${uniqueName('bizorder')}`;
  const db = uniqueName('es_sql_rel');
  let conn: mysql.Connection;
  let sink: EsSinkInstance;
  let customers: MappingFile<EsMapping>;
  let orders: MappingFile<EsMapping>;
  const ev = new EventBuilder({
    destination: 'example',
    database: db,
    columns: {
      id: { mysqlType: 'bigint(20)', sqlType: -5 },
      customer_id: { mysqlType: 'bigint(20)', sqlType: -5 },
      c_time: { mysqlType: 'datetime', sqlType: 93 },
    },
  });
  const apply = async (...events: ChangeEvent[]) => {
    const records = events.map((event) => ({
      event,
      mapping: event.kind === 'row' && event.table === 'customer' ? customers : orders,
    }));
    const result = await sink.write(records, signal);
    expect(result.map((o) => ('error' in o ? String(o.error) : o.status))).toEqual(
      events.map(() => 'applied'),
    );
  };
  const order = (id: string, customer: string, serial: string) => ({
    id,
    customer_id: customer,
    serial_code: serial,
    c_time: '2026-12-01 08:00:00',
  });
  /** The order documents the source says there should be: _id → [routing, _source]. */
  async function expected(): Promise<[string, string, Record<string, unknown>][]> {
    const [rows] = await conn.query(
      "SELECT concat('oid_', t.id) AS _id, t.customer_id, t.id AS order_id, t.serial_code, DATE_FORMAT(t.c_time, '%Y-%m-%dT%H:%i:%s') AS t FROM biz_order t",
    );
    const list = (rows as Record<string, unknown>[]).sort((a, b) =>
      String(a['_id']) < String(b['_id']) ? -1 : 1,
    );
    return list.map((r) => [
      String(r['_id']),
      String(r['customer_id']),
      {
        order_id: Number(r['order_id']),
        order_serial: r['serial_code'],
        order_time: r['t'],
        customer_order: { name: 'order', parent: String(r['customer_id']) },
      },
    ]);
  }
  async function actual(): Promise<[string, string | undefined, Record<string, unknown>][]> {
    const hits = await search(index, { exists: { field: 'order_id' } });
    return hits.map((h) => [h._id, h._routing, h._source]);
  }
  let other = '';
  let far = '';

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
    await conn.query(
      'CREATE TABLE customer (id BIGINT PRIMARY KEY, name VARCHAR(50), email VARCHAR(50), c_time DATETIME)',
    );
    await conn.query(
      'CREATE TABLE biz_order (id BIGINT PRIMARY KEY, customer_id BIGINT, serial_code VARCHAR(50), c_time DATETIME)',
    );
    await os.indices.create({ index, body: CUSTOMER_INDEX });
    // conf/es8/customer.yml and conf/es8/biz_order.yml of canal's samples, with this index.
    customers = mappingFile({
      _index: index,
      _id: 'id',
      relations: { customer_order: { name: 'customer' } },
      sql: 'select t.id, t.name, t.email from customer t',
    });
    orders = mappingFile({
      _index: index,
      _id: '_id',
      relations: { customer_order: { name: 'order', parent: 'customer_id' } },
      sql: "select concat('oid_', t.id) as _id,\n        t.customer_id,\n        t.id as order_id,\n        t.serial_code as order_serial,\n        t.c_time as order_time\n        from biz_order t",
      skips: ['customer_id'],
    });
    const home = await shardOf(index, '1');
    for (let c = 2; c < 30 && other === ''; c++)
      if ((await shardOf(index, String(c))) !== home) other = String(c);
    for (let o = 1; o < 100 && far === ''; o++)
      if ((await shardOf(index, `oid_${o}`)) !== home) far = String(o);
    expect(other).not.toBe('');
    expect(far).not.toBe('');
    sink = createSink({}, opensearchUrl(), dataSources('defaultDS', db));
    await sink.connect(signal);
  });
  afterAll(async () => {
    await sink.close(signal);
    await os.indices.delete({ index, ignore_unavailable: true });
    await conn.query(`DROP DATABASE IF EXISTS \`${db}\``);
    await conn.end();
  });

  it('inserts write oid_<id> documents routed to their customer; has_child finds the customer', async () => {
    await conn.query(
      `INSERT INTO customer VALUES (1, 'ann', 'a@x', NOW()), (${other}, 'bob', 'b@x', NOW())`,
    );
    await conn.query(
      `INSERT INTO biz_order VALUES (${far}, 1, 'S1', '2026-12-01 08:00:00'), (200, 1, 'S2', '2026-12-01 08:00:00')`,
    );
    await apply(
      ev.insert('customer', { id: '1', name: 'ann', email: 'a@x' }),
      ev.insert('customer', { id: other, name: 'bob', email: 'b@x' }),
      ev.insert('biz_order', order(far, '1', 'S1')),
      ev.insert('biz_order', order('200', '1', 'S2')),
    );
    expect(await actual()).toEqual(await expected());
    expect((await actual()).map((d) => d[0]).sort()).toEqual([`oid_${far}`, 'oid_200'].sort());
    const parents = await search(index, {
      has_child: { type: 'order', query: { match: { order_serial: 'S2' } } },
    });
    expect(parents.map((h) => h._id)).toEqual(['1']);
  });

  it('an update rewrites the document; a move to another customer leaves no copy behind', async () => {
    await conn.query(
      `UPDATE biz_order SET serial_code = 'S2b', customer_id = ${other} WHERE id = 200`,
    );
    await apply(ev.update('biz_order', order('200', '1', 'S2'), order('200', other, 'S2b')));
    expect(await actual()).toEqual(await expected());
    const copies = await search(index, { ids: { values: ['oid_200'] } });
    expect(copies.map((h) => h._routing)).toEqual([other]);
    const parents = await search(index, {
      has_child: { type: 'order', query: { match: { order_serial: 'S2b' } } },
    });
    expect(parents.map((h) => h._id)).toEqual([other]);
  });

  it('a delete removes the oid_ document from its parent shard (canal deletes nothing here)', async () => {
    await conn.query(`DELETE FROM biz_order WHERE id = ${far}`);
    await apply(ev.delete('biz_order', order(far, '1', 'S1')));
    expect(await actual()).toEqual(await expected());
    expect(await search(index, { ids: { values: [`oid_${far}`] } })).toEqual([]);
  });

  it('an order id change moves the document to the new oid_ id', async () => {
    await conn.query('UPDATE biz_order SET id = 201 WHERE id = 200');
    await apply(ev.update('biz_order', order('200', other, 'S2b'), order('201', other, 'S2b')));
    expect(await actual()).toEqual(await expected());
    expect((await actual()).map((d) => d[0])).toEqual(['oid_201']);
  });

  it('ETL writes the same routed, computed-id documents', async () => {
    await conn.query(
      "INSERT INTO biz_order VALUES (300, 1, 'S3', '2026-12-01 08:00:00'), (301, 1, 'S4', '2026-12-01 08:00:00')",
    );
    await os.deleteByQuery({
      index,
      refresh: true,
      body: { query: { exists: { field: 'order_id' } } },
    });
    expect(await actual()).toEqual([]);
    const result = await sink.etl!({ mapping: orders, params: [] }, signal);
    expect(result).toEqual({ rows: 3, errors: [] });
    expect(await actual()).toEqual(await expected());
    expect((await actual()).map((d) => [d[0], d[1]])).toEqual([
      ['oid_201', other],
      ['oid_300', '1'],
      ['oid_301', '1'],
    ]);
  });
});

describe('relations on Elasticsearch 8.19 (integ-test-zip: no parent-join module)', () => {
  const index = `es-sql-${uniqueName('relx')}`;
  afterAll(async () => {
    await fetch(`${esUrl()}/${index}`, { method: 'DELETE' });
  });

  it('the server cannot map a join field, and the sink refuses to write relations without one', async () => {
    const create = await fetch(`${esUrl()}/${index}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(CUSTOMER_INDEX),
    });
    expect(create.status).toBe(400);
    expect(await create.text()).toMatch(
      /The mapper type \[join\] declared on field \[customer_order\] does not exist/,
    );
    const plain = await fetch(`${esUrl()}/${index}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ mappings: { properties: { id: { type: 'long' } } } }),
    });
    expect(plain.status).toBe(200);
    const sink = createSink({}, esUrl());
    await sink.connect(signal);
    try {
      const ev = new EventBuilder({ destination: 'example', database: 'mytest' });
      const customers = mappingFile({
        _index: index,
        _id: 'id',
        relations: { customer_order: { name: 'customer' } },
        sql: 'select t.id, t.name from customer t',
      });
      await expect(
        sink.write(
          [{ event: ev.insert('customer', { id: '1', name: 'a' }), mapping: customers }],
          signal,
        ),
      ).rejects.toThrow(
        /has no field "customer_order"; parent\/child documents need "customer_order" mapped with type join/,
      );
    } finally {
      await sink.close(signal);
    }
  });
});
