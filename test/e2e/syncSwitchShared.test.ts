/**
 * Issue 15: with canal's `zookeeperHosts`, the sync switch is shared through ZooKeeper exactly as
 * canal-adapter shares it (`/canal-adapter/sync-switch/<destination>`, `on`/`off`): two Sluice
 * processes of one destination pause and resume together, and a process started while the
 * switch is off starts paused.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import zookeeper from 'node-zookeeper-client';
import { afterAll, expect, it } from 'vitest';
import { encodeFlatMessage } from '@sluice/canal-protocol';
import { kafkaBroker, uniqueName, zookeeperHosts } from '../support/testbed.js';
import { SluiceProcess } from './support/sluice.js';
import { useE2eServices } from './support/verify.js';

const e2e = useE2eServices();
const processes: SluiceProcess[] = [];
afterAll(async () => {
  for (const p of processes) p.kill('SIGKILL');
  await Promise.all(processes.map((p) => p.exited));
});

function row(id: number): string {
  return encodeFlatMessage({
    id,
    database: 'shop',
    table: 'items',
    pkNames: ['id'],
    isDdl: false,
    type: 'INSERT',
    es: Date.now(),
    ts: Date.now(),
    sql: '',
    sqlType: { id: 4 },
    mysqlType: { id: 'int' },
    data: [{ id: String(id) }],
    old: null,
  });
}

async function readNode(path: string): Promise<string | undefined> {
  const client = zookeeper.createClient(zookeeperHosts());
  await new Promise<void>((resolve) => {
    client.once('connected', () => resolve());
    client.connect();
  });
  try {
    return await new Promise((resolve, reject) =>
      client.getData(path, (error, data) => {
        if (
          error &&
          error instanceof zookeeper.Exception &&
          error.getCode() === zookeeper.Exception.NO_NODE
        )
          return resolve(undefined);
        if (error) return reject(error);
        resolve(data?.toString('utf8'));
      }),
    );
  } finally {
    client.close();
  }
}

async function until(check: () => Promise<boolean>, what: string, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

const switchOf = async (url: string, destination: string) =>
  ((await (await fetch(`${url}/syncSwitch/${destination}`)).json()) as { status: string }).status;
const put = async (url: string, destination: string, state: string) =>
  (await (await fetch(`${url}/syncSwitch/${destination}/${state}`, { method: 'PUT' })).json()) as {
    code: number;
  };
const applied = (p: SluiceProcess) =>
  p.lines.filter((l) => l.startsWith('shop.items INSERT')).length;

it('pauses and resumes two processes together, and a new process starts with the shared state', async () => {
  const topic = uniqueName('zk_switch');
  await e2e.kafka.createTopic(topic, 2);
  const dir = await mkdtemp(join(tmpdir(), 'sluice-zk-'));
  await writeFile(
    join(dir, 'application.yml'),
    `canal.conf:
  mode: kafka
  flatMessage: true
  zookeeperHosts: ${zookeeperHosts()}
  consumerProperties:
    kafka.bootstrap.servers: ${kafkaBroker()}
    kafka.auto.offset.reset: earliest
    kafka.fetch.max.wait.ms: "100"
    kafka.session.timeout.ms: "6000"
    kafka.heartbeat.interval.ms: "1000"
  canalAdapters:
  - instance: ${topic}
    groups:
    - groupId: ${uniqueName('g')}
      outerAdapters:
      - name: logger
sluice:
  deadLetter:
    dir: ${JSON.stringify(join(dir, 'dlq'))}
`,
  );
  const a = SluiceProcess.start(dir);
  const b = SluiceProcess.start(dir);
  processes.push(a, b);
  const [urlA, urlB] = await Promise.all([a.adminUrl(), b.adminUrl()]);
  await Promise.all([
    a.waitFor(/Joined the consumer group/),
    b.waitFor(/Joined the consumer group/),
  ]);
  expect(await switchOf(urlA, topic)).toBe('on');

  // Off through A: B follows, ZooKeeper holds canal-adapter's node, and nothing is applied.
  expect((await put(urlA, topic, 'off')).code).toBe(20000);
  await until(async () => (await switchOf(urlB, topic)) === 'off', 'B to see the switch off');
  expect(await readNode(`/canal-adapter/sync-switch/${topic}`)).toBe('off');
  await e2e.kafka.produce(topic, [
    [row(1), row(2), row(3)],
    [row(4), row(5), row(6)],
  ]);
  await new Promise((r) => setTimeout(r, 2_000));
  expect(applied(a) + applied(b)).toBe(0);

  // A third process started now reads "off" and starts paused.
  const c = SluiceProcess.start(dir);
  processes.push(c);
  const urlC = await c.adminUrl();
  await c.waitFor(/Shared sync switch read from ZooKeeper/);
  expect(await switchOf(urlC, topic)).toBe('off');

  // On through B: A and C follow, every row is applied once between the processes.
  expect((await put(urlB, topic, 'on')).code).toBe(20000);
  await until(async () => (await switchOf(urlA, topic)) === 'on', 'A to see the switch on');
  await until(async () => (await switchOf(urlC, topic)) === 'on', 'C to see the switch on');
  expect(await readNode(`/canal-adapter/sync-switch/${topic}`)).toBe('on');
  await until(async () => applied(a) + applied(b) + applied(c) >= 6, 'the 6 rows to be applied');
}, 90_000);

it('refuses to run when the shared switch cannot be read, instead of starting "on"', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-zk-down-'));
  await writeFile(
    join(dir, 'application.yml'),
    `canal.conf:
  mode: kafka
  zookeeperHosts: 127.0.0.1:1
  consumerProperties:
    kafka.bootstrap.servers: ${kafkaBroker()}
  canalAdapters:
  - instance: ${uniqueName('zk_down')}
    groups:
    - groupId: g1
      outerAdapters:
      - name: logger
sluice:
  deadLetter:
    dir: ${JSON.stringify(join(dir, 'dlq'))}
`,
  );
  const p = SluiceProcess.start(dir, { once: true });
  processes.push(p);
  const exit = await p.exited;
  expect(exit.code).toBe(1);
  expect(p.tail()).toContain(
    'ZooKeeper at 127.0.0.1:1 (canal.conf.zookeeperHosts) did not answer within 15 s; the shared sync switch cannot be read.',
  );
  expect(p.lines.some((l) => l.includes('Joined the consumer group'))).toBe(false);
}, 60_000);
