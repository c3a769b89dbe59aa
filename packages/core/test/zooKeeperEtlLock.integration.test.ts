/**
 * canal's distributed ETL lock against the testbed's ZooKeeper: the ZooKeeper lock recipe with
 * Curator's node names, one holder at a time across sessions, released on release and when the
 * holder's session ends.
 */
import zookeeper from 'node-zookeeper-client';
import { afterAll, expect, it } from 'vitest';
import type { Logger } from '@sluice/plugin-api';
import { ZooKeeperEtlLock, etlLockPath } from '../src/admin/zooKeeperEtlLock.js';
import { uniqueName, zookeeperHosts } from '../../../test/support/testbed.js';
import { zooKeeperProxy } from './support/zooKeeperProxy.js';

const warnings: string[] = [];
const logger: Logger = {
  debug: () => {},
  info: () => {},
  warn: (msg) => void warnings.push(msg),
  error: () => {},
  child: () => logger,
};

const locks: ZooKeeperEtlLock[] = [];
const lock = () => {
  const l = new ZooKeeperEtlLock({ hosts: zookeeperHosts(), logger, sessionTimeoutMs: 2_000 });
  locks.push(l);
  return l;
};
afterAll(() => {
  for (const l of locks) l.close();
});

async function children(path: string): Promise<string[]> {
  const client = zookeeper.createClient(zookeeperHosts());
  await new Promise<void>((resolve) => {
    client.once('connected', () => resolve());
    client.connect();
  });
  try {
    return await new Promise((resolve, reject) =>
      client.getChildren(path, (error, list) => (error ? reject(error) : resolve(list))),
    );
  } finally {
    client.close();
  }
}

it('uses canal-adapter’s path and Curator’s node names', () => {
  expect(etlLockPath('rdb', 'example')).toBe('/canal-adapter/sync-etl/rdb-example');
});

it('lets one session hold the lock; the other is refused until it is released', async () => {
  const path = etlLockPath('rdb', uniqueName('etl_lock'));
  const a = lock();
  const b = lock();
  const held = await a.tryAcquire(path);
  expect(held).toBeDefined();
  const nodes = await children(path);
  expect(nodes).toHaveLength(1);
  expect(nodes[0]).toMatch(/^_c_[0-9a-f-]{36}-lock-\d{10}$/);
  // canal waits 500 ms, then answers "busy"; the contender's node is gone again.
  expect(await b.tryAcquire(path)).toBeUndefined();
  expect(await children(path)).toEqual(nodes);
  // Two contenders at once inside one process get the same answer.
  expect(await Promise.all([b.tryAcquire(path, 100), a.tryAcquire(path, 100)])).toEqual([
    undefined,
    undefined,
  ]);
  await held!.release();
  await held!.release(); // idempotent
  expect(await children(path)).toEqual([]);
  const next = await b.tryAcquire(path);
  expect(next).toBeDefined();
  expect(await a.tryAcquire(path)).toBeUndefined();
  await next!.release();
});

it('hands the lock to a waiting contender as soon as the holder releases it', async () => {
  const path = etlLockPath('es8', uniqueName('etl_lock'));
  const a = lock();
  const b = lock();
  const held = (await a.tryAcquire(path))!;
  const waiting = b.tryAcquire(path, 20_000);
  await new Promise((r) => setTimeout(r, 300));
  await held.release();
  const got = await waiting;
  expect(got).toBeDefined();
  await got!.release();
});

it('releases the lock of a session that ends (the holder crashed or closed)', async () => {
  const path = etlLockPath('rdb', uniqueName('etl_lock'));
  const a = lock();
  const b = lock();
  expect(await a.tryAcquire(path)).toBeDefined();
  expect(await b.tryAcquire(path)).toBeUndefined();
  a.close();
  // The ephemeral node goes with the session.
  const end = Date.now() + 10_000;
  let got = await b.tryAcquire(path, 200);
  while (!got && Date.now() < end) got = await b.tryAcquire(path, 200);
  expect(got).toBeDefined();
  await got!.release();
});

it('says so when ZooKeeper cannot be reached', async () => {
  const l = new ZooKeeperEtlLock({ hosts: '127.0.0.1:1', logger, connectTimeoutMs: 1_000 });
  locks.push(l);
  await expect(l.tryAcquire(etlLockPath('rdb', 'x'))).rejects.toThrow(
    /ZooKeeper at 127\.0\.0\.1:1 \(canal\.conf\.zookeeperHosts\) did not answer within 1 s/,
  );
});

it('gives up on a ZooKeeper that keeps the connection but stops answering: an error in time, not a hang', async () => {
  const proxy = await zooKeeperProxy();
  try {
    const l = new ZooKeeperEtlLock({
      hosts: proxy.hosts,
      logger,
      sessionTimeoutMs: 4_000,
      requestTimeoutMs: 1_000,
    });
    locks.push(l);
    const path = etlLockPath('rdb', uniqueName('etl_lock'));
    const first = await l.tryAcquire(path);
    expect(first).toBeDefined();
    await first!.release();
    proxy.freeze();
    const started = Date.now();
    await expect(l.tryAcquire(path)).rejects.toThrow(
      `ZooKeeper at ${proxy.hosts} (canal.conf.zookeeperHosts) did not answer creating the lock path (${path}) within 1 s.`,
    );
    expect(Date.now() - started).toBeLessThan(3_000);
    // The stuck session was dropped: the next acquisition opens a new one (a new connection
    // through the proxy, which passes again) and gets the lock.
    const again = await l.tryAcquire(path);
    expect(again).toBeDefined();
    await again!.release();
    expect(await children(path)).toEqual([]);
  } finally {
    await proxy.close();
  }
});
