import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { classifyError } from '@sluice/plugin-api';
import { uniqueName } from '../../../test/support/testbed.js';
import {
  RecordingHandler,
  broker,
  TestKafka,
  createSource,
  orderInsert,
  range,
  recordingLogger,
  RecordingMetrics,
} from './helpers.js';

let kafka: TestKafka;
beforeAll(async () => {
  kafka = await new TestKafka().start();
});
afterAll(async () => {
  await kafka?.stop();
});

const run = (
  source: ReturnType<typeof createSource>,
  handler: RecordingHandler,
  signal = new AbortController().signal,
) => source.run(handler, { once: true, signal });

describe('kafka source against the testbed Kafka', () => {
  it('delivers every partition in order, one batch at a time, capped by max.poll.records, and `once` returns at the high watermark', async () => {
    const topic = await kafka.createTopic(3);
    for (let p = 0; p < 3; p++) {
      await kafka.produce(
        topic,
        p,
        range(0, 120).map((i) => orderInsert(Number(i), p * 1000 + Number(i))),
      );
    }
    const groupId = uniqueName('g');
    const metrics = new RecordingMetrics();
    const source = createSource({
      topic,
      groupId,
      properties: { 'kafka.max.poll.records': '25' },
      metrics,
    });
    const handler = new RecordingHandler();
    handler.onDeliver = () => new Promise((r) => setImmediate(r)); // let partitions interleave
    await source.connect(new AbortController().signal);
    await run(source, handler);
    await source.close(AbortSignal.timeout(30_000));

    expect(handler.violations).toEqual([]);
    expect(handler.events[0]).toBe('assigned 0,1,2');
    for (let p = 0; p < 3; p++) {
      expect(handler.offsets(String(p))).toEqual(range(0, 120));
      const seqs = handler.deliveries
        .filter((d) => d.partition === String(p))
        .flatMap((d) => d.seqs);
      expect(seqs).toEqual(range(0, 120).map((i) => p * 1000 + Number(i)));
    }
    expect(Math.max(...handler.deliveries.map((d) => d.offsets.length))).toBeLessThanOrEqual(25);
    // the consumer offset lag: 95 left after the first chunk of 25, 0 once caught up
    for (let p = 0; p < 3; p++) {
      const lag = metrics.gauges.get(
        `kafka_consumer_offset_lag{topic=${topic},groupId=${groupId},partition=${p}}`,
      );
      expect(lag?.[0]).toBe(95);
      expect(lag?.at(-1)).toBe(0);
    }
    // nothing was committed: the source commits only when told to
    expect([...(await kafka.committed(groupId, topic)).values()]).toEqual([-1n, -1n, -1n]);
  });

  it('`once` also returns when the topic ends with transaction markers (high watermark past the last message)', async () => {
    const topic = await kafka.createTopic(1);
    const producer = kafka.kafka.producer({
      transactionalId: uniqueName('tx'),
      idempotent: true,
      maxInFlightRequests: 1,
    });
    await producer.connect();
    try {
      const tx = await producer.transaction();
      await tx.send({
        topic,
        messages: range(0, 3).map((i) => ({
          partition: 0,
          value: orderInsert(Number(i), Number(i)),
        })),
      });
      await tx.commit();
    } finally {
      await producer.disconnect();
    }
    // The coordinator writes the commit markers after commit() returns; until then the last
    // stable offset (what read_committed sees, and what `once` runs to) is still 0.
    for (let i = 0; i < 200; i++) {
      const [offsets] = await kafka.admin.fetchTopicOffsets(topic);
      if (offsets?.high === '4') break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const source = createSource({ topic, groupId: uniqueName('g') });
    const handler = new RecordingHandler();
    await source.connect(new AbortController().signal);
    const deadline = AbortSignal.timeout(15_000);
    await run(source, handler, deadline);
    await source.close(AbortSignal.timeout(30_000));
    expect(deadline.aborted, 'run({ once: true }) returned only because it was aborted').toBe(
      false,
    );
    expect(handler.offsets('0')).toEqual(range(0, 3));
  }, 30_000);

  it('commits only what it is told to, and a restart resumes from the committed offsets', async () => {
    const topic = await kafka.createTopic(2);
    await kafka.produce(
      topic,
      0,
      range(0, 50).map((i) => orderInsert(1, Number(i))),
    );
    await kafka.produce(
      topic,
      1,
      range(0, 30).map((i) => orderInsert(2, Number(i))),
    );
    const groupId = uniqueName('g');

    const first = createSource({ topic, groupId });
    const h1 = new RecordingHandler();
    await first.connect(new AbortController().signal);
    await run(first, h1);
    // the core applied partition 0 up to offset 19 and all of partition 1; commits after run returned still count
    await first.commit('0', '20');
    await first.commit('1', '30');
    await first.close(AbortSignal.timeout(30_000));
    await first.close(AbortSignal.timeout(30_000)); // idempotent
    expect(h1.offsets('0')).toEqual(range(0, 50));
    expect(await kafka.committed(groupId, topic)).toEqual(
      new Map([
        [0, 20n],
        [1, 30n],
      ]),
    );

    await kafka.produce(
      topic,
      1,
      range(0, 5).map((i) => orderInsert(2, 100 + Number(i))),
    );
    const second = createSource({ topic, groupId });
    const h2 = new RecordingHandler();
    await second.connect(new AbortController().signal);
    await run(second, h2);
    await second.close(AbortSignal.timeout(30_000));
    expect(h2.offsets('0')).toEqual(range(20, 50));
    expect(h2.offsets('1')).toEqual(range(30, 35));
  });

  it('with auto.offset.reset latest, a new group starts at the end (once delivers nothing)', async () => {
    const topic = await kafka.createTopic(1);
    await kafka.produce(
      topic,
      0,
      range(0, 10).map((i) => orderInsert(1, Number(i))),
    );
    const source = createSource({
      topic,
      groupId: uniqueName('g'),
      properties: { 'kafka.auto.offset.reset': 'latest' },
    });
    const handler = new RecordingHandler();
    await source.connect(new AbortController().signal);
    await run(source, handler);
    await source.close(AbortSignal.timeout(30_000));
    expect(handler.count()).toBe(0);
    expect(handler.events).toEqual(['assigned 0']);
  });

  it('follows new messages until the signal aborts, then run resolves', async () => {
    const topic = await kafka.createTopic(2);
    const groupId = uniqueName('g');
    const source = createSource({ topic, groupId });
    const handler = new RecordingHandler();
    handler.source = source;
    handler.commitEach = true;
    const abort = new AbortController();
    await source.connect(abort.signal);
    const running = source.run(handler, { once: false, signal: abort.signal });
    await handler.until(() => handler.events.includes('assigned 0,1'));
    await kafka.produce(
      topic,
      1,
      range(0, 40).map((i) => orderInsert(3, Number(i))),
    );
    await handler.until(() => handler.offsets('1').length === 40);
    await kafka.produce(
      topic,
      0,
      range(0, 7).map((i) => orderInsert(4, Number(i))),
    );
    await handler.until(() => handler.offsets('0').length === 7);
    abort.abort();
    await running;
    await source.close(AbortSignal.timeout(30_000));
    expect(handler.offsets('1')).toEqual(range(0, 40));
    expect(await kafka.committed(groupId, topic)).toEqual(
      new Map([
        [0, 7n],
        [1, 40n],
      ]),
    );
  });

  it('a rejected deliver stops the source: run rejects with that error and nothing more is delivered', async () => {
    const topic = await kafka.createTopic(1);
    await kafka.produce(
      topic,
      0,
      range(0, 30).map((i) => orderInsert(1, Number(i))),
    );
    const source = createSource({
      topic,
      groupId: uniqueName('g'),
      properties: { 'kafka.max.poll.records': '10' },
    });
    const handler = new RecordingHandler();
    handler.onDeliver = (batch) => {
      if (batch.messages[0]!.offset === '10') throw new Error('sink on fire');
    };
    await source.connect(new AbortController().signal);
    await expect(
      source.run(handler, { once: false, signal: new AbortController().signal }),
    ).rejects.toThrow('sink on fire');
    await source.close(AbortSignal.timeout(30_000));
    expect(handler.offsets('0')).toEqual(range(0, 20));
  });

  it('logs unknown kafka.* keys once as ignored', async () => {
    const topic = await kafka.createTopic(1);
    const logger = recordingLogger();
    const source = createSource({
      topic,
      groupId: uniqueName('g'),
      logger,
      properties: { 'kafka.linger.frobs': '3', 'rocketmq.namesrv.addr': 'x' },
    });
    await source.connect(new AbortController().signal);
    await source.close(AbortSignal.timeout(30_000));
    const ignored = logger.lines.filter((l) => l.message.includes('Ignoring'));
    expect(ignored.map((l) => l.message)).toEqual([
      'Ignoring kafka.linger.frobs: not a setting the Kafka source understands.',
    ]);
  });

  it('fails to connect with a clear, retryable error naming the brokers when none answers', async () => {
    const source = createSource({
      topic: 'whatever',
      groupId: uniqueName('g'),
      properties: {
        'kafka.bootstrap.servers': '127.0.0.1:1',
        'kafka.retry.backoff.ms': '10',
        'kafka.socket.connection.setup.timeout.ms': '500',
      },
    });
    const error = await source.connect(new AbortController().signal).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(error?.message).toMatch(/Cannot consume topic "whatever" from Kafka at 127\.0\.0\.1:1/);
    expect(classifyError(error)).toBe('notConnected');
    await source.close(AbortSignal.timeout(30_000));
  });

  it('fails to connect with a fatal error when the topic does not exist', async () => {
    const topic = uniqueName('missing');
    const source = createSource({ topic, groupId: uniqueName('g') });
    const error = await source.connect(new AbortController().signal).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(error?.message).toContain(`The topic "${topic}" does not exist`);
    expect(error?.message).toContain('Topics must exist before Sluice consumes them');
    expect(error?.message).toContain(
      `kafka-topics.sh --bootstrap-server ${broker()} --create --topic ${topic}`,
    );
    expect(classifyError(error)).toBe('fatal');
    await source.close(AbortSignal.timeout(30_000));
  });

  it('fails to connect with a fatal error naming the brokers when SASL is refused', async () => {
    const topic = await kafka.createTopic(1);
    const source = createSource({
      topic,
      groupId: uniqueName('g'),
      properties: {
        'kafka.security.protocol': 'SASL_PLAINTEXT',
        'kafka.sasl.mechanism': 'SCRAM-SHA-256',
        'kafka.sasl.jaas.config':
          'org.apache.kafka.common.security.scram.ScramLoginModule required username="mallory" password="nope";',
        'kafka.retry.backoff.ms': '10',
      },
    });
    const error = await source.connect(new AbortController().signal).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(error?.message).toMatch(
      /Cannot consume topic .* from Kafka at 127\.0\.0\.1:\d+: .*SASL/i,
    );
    expect(classifyError(error)).toBe('fatal');
    await source.close(AbortSignal.timeout(30_000));
  });
});
