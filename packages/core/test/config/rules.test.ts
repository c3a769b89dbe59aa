import { describe, expect, it } from 'vitest';
import { defineSink } from '@sluice/plugin-api';
import {
  MappingIndex,
  pipelineSettingsOf,
  pluginSchemasFromMap,
  printConfig,
  validateConfigDir,
} from '@sluice/core';
import { application, writeConf } from './support.js';
import { builtinSchemas } from './plugins.js';

const rdbMapping = (extra: string, table = 'user') => `dataSourceKey: defaultDS
destination: example
${extra}
dbMapping:
  database: mytest
  table: ${table}
  targetTable: ${table}
  targetPk:
    id: id
  mapAll: true
`;

describe('Spring-style overrides and placeholders in application.yml', () => {
  it('lets environment variables override canal.conf scalars (CANAL_CONF_MODE, CANAL_CONF_SYNCBATCHSIZE)', async () => {
    const dir = await writeConf({ 'application.yml': application('      - name: logger') });
    const { config, problems } = await validateConfigDir(dir, {
      env: {
        CANAL_CONF_MODE: 'tcp',
        CANAL_CONF_SYNCBATCHSIZE: '50',
        SERVER_PORT: '9090',
        SLUICE_PIPELINE_LANES: '2',
      },
    });
    expect(config?.canal.mode).toBe('tcp');
    expect(config?.canal.mappingKeyScheme).toBe('tcp');
    expect(config?.canal.syncBatchSize).toBe(50);
    expect(config?.server.port).toBe(9090);
    expect(config?.sluice.pipeline.lanes).toBe(2);
    expect(problems.filter((p) => p.severity === 'error')).toEqual([]);
  });

  it('reads sluice.pipeline.shutdownTimeoutMs into the pipeline settings (default 30 s)', async () => {
    const dir = await writeConf({ 'application.yml': application('      - name: logger') });
    const set = await validateConfigDir(dir, {
      env: { SLUICE_PIPELINE_SHUTDOWNTIMEOUTMS: '5000' },
    });
    expect(set.problems.filter((p) => p.severity === 'error')).toEqual([]);
    expect(pipelineSettingsOf(set.config!).shutdownTimeoutMs).toBe(5000);
    const unset = await validateConfigDir(dir, { env: {} });
    expect(pipelineSettingsOf(unset.config!).shutdownTimeoutMs).toBe(30_000);
  });

  it('blames the environment variable for a bad override', async () => {
    const dir = await writeConf({ 'application.yml': application('      - name: logger') });
    const { problems } = await validateConfigDir(dir, {
      env: { CANAL_CONF_RETRIES: 'often' },
      plugins: builtinSchemas(),
    });
    expect(problems.filter((p) => p.severity === 'error')).toMatchObject([
      {
        code: 'invalid-value',
        file: 'environment variable CANAL_CONF_RETRIES',
        line: 0,
        path: 'canal.conf.retries',
      },
    ]);
  });

  it('reads nested canal: conf: as well as canal.conf:, and relaxed key spellings', async () => {
    const dir = await writeConf({
      'application.yml': `canal:
  conf:
    MODE: kafka
    sync-batch-size: 10
    Flat_Message: false
    canal-adapters:
    - instance: t1
      groups:
      - group-id: g9
        outer_adapters:
        - name: logger
`,
    });
    const { config, problems } = await validateConfigDir(dir, {
      env: {},
      plugins: builtinSchemas(),
    });
    expect(problems.filter((p) => p.code === 'unknown-key')).toEqual([]);
    expect(config?.canal).toMatchObject({ mode: 'kafka', syncBatchSize: 10, flatMessage: false });
    expect(config?.canal.canalAdapters).toMatchObject([
      { instance: 't1', groups: [{ groupId: 'g9', outerAdapters: [{ name: 'logger' }] }] },
    ]);
  });

  it('uses the defaults for empty values and a missing groupId', async () => {
    const dir = await writeConf({
      'application.yml': `canal.conf:
  mode:
  syncBatchSize:
  retries:
  terminateOnException:
  canalAdapters:
  - instance: ' example '
    groups:
    - outerAdapters:
      - name: logger
`,
    });
    const { config } = await validateConfigDir(dir, { env: {}, plugins: builtinSchemas() });
    expect(config?.canal).toMatchObject({
      mode: 'tcp',
      syncBatchSize: 1000,
      retries: 0,
      terminateOnException: false,
    });
    expect(config?.canal.canalAdapters[0]).toMatchObject({
      instance: 'example',
      groups: [{ groupId: 'default' }],
    });
    expect(config?.canal.canalAdapters[0]?.groups[0]?.outerAdapters[0]?.key).toBe(
      'AUTO_GENERATED_-example-default-0',
    );
  });

  it('warns about deprecated canal.conf keys and errors on a duplicated group', async () => {
    const dir = await writeConf({
      'application.yml': `canal.conf:
  mode: kafka
  mqServers: 127.0.0.1:9092
  canalAdapters:
  - instance: example
    groups:
    - groupId: g1
      outerAdapters:
      - name: logger
    - groupId: g1
      outerAdapters:
      - name: logger
`,
    });
    const { problems } = await validateConfigDir(dir, { env: {}, plugins: builtinSchemas() });
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ code: 'deprecated-key', line: 3, severity: 'warning' }),
        expect.objectContaining({ code: 'duplicate-adapter', line: 10, severity: 'error' }),
      ]),
    );
  });

  it('refuses an admin API on a public address without a token', async () => {
    const dir = await writeConf({
      'application.yml': application(
        '      - name: logger',
        'sluice:\n  admin:\n    host: 0.0.0.0\n',
      ),
    });
    const { problems } = await validateConfigDir(dir, { env: {}, plugins: builtinSchemas() });
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ path: 'sluice.admin.host', severity: 'error', line: 16 }),
      ]),
    );
    const withToken = await writeConf({
      'application.yml': application(
        '      - name: logger',
        'sluice:\n  admin:\n    host: 0.0.0.0\n    token: ${ADMIN_TOKEN}\n',
      ),
    });
    const ok = await validateConfigDir(withToken, {
      env: { ADMIN_TOKEN: 'tok-123' },
      plugins: builtinSchemas(),
    });
    expect(ok.config?.sluice.admin).toEqual({
      enabled: true,
      host: '0.0.0.0',
      port: 8081,
      token: 'tok-123',
    });
    expect(printConfig(ok.config!, ok.secrets)).not.toContain('tok-123');
  });
});

