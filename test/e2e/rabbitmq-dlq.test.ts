/**
 * Issue 17 (RabbitMQ), poison input: an undecodable message and a row the sink rejects land in
 * the dead-letter queue (the `<queue>.dlq` RabbitMQ queue, the default in rabbitMQ mode when
 * `sluice.deadLetter.type` is not set, or the JSONL directory of an explicit `type: file`) with their
 * reason while everything else flows and is acked; `sluice dlq list|show|replay` read the
 * RabbitMQ dead-letter queue, and the replay applies the rejected row once the cause is fixed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import type { DeadLetterRecord as DeadLetter } from '@sluice/plugin-api';
import { NODE, rabbitmqctl } from '../testbed/services/rabbitmq.mjs';
import { redisUrl, uniqueName } from '../support/testbed.js';
import { E2eRabbit, rabbitBroker, writeRabbitConfig } from './support/rabbitmq.js';
import { SluiceProcess, requireBuiltCli } from './support/sluice.js';
import { Recording, stateDiff } from './support/verify.js';
import type { Row } from './support/workload.js';
import {
  itemsInsert as insert,
  payloadText as text,
  readFileDeadLetters as readFileDlq,
} from './support/deadLetters.js';

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

const readQueueDlq = async (queue: string): Promise<DeadLetter[]> =>
  (await rabbit.peek(queue)).map((b) => JSON.parse(b.toString('utf8')) as DeadLetter);

// `default`: no sluice.deadLetter.type at all, which in rabbitMQ mode is the <queue>.dlq queue.
describe.each(['default', 'file'] as const)('dead-letter queue of type %s', (type) => {
  it('takes the poison messages with their reason while the rest flows, and replays the fixed row', async () => {
    const queue = await rabbit.createQueue('e2e_rmq_dlq');
    const expected = new Map<string, Row | null>();
    const bodies: string[] = [];
    for (let id = 1; id <= 150; id++) {
      const row: Row = { id: String(id), name: `n${id}`, qty: id === 77 ? '-1' : String(id % 10) };
      expected.set(`shop.items:${id}`, row);
      bodies.push(insert([row], id));
      if (id === 120) bodies.push('{"data": [ this is not JSON');
    }
    await rabbit.publish(queue, bodies);
    const prefix = uniqueName('rec');
    const config = await writeRabbitConfig({
      broker: rabbitBroker(),
      queue,
      redis: redisUrl(),
      prefix,
      deadLetter: type,
      sinkProperties: { rejectQty: '-1' },
    });

    const sluice = SluiceProcess.start(config.dir, { once: true });
    expect((await sluice.exited).code, sluice.tail()).toBe(0);
    // The start says where dead letters go.
    const messages = sluice.lines.map((l) => {
      try {
        return String((JSON.parse(l) as { msg?: unknown }).msg);
      } catch {
        return l;
      }
    });
    expect(messages.join('\n')).toContain(
      type === 'file'
        ? `Dead letters go to ${config.dlqDir}`
        : `Dead letters go to queue "${queue}.dlq"`,
    );
    const recording = new Recording(redis, prefix);
    const withoutRejected = new Map(expected);
    withoutRejected.set('shop.items:77', null);
    expect(stateDiff(withoutRejected, await recording.state(expected.keys()))).toEqual([]);
    // Every message was acked: the poison ones too, once they were safely dead-lettered.
    expect(await rabbit.count(queue)).toEqual({ queue, messageCount: 0, consumerCount: 0 });

    const letters =
      type === 'file' ? await readFileDlq(config.dlqDir) : await readQueueDlq(`${queue}.dlq`);
    expect(letters).toHaveLength(2);
    const undecodable = letters.find((l) => /undecodable/i.test(l.reason));
    const rejected = letters.find((l) => /qty -1 is not allowed/.test(l.reason));
    expect(text(undecodable)).toBe('{"data": [ this is not JSON');
    expect(undecodable?.partition).toBe(queue);
    expect(rejected?.sink).toBe('rec');
    expect(rejected?.destination).toBe(queue);
    expect(JSON.parse(text(rejected)!).data[0].id).toBe('77');

    // list and show read the queue without taking anything out of it.
    const list = new SluiceProcess(['dlq', 'list', '--config', config.dir]);
    expect((await list.exited).code, list.tail()).toBe(0);
    expect(list.tail()).toMatch(/2 of 2 dead letter\(s\) match/);
    const show = new SluiceProcess(['dlq', 'show', '--config', config.dir, '--reason', 'qty']);
    expect((await show.exited).code, show.tail()).toBe(0);
    expect(show.lines.join('\n')).toContain('qty -1 is not allowed');
    if (type === 'default') {
      expect(list.lines.join('\n')).toContain(`queue "${queue}.dlq"`);
      expect((await rabbit.count(`${queue}.dlq`)).messageCount).toBe(2);
    }

    // Fix the sink's cause and replay: the rejected row is applied; the undecodable message
    // fails again and goes back to the dead-letter queue (exit 1).
    await recording.setFixed();
    const replay = new SluiceProcess(['dlq', 'replay', '--config', config.dir]);
    expect((await replay.exited).code, replay.tail()).toBe(1);
    expect(replay.tail()).toContain('Replayed 2 dead letter(s) from ');
    expect(replay.tail()).toMatch(/; 1 failed again and went back to /);
    expect(stateDiff(expected, await recording.state(expected.keys()))).toEqual([]);
    expect(await recording.violations()).toEqual([]);
    const after =
      type === 'file' ? await readFileDlq(config.dlqDir) : await readQueueDlq(`${queue}.dlq`);
    // The replayed records left the queue; only the one that failed again is there.
    expect(after.map(text)).toEqual(['{"data": [ this is not JSON']);
    expect(after.map((l) => l.attempts)).toEqual([2]);
    await recording.clear();
  }, 60_000);
});

// Runs rabbitmqctl against the testbed's own node: not with an external broker.
describe.skipIf(process.env['SLUICE_TEST_RABBITMQ'] !== undefined)(
  'the default dead-letter queue without the permission to declare it',
  () => {
    it('fails the start naming <queue>.dlq and type file, consuming nothing; runs with type file or a queue declared beforehand', async () => {
      const user = uniqueName('nodlq');
      const password = `pw-${user}`;
      await rabbitmqctl(NODE, ['add_user', user, password]);
      try {
        // May read and write everything, configure (declare) nothing.
        await rabbitmqctl(NODE, ['set_permissions', '-p', '/', user, '^$', '.*', '.*']);
        const queue = await rabbit.createQueue('e2e_rmq_noperm');
        await rabbit.publish(queue, [insert([{ id: '1', name: 'n1', qty: '1' }], 1)]);
        const broker = { ...rabbitBroker(), username: user, password };

        const defaulted = await writeRabbitConfig({ broker, queue, deadLetter: 'default' });
        const refused = SluiceProcess.start(defaulted.dir, { once: true });
        const out = () => refused.lines.join('\n');
        expect((await refused.exited).code, out()).not.toBe(0);
        expect(out()).toContain(`may not declare the dead-letter queue "${queue}.dlq"`);
        expect(out()).toContain('sluice.deadLetter.type: file');
        expect((await rabbit.count(queue)).messageCount).toBe(1);

        const file = await writeRabbitConfig({ broker, queue, deadLetter: 'file' });
        const runs = SluiceProcess.start(file.dir, { once: true });
        expect((await runs.exited).code, runs.tail()).toBe(0);
        expect((await rabbit.count(queue)).messageCount).toBe(0);

        // Declared beforehand by someone who may: the same user needs no configure permission.
        await rabbit.channel.assertQueue(`${queue}.dlq`, { durable: true });
        await rabbit.publish(queue, [insert([{ id: '2', name: 'n2', qty: '2' }], 2)]);
        const declared = SluiceProcess.start(defaulted.dir, { once: true });
        expect((await declared.exited).code, declared.tail()).toBe(0);
        expect((await rabbit.count(queue)).messageCount).toBe(0);
      } finally {
        await rabbitmqctl(NODE, ['delete_user', user]).catch(() => undefined);
      }
    }, 120_000);
  },
);
