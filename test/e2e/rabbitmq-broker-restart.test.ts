/**
 * Issue 17 (RabbitMQ): the broker restarts while `sluice` applies a stream. Sluice loses its
 * connection, retries by itself, resumes when the broker is back, applies the unacked messages
 * again and everything published after the restart; nothing is lost and order holds.
 *
 * The test runs a RabbitMQ node of its own (Debian's rabbitmq-server, like the testbed's, on
 * free ports, under the testbed's run directory), so restarting it disturbs no other test.
 */
import { rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import {
  prepareRabbitNode,
  probeRabbit,
  rabbitmqctl,
  startRabbitNode,
  type RabbitNode,
} from '../testbed/services/rabbitmq.mjs';
import { redisUrl, testbedStateFile, uniqueName } from '../support/testbed.js';
import { E2eRabbit, queueMessages, rabbitBroker, writeRabbitConfig } from './support/rabbitmq.js';
import { SluiceProcess, requireBuiltCli } from './support/sluice.js';
import { Recording, stateDiff } from './support/verify.js';
import { generateWorkload } from './support/workload.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function until<T>(what: string, ms: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined && v !== false) return v;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`${what} (waited ${ms} ms; last: ${String(last)})`);
    await sleep(200);
  }
}

let node: RabbitNode;
let url = '';
let redis: Redis;
const pids: number[] = [];

async function startNode(): Promise<void> {
  pids.push(startRabbitNode(node));
  await until('the test node did not start', 90_000, () => probeRabbit(url));
}

beforeAll(async () => {
  requireBuiltCli();
  redis = new Redis(redisUrl());
  const tag = `${process.pid}`;
  node = {
    home: join(dirname(testbedStateFile()), `rabbitmq-restart-${tag}`),
    nodename: `sluice-restart-${tag}@localhost`,
    port: await freePort(),
    distPort: await freePort(),
  };
  url = `amqp://guest:guest@127.0.0.1:${node.port}`;
  prepareRabbitNode(node);
  await startNode();
}, 120_000);

afterAll(async () => {
  redis?.disconnect();
  if (!node) return;
  await rabbitmqctl(node, ['stop']).catch(() => {});
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  rmSync(node.home, { recursive: true, force: true });
}, 60_000);

it('a broker restart mid-stream loses nothing: sluice reconnects by itself and converges to the sequential result', async () => {
  const workload = generateWorkload({ partitions: 1, statements: 1200, seed: 31 });
  const messages = queueMessages(workload);
  const half = Math.floor(messages.length / 2);
  const broker = rabbitBroker(url);
  let rabbit = await new E2eRabbit(broker).start();
  const queue = await rabbit.createQueue('e2e_rmq_restart');
  await rabbit.publish(queue, messages.slice(0, half));
  await rabbit.disconnect();
  const prefix = uniqueName('rec');
  const config = await writeRabbitConfig({
    broker,
    queue,
    redis: redisUrl(),
    prefix,
    lanes: 8,
    syncBatchSize: 20,
    sinkProperties: { delayMs: '2' },
    extraRabbit: { 'rabbitmq.prefetch.count': '200', 'rabbitmq.reconnect.max.ms': '1000' },
  });
  const recording = new Recording(redis, prefix);
  const sluice = SluiceProcess.start(config.dir);
  try {
    await sluice.waitFor(/Connected to RabbitMQ/);
    await until('nothing was applied before the restart', 30_000, async () =>
      Number((await redis.get(`${prefix}:writes`)) ?? 0) > 0 ? true : undefined,
    );
    // Restart the broker mid-stream (the whole node: the Erlang VM stops and starts again).
    const lost = sluice.lines.length;
    await rabbitmqctl(node, ['stop']);
    await sluice.waitFor(/Lost the RabbitMQ channel/, lost);
    await sluice.waitFor(/RabbitMQ is not reachable; retrying/, lost);
    await startNode();
    rabbit = await new E2eRabbit(broker).start();
    await rabbit.publish(queue, messages.slice(half));
    await sluice.waitFor(/Consuming again/, lost);
    await until('the queue was not drained after the restart', 60_000, async () => {
      const { messageCount, consumerCount } = await rabbit.count(queue);
      const diff = stateDiff(workload.expected, await recording.state(workload.expected.keys()));
      return messageCount === 0 && consumerCount === 1 && diff.length === 0 ? true : undefined;
    });
    expect(await recording.violations()).toEqual([]);
  } finally {
    sluice.kill('SIGTERM');
    const exit = await sluice.exited;
    expect(exit.code, sluice.tail()).toBe(0);
    rabbit.queues.push(queue);
    await rabbit.stop();
    await recording.clear();
  }
}, 180_000);
