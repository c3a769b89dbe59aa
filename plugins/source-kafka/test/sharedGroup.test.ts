/**
 * Issue #10 item 1: several topics (canal instances) consumed under one consumer group. Each
 * source is its own group member subscribed to one topic, as in canal-adapter; the group's
 * assignment must honour the subscriptions, or partitions go to members that drop them.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { classifyError, type SourceInstance } from '@sluice/plugin-api';
import { uniqueName } from '../../../test/support/testbed.js';
import {
  RecordingHandler,
  TestKafka,
  createSource,
  orderInsert,
  range,
  recordingLogger,
  type LogLine,
} from './helpers.js';

let kafka: TestKafka;
beforeAll(async () => {
  kafka = await new TestKafka().start();
});
afterAll(async () => {
  await kafka?.stop();
});

interface Member {
  topic: string;
  groupId: string;
  source: SourceInstance;
  handler: RecordingHandler;
}

it('every partition of every topic is consumed, exactly as configured, when topics share a consumer group (--once)', async () => {
  const perPartition = 40;
  const layout = { a: 3, b: 2, c: 1 } as const;
  const topics = {
    a: await kafka.createTopic(layout.a, 'shared_a'),
    b: await kafka.createTopic(layout.b, 'shared_b'),
    c: await kafka.createTopic(layout.c, 'shared_c'),
  };
  for (const [name, partitions] of Object.entries(layout)) {
    for (let p = 0; p < partitions; p++)
      await kafka.produce(
        topics[name as keyof typeof topics],
        p,
        range(0, perPartition).map((i) => orderInsert(p * 1000 + Number(i), Number(i))),
      );
  }
  const g1 = uniqueName('g1');
  const g2 = uniqueName('g2');
  // g1: a, b and c share one group; g2: a again (a second, independent group) and b.
  const plan: Array<[keyof typeof topics, string]> = [
    ['a', g1],
    ['b', g1],
    ['c', g1],
    ['a', g2],
    ['b', g2],
  ];
  const lines: LogLine[] = [];
  const members: Member[] = plan.map(([name, groupId]) => {
    const source = createSource({
      topic: topics[name],
      groupId,
      properties: { 'kafka.max.poll.records': '15' },
      logger: recordingLogger(lines),
    });
    const handler = new RecordingHandler();
    handler.source = source;
    handler.commitEach = true;
    return { topic: topics[name], groupId, source, handler };
  });
  const abort = new AbortController();
  // Staggered joins: every join rebalances the group while the earlier members consume.
  const runs: Promise<void>[] = [];
  for (const m of members) {
    await m.source.connect(abort.signal);
    runs.push(m.source.run(m.handler, { once: true, signal: abort.signal }));
  }
  const results = await Promise.allSettled(runs);
  await Promise.all(members.map((m) => m.source.close(AbortSignal.timeout(30_000))));

  expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
  expect(lines.filter((l) => /unsubscribed/i.test(l.message))).toEqual([]);
  for (const m of members) {
    expect(m.handler.violations).toEqual([]);
    const partitions = layout[plan[members.indexOf(m)]![0]];
    for (let p = 0; p < partitions; p++) {
      // at least once: a partition handed over mid-run is resumed from its last commit
      const got = [...new Set(m.handler.offsets(String(p)))].sort((x, y) => Number(x) - Number(y));
      expect(got, `${m.topic} partition ${p} in ${m.groupId}`).toEqual(range(0, perPartition));
    }
    expect(
      [...(await kafka.committed(m.groupId, m.topic)).values()],
      `${m.topic} in ${m.groupId}`,
    ).toEqual(Array.from({ length: partitions }, () => BigInt(perPartition)));
  }
});

it('two members with different topics in one group (two processes with different configs) both get their own topic', async () => {
  const shared = await kafka.createTopic(2, 'mix_s');
  const onlyFirst = await kafka.createTopic(2, 'mix_f');
  const onlySecond = await kafka.createTopic(1, 'mix_o');
  for (const topic of [shared, onlyFirst, onlySecond])
    for (let p = 0; p < (topic === onlySecond ? 1 : 2); p++)
      await kafka.produce(
        topic,
        p,
        range(0, 10).map((i) => orderInsert(Number(i), Number(i))),
      );
  const groupId = uniqueName('g');
  const abort = new AbortController();
  // "process 1" consumes shared + onlyFirst, "process 2" shared + onlySecond, continuously.
  const members = [shared, onlyFirst, shared, onlySecond].map((topic) => {
    const source = createSource({ topic, groupId });
    const handler = new RecordingHandler();
    handler.source = source;
    handler.commitEach = true;
    return { topic, source, handler, running: undefined as Promise<void> | undefined };
  });
  try {
    for (const m of members) {
      await m.source.connect(abort.signal);
      m.running = m.source.run(m.handler, { once: false, signal: abort.signal });
    }
    const ten = range(0, 10);
    const delivered = (topic: string, p: number) =>
      members
        .filter((m) => m.topic === topic)
        .flatMap((m) => m.handler.offsets(String(p)))
        .filter((o, i, all) => all.indexOf(o) === i)
        .sort((x, y) => Number(x) - Number(y));
    const done = () =>
      [shared, onlyFirst].every((t) => [0, 1].every((p) => delivered(t, p).length === 10)) &&
      delivered(onlySecond, 0).length === 10;
    let ended = false;
    for (const m of members) void m.running!.finally(() => (ended = true));
    while (!done() && !ended) await new Promise((r) => setTimeout(r, 100));
    for (const t of [shared, onlyFirst])
      for (const p of [0, 1]) expect(delivered(t, p)).toEqual(ten);
    expect(delivered(onlySecond, 0)).toEqual(ten);
  } finally {
    abort.abort();
    await Promise.allSettled(members.map((m) => m.running));
    await Promise.all(members.map((m) => m.source.close(AbortSignal.timeout(30_000))));
  }
});

it('`once` refuses to succeed when another member of the group owns every partition of its topic', async () => {
  const topic = await kafka.createTopic(1, 'held');
  await kafka.produce(topic, 0, [orderInsert(1, 1)]);
  const groupId = uniqueName('g');
  const abort = new AbortController();
  // Range assignment sorts members by id (client id first): the holder keeps partition 0.
  const holder = createSource({ topic, groupId, properties: { 'kafka.client.id': 'a-holder' } });
  const holding = new RecordingHandler();
  await holder.connect(abort.signal);
  const held = holder.run(holding, { once: false, signal: abort.signal });
  try {
    await holding.until(() => holding.count() === 1);
    const late = createSource({ topic, groupId, properties: { 'kafka.client.id': 'z-once' } });
    const handler = new RecordingHandler();
    await late.connect(abort.signal);
    const error = await late.run(handler, { once: true, signal: abort.signal }).then(
      () => undefined,
      (e: unknown) => e,
    );
    await late.close(AbortSignal.timeout(30_000));
    expect(handler.count()).toBe(0);
    expect(classifyError(error)).toBe('fatal');
    expect((error as Error).message).toMatch(/got no partition of topic .* in consumer group/);
  } finally {
    abort.abort();
    await held;
    await holder.close(AbortSignal.timeout(30_000));
  }
});
