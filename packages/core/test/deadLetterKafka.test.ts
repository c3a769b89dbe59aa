/**
 * The Kafka dead-letter queue against the testbed's real Kafka (auto topic creation is off there,
 * as on many production clusters): the writer creates `<topic>.dlq` itself, records round-trip
 * byte for byte, and a replay read only returns what the previous successful replay did not take.
 */
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, describe, expect, it } from 'vitest';
import { kafkaBroker, uniqueName } from '../../../test/support/testbed.js';
import { encodePayload, type DeadLetterRecord } from '../src/deadLetter/record.js';
import { KafkaDeadLetterQueue, deadLetterTopic } from '../src/deadLetterKafka.js';
import { readDeadLetterTopic } from '../src/deadLetterReplay.js';

const brokers = [kafkaBroker()];
const created: string[] = [];

function record(
  destination: string,
  offset: number,
  payload: Uint8Array | string,
): DeadLetterRecord {
  return {
    at: new Date().toISOString(),
    destination,
    groupId: 'g1',
    partition: '0',
    offset: String(offset),
    reason: 'rejected by the test',
    attempts: 1,
    ...encodePayload(payload),
  };
}

afterAll(async () => {
  const admin = new Kafka({ brokers, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  await admin.deleteTopics({ topics: created }).catch(() => undefined);
  await admin.disconnect();
});

describe('KafkaDeadLetterQueue on a real broker', () => {
  it('creates the missing <topic>.dlq, and replay reads each record once across replays', async () => {
    const destination = uniqueName('dlqint');
    const topic = deadLetterTopic(destination);
    created.push(topic);
    const dlq = new KafkaDeadLetterQueue({ brokers });
    const protobufBytes = new Uint8Array([0x08, 0x03, 0x2a, 0x02, 0xff, 0xfe]);
    await dlq.write(record(destination, 1, '{"type":"INSERT","data":[{"name":"张三 🚀"}]}'));
    await dlq.write(record(destination, 2, protobufBytes));

    const first = await readDeadLetterTopic(brokers, topic, AbortSignal.timeout(30_000));
    expect(first.records.map((r) => r.offset)).toEqual(['1', '2']);
    expect(first.records[0]).toMatchObject({
      payloadEncoding: 'utf8',
      payload: '{"type":"INSERT","data":[{"name":"张三 🚀"}]}',
    });
    expect(first.records[1]!.payloadEncoding).toBe('base64');
    expect(new Uint8Array(Buffer.from(first.records[1]!.payload, 'base64'))).toEqual(protobufBytes);

    // Not committed: the same records come again.
    const again = await readDeadLetterTopic(brokers, topic, AbortSignal.timeout(30_000));
    expect(again.records).toHaveLength(2);
    await again.commit();

    // A record dead-lettered after the replay is the only one the next replay reads.
    await dlq.write(record(destination, 3, 'not json'));
    const next = await readDeadLetterTopic(brokers, topic, AbortSignal.timeout(30_000));
    expect(next.records.map((r) => r.offset)).toEqual(['3']);
    await next.commit();
    const empty = await readDeadLetterTopic(brokers, topic, AbortSignal.timeout(30_000));
    expect(empty.records).toEqual([]);
    await dlq.close();
  });

  it('fails the write (so the offset does not move) when the broker is unreachable', async () => {
    const dlq = new KafkaDeadLetterQueue({
      brokers: ['127.0.0.1:1'],
      clientId: 'sluice-dlq-unreachable',
    });
    await expect(dlq.write(record('nowhere', 1, 'x'))).rejects.toThrow();
    await dlq.close();
  }, 60_000);
});
