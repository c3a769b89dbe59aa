/**
 * The RocketMQ source against the testbed broker: per-queue order, commits on the broker,
 * resuming, scale-out by consumer group (queue locks), groups shared by several topics, tag
 * filters, and real canal output (flat and protobuf) delivered byte for byte.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, expect, it, onTestFailed } from 'vitest';
import { classifyError, type SourceInstance } from '@sluice/plugin-api';
import { uniqueName } from '../../../test/support/testbed.js';
import { RequestCode } from '../src/remoting.js';
import {
  RecordingHandler,
  TestRocketMQ,
  createSource,
  nameServer,
  orderInsert,
  range,
  recordingLogger,
} from './helpers.js';

let rmq: TestRocketMQ;
beforeAll(async () => {
  rmq = await new TestRocketMQ().start();
});
afterAll(() => rmq?.stop());

interface Running {
  source: SourceInstance;
  handler: RecordingHandler;
  logger: ReturnType<typeof recordingLogger>;
  stop: AbortController;
  done: Promise<void>;
}

async function startMember(
  topic: string,
  groupId: string,
  commitEach = true,
  props = {},
  clientId?: string,
  offsetCheckIntervalMs?: number,
): Promise<Running> {
  const logger = recordingLogger();
  const source = createSource({
    topic,
    groupId,
    properties: props,
    logger,
    ...(clientId !== undefined ? { clientId } : {}),
    ...(offsetCheckIntervalMs !== undefined ? { offsetCheckIntervalMs } : {}),
  });
  const handler = new RecordingHandler();
  const t0 = Date.now();
  let outcome = 'running';
  onTestFailed(() => {
    console.error(
      `member of ${topic} (${handler.count()} delivered): ${JSON.stringify(handler.events.filter((e) => !e.startsWith('deliver')))}`,
    );
    for (const l of logger.lines) console.error(`  ${l.level} ${l.message}`);
    for (const e of handler.commitErrors) console.error(`  commit failed: ${e}`);
    console.error(`  started ${Date.now() - t0} ms ago; run: ${outcome}`);
  });
  handler.source = source;
  handler.commitEach = commitEach;
  const stop = new AbortController();
  await source.connect(stop.signal);
  const done = source.run(handler, { once: false, signal: stop.signal });
  done.then(
    () => (outcome = 'ended'),
    (error: unknown) => (outcome = `failed: ${String(error)}`),
  );
  return { source, handler, logger, stop, done };
}

async function stopMember(m: Running): Promise<void> {
  m.stop.abort();
  await m.done;
  await m.source.close(new AbortController().signal);
}

/** Resolves once `condition` holds, checking every 20 ms (the test timeout bounds it). */
async function eventually(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((r) => setTimeout(r, 20));
}

const seqsOf = (h: RecordingHandler, partition: string) =>
  h.deliveries.filter((d) => d.partition === partition).flatMap((d) => d.seqs);

it('delivers each queue in order, commits on the broker, and a new member resumes from the commits', async () => {
  const queues = 4;
  const topic = await rmq.createTopic(queues, 'order');
  const groupId = uniqueName('g');
  for (let q = 0; q < queues; q++)
    await rmq.produce(
      topic,
      q,
      range(0, 30).map((i) => orderInsert(q, q * 1000 + Number(i))),
    );
  const a = await startMember(topic, groupId);
  await a.handler.until(() => a.handler.count() === 120);
  for (let q = 0; q < queues; q++) {
    expect(seqsOf(a.handler, rmq.partition(q))).toEqual(
      range(0, 30).map((i) => q * 1000 + Number(i)),
    );
    expect(a.handler.offsets(rmq.partition(q))).toEqual(range(0, 30));
  }
  expect(a.handler.violations).toEqual([]);
  const commits = [30n, 30n, 30n, 30n];
  expect(await rmq.committedWhen(groupId, topic, commits)).toEqual(commits);
  await stopMember(a);
  // More messages while nobody consumes; the next member starts at the commits.
  for (let q = 0; q < queues; q++)
    await rmq.produce(
      topic,
      q,
      range(30, 40).map((i) => orderInsert(q, q * 1000 + Number(i))),
    );
  const b = await startMember(topic, groupId);
  await b.handler.until(() => b.handler.count() === 40);
  for (let q = 0; q < queues; q++)
    expect(b.handler.offsets(rmq.partition(q))).toEqual(range(30, 40));
  await stopMember(b);
}, 60_000);

