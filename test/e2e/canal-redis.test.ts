/**
 * Issue 16, true end to end into Redis: SQL on MariaDB → the testbed canal-server (Kafka, flat and
 * protobuf) → `sluice start` with the redis sink (write mode, key `item:{id}`, an evicted
 * secondary key `items:by_name:{name}`) → Redis. After inserts, updates, a primary-key change, a
 * transaction and deletes, the cache holds exactly one key per source row, each the row as JSON,
 * and nothing for deleted or moved rows — compared with the source TABLE, not with a model.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisUrl } from '../support/testbed.js';
import { CanalPipeline, type CanalFormat } from './support/canalPipeline.js';

describe.each<CanalFormat>(['flat', 'protobuf'])(
  'MariaDB → canal (Kafka, %s) → sluice redis → Redis',
  (format) => {
    let p: CanalPipeline;
    let redis: Redis;

    /** undefined when the cache matches the source rows exactly. */
    async function diff(): Promise<string | undefined> {
      const [rows] = await p.mysql.query(
        `SELECT id, name, qty FROM \`${p.source}\`.items ORDER BY id`,
      );
      const want = new Map<string, string>();
      for (const r of rows as { id: number; name: string | null; qty: number }[])
        want.set(
          `${p.target}:item:${r.id}`,
          JSON.stringify({ id: r.id, name: r.name, qty: r.qty }),
        );
      const keys = (await redis.keys(`${p.target}:item:*`)).sort();
      const expectedKeys = [...want.keys()].sort();
      if (JSON.stringify(keys) !== JSON.stringify(expectedKeys))
        return `keys ${JSON.stringify(keys)}, source rows ${JSON.stringify(expectedKeys)}`;
      for (const [k, v] of want) {
        const got = await redis.get(k);
        if (got === null || JSON.stringify(JSON.parse(got)) !== v)
          return `${k}: cached ${got}, source ${v}`;
      }
      return undefined;
    }

    beforeAll(async () => {
      redis = new Redis(redisUrl(), { lazyConnect: true, maxRetriesPerRequest: 2 });
      await redis.connect();
      p = await CanalPipeline.create({
        format,
        target: 'redis',
        mappings: ({ source, topic, groupId }) => ({
          'items.yml': `destination: ${topic}
groupId: ${groupId}
outerAdapterKey: tgt
redisMapping:
  database: ${source}
  table: items
  mode: write
  keys: ["item:{id}"]
  evictKeys: ["items:by_name:{name}"]
`,
        }),
      });
      await p.runSql(
        'CREATE TABLE @SRC.items (id INT PRIMARY KEY, name VARCHAR(40), qty INT NOT NULL) DEFAULT CHARSET=utf8mb4',
      );
      await p.startSluice();
    }, 120_000);

    afterAll(async () => {
      await p?.close();
      const keys = await redis.keys(`${p.target}:*`);
      if (keys.length > 0) await redis.del(...keys);
      redis.disconnect();
    });

    it('the cache holds exactly the source rows', async () => {
      await redis.set(`${p.target}:items:by_name:b`, 'stale cache entry');
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
      expect(await redis.exists(`${p.target}:item:3`)).toBe(0); // moved to 30
      expect(await redis.exists(`${p.target}:item:1`)).toBe(0); // deleted
      expect(await redis.get(`${p.target}:items:by_name:b`)).toBeNull(); // evicted on update
      expect((await redis.keys(`${p.target}:item:*`)).length).toBe(4);
    }, 90_000);
  },
);
