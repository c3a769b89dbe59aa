/**
 * Issue 7, order: a stream mixing inserts, updates, PK-changing updates and deletes on a few hot
 * keys, spread over 4 partitions by canal's `$pk$` hash, applied by the `sluice` binary with 8
 * lanes, yields exactly the sequential result — and no event is ever applied after a newer one
 * of its key.
 */
import { expect, it } from 'vitest';
import { kafkaBroker, redisUrl, uniqueName } from '../support/testbed.js';
import { SluiceProcess, writeKafkaConfig } from './support/sluice.js';
import { useE2eServices, Recording, committedButNotApplied, stateDiff } from './support/verify.js';
import { generateWorkload } from './support/workload.js';

const e2e = useE2eServices();

it('applies a hot-key stream with PK changes over 4 partitions and 8 lanes exactly like the sequential result', async () => {
  const partitions = 4;
  const workload = generateWorkload({ partitions, statements: 1500, seed: 11 });
  const types = workload.partitions
    .flat()
    .map((m) => JSON.parse(m) as { type: string; old: Array<Record<string, string>> | null });
  expect(types.some((m) => m.type === 'DELETE')).toBe(true);
  expect(types.some((m) => m.type === 'UPDATE' && m.old?.some((o) => 'id' in o))).toBe(true); // PK changes present
  expect(workload.partitions.every((msgs) => msgs.length > 50)).toBe(true);

  const topic = uniqueName('e2e_order');
  await e2e.kafka.createTopic(topic, partitions);
  await e2e.kafka.produce(topic, workload.partitions);
  const prefix = uniqueName('rec');
  const groupId = uniqueName('g');
  const config = await writeKafkaConfig({
    broker: kafkaBroker(),
    topic,
    groupId,
    redis: redisUrl(),
    prefix,
    lanes: 8,
    syncBatchSize: 50,
  });

  const sluice = SluiceProcess.start(config.dir, { once: true });
  const exit = await sluice.exited;
  expect(exit.code, sluice.tail()).toBe(0);

  const recording = new Recording(e2e.redis, prefix);
  expect(await recording.violations()).toEqual([]);
  expect(stateDiff(workload.expected, await recording.state(workload.expected.keys()))).toEqual([]);
  const committed = await e2e.kafka.committed(groupId, topic);
  expect(committed).toEqual(await e2e.kafka.ends(topic));
  expect(await committedButNotApplied(recording, workload, committed)).toEqual([]);
  for (let p = 0; p < partitions; p++) expect(await recording.dups(p)).toEqual([]);
  await recording.clear();
}, 60_000);

it('negative control: the same checks catch a sink that applies each batch backwards', async () => {
  const partitions = 2;
  const workload = generateWorkload({ partitions, statements: 400, seed: 5 });
  const topic = uniqueName('e2e_order_neg');
  await e2e.kafka.createTopic(topic, partitions);
  await e2e.kafka.produce(topic, workload.partitions);
  const prefix = uniqueName('rec');
  const config = await writeKafkaConfig({
    broker: kafkaBroker(),
    topic,
    groupId: uniqueName('g'),
    redis: redisUrl(),
    prefix,
    lanes: 1,
    syncBatchSize: 50,
    sinkProperties: { reverse: 'true' },
  });
  const sluice = SluiceProcess.start(config.dir, { once: true });
  expect((await sluice.exited).code, sluice.tail()).toBe(0);
  const recording = new Recording(e2e.redis, prefix);
  const problems = [
    ...(await recording.violations()),
    ...stateDiff(workload.expected, await recording.state(workload.expected.keys())),
  ];
  expect(problems.length).toBeGreaterThan(0);
  await recording.clear();
}, 60_000);