// The broker acknowledges an offset commit it may then lose: the first commits of a topic@group
// that arrive together race in ConsumerOffsetManager#commitOffset (get, then put a new map: one
// queue's map replaces the other's; RocketMQ 5.3.3), and a crash loses what was not flushed yet.
// The test plays the lost commit by writing an older offset as the broker would then answer it
// (0: no offset, the queue's first message still in memory).
it('writes again a committed offset the broker lost, while it reads the queue', async () => {
  const topic = await rmq.createTopic(2, 'lost');
  const groupId = uniqueName('g');
  for (let q = 0; q < 2; q++)
    await rmq.produce(
      topic,
      q,
      range(0, 5).map((i) => orderInsert(q, Number(i))),
    );
  const a = await startMember(topic, groupId, true, {}, undefined, 300);
  await a.handler.until(() => a.handler.count() === 10);
  expect(await rmq.committedWhen(groupId, topic, [5n, 5n])).toEqual([5n, 5n]);
  await rmq.client.updateOffset(rmq.broker, groupId, topic, 1, 0n);
  expect(await rmq.committedWhen(groupId, topic, [5n, 5n], 5_000)).toEqual([5n, 5n]);
  expect(
    a.logger.lines
      .filter((l) => l.message.includes('lost the committed offset'))
      .map((l) => l.message),
  ).toEqual([
    `The broker lost the committed offset of queue ${rmq.partition(1)}: it holds 0 although it acknowledged 5; committing 5 again.`,
  ]);
  await stopMember(a);
}, 60_000);

it('makes sure the broker holds its commits before it gives queues up (to a new member, on close): nothing applied is delivered again', async () => {
  const topic = await rmq.createTopic(2, 'handover');
  const groupId = uniqueName('g');
  for (let q = 0; q < 2; q++)
    await rmq.produce(
      topic,
      q,
      range(0, 5).map((i) => orderInsert(q, Number(i))),
    );
  const never = 600_000; // no periodic check: only the hand-over may repair
  // Sorted ids: "a-first" keeps queue 0, "b-second" takes queue 1.
  const a = await startMember(topic, groupId, true, {}, 'a-first', never);
  await a.handler.until(() => a.handler.count() === 10);
  expect(await rmq.committedWhen(groupId, topic, [5n, 5n])).toEqual([5n, 5n]);
  for (let q = 0; q < 2; q++) await rmq.client.updateOffset(rmq.broker, groupId, topic, q, 0n);
  const b = await startMember(topic, groupId, true, {}, 'b-second', never);
  await b.handler.until(() => b.handler.events.some((e) => e.startsWith('assigned')));
  await rmq.produce(topic, 1, [orderInsert(1, 5)]);
  await b.handler.until(() => b.handler.count() >= 1);
  expect(b.handler.offsets(rmq.partition(1))).toEqual(['5']);
  expect(b.handler.offsets(rmq.partition(0))).toEqual([]);
  expect(await rmq.committedWhen(groupId, topic, [0n, 6n])).toEqual([0n, 6n]); // queue 0: lost
  await stopMember(a); // a's close writes queue 0's commit again before unlocking it
  expect(await rmq.committed(groupId, topic, 2)).toEqual([5n, 6n]);
  await stopMember(b);
}, 90_000);

it('a queue that went back (topic deleted and recreated) gets its new commits, and never the old ones', async () => {
  const topic = await rmq.createTopic(1, 'again');
  const groupId = uniqueName('g');
  const p = rmq.partition(0);
  await rmq.produce(
    topic,
    0,
    range(0, 5).map((i) => orderInsert(1, Number(i))),
  );
  const a = await startMember(topic, groupId, true, {}, undefined, 200);
  await a.handler.until(() => a.handler.count() === 5);
  expect(await rmq.committedWhen(groupId, topic, [5n])).toEqual([5n]);
  // Deleting a topic in the broker deletes its queues and the group's offsets of it.
  const deleted = await rmq.client.request(rmq.broker, RequestCode.DELETE_TOPIC_IN_BROKER, {
    topic,
  });
  expect(deleted.code).toBe(0);
  await rmq.client.createTopic(rmq.broker, topic, 1);
  const movedBack = () =>
    a.logger.lines.some((l) => l.message.includes('the broker says to continue at 0'));
  await eventually(movedBack);
  await rmq.produce(
    topic,
    0,
    range(5, 8).map((i) => orderInsert(1, Number(i))),
  );
  await a.handler.until(() => a.handler.count() === 8);
  expect(a.handler.offsets(p)).toEqual(['0', '1', '2', '3', '4', '0', '1', '2']);
  expect(await rmq.committedWhen(groupId, topic, [3n])).toEqual([3n]);
  expect(a.logger.lines.filter((l) => l.message.includes('lost the committed offset'))).toEqual([]);
  await stopMember(a);
  expect(await rmq.committed(groupId, topic, 1)).toEqual([3n]);
}, 60_000);

