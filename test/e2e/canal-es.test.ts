/**
 * Issue 16, true end to end into Elasticsearch: SQL on MariaDB → the testbed canal-server (Kafka,
 * flat and protobuf) → `sluice start` with the es8 sink (a simple `select ... as _id` mapping) →
 * an index. After inserts, updates, a primary-key change, a transaction and deletes, the index
 * holds exactly one document per source row with the row's values — compared with the source
 * TABLE, not with a model.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { esUrl } from '../support/testbed.js';
import { CanalPipeline, type CanalFormat } from './support/canalPipeline.js';

async function es<T>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${esUrl()}${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return (await res.json()) as T;
}

describe.each<CanalFormat>(['flat', 'protobuf'])(
  'MariaDB → canal (Kafka, %s) → sluice es8 → Elasticsearch',
  (format) => {
    let p: CanalPipeline;
    let index = '';

    async function diff(): Promise<string | undefined> {
      const [rows] = await p.mysql.query(
        `SELECT id, name, qty FROM \`${p.source}\`.items ORDER BY id`,
      );
      const want = (rows as { id: number; name: string | null; qty: number }[]).map((r) => [
        String(r.id),
        { name: r.name, qty: r.qty },
      ]);
      await es('POST', `/${index}/_refresh`);
      const found = await es<{
        hits: { hits: { _id: string; _source: Record<string, unknown> }[] };
      }>('POST', `/${index}/_search`, {
        query: { match_all: {} },
        size: 100,
        sort: [{ qty: 'asc' }],
      });
      const got = found.hits.hits
        .map((h) => [h._id, { name: h._source.name ?? null, qty: h._source.qty }] as const)
        .sort((a, b) => Number(a[0]) - Number(b[0]));
      return JSON.stringify(got) === JSON.stringify(want)
        ? undefined
        : `index ${JSON.stringify(got)}, source ${JSON.stringify(want)}`;
    }

    beforeAll(async () => {
      p = await CanalPipeline.create({
        format,
        target: 'es',
        mappings: ({ source, target, topic, groupId }) => ({
          'items.yml': `dataSourceKey: defaultDS
destination: ${topic}
groupId: ${groupId}
outerAdapterKey: tgt
esMapping:
  _index: ${target}
  _id: _id
  sql: "select a.id as _id, a.name, a.qty from ${source}.items a"
  commitBatch: 1
`,
        }),
      });
      index = p.target;
      await es('PUT', `/${index}`, {
        mappings: { properties: { name: { type: 'keyword' }, qty: { type: 'integer' } } },
      });
      await p.runSql(
        'CREATE TABLE @SRC.items (id INT PRIMARY KEY, name VARCHAR(40), qty INT NOT NULL) DEFAULT CHARSET=utf8mb4',
      );
      await p.startSluice();
    }, 120_000);

    afterAll(async () => {
      await p?.close();
      if (index) await es('DELETE', `/${index}?ignore_unavailable=true`);
    });

    it('the index holds exactly the source rows', async () => {
      await p.runSql(`
        INSERT INTO @SRC.items VALUES (1, 'a', 1), (2, 'b', 2), (3, NULL, 3), (4, '中文 😀', 4);
        UPDATE @SRC.items SET qty = qty + 10 WHERE id <= 2;
        UPDATE @SRC.items SET name = 'b2' WHERE id = 2;
        UPDATE @SRC.items SET id = 30 WHERE id = 3;
        BEGIN;
        INSERT INTO @SRC.items VALUES (5, 'e', 5);
        DELETE FROM @SRC.items WHERE id = 1;
        COMMIT;`);
      await p.until(diff);
      const count = await es<{ count: number }>('GET', `/${index}/_count`);
      expect(count.count).toBe(4);
    }, 90_000);
  },
);
