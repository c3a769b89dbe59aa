/**
 * Issue 17 (RocketMQ), poison input: an undecodable message and a row the sink rejects land in
 * the dead-letter topic `<topic>_DLQ` (sluice.deadLetter.type: rocketmq) with their reason while
 * everything else is applied and committed; `sluice dlq list|show|replay` read that topic, and
 * the replay applies the rejected row once the cause is fixed.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import type { DeadLetterRecord } from '@sluice/plugin-api';
import { rocketmqSource } from '../../plugins/source-rocketmq/src/index.js';
import { redisUrl, uniqueName } from '../support/testbed.js';
import { E2eRocketMQ, writeRocketMQConfig } from './support/rocketmq.js';
import { SluiceProcess, requireBuiltCli } from './support/sluice.js';
import { Recording, stateDiff } from './support/verify.js';
import type { Row } from './support/workload.js';
import { itemsInsert as insert, payloadText as text } from './support/deadLetters.js';

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

/** What the dead-letter topic holds now (read without committing a replay). */
async function dlqRecords(topic: string): Promise<DeadLetterRecord[]> {
  const reader = rocketmqSource.deadLetters!.reader({
    instance: topic,
    name: undefined,
    properties: { 'rocketmq.namesrv.addr': rmq.nameServer },
    configDir: process.cwd(),
  });
  try {
    return [...(await reader.read(AbortSignal.timeout(30_000))).records];
  } finally {
    await reader.close(AbortSignal.timeout(5_000));
  }
}

it('takes the poison messages to <topic>_DLQ with their reason while the rest is applied, and replays the fixed row', async () => {
  const topic = await rmq.createTopic(1, 'e2e_rmq_dlq');
  const groupId = uniqueName('g');
  const expected = new Map<string, Row | null>();
  const bodies: string[] = [];
  for (let id = 1; id <= 150; id++) {
    const row: Row = { id: String(id), name: `n${id}`, qty: id === 77 ? '-1' : String(id % 10) };
    expected.set(`shop.items:${id}`, row);
    bodies.push(insert([row], id));
    if (id === 120) bodies.push('{"data": [ this is not JSON');
  }
  await rmq.produce(topic, [bodies]);
  const prefix = uniqueName('rec');
  const config = await writeRocketMQConfig({
    nameServer: rmq.nameServer,
    topic,
    groupId,
    redis: redisUrl(),
    prefix,
    deadLetter: 'rocketmq',
    sinkProperties: { rejectQty: '-1' },
    consumeFromFirst: true,
  });

  const sluice = SluiceProcess.start(config.dir, { once: true });
  expect((await sluice.exited).code, sluice.tail()).toBe(0);
  const recording = new Recording(redis, prefix);
  const withoutRejected = new Map(expected);
  withoutRejected.set('shop.items:77', null);
  expect(stateDiff(withoutRejected, await recording.state(expected.keys()))).toEqual([]);
  // Committed to the end: the poison messages too, once they were safely dead-lettered.
  expect(await rmq.committed(groupId, topic, 1)).toEqual([151n]);

  const letters = await dlqRecords(topic);
  expect(letters).toHaveLength(2);
  const undecodable = letters.find((l) => /undecodable/i.test(l.reason));
  const rejected = letters.find((l) => /qty -1 is not allowed/.test(l.reason));
  expect(text(undecodable)).toBe('{"data": [ this is not JSON');
  expect(undecodable?.partition).toBe(`${rmq.brokerName}:0`);
  expect(undecodable?.offset).toBe('120');
  expect(rejected?.sink).toBe('rec');
  expect(rejected?.destination).toBe(topic);
  expect(JSON.parse(text(rejected)!).data[0].id).toBe('77');

  // list and show read the topic without moving the replay position.
  const list = new SluiceProcess(['dlq', 'list', '--config', config.dir]);
  expect((await list.exited).code, list.tail()).toBe(0);
  expect(list.tail()).toMatch(/2 of 2 dead letter\(s\) match/);
  expect(list.lines.join('\n')).toContain(`topic "${topic}_DLQ"`);
  const show = new SluiceProcess(['dlq', 'show', '--config', config.dir, '--reason', 'qty']);
  expect((await show.exited).code, show.tail()).toBe(0);
  expect(show.lines.join('\n')).toContain('qty -1 is not allowed');
  expect(await dlqRecords(topic)).toHaveLength(2);

  // Fix the sink's cause and replay: the rejected row is applied; the undecodable message
  // fails again and goes back to the dead-letter topic (exit 1).
  await recording.setFixed();
  const replay = new SluiceProcess(['dlq', 'replay', '--config', config.dir]);
  expect((await replay.exited).code, replay.tail()).toBe(1);
  expect(replay.tail()).toContain('Replayed 2 dead letter(s) from ');
  expect(replay.tail()).toMatch(/; 1 failed again and went back to /);
  expect(stateDiff(expected, await recording.state(expected.keys()))).toEqual([]);
  expect(await recording.violations()).toEqual([]);
  // The replay group moved past what it read; only the one that failed again is left.
  const after = await dlqRecords(topic);
  expect(after.map(text)).toEqual(['{"data": [ this is not JSON']);
  expect(after.map((l) => l.attempts)).toEqual([2]);
  await recording.clear();
}, 120_000);