describe('mapping ownership and lookup (canal §3.3, §3.4)', () => {
  it('attaches a key-less file to auto-keyed adapters by prefix, and a keyed file case-insensitively', async () => {
    const dir = await writeConf({
      'application.yml': application(`      - name: rdb
        key: Mysql1
        properties:
          jdbc.url: jdbc:mysql://127.0.0.1/t
      - name: rdb
        properties:
          jdbc.url: jdbc:mysql://127.0.0.1/t2`),
      'rdb/keyed.yml': rdbMapping('groupId: g1\nouterAdapterKey: mysql1'),
      'rdb/auto.yml': rdbMapping('groupId: g1'),
      'rdb/other-group.yml': rdbMapping('groupId: g2'),
    });
    const { config, problems } = await validateConfigDir(dir, {
      env: {},
      plugins: builtinSchemas(),
    });
    const owners = Object.fromEntries(
      config!.mappings.map((m) => [m.name, m.owners.map((o) => o.key)]),
    );
    expect(owners).toEqual({
      'auto.yml': ['AUTO_GENERATED_-example-g1-1'],
      'keyed.yml': ['Mysql1'],
      'other-group.yml': [],
    });
    expect(
      problems.find((p) => p.file === 'rdb/other-group.yml' && p.code === 'unowned-mapping'),
    ).toMatchObject({
      severity: 'warning',
      suggestion: 'set outerAdapterKey: Mysql1',
    });
  });

  it('reproduces canal’s prefix match: groupId g1 also matches group g10', async () => {
    const dir = await writeConf({
      'application.yml': `canal.conf:
  mode: kafka
  srcDataSources:
    defaultDS:
      url: jdbc:mysql://h/mytest
  canalAdapters:
  - instance: example
    groups:
    - groupId: g10
      outerAdapters:
      - name: rdb
        properties:
          jdbc.url: jdbc:mysql://h/t
`,
      'rdb/a.yml': rdbMapping('groupId: g1'),
    });
    const { config } = await validateConfigDir(dir, { env: {}, plugins: builtinSchemas() });
    expect(config?.mappings[0]?.owners).toEqual([
      { name: 'rdb', key: 'AUTO_GENERATED_-example-g10-0' },
    ]);
  });

  it('applies several mappings to one table, keyed with the groupId outside tcp mode', async () => {
    const dir = await writeConf({
      'application.yml': application(`      - name: rdb
        key: t1
        properties:
          jdbc.url: jdbc:mysql://127.0.0.1/t`),
      'rdb/a.yml': rdbMapping('groupId: g1\nouterAdapterKey: t1'),
      'rdb/b.yml': rdbMapping('groupId: g1\nouterAdapterKey: t1'),
      'rdb/c.yml': rdbMapping('groupId: g1\nouterAdapterKey: t1', 'role'),
      'rdb/mirror.yml': `destination: example
groupId: g1
outerAdapterKey: t1
dbMapping:
  mirrorDb: true
  database: mytest
`,
    });
    const { config, problems } = await validateConfigDir(dir, {
      env: {},
      plugins: builtinSchemas(),
    });
    expect(problems.filter((p) => p.severity === 'error')).toEqual([]);
    const index = MappingIndex.of(config!);
    const sink = { name: 'rdb', key: 't1' };
    const event = { destination: 'example', groupId: 'g1', database: 'mytest', table: 'user' };
    expect(index.lookup(sink, event).map((m) => m.name)).toEqual(['a.yml', 'b.yml', 'mirror.yml']);
    expect(index.lookup(sink, { ...event, table: 'role' }).map((m) => m.name)).toEqual([
      'c.yml',
      'mirror.yml',
    ]);
    expect(index.lookup(sink, { ...event, groupId: 'g2' }).map((m) => m.name)).toEqual([]);
    expect(index.lookup(sink, { ...event, database: 'other' })).toEqual([]);
    expect(
      index.routes(sink).map((r) => `${r.mapping.name}:${r.database}.${r.table ?? '*'}`),
    ).toEqual([
      'a.yml:mytest.user',
      'b.yml:mytest.user',
      'c.yml:mytest.role',
      'mirror.yml:mytest.*',
    ]);
  });

  it('warns that a mapping without groupId matches nothing outside tcp mode', async () => {
    const dir = await writeConf({
      'application.yml': application(`      - name: rdb
        properties:
          jdbc.url: jdbc:mysql://127.0.0.1/t`),
      'rdb/a.yml': rdbMapping(''),
    });
    const { problems } = await validateConfigDir(dir, { env: {}, plugins: builtinSchemas() });
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ file: 'rdb/a.yml', path: 'groupId', severity: 'warning' }),
      ]),
    );
  });

  it('checks rdb rules beyond the schema and ignores *.yaml files with a warning', async () => {
    const dir = await writeConf({
      'application.yml': application(`      - name: rdb
        key: t1
        properties:
          jdbc.url: jdbc:mysql://127.0.0.1/t`),
      'rdb/a.yml':
        'destination: example\ngroupId: g1\nouterAdapterKey: t1\ndbMapping:\n  database: mytest\n',
      'rdb/b.yaml': rdbMapping('groupId: g1'),
      'rdb/empty.yml': '',
    });
    const { problems } = await validateConfigDir(dir, { env: {}, plugins: builtinSchemas() });
    const brief = problems.map((p) => `${p.severity} ${p.file}:${p.line} ${p.path} ${p.code}`);
    expect(brief).toEqual(
      expect.arrayContaining([
        'error rdb/a.yml:5 dbMapping.table mapping-invalid',
        'error rdb/a.yml:5 dbMapping.targetTable mapping-invalid',
        'error rdb/a.yml:5 dbMapping.targetColumns mapping-invalid',
        'warning rdb/b.yaml:0  ignored-file',
        'error rdb/empty.yml:0  mapping-invalid',
      ]),
    );
  });

  it('resolves ${name} in mapping files from the environment and leaves unknown names alone', async () => {
    const dir = await writeConf({
      'application.yml': application(`      - name: rdb
        key: t1
        properties:
          jdbc.url: jdbc:mysql://127.0.0.1/t`),
      'rdb/a.yml': rdbMapping('groupId: g1\nouterAdapterKey: t1', '${SRC_TABLE}'),
      'rdb/b.yml': rdbMapping('groupId: g1\nouterAdapterKey: t1', '${UNSET_TABLE:x}'),
    });
    const { config } = await validateConfigDir(dir, {
      env: { SRC_TABLE: 'orders' },
      plugins: builtinSchemas(),
    });
    const tables = Object.fromEntries(config!.mappings.map((m) => [m.name, m.tables[0]?.table]));
    expect(tables).toEqual({ 'a.yml': 'orders', 'b.yml': '${UNSET_TABLE:x}' });
  });
});

