import { describe, expect, it } from 'vitest';
import { classifyError } from '@sluice/plugin-api';
import { KafkaOptionsError, kafkaSourceOptions, parseJaasConfig } from './options.js';

const parse = (properties: Record<string, string>, env: Record<string, string> = {}) =>
  kafkaSourceOptions({ properties, topic: 'example', groupId: 'g1', configDir: '/tmp', env });

describe('kafkaSourceOptions', () => {
  it('maps canal-adapter consumerProperties to kafkajs options', () => {
    const o = parse({
      'kafka.bootstrap.servers': 'k1:9092, k2:9093',
      'kafka.enable.auto.commit': 'false',
      'kafka.auto.commit.interval.ms': '1000',
      'kafka.auto.offset.reset': 'Earliest',
      'kafka.request.timeout.ms': '40000',
      'kafka.session.timeout.ms': '30000',
      'kafka.isolation.level': 'read_committed',
      'kafka.max.poll.records': '1000',
      'kafka.max.partition.fetch.bytes': '2097152',
      'kafka.client.id': 'adapter-1',
      'canal.tcp.server.host': 'ignored-not-kafka',
    });
    expect(o).toMatchObject({
      brokers: ['k1:9092', 'k2:9093'],
      topic: 'example',
      groupId: 'g1',
      clientId: 'adapter-1',
      autoOffsetReset: 'earliest',
      requestTimeout: 40000,
      sessionTimeout: 30000,
      heartbeatInterval: 3000,
      maxPollRecords: 1000,
      maxBytesPerPartition: 2097152,
      readUncommitted: false,
      ssl: false,
      sasl: undefined,
      ignored: [],
      notes: [],
    });
  });

  it('defaults like canal: latest, a random client id, 500 records per batch', () => {
    const o = parse({ 'kafka.bootstrap.servers': 'k:9092' });
    expect(o.autoOffsetReset).toBe('latest');
    expect(o.clientId).toMatch(/^sluice-[a-z0-9]+$/);
    expect(o.maxPollRecords).toBe(500);
  });

  it('lets an environment variable named exactly like the key override it', () => {
    expect(
      parse({ 'kafka.bootstrap.servers': 'k:9092' }, { 'kafka.bootstrap.servers': 'other:1' })
        .brokers,
    ).toEqual(['other:1']);
  });

  it('lists unknown kafka.* keys as ignored and notes keys it overrides', () => {
    const o = parse({
      'kafka.bootstrap.servers': 'k:9092',
      'kafka.linger.ms': '5',
      'kafka.enable.auto.commit': 'true',
      'kafka.group.id': 'x',
    });
    expect(o.ignored).toEqual(['kafka.linger.ms']);
    expect(o.notes.join('\n')).toMatch(/enable.auto.commit: true is ignored/);
    expect(o.notes.join('\n')).toMatch(
      /kafka.group.id is ignored; the consumer group is groups\[\].groupId \("g1"\)/,
    );
  });

  it('reads SASL PLAIN/SCRAM credentials from sasl.jaas.config and SSL from security.protocol', () => {
    const o = parse({
      'kafka.bootstrap.servers': 'k:9093',
      'kafka.security.protocol': 'SASL_SSL',
      'kafka.sasl.mechanism': 'SCRAM-SHA-512',
      'kafka.sasl.jaas.config':
        'org.apache.kafka.common.security.scram.ScramLoginModule required username="alice" password="s3\\"cret;x";',
    });
    expect(o.sasl).toEqual({
      mechanism: 'scram-sha-512',
      username: 'alice',
      password: 's3"cret;x',
    });
    expect(o.ssl).toEqual({});
    const plain = parse({
      'kafka.bootstrap.servers': 'k:9093',
      'kafka.security.protocol': 'sasl_plaintext',
      'kafka.sasl.jaas.config':
        'org.apache.kafka.common.security.plain.PlainLoginModule required username=bob password=pw;',
    });
    expect(plain.sasl).toEqual({ mechanism: 'plain', username: 'bob', password: 'pw' });
    expect(plain.ssl).toBe(false);
    expect(
      parse({ 'kafka.bootstrap.servers': 'k:9093', 'kafka.security.protocol': 'SSL' }).ssl,
    ).toEqual({});
  });

  it('rejects what cannot work, as configuration errors', () => {
    const cases: Array<[Record<string, string>, RegExp]> = [
      [{}, /needs kafka.bootstrap.servers/],
      [
        { 'kafka.bootstrap.servers': 'k:1', 'kafka.auto.offset.reset': 'none' },
        /earliest or latest/,
      ],
      [
        { 'kafka.bootstrap.servers': 'k:1', 'kafka.session.timeout.ms': 'soon' },
        /session.timeout.ms must be an integer/,
      ],
      [
        {
          'kafka.bootstrap.servers': 'k:1',
          'kafka.session.timeout.ms': '1000',
          'kafka.heartbeat.interval.ms': '1000',
        },
        /must be lower than/,
      ],
      [
        {
          'kafka.bootstrap.servers': 'k:1',
          'kafka.security.protocol': 'SASL_SSL',
          'kafka.sasl.mechanism': 'GSSAPI',
        },
        /GSSAPI" is not supported/,
      ],
      [
        { 'kafka.bootstrap.servers': 'k:1', 'kafka.security.protocol': 'SASL_SSL' },
        /needs kafka.sasl.jaas.config/,
      ],
      [
        {
          'kafka.bootstrap.servers': 'k:1',
          'kafka.security.protocol': 'SASL_SSL',
          'kafka.sasl.jaas.config': 'X required username="a";',
        },
        /both username/,
      ],
      [
        { 'kafka.bootstrap.servers': 'k:1', 'kafka.security.protocol': 'TLS' },
        /security.protocol must be/,
      ],
    ];
    for (const [properties, message] of cases) {
      let error: unknown;
      try {
        parse(properties);
      } catch (e) {
        error = e;
      }
      expect(error, JSON.stringify(properties)).toBeInstanceOf(KafkaOptionsError);
      expect((error as Error).message).toMatch(message);
      expect(classifyError(error)).toBe('fatal');
    }
  });
});

describe('parseJaasConfig', () => {
  it('reads the login module and its options', () => {
    expect(
      parseJaasConfig(
        'org.x.PlainLoginModule required username="u" password="p w" serviceName=kafka;',
      ),
    ).toEqual({
      module: 'org.x.PlainLoginModule',
      options: { username: 'u', password: 'p w', serviceName: 'kafka' },
    });
  });
});
