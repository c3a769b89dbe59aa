/**
 * Issue 7, crash safety: `kill -9` the `sluice` process at random moments (10 times) while it
 * applies a stream into the recording sink. At every crash point nothing was committed that the
 * sink never applied; after the last restart the state equals the sequential result.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { kafkaBroker, redisUrl, uniqueName } from '../support/testbed.js';
import { SluiceProcess, requireBuiltCli, writeKafkaConfig } from './support/sluice.js';
import { E2eKafka, Recording, committedButNotApplied, stateDiff } from './support/verify.js';
import { chunked, generateWorkload, rng } from './support/workload.js';

let kafka: E2eKafka;
let redis: Redis;
beforeAll(async () => {
  requireBuiltCli();
  kafka = await new E2eKafka(kafkaBroker()).start();
  redis = new Redis(redisUrl());
});
afterAll(async () => {
  await kafka?.stop();
  redis?.disconnect();
});

it('survives 10 kill -9 at random moments: never commits what was not applied, and converges to the sequential result', async () => {
  const partitions = 3;
  const kills = 10;
  const workload = generateWorkload({ partitions, statements: 3000, seed: 23 });
  const chunks = chunked(workload, kills);
  const topic = uniqueName('e2e_crash');
  await kafka.createTopic(topic, partitions);
  const prefix = uniqueName('rec');
  const groupId = uniqueName('g');
  const config = await writeKafkaConfig({
    broker: kafkaBroker(),
    topic,
    groupId,
    redis: redisUrl(),
    prefix,
    lanes: 8,
    syncBatchSize: 20,
    sinkProperties: { delayMs: '3' }, // keep it busy long enough to be killed mid-apply
    extraKafka: { 'kafka.max.poll.records': '50' },
  });
  const recording = new Recording(redis, prefix);
  const random = rng(99);
  const crashes: string[] = [];

  for (let i = 0; i < kills; i++) {
    await kafka.produce(topic, chunks[i]!);
    const sluice = SluiceProcess.start(config.dir);
    // applying starts once the group is joined; kill at a random moment after that
    await sluice.waitFor(/Joined the consumer group/);
    const writesBefore = Number((await redis.get(`${prefix}:writes`)) ?? 0);
    await new Promise((r) => setTimeout(r, 50 + Math.floor(random() * 600)));
    sluice.kill('SIGKILL');
    const exit = await sluice.exited;
    expect(exit.signal, sluice.tail()).toBe('SIGKILL');
    const committed = await kafka.committed(groupId, topic);
    const writesAfter = Number((await redis.get(`${prefix}:writes`)) ?? 0);
    crashes.push(`kill ${i + 1}: committed ${committed.join('/')}, ${writesAfter - writesBefore} writes in this run`);
    expect(await committedButNotApplied(recording, workload, committed), `after kill ${i + 1}`).toEqual([]);
    expect(await recording.violations(), `after kill ${i + 1}`).toEqual([]);
  }

  const last = SluiceProcess.start(config.dir, { once: true });
  const exit = await last.exited;
  expect(exit.code, last.tail()).toBe(0);
  const committed = await kafka.committed(groupId, topic);
  expect(committed).toEqual(await kafka.ends(topic));
  expect(await committedButNotApplied(recording, workload, committed)).toEqual([]);
  expect(await recording.violations()).toEqual([]);
  expect(stateDiff(workload.expected, await recording.state(workload.expected.keys()))).toEqual([]);
  // the kills really happened mid-stream: some runs applied something and were cut short
  expect(crashes.filter((c) => !c.includes(' 0 writes')).length, crashes.join('\n')).toBeGreaterThan(3);
  if (process.env.SLUICE_TEST_VERBOSE) console.error(crashes.join('\n'));
  await recording.clear();
}, 150_000);
