/**
 * The Kafka dead-letter queue and its replay reader (kafkaSource.deadLetters) against the
 * testbed's Kafka, where topic auto-creation is off as on many production clusters: the writer
 * creates `<topic>.dlq` itself, records round-trip byte for byte, and a replay read returns only
 * what the previous committed replay did not take.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { classifyError, type DeadLetterContext, type DeadLetterRecord } from '@sluice/plugin-api';
import { uniqueName } from '../../../test/support/testbed.js';
import { kafkaSource } from '../src/index.js';
import { TestKafka, broker } from './helpers.js';

const context = (instance: string, servers = broker()): DeadLetterContext => ({
  instance,
  name: undefined,
  properties: {
    'kafka.bootstrap.servers': servers,
    'kafka.request.timeout.ms': '5000',
    'kafka.socket.connection.setup.timeout.ms': '2000',
  },
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
  partition: '0',
  offset: String(offset),
  reason: 'rejected by the test',
  attempts: 1,
  payload,
  payloadEncoding,
});

let kafka: TestKafka;
beforeAll(async () => {
  kafka = await new TestKafka().start();
});
afterAll(async () => {
  await kafka?.stop();
});

describe('kafkaSource.deadLetters on a real broker', () => {
  it('creates the missing <topic>.dlq, round-trips records exactly, and replay reads each record once across committed replays', async () => {
    const instance = uniqueName('dlqint');
    kafka.topics.push(`${instance}.dlq`);
    const signal = AbortSignal.timeout(60_000);
    const queue = kafkaSource.deadLetters!.queue(context(instance));
    const reader = kafkaSource.deadLetters!.reader(context(instance));
    // nothing written yet: the topic does not exist, so there is nothing to replay
    expect((await reader.read(signal)).records).toEqual([]);
    expect(await reader.depth!(signal)).toBe(0);

    const protobuf = Buffer.from([0x08, 0x03, 0x2a, 0x02, 0xff, 0xfe]).toString('base64');
    const text = record(instance, 1, '{"type":"INSERT","data":[{"name":"张三 🚀"}]}');
    const bytes = {
      ...record(instance, 2, protobuf, 'base64'),
      index: 3,
      sink: 'es',
      mapping: 'm.yml',
    };
    await queue.write(text, signal);
    await queue.write(bytes, signal);

    const first = await reader.read(signal);
    expect(first.records).toEqual([text, bytes]);
    expect(await reader.depth!(signal)).toBe(2); // the dead_letter_depth gauge's count
    // not committed: the same records come again
    const again = await reader.read(signal);
    expect(again.records).toEqual([text, bytes]);
    await again.commit(signal);

    // a record dead-lettered after the replay is the only one the next replay reads
    await queue.write(record(instance, 3, 'not json'), signal);
    const next = await reader.read(signal);
    expect(next.records.map((r) => r.offset)).toEqual(['3']);
    expect(await reader.depth!(signal)).toBe(1); // the two replayed ones no longer count
    await next.commit(signal);
    expect((await reader.read(signal)).records).toEqual([]);
    await queue.close(signal);
    await reader.close(signal);
  });

  it('a write fails, as not connected (so the offset does not move), when the broker is unreachable', async () => {
    const queue = kafkaSource.deadLetters!.queue(context('nowhere', '127.0.0.1:1'));
    const error = await queue
      .write(record('nowhere', 1, 'x'), AbortSignal.timeout(60_000))
      .catch((e: unknown) => e);
    expect(classifyError(error)).toBe('notConnected');
    expect((error as Error).message).toMatch(/dead letter to topic "nowhere\.dlq".*127\.0\.0\.1:1/);
    await queue.close(AbortSignal.timeout(5_000));
  }, 60_000);

  it('a write gives up when its signal aborts', async () => {
    const queue = kafkaSource.deadLetters!.queue(context('nowhere', '127.0.0.1:1'));
    const abort = new AbortController();
    const writing = queue.write(record('nowhere', 1, 'x'), abort.signal).catch((e: unknown) => e);
    abort.abort(new Error('shutting down'));
    expect(String(await writing)).toMatch(/shutting down/);
    await queue.close(AbortSignal.timeout(5_000));
  });
});
