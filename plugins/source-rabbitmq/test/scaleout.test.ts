/**
 * Several Sluice instances on one queue keep canal's order only when one of them consumes at a
 * time: with a queue declared `x-single-active-consumer` (RabbitMQ picks one active consumer,
 * the others stand by) or with `rabbitmq.consumer.exclusive: true` (the broker refuses a second
 * consumer; it retries until the first goes away). Without either, RabbitMQ spreads messages over
 * the consumers; Sluice warns.
 */
import { connect } from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SourceBatch, SourceHandler, SourceInstance } from '@sluice/plugin-api';
import { TestRabbit, createSource, recordingLogger, type LogLine } from './helpers.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, condition: () => boolean, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`${what} (waited ${ms} ms)`);
    await sleep(20);
  }
}

/** Runs a source; commits everything it is handed (as a core that applied it would). */
function start(source: SourceInstance) {
  const got: string[] = [];
  const controller = new AbortController();
  const handler: SourceHandler = {
    async deliver(batch: SourceBatch) {
      for (const m of batch.messages) got.push(Buffer.from(m.payload).toString('utf8'));
      const last = batch.messages.at(-1)!;
      await source.commit(batch.partition, (BigInt(last.offset) + 1n).toString());
    },
  };
  const done = (async () => {
    await source.connect(AbortSignal.timeout(10_000));
    await source.run(handler, { once: false, signal: controller.signal });
  })();
  return {
    got,
    done,
    async stop() {
      controller.abort();
      await done;
      await source.close(AbortSignal.timeout(10_000));
    },
  };
}

const bodies = (from: number, to: number) =>
  Array.from({ length: to - from }, (_, i) => `m${from + i}`);

let rabbit: TestRabbit;
beforeAll(async () => {
  rabbit = await new TestRabbit().start();
});
afterAll(async () => {
  await rabbit?.stop();
});

describe('several instances on one queue', () => {
  it('x-single-active-consumer: one instance consumes, the other takes over when it stops; order holds', async () => {
    const queue = await rabbit.createQueue('sac', { 'x-single-active-consumer': true });
    const a = start(createSource({ queue }));
    await sleep(200);
    const b = start(createSource({ queue }));
    await sleep(300);
    await rabbit.publish(queue, bodies(0, 100));
    await until('the active instance got everything', () => a.got.length === 100);
    expect(b.got).toEqual([]);
    await a.stop();
    await rabbit.publish(queue, bodies(100, 200));
    await until('the standby took over', () => b.got.length === 100);
    expect([...a.got, ...b.got]).toEqual(bodies(0, 200));
    await b.stop();
    expect((await rabbit.count(queue)).messageCount).toBe(0);
  }, 30_000);

  it('rabbitmq.consumer.exclusive: the second instance stands by until the first goes away', async () => {
    const queue = await rabbit.createQueue('excl');
    const lines: LogLine[] = [];
    const props = { 'rabbitmq.consumer.exclusive': 'true' };
    const a = start(createSource({ queue, properties: props }));
    await sleep(300);
    const b = start(createSource({ queue, properties: props, logger: recordingLogger(lines) }));
    await until('the second instance stands by', () =>
      lines.some((l) => /holds the queue exclusively; standing by/.test(l.message)),
    );
    await rabbit.publish(queue, bodies(0, 50));
    await until('the first instance got everything', () => a.got.length === 50);
    await a.stop();
    await rabbit.publish(queue, bodies(50, 100));
    await until('the standby took over', () => b.got.length === 50);
    expect([...a.got, ...b.got]).toEqual(bodies(0, 100));
    expect(lines.some((l) => l.message === 'Consuming again.')).toBe(true);
    await b.stop();
  }, 30_000);

  it('--once ends when another consumer took messages counted at the start', async () => {
    const queue = await rabbit.createQueue('once_shared');
    await rabbit.publish(queue, bodies(0, 20));
    // The run counts 20 ready messages; once it holds its first 5 (prefetch), another consumer
    // joins and takes 5 of the rest, which this run then never sees.
    const source = createSource({ queue, properties: { 'rabbitmq.prefetch.count': '5' } });
    await source.connect(AbortSignal.timeout(10_000));
    const thief = await connect(rabbit.url);
    const stolen: string[] = [];
    const got: string[] = [];
    const started = Date.now();
    await source.run(
      {
        async deliver(batch: SourceBatch) {
          if (got.length === 0) {
            const ch = await thief.createChannel();
            await ch.prefetch(5);
            await ch.consume(queue, (m) => m && stolen.push(m.content.toString('utf8')));
          }
          for (const m of batch.messages) got.push(Buffer.from(m.payload).toString('utf8'));
          await source.commit(batch.partition, String(BigInt(batch.messages.at(-1)!.offset) + 1n));
        },
      },
      { once: true, signal: AbortSignal.timeout(20_000) },
    );
    const seconds = (Date.now() - started) / 1000;
    expect(stolen).toHaveLength(5);
    expect([...got].sort()).toEqual(
      bodies(0, 20)
        .filter((b) => !stolen.includes(b))
        .sort(),
    );
    expect(got).toHaveLength(15);
    expect(seconds).toBeLessThan(10); // not the 20 s signal: it noticed nothing was left
    await source.close(AbortSignal.timeout(5000));
    await thief.close();
  }, 30_000);

  it('warns when the queue already has a consumer and neither is in place', async () => {
    const queue = await rabbit.createQueue('shared');
    const a = start(createSource({ queue }));
    await sleep(300);
    const lines: LogLine[] = [];
    const b = start(createSource({ queue, logger: recordingLogger(lines) }));
    await until('the warning', () =>
      lines.some((l) => l.level === 'warn' && /already has 1 consumer/.test(l.message)),
    );
    await Promise.all([a.stop(), b.stop()]);
  }, 30_000);
});
