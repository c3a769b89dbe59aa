import { describe, expect, it } from 'vitest';
import { formatReport, MappingIndex, validateConfigDir } from '@sluice/core';
import { fixture } from './support.js';
import { esSink } from '@sluice/sink-es';
import { builtinSchemas } from './plugins.js';

/**
 * The built-in schemas with the es sink's format checks only: these tests are about the loader
 * (keys, defaults, routing by tables), so they leave the es sink's own `check` out and run it
 * separately at the end.
 */
const esFormatOnly = { ...esSink, mappings: { ...esSink.mappings!, check: undefined } };
const formatOnlySchemas = () =>
  builtinSchemas(
    new Map([
      ['es7', esFormatOnly],
      ['es8', esFormatOnly],
    ]),
  );

describe("canal-adapter's own sample configuration", () => {
  it('validates without errors; the warnings only name plugins not written yet and canal pitfalls', async () => {
    const result = await validateConfigDir(fixture('canal-sample'), {
      env: {},
      plugins: formatOnlySchemas(),
    });
    expect(result.ok, formatReport(result.problems)).toBe(true);
    expect(result.problems.filter((p) => p.severity === 'error')).toEqual([]);
    const codes = new Set(result.problems.map((p) => p.code));
    // The rdb sink's jdbc.url (an Oracle target in this sample) is checked by @sluice/sink-rdb
    // when the instance is created, not by the configuration loader.
    expect([...codes].sort()).toEqual(['mapping-invalid', 'plugin-missing']);
    // canal's default mode tcp (canal.tcp.server.host under consumerProperties) is a source now.
    expect(result.problems.find((p) => p.path === 'canal.conf.mode')).toBeUndefined();
    // targetTable: mytest2.user → the #3834 pitfall, with the fix.
    expect(result.problems.find((p) => p.code === 'mapping-invalid')).toMatchObject({
      file: 'rdb/mytest_user.yml',
      line: 9,
      suggestion: 'use targetDb: mytest2 and targetTable: user',
    });
  });

  it('resolves canal.conf, defaults, data sources and generated keys', async () => {
    const { config } = await validateConfigDir(fixture('canal-sample'), {
      env: {},
      plugins: builtinSchemas(),
    });
    if (!config) throw new Error('no config');
    expect(config.server.port).toBe(8081);
    expect(config.canal).toMatchObject({
      mode: 'tcp',
      mappingKeyScheme: 'tcp',
      retries: -1,
      timeout: 500,
      syncBatchSize: 1000,
      flatMessage: true,
    });
    expect(config.canal.consumerProperties['kafka.bootstrap.servers']).toBe('127.0.0.1:9092');
    expect(config.canal.consumerProperties['canal.tcp.username']).toBe('');
    expect(config.canal.srcDataSources['defaultDS']).toEqual({
      key: 'defaultDS',
      kind: 'mysql',
      host: '127.0.0.1',
      port: 3306,
      database: 'mytest',
      user: 'root',
      password: '121212',
      params: { useUnicode: 'true' },
      maxActive: 3,
    });
    const outers = config.canal.canalAdapters[0]?.groups[0]?.outerAdapters ?? [];
    expect(outers.map((o) => `${o.name}:${o.key}`)).toEqual([
      'logger:AUTO_GENERATED_-example-g1-0',
      'rdb:mysql1',
      'rdb:oracle1',
      'rdb:postgres1',
      'hbase:AUTO_GENERATED_-example-g1-4',
      'es7:AUTO_GENERATED_-example-g1-5',
      'es8:AUTO_GENERATED_-example-g1-6',
      'kudu:kudu',
      'phoenix:phoenix',
    ]);
    expect(outers[1]?.properties['jdbc.url']).toBe(
      'jdbc:mysql://127.0.0.1:3306/mytest2?useUnicode=true',
    );
    expect(outers[5]?.hosts).toBe('127.0.0.1:9300');
  });

  it('gives every mapping file to the right sink instance and indexes it by the tables it covers', async () => {
    const { config } = await validateConfigDir(fixture('canal-sample'), {
      env: {},
      plugins: formatOnlySchemas(),
    });
    if (!config) throw new Error('no config');
    expect(
      config.mappings.map((m) => `${m.file} → ${m.owners.map((o) => o.key).join(',')}`),
    ).toEqual([
      'es7/biz_order.yml → AUTO_GENERATED_-example-g1-5',
      'es7/customer.yml → AUTO_GENERATED_-example-g1-5',
      'es7/mytest_user.yml → AUTO_GENERATED_-example-g1-5',
      'es8/biz_order.yml → AUTO_GENERATED_-example-g1-6',
      'es8/customer.yml → AUTO_GENERATED_-example-g1-6',
      'es8/mytest_user.yml → AUTO_GENERATED_-example-g1-6',
      'rdb/mytest_user.yml → mysql1',
    ]);
    const user = config.mappings.find((m) => m.file === 'es7/mytest_user.yml');
    expect(user?.tables).toEqual([
      { database: 'mytest', table: 'user' },
      { database: 'mytest', table: 'role' },
    ]);
    expect(user?.config['esMapping']).toMatchObject({
      _index: 'mytest_user',
      _id: '_id',
      upsert: false,
      commitBatch: 3000,
    });

    const index = MappingIndex.of(config);
    const es7 = { name: 'es7', key: 'AUTO_GENERATED_-example-g1-5' };
    const event = { destination: 'example', groupId: 'g1', database: 'mytest', table: 'role' };
    expect(index.lookup(es7, event).map((m) => m.name)).toEqual(['mytest_user.yml']);
    expect(index.lookup(es7, { ...event, table: 'user' }).map((m) => m.name)).toEqual([
      'mytest_user.yml',
    ]);
    expect(
      index.lookup({ name: 'rdb', key: 'mysql1' }, { ...event, table: 'user' }).map((m) => m.file),
    ).toEqual(['rdb/mytest_user.yml']);
    expect(index.lookup({ name: 'rdb', key: 'postgres1' }, { ...event, table: 'user' })).toEqual(
      [],
    );
    // tcp mode: groupId plays no part in the lookup; table names are case-sensitive.
    expect(index.lookup(es7, { ...event, groupId: 'other', table: 'user' })).toHaveLength(1);
    expect(index.lookup(es7, { ...event, table: 'User' })).toEqual([]);
  });
});

