/**
 * The RocketMQ dead-letter topic and its replay reader (rocketmqSource.deadLetters) against the
 * testbed broker: the writer creates `<topic>_DLQ` itself (one queue), records round-trip byte
 * for byte with the reason in the message properties, and a replay read returns only what the
 * previous committed replay did not take.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { classifyError, type DeadLetterContext, type DeadLetterRecord } from '@sluice/plugin-api';
import { uniqueName } from '../../../test/support/testbed.js';
import { deadLetterTopic, rocketmqSource } from '../src/index.js';
import { TestRocketMQ, nameServer } from './helpers.js';

const context = (instance: string, server = nameServer()): DeadLetterContext => ({
  instance,
  name: undefined,
  properties: { 'rocketmq.namesrv.addr': server, 'rocketmq.request.timeout.ms': '3000' },
  configDir: process.cwd(),
});

const record = (
  destination: string,
  offset: number,
  payload: string,
  payloadEncoding: 'utf8' | 'base64' = 'utf8',
): DeadLetterRecord => ({
  at: new Date().toISOString(),
  destination,
  groupId: 'g1',
  partition: 'broker-a:0',
  offset: String(offset),
  reason: 'rejected by the test',
  attempts: 1,
  payload,
  payloadEncoding,
});

let rmq: TestRocketMQ;
beforeAll(async () => {
  rmq = await new TestRocketMQ().start();
});
afterAll(() => rmq?.stop());

describe('rocketmqSource.deadLetters on the testbed broker', () => {
  it('creates the missing <topic>_DLQ, round-trips records exactly, replay reads each record once across committed replays, and depth counts what waits', async () => {
    const instance = await rmq.createTopic(2, 'dlqsrc');
    const dlq = `${instance}_DLQ`;
    const signal = AbortSignal.timeout(60_000);
    const queue = rocketmqSource.deadLetters!.queue(context(instance));
    const reader = rocketmqSource.deadLetters!.reader(context(instance));
    expect(queue.location).toContain(`topic "${dlq}"`);
    // nothing written yet: the topic does not exist, so there is nothing to replay
    expect(await rmq.client.route(dlq)).toBeUndefined();
    expect((await reader.read(signal)).records).toEqual([]);
    expect(await reader.depth!(signal)).toBe(0);

    // The start-up check creates the topic (one queue) before any dead letter exists.
    await queue.prepare!(signal);
    // The broker registers a new topic with the name server at once; polled to be safe.
    let created = await rmq.client.route(dlq);
    for (let i = 0; !created && i < 50; i++) {
      await new Promise((r) => setTimeout(r, 100));
      created = await rmq.client.route(dlq);
    }
    expect(created?.readQueues.map((q) => q.queueId)).toEqual([0]);
    expect((await reader.read(signal)).records).toEqual([]);

    const protobuf = Buffer.from([0x08, 0x03, 0x2a, 0x02, 0xff, 0xfe]).toString('base64');
    const text = record(instance, 1, '{"type":"INSERT","data":[{"name":"张三 🚀"}]}');
    const bytes = {
      ...record(instance, 2, protobuf, 'base64'),
      index: 3,
      sink: 'es',
      mapping: 'm.yml',
      reason: 'bad\u0001value\u0002here',
    };
    await queue.write(text, signal);
    await queue.write(bytes, signal);

    // One queue, in write order; the reason travels in the properties too.
    const route = await rmq.client.route(dlq);
    expect(route?.readQueues.map((q) => q.queueId)).toEqual([0]);
    const pulled = await rmq.client.pull(rmq.broker, {
      group: uniqueName('peek'),
      topic: dlq,
      queueId: 0,
      offset: 0n,
      maxNums: 32,
      suspendMs: 0,
      subscription: '*',
    });
    if (pulled.status !== 'found') throw new Error(`pull: ${pulled.status}`);
    expect(pulled.messages.map((m) => m.properties.get('sluice-reason'))).toEqual([
      'rejected by the test',
      'bad value here',
    ]);
    expect(pulled.messages.map((m) => m.properties.get('sluice-sink'))).toEqual([undefined, 'es']);
    expect(pulled.messages[1]?.properties.get('KEYS')).toBe('broker-a:0@2');

    expect(await reader.depth!(signal)).toBe(2); // counted without pulling
    const first = await reader.read(signal);
    expect(first.records).toEqual([text, bytes]);
    expect(await reader.depth!(signal)).toBe(2); // read, not committed: still waiting
    // not committed: the same records come again
    const again = await reader.read(signal);
    expect(again.records).toEqual([text, bytes]);
    await again.commit(signal);
    expect(await reader.depth!(signal)).toBe(0);

    // a record dead-lettered after the replay is the only one the next replay reads
    await queue.write(record(instance, 3, 'not json'), signal);
    expect(await reader.depth!(signal)).toBe(1);
    const next = await reader.read(signal);
    expect(next.records.map((r) => r.offset)).toEqual(['3']);
    await next.commit(signal);
    expect(await reader.depth!(signal)).toBe(0);
    expect((await reader.read(signal)).records).toEqual([]);
    await queue.close(signal);
    await reader.close(signal);
  }, 90_000);

  it('names the topic <topic>_DLQ inside the namespace, or the configured suffix, and refuses names RocketMQ cannot hold', () => {
    expect(deadLetterTopic('', 'orders')).toBe('orders_DLQ');
    expect(deadLetterTopic('ns1', 'orders')).toBe('ns1%orders_DLQ');
    expect(deadLetterTopic('', 'orders', 'orders-dead')).toBe('orders-dead');
    expect(() => deadLetterTopic('', 'orders', 'orders.dlq')).toThrow(/not a valid topic name/);
    expect(() => deadLetterTopic('', 'x', '%DLQ%g1')).toThrow(/reserves/);
  });

  it('a write fails, as not connected (so the offset does not move), when the name server is unreachable', async () => {
    const queue = rocketmqSource.deadLetters!.queue(context('nowhere', '127.0.0.1:1'));
    const error = await queue
      .write(record('nowhere', 1, 'x'), AbortSignal.timeout(30_000))
      .catch((e: unknown) => e);
    expect(classifyError(error)).toBe('notConnected');
    expect((error as Error).message).toMatch(/dead letter to topic "nowhere_DLQ".*127\.0\.0\.1:1/);
    await queue.close(AbortSignal.timeout(5_000));
  }, 60_000);
});