it('scales out: a second member takes half the queues only after the first gave them up; nothing is lost or consumed twice at once', async () => {
  const queues = 4;
  const topic = await rmq.createTopic(queues, 'scale');
  const groupId = uniqueName('g');
  const a = await startMember(topic, groupId);
  await a.handler.until(() => a.handler.events.some((e) => e.startsWith('assigned')));
  for (let q = 0; q < queues; q++)
    await rmq.produce(
      topic,
      q,
      range(0, 20).map((i) => orderInsert(q, Number(i))),
    );
  await a.handler.until(() => a.handler.count() === 80);
  const b = await startMember(topic, groupId);
  await b.handler.until(() => b.handler.events.some((e) => e.startsWith('assigned')));
  const revokedAt = a.handler.events.findIndex((e) => e.startsWith('revoked'));
  expect(revokedAt, a.handler.events.join('\n')).toBeGreaterThan(0);
  for (let q = 0; q < queues; q++)
    await rmq.produce(
      topic,
      q,
      range(20, 40).map((i) => orderInsert(q, Number(i))),
    );
  // Polled: the condition spans both handlers (each handler's `until` wakes on its own events).
  await eventually(() => a.handler.count() + b.handler.count() >= 160);
  expect(a.handler.count() + b.handler.count()).toBe(160);
  const owners = range(0, queues).map(
    (q) =>
      [a, b].filter((m) => m.handler.offsets(rmq.partition(Number(q))).some((o) => Number(o) >= 20))
        .length,
  );
  expect(owners).toEqual([1, 1, 1, 1]);
  expect(b.handler.deliveries.length).toBeGreaterThan(0);
  // Every queue: offsets 0..39 exactly once overall, each member's share in order.
  for (let q = 0; q < queues; q++) {
    const p = rmq.partition(q);
    const all = [...a.handler.offsets(p), ...b.handler.offsets(p)]
      .map(Number)
      .sort((x, y) => x - y);
    expect(all).toEqual(range(0, 40).map(Number));
  }
  await stopMember(b);
  // b left: a takes everything back.
  for (let q = 0; q < queues; q++) await rmq.produce(topic, q, [orderInsert(q, 40)]);
  await a.handler.until(() =>
    range(0, queues).every((q) => a.handler.offsets(rmq.partition(Number(q))).includes('40')),
  );
  await stopMember(a);
  expect(await rmq.committed(groupId, topic, queues)).toEqual([41n, 41n, 41n, 41n]);
}, 120_000);

it('shares a group between topics (canal configs reuse one groupId): every queue of every topic is consumed', async () => {
  const t1 = await rmq.createTopic(2, 'shared1');
  const t2 = await rmq.createTopic(2, 'shared2');
  const groupId = uniqueName('g');
  for (const t of [t1, t2])
    for (let q = 0; q < 2; q++)
      await rmq.produce(
        t,
        q,
        range(0, 5).map((i) => orderInsert(q, Number(i))),
      );
  const m1 = await startMember(t1, groupId);
  const m2 = await startMember(t2, groupId);
  await m1.handler.until(() => m1.handler.count() === 10);
  await m2.handler.until(() => m2.handler.count() === 10);
  await stopMember(m1);
  await stopMember(m2);
}, 60_000);

