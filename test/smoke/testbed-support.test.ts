import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  kafkaSaslEndpoint,
  kafkaSaslUnavailable,
  mysqlEndpoint,
  pgEndpoint,
  testbedEndpoint,
  testbedEndpoints,
  uniqueName,
} from '../support/testbed.js';

const VARS = [
  'SLUICE_TESTBED_RUN',
  'SLUICE_TEST_KAFKA',
  'SLUICE_TEST_KAFKA_SASL',
  'SLUICE_TEST_ES',
  'SLUICE_TEST_MYSQL',
  'SLUICE_TEST_PG',
  'SLUICE_TEST_REDIS',
] as const;

describe('test/support/testbed.ts', () => {
  const saved = Object.fromEntries(VARS.map((v) => [v, process.env[v]]));
  const dirs: string[] = [];
  afterEach(() => {
    for (const v of VARS) {
      if (saved[v] === undefined) delete process.env[v];
      else process.env[v] = saved[v];
    }
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  const emptyRunDir = () => {
    const d = mkdtempSync(join(tmpdir(), 'sluice-tb-'));
    dirs.push(d);
    for (const v of VARS) delete process.env[v];
    process.env.SLUICE_TESTBED_RUN = d;
    return d;
  };

  it('throws an error naming `pnpm testbed up` when a service is missing', () => {
    emptyRunDir();
    expect(() => testbedEndpoint('kafka')).toThrow(/pnpm testbed up/);
    expect(() => testbedEndpoints()).toThrow(/SLUICE_TEST_KAFKA/);
  });

  it('throws when the recorded process is gone', () => {
    const d = emptyRunDir();
    writeFileSync(
      join(d, 'state.json'),
      JSON.stringify({
        version: 1,
        services: { redis: { endpoint: 'redis://127.0.0.1:1', managed: true, pid: 2 ** 22 + 7 } },
      }),
    );
    expect(() => testbedEndpoint('redis')).toThrow(/is gone.*pnpm testbed up/);
  });

  it('gives the SASL listener from SLUICE_TEST_KAFKA_SASL, refusing a malformed value', async () => {
    emptyRunDir();
    process.env.SLUICE_TEST_KAFKA = 'kafka.local:9092';
    expect(() => kafkaSaslEndpoint()).toThrow(/SLUICE_TEST_KAFKA_SASL/);
    process.env.SLUICE_TEST_KAFKA_SASL = 'alice:p@ss:w0rd@kafka.local:9094';
    expect(() => kafkaSaslEndpoint()).toThrow(/user:password@host:port/);
    process.env.SLUICE_TEST_KAFKA_SASL = 'alice:pa:ss@kafka.local:9094';
    expect(kafkaSaslEndpoint()).toEqual({
      broker: 'kafka.local:9094',
      username: 'alice',
      password: 'pa:ss',
    });
    // a configured listener is never skipped (a broken one must fail the tests that use it)
    expect(await kafkaSaslUnavailable()).toBeUndefined();
  });

  it('gives the managed SASL listener next to the managed broker', () => {
    const d = emptyRunDir();
    writeFileSync(
      join(d, 'state.json'),
      JSON.stringify({
        version: 1,
        services: { kafka: { endpoint: '127.0.0.1:1', managed: true, pid: process.pid } },
      }),
    );
    expect(kafkaSaslEndpoint()).toEqual({
      broker: '127.0.0.1:19094',
      username: 'sluice',
      password: 'sluice-secret',
    });
  });

  it('prefers environment variables and parses them', () => {
    emptyRunDir();
    process.env.SLUICE_TEST_KAFKA = 'kafka.local:9092';
    process.env.SLUICE_TEST_ES = 'http://es.local:9200/';
    process.env.SLUICE_TEST_MYSQL = 'mysql://u%40x:p%3Aw@db.local:3307';
    process.env.SLUICE_TEST_PG = 'postgres://pg:secret@pg.local:5433/app';
    process.env.SLUICE_TEST_REDIS = 'redis://r.local:6380';
    const ep = testbedEndpoints();
    expect(ep.kafka).toBe('kafka.local:9092');
    expect(ep.es).toBe('http://es.local:9200');
    expect(ep.redis).toBe('redis://r.local:6380');
    expect(mysqlEndpoint()).toMatchObject({
      host: 'db.local',
      port: 3307,
      user: 'u@x',
      password: 'p:w',
    });
    expect(pgEndpoint()).toMatchObject({
      host: 'pg.local',
      port: 5433,
      user: 'pg',
      password: 'secret',
      database: 'app',
    });
  });

  it('makes unique names that are valid for topics, indices and databases', () => {
    const names = new Set(Array.from({ length: 1000 }, () => uniqueName('My-Topic.Name')));
    expect(names.size).toBe(1000);
    for (const n of names) {
      expect(n).toMatch(/^[a-z][a-z0-9_]*$/);
      expect(n.length).toBeLessThanOrEqual(48);
    }
    expect(uniqueName('9lives')).toMatch(/^t_9lives_/);
    expect(uniqueName('x'.repeat(100)).length).toBe(48);
  });
});
