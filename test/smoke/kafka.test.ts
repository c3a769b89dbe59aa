import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { afterAll, describe, expect, it } from 'vitest';
import { kafkaBroker, uniqueName } from '../support/testbed.js';

describe('testbed smoke: Kafka', () => {
  const kafka = new Kafka({
    clientId: 'sluice-smoke',
    brokers: [kafkaBroker()],
    logLevel: logLevel.WARN,
  });
  const admin = kafka.admin();
  const topic = uniqueName('smoke_topic');
  let created = false;

  afterAll(async () => {
    if (created) await admin.deleteTopics({ topics: [topic] }).catch(() => {});
    await admin.disconnect();
  });

  it('has one broker and no automatic topic creation', async () => {
    await admin.connect();
    const cluster = await admin.describeCluster();
    expect(cluster.brokers).toHaveLength(1);
    const configs = await admin.describeConfigs({
      includeSynonyms: false,
      resources: [{ type: 4 /* BROKER */, name: String(cluster.brokers[0]?.nodeId) }],
    });
    const entries = configs.resources[0]?.configEntries ?? [];
    const autoCreate = entries.find((e) => e.configName === 'auto.create.topics.enable');
    // An external broker may differ; the managed testbed must have it off.
    if (!process.env.SLUICE_TEST_KAFKA) expect(autoCreate?.configValue).toBe('false');
  });

  it('produces and consumes a message', async () => {
    await admin.connect();
    created = await admin.createTopics({
      waitForLeaders: true,
      topics: [{ topic, numPartitions: 1, replicationFactor: 1 }],
    });
    expect(created).toBe(true);

    const producer = kafka.producer({
      allowAutoTopicCreation: false,
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    await producer.connect();
    const value = JSON.stringify({ hello: 'sluice', at: Date.now() });
    await producer.send({ topic, acks: -1, messages: [{ key: 'k1', value }] });
    await producer.disconnect();

    const consumer = kafka.consumer({ groupId: uniqueName('smoke_group') });
    try {
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      const received = await new Promise<{ key: string; value: string }>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no message within 20s')), 20_000);
        void consumer
          .run({
            eachMessage: async ({ message }) => {
              clearTimeout(timer);
              resolve({ key: String(message.key), value: String(message.value) });
            },
          })
          .catch(reject);
      });
      expect(received).toEqual({ key: 'k1', value });
    } finally {
      await consumer.disconnect();
    }
  });
});
