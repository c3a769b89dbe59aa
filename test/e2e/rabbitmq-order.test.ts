/**
 * Issue 17 (RabbitMQ): a canal-adapter `application.yml` in `mode: rabbitMQ` validates and runs
 * unchanged; a hot-key stream with PK changes published to one queue as canal's producer does is
 * applied by the `sluice` binary with 8 lanes exactly like the sequential result, never out of
 * order, and every message is acked (the queue is empty) only after it was applied.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { redisUrl, uniqueName } from '../support/testbed.js';
import { E2eRabbit, queueMessages, rabbitBroker, writeRabbitConfig } from './support/rabbitmq.js';
import { SluiceProcess, requireBuiltCli } from './support/sluice.js';
import { Recording, stateDiff } from './support/verify.js';
import { generateWorkload } from './support/workload.js';

let rabbit: E2eRabbit;
let redis: Redis;
beforeAll(async () => {
  requireBuiltCli();
  rabbit = await new E2eRabbit().start();
  redis = new Redis(redisUrl());
});
afterAll(async () => {
  await rabbit?.stop();
  redis?.disconnect();
});

it('validates a canal-adapter rabbitMQ-mode application.yml unchanged', async () => {
  const queue = await rabbit.createQueue('e2e_rmq_validate');
  const config = await writeRabbitConfig({ broker: rabbitBroker(), queue });
  const validate = new SluiceProcess(['validate', '--config', config.dir]);
  const exit = await validate.exited;
  expect(exit.code, validate.tail()).toBe(0);
  expect(validate.lines.join('\n')).not.toMatch(/error/i);
}, 30_000);

it('refuses a queue that does not exist, naming it (Sluice never declares the source queue)', async () => {
  const queue = uniqueName('e2e_rmq_missing');
  const config = await writeRabbitConfig({ broker: rabbitBroker(), queue });
  const sluice = SluiceProcess.start(config.dir, { once: true });
  const exit = await sluice.exited;
  expect(exit.code, sluice.tail()).not.toBe(0);
  expect(sluice.tail()).toContain(`Queue "${queue}" does not exist`);
}, 30_000);

it('applies a hot-key stream with PK changes from one queue with 8 lanes exactly like the sequential result', async () => {
  const workload = generateWorkload({ partitions: 1, statements: 1500, seed: 17 });
  const types = queueMessages(workload).map(
    (m) => JSON.parse(m) as { type: string; old: Array<Record<string, string>> | null },
  );
  expect(types.some((m) => m.type === 'DELETE')).toBe(true);
  expect(types.some((m) => m.type === 'UPDATE' && m.old?.some((o) => 'id' in o))).toBe(true);

  const queue = await rabbit.createQueue('e2e_rmq_order');
  await rabbit.publish(queue, queueMessages(workload));
  const prefix = uniqueName('rec');
  const config = await writeRabbitConfig({
    broker: rabbitBroker(),
    queue,
    redis: redisUrl(),
    prefix,
    lanes: 8,
    syncBatchSize: 50,
  });
  const sluice = SluiceProcess.start(config.dir, { once: true });
  const exit = await sluice.exited;
  expect(exit.code, sluice.tail()).toBe(0);

  const recording = new Recording(redis, prefix);
  expect(await recording.violations()).toEqual([]);
  expect(stateDiff(workload.expected, await recording.state(workload.expected.keys()))).toEqual([]);
  expect(await redis.lrange(`${prefix}:dups:${queue}`, 0, -1)).toEqual([]);
  // Everything was acked: nothing ready, nothing held by a consumer.
  expect(await rabbit.count(queue)).toEqual({ queue, messageCount: 0, consumerCount: 0 });
  await recording.clear();
}, 90_000);
