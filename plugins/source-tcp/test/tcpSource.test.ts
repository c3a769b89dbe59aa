import { afterEach, describe, expect, it } from 'vitest';
import { canalPasswd, decodeCanalMessages } from '@sluice/canal-protocol';
import {
  FatalError,
  NotConnectedError,
  type SourceBatch,
  type SourceInstance,
} from '@sluice/plugin-api';
import { EventBuilder, toFlatMessage } from '../../../packages/testkit/src/index.js';
import { FakeCanalServer } from './fakeCanalServer.js';
import { createSource, entryOf, recordingLogger } from './helpers.js';

const servers: FakeCanalServer[] = [];
const sources: SourceInstance[] = [];
afterEach(async () => {
  await Promise.all(sources.splice(0).map((s) => s.close(AbortSignal.timeout(2000))));
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function fakeServer(options?: ConstructorParameters<typeof FakeCanalServer>[0]) {
  const server = await new FakeCanalServer(options).listen();
  servers.push(server);
  return server;
}

function source(props: Record<string, string>, destination = 'example') {
  const logger = recordingLogger();
  const s = createSource({ destination, properties: props, logger });
  sources.push(s);
  return { source: s, logger };
}

const ev = new EventBuilder({ destination: 'example', database: 'shop' });
const entries = (from: number, to: number) =>
  Array.from({ length: to - from }, (_, i) =>
    entryOf(toFlatMessage(ev.insert('orders', { id: String(from + i), note: `n${from + i}` }))),
  );

/** Runs the source, collecting deliveries; returns helpers to wait and stop. */
function running(s: SourceInstance) {
  const delivered: SourceBatch[] = [];
  const controller = new AbortController();
  const done = s.run(
    {
      deliver: async (batch) => {
        delivered.push(batch);
      },
    },
    { once: false, signal: controller.signal },
  );
  const until = async (test: () => boolean, ms = 5000) => {
    const end = Date.now() + ms;
    while (!test()) {
      if (Date.now() > end) throw new Error(`timed out; delivered ${delivered.length}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  };
  const ids = () =>
    delivered.flatMap((b) =>
      b.messages.flatMap((m) => decodeCanalMessages(m.payload as Uint8Array).entries),
    );
  return {
    delivered,
    until,
    ids,
    offsets: () => delivered.flatMap((b) => b.messages.map((m) => BigInt(m.offset))),
    stop: async () => {
      controller.abort();
      await done;
    },
  };
}

describe('tcp source against canal TCP protocol', () => {
  it('GETs with canal.tcp.batch.size and canal.conf.timeout (default 500 ms); logs the destination once', async () => {
    const server = await fakeServer();
    server.append('example', entries(1, 2));
    const { source: s, logger } = source({
      'canal.tcp.server.host': server.address,
      'canal.tcp.batch.size': '64',
      'canal.conf.timeout': '1234',
    });
    await s.connect(AbortSignal.timeout(5000));
    const r = running(s);
    await r.until(() => r.delivered.length === 1 && server.gets.length >= 2);
    await r.stop();
    expect(server.gets[0]).toEqual({ fetchSize: 64, timeout: 1234n });
    const subscribed = logger.lines.find((l) => l.message.startsWith('Subscribed'));
    expect(subscribed?.fields).toEqual({ destination: 'example', server: server.address });
    expect(subscribed?.own).toEqual({ server: server.address });

    const plain = await fakeServer();
    plain.append('example', entries(1, 2));
    const { source: d } = source({ 'canal.tcp.server.host': plain.address });
    await d.connect(AbortSignal.timeout(5000));
    const r2 = running(d);
    await r2.until(() => plain.gets.length >= 1);
    await r2.stop();
    expect(plain.gets[0]).toEqual({ fetchSize: 500, timeout: 500n });
    expect(() =>
      createSource({
        destination: 'example',
        properties: { 'canal.tcp.server.host': plain.address, 'canal.conf.timeout': '-1' },
      }),
    ).toThrow(/canal.conf.timeout: "-1" is not a non-negative integer/);
  });

  it('hands each batch over as canal’s MESSAGES packet and acks only what was committed, in order', async () => {
    const server = await fakeServer({ entriesPerBatch: 2 });
    server.append('example', entries(1, 7));
    const { source: s } = source({ 'canal.tcp.server.host': server.address });
    await s.connect(AbortSignal.timeout(5000));
    const r = running(s);
    await r.until(() => r.delivered.length === 3);
    const payload = r.delivered[0]!.messages[0]!.payload as Uint8Array;
    // canal's raw fast-path layout (wire formats §2.4): type=MESSAGES first, no version.
    expect([...payload.subarray(0, 2)]).toEqual([0x18, 0x07]);
    expect(r.ids()).toHaveLength(6);
    expect(r.delivered.every((b) => b.partition === 'example')).toBe(true);
    await new Promise((res) => setTimeout(res, 100));
    expect(server.acks).toEqual([]); // nothing applied yet: nothing acked
    const [o1, o2, o3] = r.offsets();
    expect(o1! < o2! && o2! < o3!).toBe(true);
    await s.commit('example', (o2! + 1n).toString());
    await r.until(() => server.acks.length === 2);
    expect(server.acks).toEqual([1n, 2n]);
    expect(server.ackedCount('example')).toBe(4);
    await s.commit('example', (o3! + 1n).toString());
    await r.until(() => server.acks.length === 3);
    expect(server.errors).toEqual([]);
    await r.stop();
  });

  it('after a dropped connection rolls back and redelivers un-acked batches with higher offsets', async () => {
    const server = await fakeServer();
    server.append('example', entries(1, 4));
    const { source: s, logger } = source({ 'canal.tcp.server.host': server.address });
    await s.connect(AbortSignal.timeout(5000));
    const r = running(s);
    await r.until(() => r.delivered.length === 3);
    const firstOffsets = r.offsets();
    await s.commit('example', (firstOffsets[0]! + 1n).toString()); // batch 1 applied
    await r.until(() => server.acks.length === 1);
    server.dropConnections();
    await r.until(() => r.delivered.length === 5);
    // Batches 2 and 3 come again (canal redelivers from the last ack), with new offsets.
    const offsets = r.offsets();
    expect(offsets.slice(3).every((o) => o > firstOffsets[2]!)).toBe(true);
    expect(r.ids().slice(3)).toEqual(r.ids().slice(1, 3));
    // A late commit of the lost session's batches acks nothing (canal rolled them back)...
    await s.commit('example', (firstOffsets[2]! + 1n).toString());
    // ...and a commit of the redelivered ones acks them, in order, on the new session.
    await s.commit('example', (offsets[4]! + 1n).toString());
    await r.until(() => server.ackedCount('example') === 3);
    expect(server.errors).toEqual([]);
    expect(logger.lines.some((l) => l.level === 'warn' && /Lost the session/.test(l.message))).toBe(
      true,
    );
    await r.stop();
  });

  it('survives a canal-server restart: batch ids start again, offsets never go back', async () => {
    const server = await fakeServer();
    server.append('example', entries(1, 3));
    const { source: s } = source({ 'canal.tcp.server.host': server.address });
    await s.connect(AbortSignal.timeout(5000));
    const r = running(s);
    await r.until(() => r.delivered.length === 2);
    await s.commit('example', (r.offsets()[0]! + 1n).toString());
    await r.until(() => server.acks.length === 1);
    await server.restart();
    server.append('example', entries(3, 4));
    await r.until(() => r.delivered.length === 4);
    const offsets = r.offsets();
    expect([...offsets].sort((a, b) => (a < b ? -1 : 1))).toEqual(offsets);
    expect(new Set(offsets).size).toBe(offsets.length);
    await s.commit('example', (offsets[3]! + 1n).toString());
    await r.until(() => server.ackedCount('example') === 3);
    // After the restart canal numbered the batches from 1 again.
    expect(server.acks).toEqual([1n, 1n, 2n]);
    expect(server.errors).toEqual([]);
    await r.stop();
  });

  it('authenticates with canal.tcp.username/password (scrambled) and refuses wrong ones as fatal', async () => {
    const server = await fakeServer({ user: 'canal', passwd: canalPasswd('s3cret') });
    server.createDestination('example');
    const good = source({
      'canal.tcp.server.host': server.address,
      'canal.tcp.username': 'canal',
      'canal.tcp.password': 's3cret',
    }).source;
    await good.connect(AbortSignal.timeout(5000));
    const bad = source({
      'canal.tcp.server.host': server.address,
      'canal.tcp.username': 'canal',
      'canal.tcp.password': 'wrong',
    }).source;
    const error = await bad.connect(AbortSignal.timeout(5000)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FatalError);
    expect(String(error)).toMatch(/refused the credentials of user "canal".*auth failed/);
    expect(String(error)).not.toMatch(/wrong/);
  });

  it('connect failures are retryable: nothing listening, unknown destination', async () => {
    const server = await fakeServer();
    const port = server.port;
    const missing = source({ 'canal.tcp.server.host': server.address }, 'nope').source;
    const e1 = await missing.connect(AbortSignal.timeout(5000)).catch((e: unknown) => e);
    expect(e1).toBeInstanceOf(NotConnectedError);
    expect(String(e1)).toMatch(
      /subscribing to destination "nope".*error 400.*can't find destination:nope/,
    );
    await server.close();
    servers.splice(0);
    const down = source({ 'canal.tcp.server.host': `127.0.0.1:${port}` }).source;
    const e2 = await down.connect(AbortSignal.timeout(5000)).catch((e: unknown) => e);
    expect(e2).toBeInstanceOf(NotConnectedError);
    expect(String(e2)).toMatch(new RegExp(`127.0.0.1:${port}: connection error: .*ECONNREFUSED`));
  });

  it('fails over along a list of canal-server addresses', async () => {
    const dead = await fakeServer();
    const deadAddress = dead.address;
    await dead.close();
    servers.splice(0);
    const live = await fakeServer();
    live.append('example', entries(1, 2));
    const { source: s } = source({ 'canal.tcp.server.host': `${deadAddress},${live.address}` });
    await s.connect(AbortSignal.timeout(5000));
    const r = running(s);
    await r.until(() => r.delivered.length === 1);
    await r.stop();
  });

  it('an ACK error reply ends the session and un-acked batches come again', async () => {
    const server = await fakeServer();
    server.append('example', entries(1, 3));
    const { source: s, logger } = source({ 'canal.tcp.server.host': server.address });
    await s.connect(AbortSignal.timeout(5000));
    const r = running(s);
    await r.until(() => r.delivered.length === 2);
    server.failNextAck = true;
    await s.commit('example', (r.offsets()[0]! + 1n).toString());
    // The error arrives where the next GET's reply is expected: the session ends, and canal
    // redelivers both batches (the failed ack acked nothing).
    await r.until(() => r.delivered.length === 4);
    expect(server.acks).toEqual([]);
    const lost = logger.lines.find((l) => /Lost the session/.test(l.message));
    expect(String(lost?.fields?.['error'])).toMatch(/error 400.*something goes wrong with channel/);
    await s.commit('example', (r.offsets()[3]! + 1n).toString());
    await r.until(() => server.ackedCount('example') === 2);
    await r.stop();
  });
});