it('applies rocketmq.subscribe.filter (tags) and still commits past filtered messages', async () => {
  const topic = await rmq.createTopic(1, 'tags');
  const groupId = uniqueName('g');
  for (let i = 0; i < 6; i++)
    await rmq.client.send(rmq.broker, {
      topic,
      queueId: 0,
      body: Buffer.from(orderInsert(1, i)),
      properties: new Map([['TAGS', i % 2 ? 'odd' : 'even']]),
    });
  const m = await startMember(topic, groupId, true, { 'rocketmq.subscribe.filter': 'odd' });
  await m.handler.until(() => m.handler.count() === 3);
  expect(m.handler.offsets(rmq.partition(0))).toEqual(['1', '3', '5']);
  await stopMember(m);
}, 60_000);

it('delivers real canal 1.1.8 output byte for byte: flat JSON and protobuf (zlib-compressed above 4 KiB like canal’s producer)', async () => {
  const dir = '/work/shared/fixtures/real-canal';
  const flat = readFileSync(`${dir}/flat.jsonl`, 'utf8').split('\n').filter(Boolean);
  const lpb = readFileSync(`${dir}/protobuf.lpb`);
  const proto: Buffer[] = [];
  for (let at = 0; at < lpb.length;) {
    const n = lpb.readInt32BE(at);
    proto.push(lpb.subarray(at + 4, at + 4 + n));
    at += 4 + n;
  }
  expect(proto.some((p) => p.length >= 4096)).toBe(true); // the compressed path is exercised
  const topic = await rmq.createTopic(2, 'fixtures');
  await rmq.produce(topic, 0, flat);
  await rmq.produce(topic, 1, proto);
  const source = createSource({ topic, groupId: uniqueName('g'), logger: recordingLogger() });
  const got = new Map<string, Buffer[]>();
  const stop = new AbortController();
  await source.connect(stop.signal);
  await source.run(
    {
      deliver: async (batch) => {
        const list = got.get(batch.partition) ?? [];
        for (const m of batch.messages) list.push(Buffer.from(m.payload as Uint8Array));
        got.set(batch.partition, list);
      },
    },
    { once: true, signal: stop.signal },
  );
  await source.close(stop.signal);
  expect(got.get(rmq.partition(0))?.map((b) => b.toString('utf8'))).toEqual(flat);
  expect(got.get(rmq.partition(1))?.map((b) => b.toString('base64'))).toEqual(
    proto.map((b) => b.toString('base64')),
  );
}, 60_000);

// Member ids are sorted before the queues are shared (AllocateMessageQueueAveragely), so which
// of two members gets a topic's only queue depends on their ids. With random ids (host@pid@random)
// the `--once` member sorted first about every other run: the broker told the holder to
// rebalance, the holder gave the queue up and unlocked it, and `--once` then read it — a correct
// hand-over (never two readers at once), not the case this test is about. The ids are fixed here;
// the next test covers the other order.
it('--once fails, naming the topic, when other members of the group hold its queues (it never reports queues it did not read as done)', async () => {
  const topic = await rmq.createTopic(1, 'oncebusy');
  const groupId = uniqueName('g');
  await rmq.produce(topic, 0, [orderInsert(1, 1)]);
  const a = await startMember(topic, groupId, true, {}, 'a-holder');
  await a.handler.until(() => a.handler.count() === 1);
  const source = createSource({ topic, groupId, clientId: 'z-once' });
  const handler = new RecordingHandler();
  const stop = new AbortController();
  await source.connect(stop.signal);
  await expect(source.run(handler, { once: true, signal: stop.signal })).rejects.toThrow(
    new RegExp(`could not read any queue of topic "${topic}"`),
  );
  await source.close(stop.signal);
  expect(handler.events).toEqual([]);
  expect(a.handler.events.filter((e) => e.startsWith('revoked'))).toEqual([]);
  await stopMember(a);
}, 90_000);

