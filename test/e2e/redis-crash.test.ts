/**
 * Crash convergence of the redis sink in write mode: the built `sluice` binary reads canal
 * FlatMessages from the testbed Kafka and is killed with SIGKILL at random moments; after a last
 * `--once` run the cache holds exactly the source rows (nothing stale, nothing resurrected by the
 * replays after each crash) and every pending delayed eviction was done.
 */
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { kafkaBroker, redisUrl, uniqueName } from '../support/testbed.js';
import { SluiceProcess } from './support/sluice.js';
import { useE2eServices } from './support/verify.js';
import { chunked, generateWorkload, rng } from './support/workload.js';

const e2e = useE2eServices();
/** Long enough that second evictions are still pending when a run is killed. */
const DELAY = 4000;

async function writeConfig(
  topic: string,
  groupId: string,
  prefix: string,
  delayMs: number,
): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-redis-crash-'));
  await mkdir(join(dir, 'redis'));
  await writeFile(
    join(dir, 'application.yml'),
    `canal.conf:
  mode: kafka
  flatMessage: true
  syncBatchSize: 20
  retries: 3
  consumerProperties:
    kafka.bootstrap.servers: ${JSON.stringify(kafkaBroker())}
    kafka.auto.offset.reset: earliest
    kafka.session.timeout.ms: "6000"
    kafka.heartbeat.interval.ms: "1000"
    kafka.max.poll.records: "50"
    kafka.fetch.max.wait.ms: "100"
  canalAdapters:
  - instance: ${topic}
    groups:
    - groupId: ${groupId}
      outerAdapters:
      - name: redis
        key: cache
        properties:
          url: ${JSON.stringify(redisUrl())}
          keyPrefix: ${JSON.stringify(prefix)}
          delayedEviction.pollMs: 50
sluice:
  pipeline:
    lanes: 8
  deadLetter:
    type: file
    dir: ${JSON.stringify(join(dir, 'dlq'))}
  admin:
    enabled: false
`,
  );
  await writeFile(
    join(dir, 'redis', 'items.yml'),
    `destination: ${topic}
groupId: ${groupId}
outerAdapterKey: cache
redisMapping:
  database: shop
  table: items
  mode: write
  keys: ["item:{id}"]
  evictKeys: ["items:by_name:{name}"]
  delayedEviction: ${delayMs}
`,
  );
  return dir;
}

