import { describe, expect, it } from 'vitest';
import type { DeadLetterRecord } from './deadLetter/record.js';
import {
  KafkaDeadLetterQueue,
  deadLetterTopic,
  type DeadLetterProducer,
} from './deadLetterKafka.js';

const record: DeadLetterRecord = {
  at: '2024-01-01T00:00:00.000Z',
  destination: 'example',
  groupId: 'g1',
  partition: '3',
  offset: '12',
  index: 0,
  sink: 'rdb1',
  reason: 'duplicate key',
  attempts: 1,
  payload: '{"data":[]}',
  payloadEncoding: 'utf8',
};

function fakeProducer(failSends = 0) {
  const sent: unknown[] = [];
  let connects = 0;
  const producer: DeadLetterProducer = {
    connect: async () => void connects++,
    send: async (request) => {
      if (failSends-- > 0) throw new Error('broker down');
      sent.push(request);
    },
    disconnect: async () => {},
  };
  return { producer, sent, connects: () => connects };
}

describe('KafkaDeadLetterQueue', () => {
  it('writes the record as JSON to <topic>.dlq with acks from all replicas', async () => {
    const fake = fakeProducer();
    const dlq = new KafkaDeadLetterQueue({
      brokers: ['k:9092'],
      producer: fake.producer,
      ensureTopic: async () => {},
    });
    await dlq.write(record);
    expect(fake.sent).toEqual([
      {
        topic: 'example.dlq',
        acks: -1,
        messages: [
          {
            key: '3:12',
            value: JSON.stringify(record),
            headers: { 'sluice-sink': 'rdb1', 'sluice-reason': 'duplicate key' },
          },
        ],
      },
    ]);
    expect(deadLetterTopic('t', '-dead')).toBe('t-dead');
  });

  it('rejects when the broker fails (so the offset does not move) and reconnects on the next write', async () => {
    const fake = fakeProducer(1);
    const dlq = new KafkaDeadLetterQueue({
      brokers: ['k:9092'],
      producer: fake.producer,
      ensureTopic: async () => {},
    });
    await expect(dlq.write(record)).rejects.toThrow('broker down');
    await dlq.write(record);
    expect(fake.connects()).toBe(2);
    expect(fake.sent).toHaveLength(1);
    await dlq.close();
  });
});
