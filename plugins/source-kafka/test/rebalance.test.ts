import { afterAll, beforeAll, expect, it } from 'vitest';
import { uniqueName } from '../../../test/support/testbed.js';
import { RecordingHandler, TestKafka, createSource, orderInsert, range } from './helpers.js';

let kafka: TestKafka;
beforeAll(async () => {
  kafka = await new TestKafka().start();
});
afterAll(async () => {
  await kafka?.stop();
});

/** Partitions a handler currently owns, from its assigned/revoked events. */
function owned(handler: RecordingHandler): Set<string> {
  const set = new Set<string>();
  for (const e of handler.events) {
    const [kind, list] = e.split(' ');
    if (kind === 'assigned') list!.split(',').forEach((p) => set.add(p));
    if (kind === 'revoked') list!.split(',').forEach((p) => set.delete(p));
  }
  return set;
}

it('two members of one group split the partitions, revoke before giving them up, and take over on leave without losing or re-delivering committed messages', async () => {
  const partitions = 4;
  const topic = await kafka.createTopic(partitions);
  const groupId = uniqueName('g');
  const produce = async (from: number, to: number) => {
    for (let p = 0; p < partitions; p++)
      await kafka.produce(
        topic,
        p,
        range(from, to).map((i) => orderInsert(p, Number(i))),
      );
  };
  const start = async () => {
    const source = createSource({ topic, groupId, properties: { 'kafka.max.poll.records': '20' } });
    const handler = new RecordingHandler();
    handler.source = source;
    handler.commitEach = true;
    const abort = new AbortController();
    await source.connect(abort.signal);
    const running = source.run(handler, { once: false, signal: abort.signal });
    return { source, handler, abort, running };
  };
  const all =
    (...hs: RecordingHandler[]) =>
    (p: number) =>
      hs.flatMap((h) => h.offsets(String(p)));

  await produce(0, 100);
  const a = await start();
  await a.handler.until(() =>
    range(0, partitions).every((p) => a.handler.offsets(p).length === 100),
  );

  const b = await start();
  await b.handler.until(() => owned(b.handler).size > 0);
  await a.handler.until(() => owned(a.handler).size > 0 && owned(a.handler).size < partitions);
  // every partition has exactly one owner
  const split = [...owned(a.handler), ...owned(b.handler)].sort();
  expect(split).toEqual(range(0, partitions));
  expect(a.handler.events.some((e) => e.startsWith('revoked'))).toBe(true);

  await produce(100, 200);
  await a.handler.until(() =>
    [...owned(a.handler)].every((p) => a.handler.offsets(p).includes('199')),
  );
  await b.handler.until(() =>
    [...owned(b.handler)].every((p) => b.handler.offsets(p).includes('199')),
  );

  // b leaves (graceful: commits were made as it went); a takes everything back
  b.abort.abort();
  await b.running;
  await b.source.close(AbortSignal.timeout(30_000));
  await a.handler.until(() => owned(a.handler).size === partitions);
  await produce(200, 250);
  await a.handler.until(() =>
    range(0, partitions).every((p) => a.handler.offsets(p).includes('249')),
  );
  a.abort.abort();
  await a.running;
  await a.source.close(AbortSignal.timeout(30_000));

  // nothing lost, nothing delivered twice (every batch was committed as soon as it was delivered)
  for (let p = 0; p < partitions; p++) {
    expect(
      all(
        a.handler,
        b.handler,
      )(p)
        .map(Number)
        .sort((x, y) => x - y),
    ).toEqual(range(0, 250).map(Number));
  }
  expect([...a.handler.violations, ...b.handler.violations]).toEqual([]);
  expect(await kafka.committed(groupId, topic)).toEqual(
    new Map(range(0, partitions).map((p) => [Number(p), 250n])),
  );
}, 60_000);

it('a delivery held by back-pressure does not hold up a rebalance: revoked is called while it is pending', async () => {
  const topic = await kafka.createTopic(2);
  const groupId = uniqueName('g');
  for (let p = 0; p < 2; p++)
    await kafka.produce(
      topic,
      p,
      range(0, 10).map((i) => orderInsert(p, Number(i))),
    );
  // Member a: its handler holds every delivery (a sink that is down, the in-flight bound
  // reached) until the partitions are revoked, as the pipeline engine does when it abandons them.
  const aSource = createSource({ topic, groupId });
  const aHandler = new RecordingHandler();
  let release: () => void = () => {};
  const held = new Promise<void>((resolve) => (release = resolve));
  aHandler.onDeliver = () => held;
  const revoked = aHandler.revoked.bind(aHandler);
  aHandler.revoked = async (partitions) => {
    await revoked(partitions);
    release();
  };
  const aAbort = new AbortController();
  await aSource.connect(aAbort.signal);
  const aRunning = aSource.run(aHandler, { once: false, signal: aAbort.signal });
  // (the handler's until() wakes only when a delivery ends, and this one is held: poll)
  while (aHandler.deliveries.length === 0) await new Promise((r) => setTimeout(r, 20));

  const bSource = createSource({ topic, groupId });
  const bHandler = new RecordingHandler();
  const bAbort = new AbortController();
  await bSource.connect(bAbort.signal);
  const bRunning = bSource.run(bHandler, { once: false, signal: bAbort.signal });
  const started = Date.now();
  await bHandler.until(() => owned(bHandler).size > 0);
  // Well inside the 60 s rebalance timeout that a stuck member would run into.
  expect(Date.now() - started).toBeLessThan(20_000);
  expect(aHandler.events.some((e) => e.startsWith('revoked'))).toBe(true);

  aAbort.abort();
  bAbort.abort();
  await Promise.allSettled([aRunning, bRunning]);
  await Promise.all([
    aSource.close(AbortSignal.timeout(30_000)),
    bSource.close(AbortSignal.timeout(30_000)),
  ]);
}, 90_000);
