/**
 * Issue #11 with the `sluice` binary: a Kafka cluster that requires SASL/PLAIN. The source, the
 * Kafka dead-letter queue (`<topic>.dlq`) and `sluice dlq replay` all use the credentials of
 * `consumerProperties`; wrong credentials stop `start` and `dlq replay` with a clear error.
 */
import { describe, expect, it } from 'vitest';
import { encodeFlatMessage, rowPartition } from '@sluice/canal-protocol';
import { kafkaSource } from '../../plugins/source-kafka/src/index.js';
import {
  kafkaBroker,
  kafkaSaslEndpoint,
  kafkaSaslUnavailable,
  redisUrl,
  uniqueName,
} from '../support/testbed.js';
import { SluiceProcess, writeKafkaConfig } from './support/sluice.js';
import { Recording, stateDiff, useE2eServices } from './support/verify.js';
import type { Row } from './support/workload.js';

const e2e = useE2eServices();
const sasl = kafkaSaslEndpoint();
const missing = await kafkaSaslUnavailable();
if (missing) console.warn(`SKIPPED SASL end-to-end tests: ${missing}`);

const saslProperties = (password: string): Record<string, string> => ({
  'kafka.security.protocol': 'SASL_PLAINTEXT',
  'kafka.sasl.mechanism': 'PLAIN',
  'kafka.sasl.jaas.config': `org.apache.kafka.common.security.plain.PlainLoginModule required username="${sasl.username}" password="${password}";`,
  'kafka.request.timeout.ms': '10000',
  'kafka.socket.connection.setup.timeout.ms': '5000',
});

const insert = (row: Row, seq: number) =>
  encodeFlatMessage({
    id: seq,
    database: 'shop',
    table: 'items',
    pkNames: ['id'],
    isDdl: false,
    type: 'INSERT',
    es: 1_700_000_000_000 + seq,
    ts: 1_700_000_000_000 + seq,
    sql: '',
    sqlType: { id: -5, name: 12, qty: 4 },
    mysqlType: { id: 'bigint(20)', name: 'varchar(64)', qty: 'int(11)' },
    data: [{ ...row }],
    old: null,
    gtid: '',
  });

/** The dead letters on `topic`, read over the PLAINTEXT listener without recording progress. */
async function deadLetters(topic: string): Promise<string[]> {
  const reader = kafkaSource.deadLetters!.reader({
    instance: topic,
    name: `${topic}.dlq`,
    properties: { 'kafka.bootstrap.servers': kafkaBroker() },
    configDir: process.cwd(),
  });
  const batch = await reader.read(AbortSignal.timeout(30_000));
  return batch.records.map((r) => r.reason);
}

describe.skipIf(missing !== undefined)('Kafka over SASL/PLAIN (sluice binary)', () => {
  it('start, the Kafka dead-letter queue and dlq replay work with the credentials; wrong ones fail clearly', async () => {
    const partitions = 2;
    const topic = uniqueName('e2e_sasl');
    await e2e.kafka.createTopic(topic, partitions);
    e2e.kafka.topics.push(`${topic}.dlq`); // deleted after the file's tests
    const expected = new Map<string, Row | null>();
    const perPartition: string[][] = [[], []];
    for (let id = 1; id <= 40; id++) {
      const row: Row = { id: String(id), name: `n${id}`, qty: id === 7 ? '-1' : String(id % 10) };
      expected.set(`shop.items:${id}`, row);
      perPartition[rowPartition('shop', { id: String(id) }, ['id'], { partitions })]!.push(
        insert(row, id),
      );
    }
    await e2e.kafka.produce(topic, perPartition);
    const prefix = uniqueName('rec');
    const write = (password: string) =>
      writeKafkaConfig({
        broker: sasl.broker,
        topic,
        groupId: uniqueName('g'),
        redis: redisUrl(),
        prefix,
        deadLetter: 'kafka',
        sinkProperties: { rejectQty: '-1' },
        extraKafka: saslProperties(password),
      });
    const wrong = 'not-the-password';

    // wrong credentials: start and dlq replay refuse, naming the cause, never the password
    const bad = await write(wrong);
    const refused = SluiceProcess.start(bad.dir, { once: true });
    expect((await refused.exited).code, refused.tail()).not.toBe(0);
    expect(refused.tail()).toMatch(/credentials of SASL user "sluice" were refused/);
    expect(refused.lines.join('\n')).not.toContain(wrong);
    const badReplay = new SluiceProcess(['dlq', 'replay', '--config', bad.dir]);
    expect((await badReplay.exited).code, badReplay.tail()).not.toBe(0);
    expect(badReplay.tail()).toMatch(/credentials of SASL user "sluice" were refused/);
    expect(badReplay.lines.join('\n')).not.toContain(wrong);

    // the right ones: everything flows, the rejected row goes to <topic>.dlq over SASL
    const good = await write(sasl.password);
    const sluice = SluiceProcess.start(good.dir, { once: true });
    expect((await sluice.exited).code, sluice.tail()).toBe(0);
    const recording = new Recording(e2e.redis, prefix);
    const withoutRejected = new Map(expected);
    withoutRejected.set('shop.items:7', null);
    expect(stateDiff(withoutRejected, await recording.state(expected.keys()))).toEqual([]);
    const letters = await deadLetters(topic);
    expect(letters).toHaveLength(1);
    expect(letters[0]).toMatch(/qty -1 is not allowed/);

    // fixed: dlq replay reads <topic>.dlq over SASL and applies the row
    await recording.setFixed();
    const replay = new SluiceProcess(['dlq', 'replay', '--config', good.dir]);
    expect((await replay.exited).code, replay.tail()).toBe(0);
    expect(stateDiff(expected, await recording.state(expected.keys()))).toEqual([]);
    expect(await recording.violations()).toEqual([]);
    await recording.clear();
  }, 90_000);
});
