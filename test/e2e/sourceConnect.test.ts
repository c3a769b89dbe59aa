/**
 * Field report #10 item 10: with Kafka unreachable at start-up and `retries: -1`, `sluice start`
 * keeps retrying the source connect with backoff (logging each retry) instead of exiting 1 after
 * ~3 s, and consumes once the broker appears. The broker "appears" as a TCP proxy to the testbed
 * Kafka that starts listening on the configured port after two failed attempts; with
 * `retries: 2` the process gives up with a SOURCE error code.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import { expect, it } from 'vitest';
import { encodeFlatMessage } from '@sluice/canal-protocol';
import { kafkaBroker, redisUrl, uniqueName } from '../support/testbed.js';
import { SluiceProcess, writeKafkaConfig } from './support/sluice.js';
import { useE2eServices, Recording } from './support/verify.js';

const e2e = useE2eServices();

/** A port nothing listens on (yet). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Forwards every connection on `port` to `target` (`host:port`). */
async function startProxy(port: number, target: string): Promise<{ close(): Promise<void> }> {
  const [host, targetPort] = target.split(':') as [string, string];
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect(Number(targetPort), host);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => s.destroy());
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

const insert = (id: number) =>
  encodeFlatMessage({
    id,
    database: 'shop',
    table: 'items',
    pkNames: ['id'],
    isDdl: false,
    type: 'INSERT',
    es: 1_700_000_000_000 + id,
    ts: 1_700_000_000_000 + id,
    sql: '',
    sqlType: { id: -5, name: 12 },
    mysqlType: { id: 'bigint(20)', name: 'varchar(64)' },
    data: [{ id: String(id), name: `n${id}` }],
    old: null,
    gtid: '',
  });

it('retries: -1 keeps retrying an unreachable Kafka with backoff, then consumes once it appears', async () => {
  const topic = uniqueName('e2e_srcconn');
  await e2e.kafka.createTopic(topic, 1);
  await e2e.kafka.produce(topic, [[1, 2, 3].map(insert)]);
  const port = await freePort();
  const prefix = uniqueName('rec');
  const config = await writeKafkaConfig({
    broker: `127.0.0.1:${port}`,
    topic,
    groupId: uniqueName('g'),
    redis: redisUrl(),
    prefix,
    retries: -1,
  });
  const sluice = SluiceProcess.start(config.dir, { once: true });
  let proxy: { close(): Promise<void> } | undefined;
  try {
    // JSON log lines: the message's quotes are escaped.
    const first = await sluice.waitFor(/could not connect; retrying/);
    expect(first).toMatch(/Source \\"kafka\\" \(destination \\"[^"\\]+\\", group \\"[^"\\]+\\"\)/);
    await sluice.waitFor(
      /"attempt":2\b.*could not connect; retrying|could not connect; retrying.*"attempt":2\b/,
    );
    proxy = await startProxy(port, kafkaBroker());
    const exit = await sluice.exited;
    expect(exit.code, sluice.tail()).toBe(0);
    expect(sluice.lines.join('\n')).toMatch(/Source \\"kafka\\" .* connected\./);
    const state = await new Recording(e2e.redis, prefix).state(['shop.items:1', 'shop.items:3']);
    expect([...state.values()].map((r) => r?.['name'])).toEqual(['n1', 'n3']);
  } finally {
    sluice.kill('SIGKILL');
    await proxy?.close();
  }
}, 90_000);

it('gives up after canal retries with a SOURCE error code', async () => {
  const port = await freePort();
  const config = await writeKafkaConfig({
    broker: `127.0.0.1:${port}`,
    topic: uniqueName('e2e_srcconn'),
    groupId: uniqueName('g'),
    redis: redisUrl(),
    prefix: uniqueName('rec'),
    retries: 2,
  });
  const sluice = SluiceProcess.start(config.dir, { once: true });
  const exit = await sluice.exited;
  expect(exit.code, sluice.tail()).toBe(1);
  expect(sluice.tail()).toMatch(
    /Source "kafka" .*could not connect \(2 attempt\(s\)\).*\[SLUICE_ERR_SOURCE_CONNECT\]/,
  );
  expect(sluice.tail()).not.toMatch(/SLUICE_ERR_SINK/);
}, 90_000);
