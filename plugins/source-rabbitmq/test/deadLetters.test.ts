/**
 * The RabbitMQ dead-letter queue against the testbed node: records written with confirms land
 * in `<queue>.dlq` in order; a read holds them unacknowledged (closing without a commit gives
 * them back, in order), a commit removes exactly what was read (records written meanwhile stay);
 * a missing queue holds nothing; a foreign message stops the read with its place.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { classifyError, type DeadLetterRecord } from '@sluice/plugin-api';
import { uniqueName } from '../../../test/support/testbed.js';
import { rabbitmqSource } from '../src/index.js';
import { TestRabbit, brokerAddress } from './helpers.js';

let rabbit: TestRabbit;
beforeAll(async () => {
  rabbit = await new TestRabbit().start();
});
afterAll(async () => {
  await rabbit?.stop();
});

const signal = () => AbortSignal.timeout(10_000);

function context(instance: string) {
  const b = brokerAddress();
  return {
    instance,
    name: undefined,
    properties: {
      'rabbitmq.host': `${b.host}:${b.port}`,
      'rabbitmq.username': b.username,
      'rabbitmq.password': b.password,
    },
    configDir: process.cwd(),
  };
}

const record = (offset: number): DeadLetterRecord => ({
  at: new Date(0).toISOString(),
  destination: 'orders',
  groupId: 'g1',
  partition: 'orders',
  offset: String(offset),
  reason: `bad ${offset}`,
  attempts: 1,
  payload: Buffer.from(`{"n":${offset}}`).toString('base64'),
  payloadEncoding: 'base64',
});

it('writes, reads back, gives back without a commit and removes only what was read on commit', async () => {
  const instance = uniqueName('dlq_src');
  rabbit.queues.push(instance); // stop() deletes <instance>.dlq too
  const caps = rabbitmqSource.deadLetters!;
  const queue = caps.queue(context(instance));
  expect(queue.location).toContain(`queue "${instance}.dlq"`);
  for (const n of [1, 2, 3]) await queue.write(record(n), signal());
  expect((await rabbit.count(`${instance}.dlq`)).messageCount).toBe(3);

  const first = caps.reader(context(instance));
  const read1 = await first.read(signal());
  expect(read1.records.map((r) => r.offset)).toEqual(['1', '2', '3']);
  await first.close(signal()); // no commit: everything goes back, in order
  await new Promise((r) => setTimeout(r, 100));

  const second = caps.reader(context(instance));
  const read2 = await second.read(signal());
  expect(read2.records).toEqual([record(1), record(2), record(3)]);
  await queue.write(record(4), signal()); // written while the replay runs
  await read2.commit(signal());
  await second.close(signal());
  await queue.close(signal());

  const third = caps.reader(context(instance));
  expect((await third.read(signal())).records.map((r) => r.offset)).toEqual(['4']);
  await third.close(signal());
}, 30_000);

it('depth counts the dead letters waiting, without reading them, and follows writes and replays', async () => {
  const instance = uniqueName('dlq_depth');
  rabbit.queues.push(instance);
  const caps = rabbitmqSource.deadLetters!;
  const counter = caps.reader(context(instance));
  expect(await counter.depth!(signal())).toBe(0); // not declared yet
  const queue = caps.queue(context(instance));
  for (const n of [1, 2, 3]) await queue.write(record(n), signal());
  expect(await counter.depth!(signal())).toBe(3);
  expect(await counter.depth!(signal())).toBe(3); // counting took nothing
  const replay = caps.reader(context(instance));
  const batch = await replay.read(signal());
  await batch.commit(signal());
  await replay.close(signal());
  await queue.write(record(4), signal());
  expect(await counter.depth!(signal())).toBe(1);
  await counter.close(signal());
  await queue.close(signal());
  expect((await rabbit.count(`${instance}.dlq`)).messageCount).toBe(1);
}, 30_000);

it('depth fails as retryable when the broker cannot be reached', async () => {
  const reader = rabbitmqSource.deadLetters!.reader({
    ...context('nowhere'),
    properties: {
      'rabbitmq.host': '127.0.0.1:1',
      'rabbitmq.username': 'u',
      'rabbitmq.password': 'p',
    },
  });
  const error = await reader.depth!(signal()).catch((e: unknown) => e);
  expect(classifyError(error)).toBe('retryable');
  expect((error as Error).message).toMatch(/Counting the dead letters of queue "nowhere\.dlq"/);
  await reader.close(signal());
}, 30_000);

it('a dead-letter queue that does not exist holds nothing', async () => {
  const reader = rabbitmqSource.deadLetters!.reader(context(uniqueName('never')));
  const batch = await reader.read(signal());
  expect(batch.records).toEqual([]);
  await batch.commit(signal());
  expect(await reader.depth!(signal())).toBe(0);
  await reader.close(signal());
}, 30_000);

it('stops at a message that is not a dead-letter record, naming its place, and removes nothing', async () => {
  const instance = uniqueName('dlq_foreign');
  rabbit.queues.push(instance);
  await rabbit.channel.assertQueue(`${instance}.dlq`, { durable: true });
  await rabbit.publish(`${instance}.dlq`, [JSON.stringify(record(1)), 'not json']);
  const reader = rabbitmqSource.deadLetters!.reader(context(instance));
  await expect(reader.read(signal())).rejects.toThrow(
    new RegExp(`queue "${instance}.dlq" message 2 of 2: not JSON`),
  );
  await reader.close(signal());
  await new Promise((r) => setTimeout(r, 100));
  expect((await rabbit.count(`${instance}.dlq`)).messageCount).toBe(2);
}, 30_000);
