/**
 * Issue #11: the Kafka source, its dead-letter queue and the `dlq replay` reader all connect with
 * the security settings of `consumerProperties`, here against the testbed's SASL/PLAIN listener.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  classifyError,
  type DeadLetterContext,
  type DeadLetterRecord,
  type SourceInstance,
} from '@sluice/plugin-api';
import {
  kafkaSaslEndpoint,
  kafkaSaslUnavailable,
  uniqueName,
} from '../../../test/support/testbed.js';
import { kafkaSource } from '../src/index.js';
import {
  RecordingHandler,
  TestKafka,
  createSource,
  orderInsert,
  range,
  recordingLogger,
} from './helpers.js';

const sasl = kafkaSaslEndpoint();

const missing = await kafkaSaslUnavailable();
if (missing) console.warn(`SKIPPED SASL tests: ${missing}`);

const saslProperties = (password = sasl.password): Record<string, string> => ({
  'kafka.bootstrap.servers': sasl.broker,
  'kafka.security.protocol': 'SASL_PLAINTEXT',
  'kafka.sasl.mechanism': 'PLAIN',
  'kafka.sasl.jaas.config': `org.apache.kafka.common.security.plain.PlainLoginModule required username="${sasl.username}" password="${password}";`,
  'kafka.request.timeout.ms': '10000',
  'kafka.socket.connection.setup.timeout.ms': '5000',
});

const deadLetterContext = (topic: string, password?: string): DeadLetterContext => ({
  instance: topic,
  name: undefined,
  properties: {
    'kafka.auto.offset.reset': 'earliest',
    ...saslProperties(password),
  },
  configDir: process.cwd(),
});

const record = (topic: string, offset: number, reason: string): DeadLetterRecord => ({
  at: new Date(0).toISOString(),
  destination: topic,
  groupId: 'g',
  partition: '0',
  offset: String(offset),
  sink: 'rec',
  reason,
  attempts: 1,
  payload: orderInsert(offset, offset),
  payloadEncoding: 'utf8',
});

let kafka: TestKafka;
beforeAll(async () => {
  kafka = await new TestKafka().start();
});
afterAll(async () => {
  await kafka?.stop();
});

describe.skipIf(missing !== undefined)('Kafka over SASL/PLAIN', () => {
  it('the source consumes, dead letters are written to <topic>.dlq and read back for replay, with the SASL settings', async () => {
    const topic = await kafka.createTopic(2, 'sasl');
    kafka.topics.push(`${topic}.dlq`); // deleted after the file's tests
    for (const p of [0, 1])
      await kafka.produce(
        topic,
        p,
        range(0, 5).map((i) => orderInsert(Number(i), Number(i))),
      );
    const source = createSource({ topic, groupId: uniqueName('g'), properties: saslProperties() });
    const handler = new RecordingHandler();
    await source.connect(new AbortController().signal);
    await source.run(handler, { once: true, signal: new AbortController().signal });
    await source.close(AbortSignal.timeout(30_000));
    expect(handler.offsets('0')).toEqual(range(0, 5));
    expect(handler.offsets('1')).toEqual(range(0, 5));

    const capability = kafkaSource.deadLetters!;
    const queue = capability.queue(deadLetterContext(topic));
    expect(queue.location).toContain(`${topic}.dlq`);
    expect(queue.location).not.toContain(sasl.password);
    const signal = AbortSignal.timeout(30_000);
    await Promise.all([
      queue.write(record(topic, 1, 'first'), signal),
      queue.write(record(topic, 3, 'second'), signal),
    ]);
    const reader = capability.reader(deadLetterContext(topic));
    const batch = await reader.read(signal);
    expect(batch.records.map((r) => r.reason).sort()).toEqual(['first', 'second']);
    expect(batch.records.find((r) => r.reason === 'first')).toEqual(record(topic, 1, 'first'));
    await batch.commit(signal);
    // replayed records are not read again; new ones are
    expect((await reader.read(signal)).records).toEqual([]);
    await queue.write(record(topic, 4, 'third'), signal);
    expect((await reader.read(signal)).records.map((r) => r.reason)).toEqual(['third']);
    await reader.close(signal);
    await queue.close(signal);
  });

  it('wrong credentials: the source, the dead-letter writer and the reader fail with a clear fatal error (no password in it)', async () => {
    const topic = await kafka.createTopic(1, 'sasl_bad');
    const wrong = 'not-the-password';
    const sources: SourceInstance[] = [];
    const logger = recordingLogger();
    const source = createSource({
      topic,
      groupId: uniqueName('g'),
      properties: { ...saslProperties(wrong), 'kafka.retry.backoff.ms': '50' },
      logger,
    });
    sources.push(source);
    const failures: unknown[] = [];
    failures.push(await source.connect(new AbortController().signal).catch((e: unknown) => e));
    await source.close(AbortSignal.timeout(10_000));
    const signal = AbortSignal.timeout(60_000);
    const queue = kafkaSource.deadLetters!.queue(deadLetterContext(topic, wrong));
    failures.push(await queue.write(record(topic, 0, 'x'), signal).catch((e: unknown) => e));
    await queue.close(signal);
    const reader = kafkaSource.deadLetters!.reader(deadLetterContext(topic, wrong));
    failures.push(await reader.read(signal).catch((e: unknown) => e));
    await reader.close(signal);

    for (const failure of failures) {
      expect(failure).toBeInstanceOf(Error);
      expect(classifyError(failure), (failure as Error).message).toBe('fatal');
      expect((failure as Error).message).toMatch(
        new RegExp(`credentials of SASL user "${sasl.username}" were refused`),
      );
      expect((failure as Error).message).not.toContain(wrong);
    }
    expect((failures[0] as Error).message).toContain(`Cannot consume topic "${topic}"`);
    expect((failures[1] as Error).message).toContain(
      `Writing a dead letter to topic "${topic}.dlq"`,
    );
    expect((failures[2] as Error).message).toContain(`dead letters of topic "${topic}.dlq"`);
  });
});