describe('plugin schemas', () => {
  it("validates properties and mapping files with a registered plugin's schema, overriding canal's", async () => {
    const sink = defineSink({
      name: 'rdb',
      propertiesSchema: {
        type: 'object',
        required: ['dsn'],
        properties: { dsn: { type: 'string' }, poolSize: { type: 'integer', minimum: 1 } },
      },
      mappings: {
        directories: ['rdb'],
        schema: {
          type: 'object',
          properties: {
            destination: { type: 'string' },
            groupId: { type: 'string' },
            outerAdapterKey: { type: 'string' },
            target: { type: 'string' },
          },
        },
        tables: () => [],
      },
      create: () => {
        throw new Error('not used');
      },
    });
    const dir = await writeConf({
      'application.yml': application(`      - name: rdb
        key: t1
        properties:
          poolSize: 0
          jdbc.url: jdbc:mysql://127.0.0.1/t`),
      'rdb/a.yml':
        'destination: example\ngroupId: g1\nouterAdapterKey: t1\ntarget: x\ndbMapping: {}\n',
    });
    const { problems } = await validateConfigDir(dir, {
      env: {},
      plugins: pluginSchemasFromMap(new Map([['rdb', sink]]), ['kafka']),
    });
    const brief = problems.map((p) => `${p.severity} ${p.file}:${p.line} ${p.path} ${p.code}`);
    expect(brief.sort()).toEqual(
      [
        'error application.yml:16 canal.conf.canalAdapters[0].groups[0].outerAdapters[0].properties.dsn required',
        'error application.yml:16 canal.conf.canalAdapters[0].groups[0].outerAdapters[0].properties.poolSize invalid-value',
        'warning application.yml:17 canal.conf.canalAdapters[0].groups[0].outerAdapters[0].properties["jdbc.url"] unknown-key',
        'warning rdb/a.yml:5 dbMapping unknown-key',
      ].sort(),
    );
  });

  it('errors on an unknown adapter name even when plugins are loaded, and on a missing plugin when required', async () => {
    const dir = await writeConf({
      'application.yml': application(
        '      - name: Logger\n      - name: rdb\n        properties:\n          jdbc.url: jdbc:mysql://h/t',
      ),
    });
    const plugins = pluginSchemasFromMap(new Map([['logger', {}]]), ['kafka']);
    const loose = await validateConfigDir(dir, { env: {}, plugins });
    expect(loose.problems.map((p) => `${p.severity} ${p.code} ${p.suggestion ?? ''}`)).toEqual([
      'error unknown-adapter did you mean "logger"?',
      'warning plugin-missing add a plugin named "rdb" to sluice.plugins',
    ]);
    const strict = await validateConfigDir(dir, { env: {}, plugins, requirePlugins: true });
    expect(strict.problems.map((p) => `${p.severity} ${p.code}`)).toEqual([
      'error unknown-adapter',
      'error plugin-missing',
    ]);
  });
});
