/**
 * ETL (full sync) of es mappings from the testbed MariaDB into Elasticsearch 8.19 and OpenSearch
 * 2.19: after the ETL every document equals its source row (NULLs, unicode, decimals, datetimes,
 * integers beyond 2^53, objFields), read back by a separate SQL query — not through the sink's
 * own conversion. Also keyset pages and progress, etlCondition bound as parameters, resuming
 * after an interruption, a one-to-many LEFT JOIN whose rows straddle pages, pk mode, the gate
 * against the stream, and `sluice etl es8 KEY TASK` from the command line.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EtlResult, MappingFile } from '@sluice/plugin-api';
import { esUrl, mysqlEndpoint, opensearchUrl, uniqueName } from '../../../test/support/testbed.js';
import { esSink, type EsMapping } from '../src/index.js';
import { checkpointFile } from '../src/etl.js';
import { SluiceProcess } from '../../../test/e2e/support/sluice.js';
import { dataSources, mappingFile } from './helpers.js';
import type { EsSinkInstance } from './types.js';

const signal = new AbortController().signal;
const ROWS = 2_345;
const db = uniqueName('es_ops_etl');
const esIndex = (p: string) => `es-ops-${uniqueName(p).replace(/_/g, '-')}`;
let conn: mysql.Connection;

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

beforeAll(async () => {
  const e = mysqlEndpoint();
  conn = await mysql.createConnection({
    host: e.host,
    port: e.port,
    user: e.user,
    password: e.password,
    charset: 'utf8mb4_general_ci',
    supportBigNumbers: true,
    bigNumberStrings: true,
    dateStrings: true,
  });
  await conn.query(`CREATE DATABASE \`${db}\` DEFAULT CHARACTER SET utf8mb4`);
  await conn.query(`USE \`${db}\``);
  await conn.query(
    `CREATE TABLE items (id BIGINT PRIMARY KEY, name VARCHAR(64) NULL, price DECIMAL(12,2) NOT NULL,
       qty INT NULL, big BIGINT NULL, c_time DATETIME(3) NULL, d DATE NULL, tags VARCHAR(64) NULL,
       ratio DOUBLE NULL) DEFAULT CHARSET=utf8mb4`,
  );
  const values: string[] = [];
  for (let i = 1; i <= ROWS; i++) {
    const name = i % 11 === 0 ? 'NULL' : `'名前 ${i} Zoë 🚀 \\'q\\''`;
    const qty = i % 7 === 0 ? 'NULL' : String(i * 3);
    const big = i % 5 === 0 ? 'NULL' : (9007199254740993n + BigInt(i)).toString();
    const ct =
      i % 13 === 0
        ? 'NULL'
        : `'2026-11-30 10:${String(i % 60).padStart(2, '0')}:05.${String(i % 1000).padStart(3, '0')}'`;
    const d = i % 17 === 0 ? 'NULL' : `'2026-01-${String((i % 28) + 1).padStart(2, '0')}'`;
    const tags = i % 3 === 0 ? 'NULL' : i % 3 === 1 ? `'a;b;${i}'` : `''`;
    values.push(
      `(${i}, ${name}, ${(i * 1.01).toFixed(2)}, ${qty}, ${big}, ${ct}, ${d}, ${tags}, ${i / 8})`,
    );
  }
  await conn.query(`INSERT INTO items VALUES ${values.join(',')}`);
  await conn.query('CREATE TABLE role (id BIGINT PRIMARY KEY, role_name VARCHAR(50))');
  await conn.query(
    'CREATE TABLE user (id BIGINT PRIMARY KEY, name VARCHAR(50), role_id BIGINT NULL)',
  );
  await conn.query('CREATE TABLE tag (id BIGINT PRIMARY KEY, user_id BIGINT, label VARCHAR(20))');
  await conn.query("INSERT INTO role VALUES (1, 'admin'), (2, 'gäst 😀')");
  const users: string[] = [];
  const tags: string[] = [];
  for (let u = 1; u <= 60; u++) {
    // role 3 does not exist: its users get role_name null, as users without a role.
    users.push(`(${u}, 'u${u}', ${u % 4 === 0 ? 'NULL' : String((u % 3) + 1)})`);
    // users 1..60 have 0 to 4 tags each: one-to-many rows straddle the pages of 7 rows.
    for (let t = 0; t < u % 5; t++) tags.push(`(${u * 10 + t}, ${u}, 't${u}-${t}')`);
  }
  await conn.query(`INSERT INTO user VALUES ${users.join(',')}`);
  await conn.query(`INSERT INTO tag VALUES ${tags.join(',')}`);
});
afterAll(async () => {
  await conn.query(`DROP DATABASE IF EXISTS \`${db}\``);
  await conn.end();
});

/** The documents the items mapping should give, read from the source by SQL (by _id). */
async function expectedItems(where = ''): Promise<Map<string, Record<string, unknown>>> {
  const [rows] = await conn.query(
    `SELECT CAST(id AS CHAR) AS id, name, CAST(price AS CHAR) AS price, qty, CAST(big AS CHAR) AS big,
            DATE_FORMAT(c_time, '%Y-%m-%dT%H:%i:%s.%f') AS c_time, DATE_FORMAT(d, '%Y-%m-%d') AS d,
            tags, ratio FROM items ${where} ORDER BY id`,
  );
  const out = new Map<string, Record<string, unknown>>();
  for (const r of rows as Record<string, string | number | null>[]) {
    const big = r['big'] === null ? null : BigInt(r['big'] as string);
    const tags = r['tags'] as string | null;
    out.set(String(r['id']), {
      name: r['name'],
      price: r['price'],
      qty: r['qty'] === null ? null : Number(r['qty']),
      big: big === null ? null : big <= MAX_SAFE ? Number(big) : big.toString(),
      c_time: r['c_time'] === null ? null : String(r['c_time']).slice(0, 23),
      d: r['d'],
      tags: tags === null ? null : tags === '' ? [] : tags.split(';'),
      ratio: r['ratio'] === null ? null : Number(r['ratio']),
    });
  }
  return out;
}