it('--once that the allocation gives a held queue reads it only after the holder finished its delivery and gave it up', async () => {
  const topic = await rmq.createTopic(1, 'oncetake');
  const groupId = uniqueName('g');
  const p = rmq.partition(0);
  await rmq.produce(topic, 0, [orderInsert(1, 0)]);
  const a = await startMember(topic, groupId, true, {}, 'z-holder');
  await a.handler.until(() => a.handler.count() === 1);
  // The holder's next delivery (offset 1) stays in flight until `--once` was refused the lock.
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  a.handler.onDeliver = () => gate;
  await rmq.produce(topic, 0, [orderInsert(1, 1)]);
  // Polled: `until` wakes only when a delivery returns, and this one is held.
  await eventually(() => a.handler.count() === 2);
  await rmq.produce(topic, 0, [orderInsert(1, 2)]);
  const logger = recordingLogger();
  const source = createSource({ topic, groupId, clientId: 'a-once', logger });
  onTestFailed(() => {
    for (const l of logger.lines) console.error(`  once: ${l.level} ${l.message}`);
  });
  const handler = new RecordingHandler();
  handler.source = source;
  handler.commitEach = true;
  let holderRevokedFirst: boolean | undefined;
  handler.onDeliver = () => {
    holderRevokedFirst ??= a.handler.events.some((e) => e.startsWith('revoked'));
  };
  const stop = new AbortController();
  await source.connect(stop.signal);
  // Released once the holder is revoking (its rebalance saw the new member) and `--once` was
  // refused the lock.
  let revoking = false;
  const revoked = a.handler.revoked.bind(a.handler);
  a.handler.revoked = (partitions) => {
    revoking = true;
    return revoked(partitions);
  };
  let settled = false;
  const once = source.run(handler, { once: true, signal: stop.signal }).finally(() => {
    settled = true;
  });
  await eventually(
    () =>
      settled ||
      (revoking && logger.lines.some((l) => l.message.includes('Waiting for the broker lock'))),
  );
  expect(handler.count()).toBe(0);
  release();
  await once;
  await source.close(stop.signal);
  expect(holderRevokedFirst).toBe(true);
  expect(a.handler.offsets(p)).toEqual(['0', '1']);
  expect(handler.offsets(p)).toEqual(['2']); // from the holder's commit to the end
  await stopMember(a);
}, 90_000);

it('renews its queue locks before the broker lets them expire, whatever the rebalance interval', async () => {
  const topic = await rmq.createTopic(1, 'renew');
  const groupId = uniqueName('g');
  const a = await startMember(topic, groupId, true, { 'rocketmq.rebalance.interval.ms': '60000' });
  await a.handler.until(() => a.handler.events.some((e) => e.startsWith('assigned')));
  // The testbed broker lets a lock expire 5 s after it was last renewed.
  await new Promise((r) => setTimeout(r, 7_000));
  const queue = { topic, brokerName: rmq.brokerName, queueId: 0 };
  expect([...(await rmq.client.lock(rmq.broker, groupId, `intruder#${topic}`, [queue]))]).toEqual(
    [],
  );
  await stopMember(a);
}, 60_000);

it('keeps its queue locks after run returned, until close (the core still drains and commits then)', async () => {
  const topic = await rmq.createTopic(1, 'keep');
  const groupId = uniqueName('g');
  const a = await startMember(topic, groupId);
  await a.handler.until(() => a.handler.events.some((e) => e.startsWith('assigned')));
  a.stop.abort();
  await a.done;
  // The testbed broker lets a lock expire 5 s after it was last renewed.
  await new Promise((r) => setTimeout(r, 7_000));
  const queue = { topic, brokerName: rmq.brokerName, queueId: 0 };
  const intruder = `intruder#${topic}`;
  expect([...(await rmq.client.lock(rmq.broker, groupId, intruder, [queue]))]).toEqual([]);
  await a.source.close(new AbortController().signal);
  expect([...(await rmq.client.lock(rmq.broker, groupId, intruder, [queue]))]).toEqual([0]);
  await rmq.client.unlock(rmq.broker, groupId, intruder, [queue]);
}, 60_000);

it('--once against a missing topic fails at once, naming the topic, the name server and what to do', async () => {
  const topic = uniqueName('missing');
  const source = createSource({ topic, groupId: uniqueName('g') });
  const stop = new AbortController();
  await source.connect(stop.signal);
  const error = await source.run(new RecordingHandler(), { once: true, signal: stop.signal }).then(
    () => undefined,
    (e: unknown) => e,
  );
  await source.close(stop.signal);
  expect(classifyError(error)).toBe('fatal');
  const text = (error as Error).message;
  expect(text).toContain(
    `topic "${topic}" does not exist on the RocketMQ name server ${nameServer()}`,
  );
  expect(text).toContain('canalAdapters[].instance');
  expect(text).toContain(`mqadmin updateTopic -n ${nameServer()} -c <cluster> -t ${topic}`);
}, 30_000);
