/**
 * canal-server in cluster mode, end to end: two canal JVMs (canal 1.1.7's own
 * ServerRunningMonitor through the testbed launcher's `sluice.canal.zk`) registered in the testbed
 * ZooKeeper for one destination; Sluice's tcp source configured with
 * `canal.tcp.zookeeper.hosts` only. The running canal-server is killed with SIGKILL mid-stream;
 * the standby takes the destination over (from the cursor canal keeps in ZooKeeper), Sluice
 * follows it, and the target tables equal the source tables.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Connection } from 'mysql2/promise';
import zookeeper from 'node-zookeeper-client';
import { uniqueName, zookeeperHosts } from '../support/testbed.js';
import { mysqlRoot } from '../support/canal.js';
import { SluiceProcess, requireBuiltCli } from './support/sluice.js';
import {
  PrivateCanal,
  databasesFor,
  expectSameTables,
  masterPosition,
  tcpConfig,
  workload,
} from './support/tcp.js';

let my: Connection;
let zk: zookeeper.Client;
const databases: string[] = [];
const znodes: string[] = [];
beforeAll(async () => {
  requireBuiltCli();
  my = await mysqlRoot();
  zk = zookeeper.createClient(zookeeperHosts(), { sessionTimeout: 5000 });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('ZooKeeper did not answer')), 15_000);
    zk.once('connected', () => (clearTimeout(timer), resolve()));
    zk.connect();
  });
});
afterAll(async () => {
  for (const path of znodes) await removeTree(path).catch(() => {});
  zk?.close();
  for (const db of databases) await my?.query(`DROP DATABASE IF EXISTS \`${db}\``);
  await my?.end();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const step = (what: string) => {
  if (process.env.SLUICE_TEST_VERBOSE) console.error(new Date().toISOString(), what);
};

/** Deletes a znode and everything under it, deepest first (the client's own removeRecursive missed nodes). */
async function removeTree(path: string): Promise<void> {
  const children = await new Promise<string[]>((resolve, reject) =>
    zk.getChildren(path, (error, list) => (error ? reject(error) : resolve(list))),
  );
  for (const child of children) await removeTree(`${path}/${child}`);
  await new Promise<void>((resolve, reject) =>
    zk.remove(path, (error) => (error ? reject(error) : resolve())),
  );
}

/** The address in the destination's `running` node (canal's ServerRunningData), if any. */
function runningServer(destination: string): Promise<string | undefined> {
  return new Promise((resolve, reject) =>
    zk.getData(`/otter/canal/destinations/${destination}/running`, (error, data) => {
      if (error instanceof zookeeper.Exception && error.getCode() === zookeeper.Exception.NO_NODE)
        resolve(undefined);
      else if (error) reject(error);
      else resolve((JSON.parse(data!.toString('utf8')) as { address: string }).address);
    }),
  );
}

/** `promise`, or a rejection after `ms` naming `what` with the logs of Sluice and both canals. */
function within<T>(promise: Promise<T>, ms: number, what: string, logs: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms\n${logs()}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Sluice's log line of a subscription to the canal-server at `address`. */
const subscribedTo = (address: string) =>
  new RegExp(`^(?=.*"msg":"Subscribed to canal-server\\.")(?=.*"server":"${address}")`);

function clusterMembers(destination: string): Promise<string[]> {
  return new Promise((resolve, reject) =>
    zk.getChildren(`/otter/canal/destinations/${destination}/cluster`, (error, children) =>
      error ? reject(error) : resolve([...children].sort()),
    ),
  );
}

it('kill -9 of the running canal-server: the standby takes over, Sluice follows it through ZooKeeper, nothing lost', async () => {
  const { source, target } = await databasesFor(my, databases, 'e2e_tcpzk');
  const destination = uniqueName('tcp_zk');
  znodes.push(`/otter/canal/destinations/${destination}`);
  const zkOptions = { zk: zookeeperHosts(), zkSessionTimeoutMs: 4000, xmx: '256m' };
  const canals = [
    new PrivateCanal(11122, 11192, await mkdtemp(join(tmpdir(), 'sluice-canal-zk-a-')), zkOptions),
    new PrivateCanal(11123, 11193, await mkdtemp(join(tmpdir(), 'sluice-canal-zk-b-')), zkOptions),
  ] as const;
  let sluice: SluiceProcess | undefined;
  const logs = () =>
    [
      `--- sluice\n${sluice?.tail(30) ?? ''}`,
      ...canals.map((c) => `--- canal ${c.address}\n${c.log.split('\n').slice(-25).join('\n')}`),
    ].join('\n');
  try {
    step('starting two canal-servers');
    await Promise.all(canals.map((c) => c.start()));
    step('started');
    // The same destination on both, from the same binlog position (as the same
    // instance.properties on every server of a canal cluster).
    const start = await masterPosition(my);
    for (const c of canals)
      await c.put(destination, {
        filter: `${source}\\..*`,
        journalName: start.file,
        position: start.position,
      });
    step('destination PUT on both');
    let running: string | undefined;
    for (let i = 0; i < 100 && !running; i++) {
      running = await runningServer(destination);
      if (!running) await sleep(100);
    }
    expect(canals.map((c) => c.address)).toContain(running);
    expect(await clusterMembers(destination)).toEqual(canals.map((c) => c.address).sort());
    const active = canals.find((c) => c.address === running)!;
    const standby = canals.find((c) => c !== active)!;

    const dir = await tcpConfig({ destination, source, target, zookeeperHosts: zookeeperHosts() });
    step(`running: ${running}`);
    sluice = SluiceProcess.start(dir);
    await within(
      sluice.waitFor(subscribedTo(active.address)),
      90_000,
      'Sluice subscribes to the running canal-server',
      logs,
    );
    step('subscribed; writing');
    const statements = workload(source, 900);
    for (const sql of statements.slice(0, 450)) await my.query(sql);
    await sleep(300);
    step('killing the running canal');
    await active.kill(); // mid-stream: un-acked batches in flight, the last ≤ 1 s of acks unflushed
    for (const sql of statements.slice(450)) await my.query(sql);
    await my.query(`INSERT INTO \`${source}\`.marker VALUES (1)`);
    step('written');

    await within(
      sluice.waitFor(subscribedTo(standby.address)),
      90_000,
      'Sluice subscribes to the standby that took over',
      logs,
    );
    step('re-subscribed');
    expect(await runningServer(destination)).toBe(standby.address);
    const until = Date.now() + 90_000;
    for (;;) {
      const [found] = await my.query(`SELECT id FROM \`${target}\`.marker WHERE id = 1`);
      if ((found as unknown[]).length > 0) break;
      if (Date.now() > until) throw new Error(`marker not applied:\n${logs()}`);
      await sleep(200);
    }
    step('marker applied');
    sluice.kill('SIGTERM');
    await sluice.exited;
    step('sluice stopped');
    await expectSameTables(my, source, target);
  } finally {
    sluice?.kill('SIGKILL');
    await Promise.all(canals.map((c) => c.kill()));
  }
}, 300_000);