async function http<T>(base: string, method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return (await res.json()) as T;
}

/** Every document of `index` by _id (at most 10 000: the tests' indices are smaller). */
async function documents(base: string, index: string): Promise<Map<string, unknown>> {
  await http(base, 'POST', `/${index}/_refresh`);
  const r = await http<{
    hits: { total: { value: number }; hits: { _id: string; _source: unknown }[] };
  }>(base, 'POST', `/${index}/_search`, {
    size: 10_000,
    track_total_hits: true,
    query: { match_all: {} },
  });
  if (r.hits.total.value > 10_000) throw new Error(`${index} has more than 10 000 documents`);
  return new Map(r.hits.hits.map((h) => [h._id, h._source]));
}

function sink(url: string, configDir: string): EsSinkInstance {
  return esSink.create({
    key: 'es1',
    name: 'es8',
    hosts: url,
    properties: { requestTimeoutMs: 30_000, refresh: false, server: 'auto' },
    configDir,
    deps: { dataSources: dataSources('defaultDS', db) },
  });
}

async function etl(
  url: string,
  mapping: MappingFile<EsMapping>,
  params: string[] = [],
  options: { configDir?: string; progress?: number[]; total?: number[]; stopAt?: number } = {},
): Promise<EtlResult> {
  const s = sink(url, options.configDir ?? (await mkdtemp(join(tmpdir(), 'es-ops-etl-'))));
  await s.connect(signal);
  const controller = new AbortController();
  try {
    return await s.etl!(
      {
        mapping,
        params,
        onProgress: (n) => {
          options.progress?.push(n);
          if (options.stopAt !== undefined && n >= options.stopAt) controller.abort();
        },
        onTotal: (n) => options.total?.push(n),
      },
      controller.signal,
    );
  } finally {
    await s.close(signal);
  }
}

const itemsSql =
  'select a.id as _id, a.name, a.price, a.qty, a.big, a.c_time, a.d, a.tags, a.ratio from items a';
const itemsProperties = {
  name: { type: 'keyword' },
  price: { type: 'keyword' },
  qty: { type: 'integer' },
  big: { type: 'long' },
  c_time: { type: 'date' },
  d: { type: 'date' },
  tags: { type: 'keyword' },
  ratio: { type: 'double' },
};