it('write mode converges on the source rows after kill -9 at random moments', async () => {
  const partitions = 2;
  const kills = 4;
  const workload = generateWorkload({ partitions, statements: 1200, seed: 5 });
  const chunks = chunked(workload, kills);
  const topic = uniqueName('redis_crash');
  await e2e.kafka.createTopic(topic, partitions);
  const prefix = `${uniqueName('rcrash')}:`;
  const groupId = uniqueName('g');
  const dir = await writeConfig(topic, groupId, prefix, DELAY);
  const random = rng(42);
  const redis = e2e.redis;
  const log: string[] = [];
  const schedule = `${prefix}sluice:delayed-evictions:cache`;
  const staleKeys: string[] = [];
  try {
    for (let i = 0; i < kills; i++) {
      await e2e.kafka.produce(topic, chunks[i]!);
      const sluice = SluiceProcess.start(dir);
      await sluice.waitFor(/Joined the consumer group/);
      await new Promise((r) => setTimeout(r, 300 + Math.floor(random() * 2000)));
      sluice.kill('SIGKILL');
      const exit = await sluice.exited;
      expect(exit.signal, sluice.tail()).toBe('SIGKILL');
      log.push(
        `kill ${i + 1}: committed ${(await e2e.kafka.committed(groupId, topic)).join('/')} of ${(await e2e.kafka.ends(topic)).join('/')}`,
      );
      // A reader re-populated a derived key after its first eviction: the pending delayed
      // eviction must remove it although the process that scheduled it is dead.
      const member = (await redis.zrange(schedule, 0, -1)).find((m) => !m.includes('","'));
      if (member) {
        const key = (JSON.parse(member.slice(member.indexOf('|') + 1)) as string[])[0]!;
        await redis.set(key, 'stale');
        staleKeys.push(key);
      }
    }
    // Entries scheduled by the killed runs are still pending (none of them ran the drainer to the end).
    const pending = await redis.zcard(schedule);
    log.push(`pending delayed evictions after the last kill: ${pending}`);

    const last = SluiceProcess.start(dir, { once: true });
    const exit = await last.exited;
    expect(exit.code, last.tail()).toBe(0);
    expect(await e2e.kafka.committed(groupId, topic)).toEqual(await e2e.kafka.ends(topic));

    // The cache equals the source rows: written keys for present rows, nothing for deleted ones.
    const diffs: string[] = [];
    for (const [key, row] of workload.expected) {
      const id = key.slice('shop.items:'.length);
      const got = await redis.get(`${prefix}item:${id}`);
      const want =
        row === null
          ? null
          : JSON.stringify({ id: Number(row.id), name: row.name, qty: Number(row.qty) });
      if (got !== want) diffs.push(`item:${id}: cached ${got}, source ${want}`);
    }
    expect(diffs, log.join('\n')).toEqual([]);
    const itemKeys = (await redis.keys(`${prefix}item:*`)).length;
    expect(itemKeys).toBe([...workload.expected.values()].filter((r) => r !== null).length);

    // Delayed evictions not yet due when --once ended stay in the schedule; the next start does
    // them (at connect), and they never remove a value written after the tombstone they follow.
    const last2 = await redis.zrange(schedule, -1, -1, 'WITHSCORES');
    if (last2.length === 2)
      await new Promise((r) => setTimeout(r, Math.max(0, Number(last2[1]) - Date.now() + 50)));
    const again = SluiceProcess.start(dir, { once: true });
    expect((await again.exited).code, again.tail()).toBe(0);
    expect(await redis.zcard(schedule)).toBe(0);
    expect(staleKeys.length, log.join('\n')).toBeGreaterThan(0);
    for (const key of staleKeys) expect(await redis.get(key), key).toBeNull();
    for (const [key, row] of workload.expected) {
      const id = key.slice('shop.items:'.length);
      expect(await redis.exists(`${prefix}item:${id}`), `item:${id}`).toBe(row === null ? 0 : 1);
    }
  } finally {
    const keys = await redis.keys(`*${prefix}*`);
    if (keys.length) await redis.del(...keys);
  }
  if (process.env.SLUICE_TEST_VERBOSE) console.error(log.join('\n'));
}, 180_000);

it('a delayed eviction scheduled before a kill -9 is done after the restart', async () => {
  const topic = uniqueName('redis_delay');
  await e2e.kafka.createTopic(topic, 1);
  const prefix = `${uniqueName('rdelay')}:`;
  const groupId = uniqueName('g');
  const dir = await writeConfig(topic, groupId, prefix, 300);
  const redis = e2e.redis;
  try {
    const workload = generateWorkload({ partitions: 1, statements: 5, seed: 3 });
    await e2e.kafka.produce(topic, workload.partitions);
    const sluice = SluiceProcess.start(dir);
    const schedule = `${prefix}sluice:delayed-evictions:cache`;
    // Wait until the events were applied and their second evictions scheduled, then kill at once.
    const deadline = Date.now() + 30_000;
    while ((await redis.zcard(schedule)) === 0 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 10));
    sluice.kill('SIGKILL');
    await sluice.exited;
    // A reader re-populated a derived key (a plain UNLINK entry) after the first eviction.
    const member = (await redis.zrange(schedule, 0, -1)).find((m) => !m.includes('","'));
    expect(member).toBeDefined();
    const key = (JSON.parse(member!.slice(member!.indexOf('|') + 1)) as string[])[0]!;
    await redis.set(key, 'stale');
    await new Promise((r) => setTimeout(r, 400));
    expect(await redis.get(key)).toBe('stale'); // due, but the process is dead
    const last = SluiceProcess.start(dir, { once: true });
    expect((await last.exited).code, last.tail()).toBe(0);
    expect(await redis.get(key)).toBeNull();
  } finally {
    const keys = await redis.keys(`*${prefix}*`);
    if (keys.length) await redis.del(...keys);
  }
}, 60_000);
