/**
 * Issue 12: a 30 s outage of the target database during a stream loses nothing and dead-letters
 * nothing. The rdb sink reaches the testbed MariaDB through a TCP relay that the test cuts (open
 * connections reset, new ones refused) for 30 s while Kafka keeps delivering; afterwards the
 * target equals the stream's result, no dead letter was written, and the process never stopped.
 */
import { mkdtemp, mkdir, readdir, writeFile } from 'node:fs/promises';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { encodeFlatMessage, type FlatMessage } from '@sluice/canal-protocol';
import { kafkaBroker, mysqlEndpoint, uniqueName } from '../support/testbed.js';
import { SluiceProcess } from './support/sluice.js';
import { useE2eServices } from './support/verify.js';

const e2e = useE2eServices();
const source = uniqueName('out_src');
const target = uniqueName('out_tgt');
let my: mysql.Connection;
let relay: Relay;
let sluice: SluiceProcess | undefined;

/** A TCP relay to MariaDB that can be cut (every connection reset, new ones refused) and restored. */
class Relay {
  readonly sockets = new Set<Socket>();
  server: Server | undefined;
  port = 0;
  constructor(
    readonly host: string,
    readonly targetPort: number,
  ) {}

  async open(): Promise<void> {
    this.server = createServer((client) => {
      const upstream = connect(this.targetPort, this.host);
      this.sockets.add(client).add(upstream);
      const drop = () => {
        client.destroy();
        upstream.destroy();
        this.sockets.delete(client);
        this.sockets.delete(upstream);
      };
      client.on('error', drop).on('close', drop);
      upstream.on('error', drop).on('close', drop);
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => this.server!.listen(this.port, '127.0.0.1', resolve));
    this.port = (this.server.address() as { port: number }).port;
  }

  /** Resets every open connection and stops listening (connects are refused). */
  async cut(): Promise<void> {
    for (const s of this.sockets) s.resetAndDestroy();
    this.sockets.clear();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
  }
}

function upsert(type: 'INSERT' | 'UPDATE', id: number, version: number): string {
  const message: FlatMessage = {
    id,
    database: source,
    table: 'items',
    pkNames: ['id'],
    isDdl: false,
    type,
    es: Date.now(),
    ts: Date.now(),
    sql: '',
    sqlType: { id: 4, version: 4, note: 12 },
    mysqlType: { id: 'int', version: 'int', note: 'varchar(40)' },
    data: [{ id: String(id), version: String(version), note: `v${version} ✓` }],
    old: type === 'UPDATE' ? [{ version: String(version - 1), note: `v${version - 1} ✓` }] : null,
  };
  return encodeFlatMessage(message);
}

beforeAll(async () => {
  const e = mysqlEndpoint();
  my = await mysql.createConnection({
    host: e.host,
    port: e.port,
    user: e.user,
    password: e.password,
  });
  await my.query(`CREATE DATABASE \`${target}\` DEFAULT CHARACTER SET utf8mb4`);
  await my.query(
    `CREATE TABLE \`${target}\`.items (id int PRIMARY KEY, version int NOT NULL, note varchar(40))`,
  );
  relay = new Relay(e.host, e.port);
  await relay.open();
});

afterAll(async () => {
  sluice?.kill('SIGKILL');
  await sluice?.exited;
  await relay?.cut().catch(() => undefined);
  await my?.query(`DROP DATABASE IF EXISTS \`${target}\``).catch(() => undefined);
  await my?.end();
});

it('waits out a 30 s outage of the target: nothing lost, nothing dead-lettered, no restart', async () => {
  const e = mysqlEndpoint();
  const topic = uniqueName('rdb_outage');
  const groupId = uniqueName('g');
  await e2e.kafka.createTopic(topic, 2);
  const dir = await mkdtemp(join(tmpdir(), 'sluice-outage-'));
  await mkdir(join(dir, 'rdb'));
  await writeFile(
    join(dir, 'application.yml'),
    `canal.conf:
  mode: kafka
  flatMessage: true
  syncBatchSize: 50
  consumerProperties:
    kafka.bootstrap.servers: ${kafkaBroker()}
    kafka.auto.offset.reset: earliest
    kafka.fetch.max.wait.ms: "100"
  canalAdapters:
  - instance: ${topic}
    groups:
    - groupId: ${groupId}
      outerAdapters:
      - name: rdb
        key: db
        properties:
          jdbc.url: jdbc:mysql://127.0.0.1:${relay.port}/${target}?connectTimeout=2000
          jdbc.username: ${e.user}
          jdbc.password: "${e.password}"
sluice:
  deadLetter:
    dir: ${JSON.stringify(join(dir, 'dlq'))}
`,
  );
  await writeFile(
    join(dir, 'rdb', 'items.yml'),
    `destination: ${topic}\ngroupId: ${groupId}\nouterAdapterKey: db\ndbMapping:\n  database: ${source}\n  table: items\n  targetTable: items\n  targetPk:\n    id: id\n  mapAll: true\n`,
  );
  sluice = SluiceProcess.start(dir, { adminPort: 0 });
  const url = await sluice.adminUrl();
  await sluice.waitFor(/Joined the consumer group/);

  // 200 rows, each inserted then updated 4 times; partition by id.
  const expected = new Map<number, number>();
  const wave = (from: number, to: number) => {
    const parts: string[][] = [[], []];
    for (let version = from; version <= to; version++)
      for (let id = 1; id <= 200; id++) {
        parts[id % 2]!.push(upsert(version === 1 ? 'INSERT' : 'UPDATE', id, version));
        expected.set(id, version);
      }
    return parts;
  };
  await e2e.kafka.produce(topic, wave(1, 2));
  const count = async () =>
    Number(
      (
        (await my.query(`SELECT COUNT(*) AS n FROM \`${target}\`.items WHERE version >= 2`))[0] as {
          n: number;
        }[]
      )[0]!.n,
    );
  for (let i = 0; i < 300 && (await count()) < 200; i++)
    await new Promise((r) => setTimeout(r, 100));
  expect(await count()).toBe(200);

  // The outage: 30 s, while the stream goes on.
  await relay.cut();
  const outageStarted = Date.now();
  await e2e.kafka.produce(topic, wave(3, 5));
  let sawNotReady = false;
  while (Date.now() - outageStarted < 30_000) {
    const ready = await fetch(`${url}/health/ready`);
    if (ready.status === 503) sawNotReady = true;
    await new Promise((r) => setTimeout(r, 1_000));
  }
  expect(sluice.lines.some((l) => /"level":"(warn|error)"/.test(l))).toBe(true);
  await relay.open();

  const done = async () =>
    Number(
      (
        (await my.query(`SELECT COUNT(*) AS n FROM \`${target}\`.items WHERE version = 5`))[0] as {
          n: number;
        }[]
      )[0]!.n,
    );
  for (let i = 0; i < 600 && (await done()) < 200; i++)
    await new Promise((r) => setTimeout(r, 100));
  const [rows] = await my.query(`SELECT id, version, note FROM \`${target}\`.items ORDER BY id`);
  expect(rows).toEqual(
    [...expected]
      .sort((a, b) => a[0] - b[0])
      .map(([id, version]) => ({ id, version, note: `v${version} ✓` })),
  );
  // Nothing went to the dead-letter queue, the process ran through, readiness showed the outage.
  const dlq = await readdir(join(dir, 'dlq')).catch(() => [] as string[]);
  expect(dlq, sluice.tail()).toEqual([]);
  expect(sluice.lines.some((l) => l.includes('dead-letter queue'))).toBe(false);
  expect(sawNotReady).toBe(true);
  expect((await fetch(`${url}/health/ready`)).status).toBe(200);
  await e2e.kafka.untilCommittedToEnd(groupId, topic);
}, 150_000);
