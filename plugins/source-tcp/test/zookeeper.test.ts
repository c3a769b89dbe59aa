import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import zookeeper from 'node-zookeeper-client';
import { NotConnectedError, type SourceBatch, type SourceInstance } from '@sluice/plugin-api';
import { uniqueName, zookeeperHosts } from '../../../test/support/testbed.js';
import { EventBuilder, toFlatMessage } from '../../../packages/testkit/src/index.js';
import { canalPaths } from '../src/index.js';
import { FakeCanalServer } from './fakeCanalServer.js';
import { createSource, entryOf, recordingLogger } from './helpers.js';

// Real ZooKeeper (testbed service `zookeeper`), canal's znode layout written the way canal's
// ServerRunningMonitor writes it; the canal-servers are the in-process protocol servers.

/** A ZooKeeper session standing for one canal-server (its ephemeral running node). */
async function zkSession(): Promise<zookeeper.Client> {
  const client = zookeeper.createClient(zookeeperHosts(), { sessionTimeout: 2000 });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('ZooKeeper did not answer')), 10_000);
    client.once('connected', () => (clearTimeout(timer), resolve()));
    client.connect();
  });
  return client;
}

const call = <T>(fn: (cb: (error: unknown, value?: T) => void) => void): Promise<T> =>
  new Promise((resolve, reject) =>
    fn((error, value) => (error ? reject(error) : resolve(value as T))),
  );

async function registerRunning(client: zookeeper.Client, destination: string, address: string) {
  const path = canalPaths.serverRunning(destination);
  await call<string>((cb) => client.mkdirp(path.slice(0, path.lastIndexOf('/')), cb));
  await call<string>((cb) =>
    client.create(
      path,
      Buffer.from(JSON.stringify({ active: true, address, cid: 1 })),
      zookeeper.CreateMode.EPHEMERAL,
      cb,
    ),
  );
}

const ev = new EventBuilder({ destination: 'example', database: 'shop' });
const entries = (from: number, to: number) =>
  Array.from({ length: to - from }, (_, i) =>
    entryOf(toFlatMessage(ev.insert('orders', { id: String(from + i) }))),
  );

let admin: zookeeper.Client;
const cleanup: (() => Promise<void> | void)[] = [];
beforeAll(async () => {
  admin = await zkSession();
});
afterAll(() => admin?.close());
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

function collect(s: SourceInstance) {
  const delivered: SourceBatch[] = [];
  const controller = new AbortController();
  const done = s.run(
    { deliver: async (b) => void delivered.push(b) },
    { once: false, signal: controller.signal },
  );
  cleanup.push(async () => {
    controller.abort();
    await done.catch(() => {});
  });
  return delivered;
}