describe.each([
  ['Elasticsearch 8.19', () => esUrl()],
  ['OpenSearch 2.19', () => opensearchUrl()],
])('ETL on %s', (_name, url) => {
  const index = esIndex('etl_items');
  const items = (extra: Partial<EsMapping['esMapping']> = {}) =>
    mappingFile({
      _index: index,
      _id: '_id',
      sql: itemsSql,
      objFields: { tags: 'array:;' },
      commitBatch: 1000,
      ...extra,
    });

  beforeAll(async () => {
    await http(url(), 'PUT', `/${index}`, { mappings: { properties: itemsProperties } });
  });
  afterAll(async () => {
    await http(url(), 'DELETE', `/${index}?ignore_unavailable=true`);
  });

  it('indexes every row as its document, page by page, with progress', async () => {
    const progress: number[] = [];
    const total: number[] = [];
    const result = await etl(url(), items(), [], { progress, total });
    expect(result).toEqual({ rows: ROWS, errors: [] });
    expect(total).toEqual([ROWS]);
    expect(progress).toEqual([0, 1000, 2000, ROWS]);
    const docs = await documents(url(), index);
    const want = await expectedItems();
    expect(docs.size).toBe(want.size);
    for (const [id, doc] of want) expect(docs.get(id), `document ${id}`).toEqual(doc);
    // count (GET /count/es8/…) answers the index's document count.
    const s = sink(url(), '/tmp');
    await s.connect(signal);
    expect(await s.count!(items(), signal)).toEqual({ count: ROWS, fields: { esIndex: index } });
    await s.close(signal);
  }, 120_000);

  it('binds etlCondition params and never splices them into the SQL', async () => {
    await http(url(), 'DELETE', `/${index}`);
    await http(url(), 'PUT', `/${index}`, { mappings: { properties: itemsProperties } });
    const m = items({ etlCondition: 'where a.id > {} and a.price <> {}' });
    expect(await etl(url(), m, ['2000', 'x'])).toEqual({ rows: ROWS - 2000, errors: [] });
    expect((await documents(url(), index)).size).toBe(ROWS - 2000);
    // An injection attempt is a value: '0 OR 1=1' compares as 0, the quote ends nothing.
    const nameOnly = items({ etlCondition: 'where a.name = {}' });
    expect(await etl(url(), nameOnly, ["x' OR '1'='1"])).toEqual({ rows: 0, errors: [] });
    expect((await documents(url(), index)).size).toBe(ROWS - 2000);
    // Without params the condition is ignored, as canal does.
    expect(await etl(url(), m, [])).toEqual({ rows: ROWS, errors: [] });
    // A placeholder count that differs from the params is refused before anything is read.
    await expect(etl(url(), m, ['1'])).rejects.toThrow(/2 \{\} placeholder\(s\) but 1 param/);
  }, 120_000);

  it('resumes an interrupted run after its last written page', async () => {
    await http(url(), 'DELETE', `/${index}`);
    await http(url(), 'PUT', `/${index}`, { mappings: { properties: itemsProperties } });
    const configDir = await mkdtemp(join(tmpdir(), 'es-ops-etl-resume-'));
    const m = items();
    await expect(etl(url(), m, [], { configDir, stopAt: 1000 })).rejects.toThrow();
    const file = checkpointFile(join(configDir, '.sluice', 'etl'), 'es1', m.name);
    expect(existsSync(file)).toBe(true);
    expect((await documents(url(), index)).size).toBe(1000);
    // Documents of the first page are deleted: a resumed run must not write them again.
    await http(url(), 'DELETE', `/${index}`);
    await http(url(), 'PUT', `/${index}`, { mappings: { properties: itemsProperties } });
    const progress: number[] = [];
    expect(await etl(url(), m, [], { configDir, progress })).toEqual({ rows: ROWS, errors: [] });
    expect(progress).toEqual([1000, 2000, ROWS]);
    const docs = await documents(url(), index);
    expect(docs.size).toBe(ROWS - 1000);
    expect(docs.has('1000')).toBe(false);
    expect(docs.has('1001')).toBe(true);
    expect(existsSync(file)).toBe(false);
  }, 120_000);

  it('a one-to-many LEFT JOIN mapping: every user once, whatever straddles the pages', async () => {
    const joinIndex = esIndex('etl_user_tags');
    const m = mappingFile({
      _index: joinIndex,
      _id: '_id',
      sql: "select a.id as _id, a.name, b.role_name, t.label, concat(a.name, '/', ifnull(b.role_name, '-')) as who from user a left join role b on b.id = a.role_id left join tag t on t.user_id = a.id",
      commitBatch: 7,
    });
    try {
      const result = await etl(url(), m);
      const [[counted]] = (await conn.query(
        'SELECT COUNT(*) AS n FROM user a LEFT JOIN tag t ON t.user_id = a.id',
      )) as unknown as [{ n: number }[]];
      const n = counted!.n;
      expect(result).toEqual({ rows: Number(n), errors: [] });
      const docs = await documents(url(), joinIndex);
      const [rows] = await conn.query(
        `SELECT a.id, a.name, b.role_name, t.label FROM user a LEFT JOIN role b ON b.id = a.role_id
           LEFT JOIN tag t ON t.user_id = a.id ORDER BY a.id`,
      );
      const byUser = new Map<string, Record<string, unknown>[]>();
      for (const r of rows as Record<string, unknown>[]) {
        const list = byUser.get(String(r['id'])) ?? [];
        list.push(r);
        byUser.set(String(r['id']), list);
      }
      expect(docs.size).toBe(byUser.size);
      for (const [id, list] of byUser) {
        const doc = docs.get(id) as Record<string, unknown>;
        expect(doc, `user ${id}`).toBeDefined();
        expect(doc['name']).toBe(list[0]!['name']);
        expect(doc['role_name']).toBe(list[0]!['role_name']);
        expect(doc['who']).toBe(
          `${String(list[0]!['name'])}/${String(list[0]!['role_name'] ?? '-')}`,
        );
        // One of the user's rows wins (canal: the last one read).
        expect(list.map((r) => r['label'])).toContain(doc['label']);
      }
    } finally {
      await http(url(), 'DELETE', `/${joinIndex}?ignore_unavailable=true`);
    }
  }, 120_000);

  it('pk mode: existing documents are located by the pk field, the others get the pk as _id', async () => {
    const pkIndex = esIndex('etl_pk');
    await http(url(), 'PUT', `/${pkIndex}`, {
      mappings: { properties: { id: { type: 'long' }, name: { type: 'keyword' } } },
    });
    try {
      await http(url(), 'PUT', `/${pkIndex}/_doc/auto-7?refresh=true`, { id: 7, name: 'old' });
      const m = mappingFile({
        _index: pkIndex,
        pk: 'id',
        sql: 'select a.id, a.name from user a',
        etlCondition: 'where a.id <= {}',
      });
      expect(await etl(url(), m, ['10'])).toEqual({ rows: 10, errors: [] });
      const docs = await documents(url(), pkIndex);
      expect(docs.size).toBe(10);
      expect(docs.get('auto-7')).toEqual({ id: 7, name: 'u7' });
      expect(docs.has('7')).toBe(false);
      expect(docs.get('3')).toEqual({ id: 3, name: 'u3' });
    } finally {
      await http(url(), 'DELETE', `/${pkIndex}?ignore_unavailable=true`);
    }
  }, 120_000);
});

