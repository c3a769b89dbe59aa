/**
 * canal-adapter's shared sync switch against the testbed's ZooKeeper: written and read back, and
 * a ZooKeeper that stops answering makes `set` fail in time instead of hanging (an ETL waits on
 * it to pause and to resume the stream).
 */
import { afterAll, expect, it } from 'vitest';
import { ZooKeeperSyncSwitch, syncSwitchPath } from '../src/admin/zooKeeperSyncSwitch.js';
import { uniqueName, zookeeperHosts } from '../../../test/support/testbed.js';
import { quietLogger } from './support/pipeline.js';
import { zooKeeperProxy } from './support/zooKeeperProxy.js';

const logger = quietLogger();
const switches: ZooKeeperSyncSwitch[] = [];
afterAll(() => {
  for (const s of switches) s.close();
});

it('writes a switch that another session reads back (absent means on)', async () => {
  const destination = uniqueName('switch');
  const a = new ZooKeeperSyncSwitch({ hosts: zookeeperHosts(), logger, sessionTimeoutMs: 4_000 });
  const b = new ZooKeeperSyncSwitch({ hosts: zookeeperHosts(), logger, sessionTimeoutMs: 4_000 });
  switches.push(a, b);
  expect(await a.start([destination], () => {})).toEqual(new Map([[destination, 'on']]));
  await a.set(destination, 'off');
  expect(await b.start([destination], () => {})).toEqual(new Map([[destination, 'off']]));
  expect(syncSwitchPath(destination)).toBe(`/canal-adapter/sync-switch/${destination}`);
});

it('fails set in time when ZooKeeper keeps the connection but stops answering', async () => {
  const proxy = await zooKeeperProxy();
  try {
    const destination = uniqueName('switch');
    const s = new ZooKeeperSyncSwitch({
      hosts: proxy.hosts,
      logger,
      sessionTimeoutMs: 4_000,
      requestTimeoutMs: 1_000,
    });
    switches.push(s);
    await s.start([destination], () => {});
    proxy.freeze();
    const path = syncSwitchPath(destination);
    const started = Date.now();
    await expect(s.set(destination, 'off')).rejects.toThrow(
      `ZooKeeper at ${proxy.hosts} (canal.conf.zookeeperHosts) did not answer creating ${path} within 1 s.`,
    );
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(s.state(destination)).toBe('on');
  } finally {
    await proxy.close();
  }
});
