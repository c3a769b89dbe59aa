/**
 * Issue 7, poison input: an undecodable message and a row the sink rejects land in the
 * dead-letter queue (a JSONL directory, or the `<topic>.dlq` Kafka topic) with their reason
 * while everything else flows; `sluice dlq replay` puts the rejected row back once the cause is
 * fixed.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { rowPartition } from '@sluice/canal-protocol';
import type { DeadLetterRecord as DeadLetter } from '@sluice/plugin-api';
import { kafkaBroker, redisUrl, uniqueName } from '../support/testbed.js';
import { SluiceProcess, writeKafkaConfig } from './support/sluice.js';
import { useE2eServices, Recording, stateDiff } from './support/verify.js';
import type { Row } from './support/workload.js';
import {
  itemsInsert,
  payloadText as text,
  readFileDeadLetters as readFileDlq,
} from './support/deadLetters.js';

const e2e = useE2eServices();

async function readKafkaDlq(topic: string): Promise<DeadLetter[]> {
  const ends = await e2e.kafka.ends(topic);
  const total = Number(ends.reduce((a, b) => a + b, 0n));
  const out: DeadLetter[] = [];
  if (total === 0) return out;
  const consumer = e2e.kafka.kafka.consumer({
    groupId: uniqueName('dlqread'),
    maxWaitTimeInMs: 100,
  });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await new Promise<void>((resolve) => {
    void consumer.run({
      eachMessage: async ({ message }) => {
        out.push(JSON.parse(message.value!.toString('utf8')) as DeadLetter);
        if (out.length >= total) resolve();
      },
    });
  });
  await consumer.disconnect();
  return out;
}

describe.each(['file', 'kafka'] as const)('dead-letter queue of type %s', (type) => {
  it('takes the poison messages with their reason while the rest flows, and replays the fixed row', async () => {
    const partitions = 2;
    const topic = uniqueName('e2e_dlq');
    await e2e.kafka.createTopic(topic, partitions);
    // auto.create.topics.enable is off on the testbed (as in many production clusters): Sluice
    // creates <topic>.dlq itself on the first dead letter.
    const expected = new Map<string, Row | null>();
    const perPartition: string[][] = [[], []];
    let seq = 0;
    for (let id = 1; id <= 200; id++) {
      const row: Row = { id: String(id), name: `n${id}`, qty: id === 77 ? '-1' : String(id % 10) };
      expected.set(`shop.items:${id}`, row);
      perPartition[rowPartition('shop', { id: String(id) }, ['id'], { partitions })]!.push(
        itemsInsert([row], ++seq, 1),
      );
      if (id === 120) perPartition[0]!.push('{"data": [ this is not JSON');
    }
    await e2e.kafka.produce(topic, perPartition);
    const prefix = uniqueName('rec');
    const groupId = uniqueName('g');
    const config = await writeKafkaConfig({
      broker: kafkaBroker(),
      topic,
      groupId,
      redis: redisUrl(),
      prefix,
      deadLetter: type,
      sinkProperties: { rejectQty: '-1' },
    });

    const sluice = SluiceProcess.start(config.dir, { once: true });
    expect((await sluice.exited).code, sluice.tail()).toBe(0);
    const recording = new Recording(e2e.redis, prefix);
    const withoutRejected = new Map(expected);
    withoutRejected.set('shop.items:77', null);
    expect(stateDiff(withoutRejected, await recording.state(expected.keys()))).toEqual([]);
    expect(await e2e.kafka.committed(groupId, topic)).toEqual(await e2e.kafka.ends(topic));

    const letters =
      type === 'file' ? await readFileDlq(config.dlqDir) : await readKafkaDlq(`${topic}.dlq`);
    expect(letters).toHaveLength(2);
    const undecodable = letters.find((l) => /undecodable/i.test(l.reason));
    const rejected = letters.find((l) => /qty -1 is not allowed/.test(l.reason));
    expect(text(undecodable)).toBe('{"data": [ this is not JSON');
    expect(rejected?.sink).toBe('rec');
    expect(JSON.parse(text(rejected)!).data[0].id).toBe('77');

    // fix the sink's cause and replay: the rejected row is applied; the undecodable message
    // fails again, goes back to the dead-letter queue, and the replay says so (exit 1)
    await recording.setFixed();
    const replay = new SluiceProcess(['dlq', 'replay', '--config', config.dir]);
    expect((await replay.exited).code, replay.tail()).toBe(1);
    // The message names where the dead letters were read and where the failed one went (the
    // real file or topic name, not a `<topic>.dlq` pattern).
    const where = type === 'file' ? join(config.dlqDir, `${topic}.jsonl`) : `"${topic}.dlq"`;
    expect(replay.tail()).toContain(`Replayed 2 dead letter(s) from `);
    expect(replay.tail()).toMatch(/; 1 failed again and went back to /);
    expect(replay.tail()).toContain(where);
    expect(replay.tail()).not.toContain('<topic>');
    expect(stateDiff(expected, await recording.state(expected.keys()))).toEqual([]);
    expect(await recording.violations()).toEqual([]);
    const after =
      type === 'file' ? await readFileDlq(config.dlqDir) : await readKafkaDlq(`${topic}.dlq`);
    const fresh = type === 'file' ? after : after.slice(letters.length); // a topic keeps the replayed records
    expect(fresh.map(text)).toEqual(['{"data": [ this is not JSON']);
    // A file is rewritten in place (no copy per replay); every failed replay counts an attempt.
    if (type === 'file') expect(await readdir(config.dlqDir)).toEqual([`${topic}.jsonl`]);
    expect(fresh.map((l) => l.attempts)).toEqual([2]);

    // list shows what waits (a topic: from where the replay stopped); drop --yes removes it.
    const list = new SluiceProcess(['dlq', 'list', '--config', config.dir]);
    expect((await list.exited).code, list.tail()).toBe(0);
    expect(list.tail()).toMatch(/undecodable attempts 2 .*: undecodable message/);
    expect(list.tail()).toMatch(/1 of 1 dead letter\(s\) match/);
    const drop = new SluiceProcess([
      'dlq',
      'drop',
      '--config',
      config.dir,
      '--reason',
      'undecodable',
      '--yes',
    ]);
    expect((await drop.exited).code, drop.tail()).toBe(0);
    expect(drop.tail()).toMatch(/Dropped 1 dead letter\(s\)/);
    const empty = new SluiceProcess(['dlq', 'list', '--config', config.dir]);
    expect((await empty.exited).code, empty.tail()).toBe(0);
    expect(empty.tail()).toMatch(/0 of 0 dead letter\(s\) match/);
    await recording.clear();
  }, 60_000);
});
