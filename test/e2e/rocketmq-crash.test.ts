/**
 * Issue 17, RocketMQ: canal-adapter's shipped application.yml in rocketMQ mode validates and runs
 * unchanged; a canal-like stream (hot keys, PK changes, canal's partition hash as the queue
 * selector) converges to the sequential result; `kill -9` of sluice at random moments never
 * leaves a committed-but-unapplied message.
 */
import { spawnSync } from 'node:child_process';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { redisUrl, uniqueName } from '../support/testbed.js';
import { E2eRocketMQ, committedButNotAppliedRmq, writeRocketMQConfig } from './support/rocketmq.js';
import { SluiceProcess, requireBuiltCli, sluiceBin } from './support/sluice.js';
import { Recording, stateDiff } from './support/verify.js';
import { chunked, generateWorkload, rng } from './support/workload.js';

let rmq: E2eRocketMQ;
let redis: Redis;
beforeAll(async () => {
  requireBuiltCli();
  rmq = await new E2eRocketMQ().start();
  redis = new Redis(redisUrl());
});
afterAll(() => {
  rmq?.stop();
  redis?.disconnect();
});

it('canal’s application.yml in rocketMQ mode validates unchanged, and a hot-key stream with PK changes over 4 queues converges (--once)', async () => {
  const queues = 4;
  const workload = generateWorkload({ partitions: queues, statements: 1500, seed: 5 });
  const topic = await rmq.createTopic(queues, 'e2e_rmq_order');
  await rmq.produce(topic, workload.partitions);
  const prefix = uniqueName('rec');
  const groupId = uniqueName('g');
  const config = await writeRocketMQConfig({
    nameServer: rmq.nameServer,
    topic,
    groupId,
    redis: redisUrl(),
    prefix,
    syncBatchSize: 50,
  });
  const validate = spawnSync(process.execPath, [sluiceBin, 'validate', '--config', config.dir], {
    encoding: 'utf8',
  });
  expect(validate.status, validate.stdout + validate.stderr).toBe(0);
  const run = SluiceProcess.start(config.dir, { once: true });
  const exit = await run.exited;
  expect(exit.code, run.tail()).toBe(0);
  const recording = new Recording(redis, prefix);
  expect(await recording.violations()).toEqual([]);
  expect(stateDiff(workload.expected, await recording.state(workload.expected.keys()))).toEqual([]);
  expect(await rmq.committed(groupId, topic, queues)).toEqual(await rmq.ends(topic, queues));
  await recording.clear();
}, 120_000);

it('survives 6 kill -9 at random moments: never commits what was not applied, and converges to the sequential result', async () => {
  const queues = 3;
  const kills = 6;
  const workload = generateWorkload({ partitions: queues, statements: 2400, seed: 29 });
  const chunks = chunked(workload, kills);
  const topic = await rmq.createTopic(queues, 'e2e_rmq_crash');
  const prefix = uniqueName('rec');
  const groupId = uniqueName('g');
  const config = await writeRocketMQConfig({
    nameServer: rmq.nameServer,
    topic,
    groupId,
    redis: redisUrl(),
    prefix,
    syncBatchSize: 20,
    batchSize: 50,
    sinkProperties: { delayMs: '3' }, // keep it busy long enough to be killed mid-apply
  });
  const recording = new Recording(redis, prefix);
  const random = rng(7);
  const crashes: string[] = [];
  let midApply = 0;
  let commitsMoved = 0;
  let lastCommitted: bigint[] = [];
  const activity = async () => {
    let n = Number((await redis.get(`${prefix}:writes`)) ?? 0);
    for (let p = 0; p < queues; p++) n += await redis.llen(`${prefix}:dups:${rmq.brokerName}:${p}`);
    return n;
  };
  for (let i = 0; i < kills; i++) {
    await rmq.produce(topic, chunks[i]!);
    const sluice = SluiceProcess.start(config.dir);
    await sluice.waitFor(/Consuming /);
    const before = await activity();
    await new Promise((r) => setTimeout(r, 100 + Math.floor(random() * 2400)));
    sluice.kill('SIGKILL');
    const exit = await sluice.exited;
    expect(exit.signal, sluice.tail()).toBe('SIGKILL');
    const committed = await rmq.committed(groupId, topic, queues);
    const applied = (await activity()) - before;
    crashes.push(
      `kill ${i + 1}: committed ${committed.join('/')}, ${applied} rows applied or replayed`,
    );
    if (applied > 0) midApply += 1;
    if (committed.some((c, p) => c > (lastCommitted[p] ?? 0n))) commitsMoved += 1;
    lastCommitted = committed;
    expect(
      await committedButNotAppliedRmq(redis, prefix, rmq.brokerName, workload, committed),
      `after kill ${i + 1}`,
    ).toEqual([]);
    expect(await recording.violations(), `after kill ${i + 1}`).toEqual([]);
  }
  const last = SluiceProcess.start(config.dir, { once: true });
  const exit = await last.exited;
  expect(exit.code, last.tail()).toBe(0);
  const committed = await rmq.committed(groupId, topic, queues);
  expect(committed).toEqual(await rmq.ends(topic, queues));
  expect(
    await committedButNotAppliedRmq(redis, prefix, rmq.brokerName, workload, committed),
  ).toEqual([]);
  expect(await recording.violations()).toEqual([]);
  expect(stateDiff(workload.expected, await recording.state(workload.expected.keys()))).toEqual([]);
  expect(midApply, crashes.join('\n')).toBeGreaterThanOrEqual(3);
  expect(commitsMoved, crashes.join('\n')).toBeGreaterThanOrEqual(2);
  if (process.env.SLUICE_TEST_VERBOSE) console.error(crashes.join('\n'));
  await recording.clear();
}, 180_000);
