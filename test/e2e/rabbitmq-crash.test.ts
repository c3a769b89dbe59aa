/**
 * Issue 17 (RabbitMQ), crash safety: `kill -9` the `sluice` process at random moments while it
 * applies a stream from a queue into the recording sink. At every crash point each message the
 * broker considers acked (gone from the queue) was applied; the unacked ones go back to the queue
 * and are applied again by the next run; the end state equals the sequential result.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { redisUrl, uniqueName } from '../support/testbed.js';
import {
  E2eRabbit,
  ackedButNotApplied,
  queueMessages,
  rabbitBroker,
  writeRabbitConfig,
} from './support/rabbitmq.js';
import { SluiceProcess, requireBuiltCli } from './support/sluice.js';
import { Recording, stateDiff } from './support/verify.js';
import { generateWorkload, rng } from './support/workload.js';

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

/** Waits until the broker noticed the dead consumer (its unacked messages are back). */
async function consumerGone(queue: string): Promise<number> {
  for (let i = 0; i < 200; i++) {
    const { messageCount, consumerCount } = await rabbit.count(queue);
    if (consumerCount === 0) return messageCount;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`queue ${queue} still has a consumer 10 s after the kill`);
}

it('survives 6 kill -9 at random moments: never acks what was not applied, and converges to the sequential result', async () => {
  const kills = 6;
  const workload = generateWorkload({ partitions: 1, statements: 1500, seed: 29 });
  const messages = queueMessages(workload);
  const chunk = Math.ceil(messages.length / kills);
  const queue = await rabbit.createQueue('e2e_rmq_crash');
  const prefix = uniqueName('rec');
  const config = await writeRabbitConfig({
    broker: rabbitBroker(),
    queue,
    redis: redisUrl(),
    prefix,
    lanes: 8,
    syncBatchSize: 20,
    sinkProperties: { delayMs: '3' }, // keep it busy long enough to be killed mid-apply
    extraRabbit: { 'rabbitmq.prefetch.count': '200' },
  });
  const recording = new Recording(redis, prefix);
  const random = rng(41);
  const crashes: string[] = [];
  let published = 0;
  let lastAcked = 0;
  let ackMoved = 0;
  let midApply = 0;
  const writes = async () => Number((await redis.get(`${prefix}:writes`)) ?? 0);

  for (let i = 0; i < kills; i++) {
    const part = messages.slice(i * chunk, (i + 1) * chunk);
    await rabbit.publish(queue, part);
    published += part.length;
    const sluice = SluiceProcess.start(config.dir);
    await sluice.waitFor(/Connected to RabbitMQ/);
    const before = await writes();
    await new Promise((r) => setTimeout(r, 150 + Math.floor(random() * 1800)));
    sluice.kill('SIGKILL');
    const exit = await sluice.exited;
    expect(exit.signal, sluice.tail()).toBe('SIGKILL');
    const ready = await consumerGone(queue);
    const acked = published - ready;
    const applied = (await writes()) - before;
    crashes.push(
      `kill ${i + 1}: acked ${acked} of ${published}, ${applied} row writes in this run`,
    );
    if (applied > 0) midApply += 1;
    if (acked > lastAcked) ackMoved += 1;
    expect(acked, crashes.join('\n')).toBeGreaterThanOrEqual(lastAcked);
    lastAcked = acked;
    expect(
      await ackedButNotApplied(recording, workload, queue, acked),
      `after kill ${i + 1}`,
    ).toEqual([]);
    expect(await recording.violations(), `after kill ${i + 1}`).toEqual([]);
  }

  // The last run drains the rest at full speed (the small prefetch and the per-write delay only
  // kept the killed runs busy).
  const fast = await writeRabbitConfig({
    broker: rabbitBroker(),
    queue,
    redis: redisUrl(),
    prefix,
    lanes: 8,
    syncBatchSize: 50,
  });
  const last = SluiceProcess.start(fast.dir, { once: true });
  const exit = await last.exited;
  expect(exit.code, last.tail()).toBe(0);
  expect(await rabbit.count(queue)).toEqual({ queue, messageCount: 0, consumerCount: 0 });
  expect(await ackedButNotApplied(recording, workload, queue, messages.length)).toEqual([]);
  expect(await recording.violations()).toEqual([]);
  expect(stateDiff(workload.expected, await recording.state(workload.expected.keys()))).toEqual([]);
  // The kills really happened mid-stream, and acks moved between kills.
  expect(midApply, crashes.join('\n')).toBeGreaterThanOrEqual(3);
  expect(ackMoved, crashes.join('\n')).toBeGreaterThanOrEqual(3);
  if (process.env.SLUICE_TEST_VERBOSE) console.error(crashes.join('\n'));
  await recording.clear();
}, 120_000);