describe('examples/canal-adapter-conf', () => {
  it('validates without errors and routes each mapping to its sink instance', async () => {
    const dir = fixture('../../../../../examples/canal-adapter-conf');
    const result = await validateConfigDir(dir, { env: {}, plugins: formatOnlySchemas() });
    expect(
      result.problems.filter((p) => p.severity === 'error'),
      formatReport(result.problems),
    ).toEqual([]);
    expect(result.problems.every((p) => p.code === 'plugin-missing')).toBe(true);
    const config = result.config!;
    expect(config.canal.consumerProperties['kafka.bootstrap.servers']).toBe('127.0.0.1:9092');
    expect(config.sluice.admin.token).toBeUndefined();
    expect(
      config.mappings.map(
        (m) => `${m.file} → ${m.owners.map((o) => `${o.name}:${o.key}`).join(',')}`,
      ),
    ).toEqual([
      'es7/mytest_user.yml → es7:AUTO_GENERATED_-example-g1-2',
      'rdb/mytest_user.yml → rdb:mysql1',
      'redis/mytest_user.yml → redis:cache1',
    ]);
    const index = MappingIndex.of(config);
    const event = { destination: 'example', groupId: 'g1', database: 'mytest', table: 'user' };
    expect(
      index.lookup({ name: 'redis', key: 'cache1' }, event)[0]?.config['redisMapping'],
    ).toEqual({
      database: 'mytest',
      table: 'user',
      mode: 'evict',
      keys: ['user:{id}', 'user:name:{name}'],
      delayedEviction: 500,
      condition: { ignoredColumns: ['c_time'] },
      format: 'json',
      ttl: 0,
      tombstoneTtl: 86_400,
      readBatch: 1000,
    });
  });
});

describe("canal's es samples", () => {
  it("validate with the es sink's checks: the LEFT JOIN, the computed _id and the parent/child relations are applied", async () => {
    const result = await validateConfigDir(fixture('canal-sample'), {
      env: {},
      plugins: builtinSchemas(),
    });
    const errors = result.problems
      .filter((p) => p.severity === 'error')
      .map((p) => `${p.file} ${p.path}: ${p.message}`);
    expect(errors).toEqual([]);
    expect(result.ok).toBe(true);
  });
});