async function until(test: () => boolean, ms = 15_000) {
  const end = Date.now() + ms;
  while (!test()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

function zkSource(destination: string) {
  const logger = recordingLogger();
  const source = createSource({
    destination,
    properties: { 'canal.tcp.zookeeper.hosts': zookeeperHosts(), 'canal.tcp.server.host': '' },
    logger,
  });
  cleanup.push(() => source.close(AbortSignal.timeout(2000)));
  return { source, logger };
}

describe('tcp source with ZooKeeper discovery', () => {
  it('finds the running canal-server and fails over to the standby that takes over', async () => {
    const destination = uniqueName('zk_dest');
    const a = await new FakeCanalServer().listen();
    const b = await new FakeCanalServer().listen();
    cleanup.push(
      () => a.close(),
      () => b.close(),
    );
    a.append(destination, entries(1, 3));
    b.createDestination(destination);
    const zkA = await zkSession();
    cleanup.push(() => zkA.close());
    await registerRunning(zkA, destination, a.address);

    const { source, logger } = zkSource(destination);
    await source.connect(AbortSignal.timeout(10_000));
    const delivered = collect(source);
    await until(() => delivered.length === 2);
    await source.commit(destination, String(BigInt(delivered[1]!.messages[0]!.offset) + 1n));
    await until(() => a.acks.length === 2);

    // canal-server A dies: its session (and running node) goes; B takes over the destination
    // (canal keeps the cursor in ZooKeeper, so B continues after what A had acked).
    zkA.close();
    await a.close();
    b.append(destination, entries(3, 4));
    const zkB = await zkSession();
    cleanup.push(() => zkB.close());
    await registerRunning(zkB, destination, b.address);
    await until(() => delivered.length === 3);
    expect(b.sessions).toBe(1);
    expect(logger.lines.some((l) => /Lost the session/.test(l.message))).toBe(true);
    // The client node of canal's ClientRunningMonitor layout is held by this process.
    const holder = await call<Buffer>((cb) =>
      admin.getData(canalPaths.clientRunning(destination, '1001'), (e, d) => cb(e, d)),
    );
    expect(JSON.parse(holder.toString())).toMatchObject({ active: true, clientId: 1001 });
  });

  it('follows a change of the running server at once, though the old one still serves; never acks a batch of the old session', async () => {
    const destination = uniqueName('zk_watch');
    const a = await new FakeCanalServer().listen();
    const b = await new FakeCanalServer().listen();
    cleanup.push(
      () => a.close(),
      () => b.close(),
    );
    a.append(destination, entries(1, 3));
    b.append(destination, entries(1, 3));
    const zkA = await zkSession();
    cleanup.push(() => zkA.close());
    await registerRunning(zkA, destination, a.address);

    const { source, logger } = zkSource(destination);
    await source.connect(AbortSignal.timeout(10_000));
    const delivered = collect(source);
    await until(() => delivered.length === 2);
    // the first batch applied and acked on A; the second still in flight
    await source.commit(destination, String(BigInt(delivered[0]!.messages[0]!.offset) + 1n));
    await until(() => a.acks.length === 1);

    // A hands the destination over to B (canal's ServerRunningMonitor release): A keeps
    // serving TCP, only ZooKeeper says B runs it now.
    zkA.close();
    const zkB = await zkSession();
    cleanup.push(() => zkB.close());
    await registerRunning(zkB, destination, b.address);
    await until(() => b.sessions === 1 && delivered.length === 4);
    expect(
      logger.lines.some((l) => l.message.includes(`${b.address} now runs the destination`)),
    ).toBe(true);
    // The batch fetched on A is committed now: nothing is acked on A any more, nor on B.
    await source.commit(destination, String(BigInt(delivered[1]!.messages[0]!.offset) + 1n));
    await new Promise((r) => setTimeout(r, 200));
    expect(a.acks).toEqual([1n]);
    expect(b.acks).toEqual([]);
    // B's own batches are acked on B.
    await source.commit(destination, String(BigInt(delivered[3]!.messages[0]!.offset) + 1n));
    await until(() => b.acks.length === 2);
    expect(a.acks).toEqual([1n]);
  });

  it('one client per destination: a second one stands by until the first leaves', async () => {
    const destination = uniqueName('zk_dest');
    const server = await new FakeCanalServer().listen();
    cleanup.push(() => server.close());
    server.append(destination, entries(1, 2));
    const zkS = await zkSession();
    cleanup.push(() => zkS.close());
    await registerRunning(zkS, destination, server.address);

    const first = zkSource(destination);
    await first.source.connect(AbortSignal.timeout(10_000));
    const second = zkSource(destination);
    const error = await second.source.connect(AbortSignal.timeout(10_000)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NotConnectedError);
    expect(String(error)).toMatch(/Another client .* consumes canal destination/);
    await first.source.close(AbortSignal.timeout(2000));
    // The first one's ZooKeeper session is closed: its ephemeral client node is gone.
    await second.source.connect(AbortSignal.timeout(10_000));
    const delivered = collect(second.source);
    await until(() => delivered.length === 1);
  });

  it('no running canal-server for the destination: a retryable error that says so', async () => {
    const destination = uniqueName('zk_none');
    const { source } = zkSource(destination);
    const error = await source.connect(AbortSignal.timeout(10_000)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NotConnectedError);
    expect(String(error)).toContain(`/otter/canal/destinations/${destination}/running`);
  });
});