describe('ETL beside the stream (one sink instance)', () => {
  it('leaves a document the stream wrote during the ETL to the stream', async () => {
    const index = esIndex('etl_gate');
    const { EventBuilder } = await import('@sluice/testkit');
    const m = mappingFile({ _index: index, _id: '_id', sql: itemsSql, commitBatch: 1000 });
    const s = sink(esUrl(), await mkdtemp(join(tmpdir(), 'es-ops-etl-gate-')));
    await s.connect(signal);
    try {
      const ev = new EventBuilder({ destination: 'd', database: db });
      let stream: Promise<unknown> | undefined;
      const result = await s.etl!(
        {
          mapping: m,
          params: [],
          onProgress: (n) => {
            // After the first page was read and written, before the second page's bulk: the
            // stream writes document 1500 (read by the ETL's second page, after this).
            if (n === 1000 && !stream) {
              stream = s.write(
                [
                  {
                    event: {
                      ...ev.insert('items', {
                        id: '1500',
                        name: 'from the stream',
                        price: '1.00',
                        qty: null,
                        big: null,
                        c_time: null,
                        d: null,
                        tags: null,
                        ratio: null,
                      }),
                      position: { source: 'k', partition: '0', offset: '5', index: 0 },
                    },
                    mapping: m,
                  },
                ],
                signal,
              );
            }
          },
        },
        signal,
      );
      expect(result.errors).toEqual([]);
      expect(await stream).toEqual([{ status: 'applied' }]);
      const docs = await documents(esUrl(), index);
      expect(docs.size).toBe(ROWS);
      expect((docs.get('1500') as Record<string, unknown>)['name']).toBe('from the stream');
      expect((docs.get('1499') as Record<string, unknown>)['name']).toMatch(/^名前 1499/);
    } finally {
      await s.close(signal);
      await http(esUrl(), 'DELETE', `/${index}?ignore_unavailable=true`);
    }
  }, 120_000);
});

