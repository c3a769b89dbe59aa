/**
 * A broker restart during a stream loses nothing and the source resumes by itself. The test runs
 * a private RocketMQ (name server + broker in one JVM, ports of its own, the testbed's jars) so
 * that restarting it disturbs no other test; the broker is killed with SIGKILL mid-stream while
 * a producer keeps sending (retrying what the broker did not acknowledge, as canal's producer
 * does), then started again on the same store.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { uniqueName } from '../../../test/support/testbed.js';
import { RocketMQClient, rocketmqSource } from '../src/index.js';
import { RecordingHandler, orderInsert, recordingLogger } from './helpers.js';

interface TestbedModule {
  writeRocketMQConfig(o: {
    home: string;
    namesrvPort: number;
    brokerPort: number;
    haPort: number;
  }): void;
  rocketmqJavaArgs(home: string): string[];
}
const modulePath = new URL('../../../test/testbed/services/rocketmq.mjs', import.meta.url).href;

const NAMESRV = 29876;
const BROKER = 29911;
const home = mkdtempSync(join(tmpdir(), 'sluice-rmq-restart-'));
let jvm: ChildProcess | undefined;
let args: string[] = [];

function startJvm(): void {
  const log = openSync(join(home, 'console.log'), 'a');
  jvm = spawn('java', args, { cwd: home, stdio: ['ignore', log, log] });
}

async function waitReady(client: RocketMQClient): Promise<void> {
  for (let i = 0; i < 300; i++) {
    try {
      if ((await client.brokers()).size > 0) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error('private RocketMQ did not come up');
}

const client = new RocketMQClient({
  nameServers: [`127.0.0.1:${NAMESRV}`],
  requestTimeoutMs: 5_000,
  connectTimeoutMs: 2_000,
});

beforeAll(async () => {
  const tb = (await import(modulePath)) as TestbedModule;
  tb.writeRocketMQConfig({ home, namesrvPort: NAMESRV, brokerPort: BROKER, haPort: BROKER + 1 });
  args = tb.rocketmqJavaArgs(home);
  startJvm();
  await waitReady(client);
}, 120_000);

afterAll(() => {
  client.close();
  jvm?.kill('SIGKILL');
  rmSync(home, { recursive: true, force: true });
});

it('a broker killed and restarted mid-stream: every acknowledged message is delivered, in order, and consumption resumes by itself', async () => {
  const broker = `127.0.0.1:${BROKER}`;
  const topic = uniqueName('restart');
  await client.createTopic(broker, topic, 2);
  for (let i = 0; !(await client.route(topic)); i++) {
    if (i > 100) throw new Error('topic not routed');
    await new Promise((r) => setTimeout(r, 100));
  }
  const lines = recordingLogger();
  const source = rocketmqSource.create({
    instance: topic,
    groupId: uniqueName('g'),
    properties: {
      'rocketmq.namesrv.addr': `127.0.0.1:${NAMESRV}`,
      'rocketmq.consume.from.where': 'CONSUME_FROM_FIRST_OFFSET',
      'rocketmq.pull.suspend.ms': '1000',
      'rocketmq.rebalance.interval.ms': '1000',
      'rocketmq.request.timeout.ms': '3000',
    },
    configDir: process.cwd(),
    deps: { logger: lines },
  });
  const handler = new RecordingHandler();
  // Commit after each batch; a commit that fails while the broker is down is retried with the
  // next one (what the core does), so it must not fail the delivery.
  handler.onDeliver = (batch) =>
    source
      .commit(batch.partition, (BigInt(batch.messages.at(-1)!.offset) + 1n).toString())
      .catch(() => {});
  const stop = new AbortController();
  await source.connect(stop.signal);
  const running = source.run(handler, { once: false, signal: stop.signal });

  // The producer: 2 queues × 150 messages, each retried until the broker acknowledges it.
  const total = 150;
  const acked: number[][] = [[], []];
  // Messages whose send failed at least once: the broker may have stored such a message before
  // the kill and lost only the answer, so the retry stores it a second time (at-least-once
  // producing, as canal's producer does). Only these may show up twice, at distinct offsets.
  const retried = [new Set<number>(), new Set<number>()];
  let sending = true;
  const producer = (async () => {
    for (let i = 0; i < total; i++) {
      for (let q = 0; q < 2; q++) {
        for (;;) {
          try {
            await client.send(broker, { topic, queueId: q, body: Buffer.from(orderInsert(q, i)) });
            acked[q]!.push(i);
            break;
          } catch {
            retried[q]!.add(i);
            await new Promise((r) => setTimeout(r, 200));
          }
        }
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    sending = false;
  })();

  await handler.until(() => handler.count() >= 60);
  jvm!.kill('SIGKILL');
  await new Promise((resolve) => jvm!.once('exit', resolve));
  const deliveredAtKill = handler.count();
  await new Promise((r) => setTimeout(r, 1_000));
  startJvm();
  await producer;
  expect(sending).toBe(false);
  await handler.until(() => {
    const seen = [0, 1].map(
      (q) =>
        new Set(
          handler.deliveries.filter((d) => d.partition === `broker-a:${q}`).flatMap((d) => d.seqs),
        ),
    );
    return [0, 1].every((q) => acked[q]!.every((i) => seen[q]!.has(i)));
  });
  expect(handler.count()).toBeGreaterThan(deliveredAtKill);
  expect(handler.violations).toEqual([]);
  for (const q of [0, 1]) {
    // In order: offsets strictly increase (a restarted broker hands out the same offsets; a
    // redelivery would show up as a repeated offset and is allowed only after a revoke).
    const offsets = handler.offsets(`broker-a:${q}`).map(Number);
    for (let i = 1; i < offsets.length; i++) expect(offsets[i]).toBeGreaterThan(offsets[i - 1]!);
    const seqs = handler.deliveries
      .filter((d) => d.partition === `broker-a:${q}`)
      .flatMap((d) => d.seqs);
    // Every acknowledged message, in order; a message stored twice by a producer retry comes
    // right after its first copy (the producer retries before sending the next one).
    const repeated = seqs.filter((seq, i) => i > 0 && seq === seqs[i - 1]);
    expect(seqs.filter((seq, i) => i === 0 || seq !== seqs[i - 1])).toEqual(acked[q]);
    expect(repeated.filter((seq) => !retried[q]!.has(seq))).toEqual([]);
  }
  expect(lines.lines.some((l) => l.level === 'warn' && /failed, retrying/.test(l.message))).toBe(
    true,
  );
  stop.abort();
  await running;
  await source.close(new AbortController().signal);
}, 120_000);