/** A configuration directory with one es8 instance (key es1) and the items mapping. */
async function configDir(index: string): Promise<string> {
  const e = mysqlEndpoint();
  const dir = await mkdtemp(join(tmpdir(), 'es-ops-etl-cli-'));
  await mkdir(join(dir, 'es8'));
  await writeFile(join(dir, 'none.jsonl'), '');
  await writeFile(
    join(dir, 'application.yml'),
    `canal.conf:
  mode: file
  consumerProperties:
    file.path: none.jsonl
  srcDataSources:
    defaultDS:
      url: jdbc:mysql://${e.host}:${e.port}/${db}?useUnicode=true
      username: ${e.user}
      password: ${e.password}
  canalAdapters:
  - instance: example
    groups:
    - groupId: g1
      outerAdapters:
      - name: es8
        key: es1
        hosts: ${esUrl()}
`,
  );
  await writeFile(
    join(dir, 'es8', 'items.yml'),
    `dataSourceKey: defaultDS
destination: example
groupId: g1
outerAdapterKey: es1
esMapping:
  _index: ${index}
  _id: _id
  sql: "${itemsSql}"
  objFields:
    tags: "array:;"
  etlCondition: "where a.id <= {}"
  commitBatch: 500
`,
  );
  return dir;
}

describe('sluice etl es8 KEY TASK', () => {
  it('runs from the command line with a progress bar', async () => {
    const index = esIndex('etl_cli');
    const dir = await configDir(index);
    try {
      const bin = join(import.meta.dirname, '..', '..', '..', 'packages', 'cli', 'dist', 'bin.js');
      const { stdout, stderr } = await promisify(execFile)(
        process.execPath,
        [bin, 'etl', 'es8', 'es1', 'items.yml', '-c', dir, '--params', '1200'],
        { timeout: 60_000 },
      );
      expect(stdout).toMatch(/es8 es1 items.yml: 1200 rows written, 0 errors/);
      expect(stderr).toMatch(/100\.0% 1,200\/1,200 rows .* rows\/s {2}ETA/);
      const docs = await documents(esUrl(), index);
      const want = await expectedItems('WHERE id <= 1200');
      expect(docs.size).toBe(1200);
      for (const [id, doc] of want) expect(docs.get(id), `document ${id}`).toEqual(doc);
    } finally {
      await http(esUrl(), 'DELETE', `/${index}?ignore_unavailable=true`);
    }
  }, 120_000);
});

describe('admin API of a running sluice start', () => {
  it('POST /etl/es8/es1/items.yml and GET /count/es8/es1/items.yml', async () => {
    const index = esIndex('etl_admin');
    const dir = await configDir(index);
    const proc = SluiceProcess.start(dir);
    try {
      const url = await proc.adminUrl();
      const r = await fetch(`${url}/etl/es8/es1/items.yml`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'params=300',
      });
      expect(await r.json()).toEqual({ succeeded: true, resultMessage: 'Imported 300 es8 rows.' });
      expect(r.status).toBe(200);
      await http(esUrl(), 'POST', `/${index}/_refresh`);
      const c = await fetch(`${url}/count/es8/es1/items.yml`);
      expect(await c.json()).toEqual({
        esIndex: index,
        count: 300,
        type: 'es8',
        key: 'es1',
        task: 'items.yml',
      });
      const docs = await documents(esUrl(), index);
      const want = await expectedItems('WHERE id <= 300');
      expect(docs.size).toBe(300);
      for (const [id, doc] of want) expect(docs.get(id), `document ${id}`).toEqual(doc);
    } finally {
      proc.kill('SIGTERM');
      await proc.exited;
      await http(esUrl(), 'DELETE', `/${index}?ignore_unavailable=true`);
    }
  }, 120_000);
});
