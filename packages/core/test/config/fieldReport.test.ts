import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { validateConfigDir, type ConfigProblem } from '@sluice/core';
import { builtinSchemas } from './plugins.js';
import { application, writeConf } from './support.js';

/** Field-report items of issue #10 that the configuration loader owns. */

const brief = (p: ConfigProblem) => `${p.severity} ${p.file}:${p.line} ${p.path} [${p.code}]`;
const strict = { env: {}, plugins: builtinSchemas(), requirePlugins: true };

describe('every path is resolved against the configuration directory (item 6)', () => {
  it('resolves sluice.deadLetter.dir, default and configured, not against the working directory', async () => {
    const byDefault = await writeConf({ 'application.yml': application('      - name: logger') });
    expect((await validateConfigDir(byDefault, strict)).config?.sluice.deadLetter.dir).toBe(
      join(byDefault, '.sluice/dlq'),
    );
    const configured = await writeConf({
      'application.yml': application(
        '      - name: logger',
        'sluice:\n  deadLetter:\n    dir: ../dead-letters',
      ),
    });
    expect((await validateConfigDir(configured, strict)).config?.sluice.deadLetter.dir).toBe(
      join(configured, '../dead-letters'),
    );
    const absolute = await writeConf({
      'application.yml': application(
        '      - name: logger',
        'sluice:\n  deadLetter:\n    dir: /var/lib/sluice/dlq',
      ),
    });
    expect((await validateConfigDir(absolute, strict)).config?.sluice.deadLetter.dir).toBe(
      '/var/lib/sluice/dlq',
    );
  });
});

describe('a configuration without any adapter is an error (item 7)', () => {
  it("names canal-adapter 1.1.2's keys and their current names", async () => {
    const dir = await writeConf({
      'application.yml': `canal.conf:
  mode: kafka
  consumerProperties:
    kafka.bootstrap.servers: 127.0.0.1:9092
  canalInstances:
  - instance: example
    adapterGroups:
    - outAdapters:
      - name: logger
`,
    });
    const result = await validateConfigDir(dir, strict);
    expect(result.ok).toBe(false);
    expect(result.problems.map(brief)).toEqual([
      'error application.yml:5 canal.conf.canalInstances [legacy-key]',
      'error application.yml:7 canal.conf.canalInstances[0].adapterGroups [legacy-key]',
      'error application.yml:8 canal.conf.canalInstances[0].adapterGroups[0].outAdapters [legacy-key]',
      'error application.yml:2 canal.conf.canalAdapters [no-adapters]',
    ]);
    expect(result.problems[0]?.message).toContain('canalAdapters');
    expect(result.problems[1]?.suggestion).toMatch(/^rename it to groups /);
    expect(result.problems[2]?.suggestion).toMatch(/^rename it to outerAdapters /);
  });

  it('reports a misspelt canalAdapters key and a group without outerAdapters', async () => {
    const typo = await writeConf({
      'application.yml': `canal.conf:
  mode: kafka
  canalAdapter:
  - instance: example
    groups:
    - groupId: g1
      outerAdapters:
      - name: logger
`,
    });
    const result = await validateConfigDir(typo, strict);
    expect(result.ok).toBe(false);
    expect(result.problems.map(brief)).toContain(
      'error application.yml:2 canal.conf.canalAdapters [no-adapters]',
    );
    expect(result.problems.find((p) => p.code === 'unknown-key')?.suggestion).toBe(
      'did you mean "canalAdapters"?',
    );
    const empty = await writeConf({
      'application.yml': application('', '').replace(
        '      outerAdapters:\n',
        '      outerAdapters: []\n',
      ),
    });
    expect((await validateConfigDir(empty, strict)).problems.map(brief)).toContain(
      'error application.yml:12 canal.conf.canalAdapters[0].groups[0].outerAdapters [no-adapters]',
    );
  });
});

describe("canal's shipped conf directory shape (item 9)", () => {
  it('reports the sample mapping files no configured adapter owns as warnings', async () => {
    // canal-adapter's default application.yml configures only the logger adapter and ships
    // rdb/ and es7/ samples whose srcDataSources are commented out.
    const dir = await writeConf({
      'application.yml': `canal.conf:
  mode: kafka
  consumerProperties:
    kafka.bootstrap.servers: 127.0.0.1:9092
#  srcDataSources:
#    defaultDS:
#      url: jdbc:mysql://127.0.0.1:3306/mytest?useUnicode=true
  canalAdapters:
  - instance: example
    groups:
    - groupId: g1
      outerAdapters:
      - name: logger
`,
      'rdb/mytest_user.yml': `dataSourceKey: defaultDS
destination: example
groupId: g1
outerAdapterKey: mysql1
concurrent: true
dbMapping:
  database: mytest
  table: user
  targetTable: mytest2.user
  targetPk:
    id: id
  mapAll: true
`,
      'es7/mytest_user.yml': `dataSourceKey: defaultDS
destination: example
groupId: g1
esMapping:
  _index: mytest_user
  _id: _id
  sql: "select a.id as _id, a.name from user a"
`,
    });
    const result = await validateConfigDir(dir, strict);
    expect(result.ok).toBe(true);
    expect(result.problems.map(brief).sort()).toEqual(
      [
        'warning es7/mytest_user.yml:0  [unowned-mapping]',
        'warning es7/mytest_user.yml:1 dataSourceKey [missing-data-source]',
        'warning rdb/mytest_user.yml:0  [unowned-mapping]',
        'warning rdb/mytest_user.yml:1 dataSourceKey [missing-data-source]',
        'warning rdb/mytest_user.yml:9 dbMapping.targetTable [mapping-invalid]',
      ].sort(),
    );
    expect(result.problems.find((p) => p.code === 'missing-data-source')?.message).toContain(
      '(the file is not used)',
    );
    expect(result.config?.mappings).toEqual([]);
  });
});

describe('modes without a source say what works today (item 11)', () => {
  it('accepts an unset mode (canal default tcp), explains pulsarMQ pointing at Kafka; rocketMQ names its plugin', async () => {
    const unset = await writeConf({
      'application.yml': application('      - name: logger', '', 'flatMessage: true'),
    });
    const problem = (await validateConfigDir(unset, strict)).problems.find(
      (p) => p.path === 'canal.conf.mode',
    );
    expect(problem).toBeUndefined();

    const pulsar = await writeConf({
      'application.yml': application('      - name: logger', '', 'mode: pulsarMQ'),
    });
    const rp = (await validateConfigDir(pulsar, strict)).problems.find(
      (p) => p.path === 'canal.conf.mode',
    );
    expect(rp).toMatchObject({ severity: 'error', code: 'unsupported-mode', line: 2 });
    expect(rp?.message).toContain('mode "pulsarMQ" is not supported');
    expect(rp?.suggestion).toContain('canal-server in Kafka mode');

    // rocketMQ has a first-party source (@sluice/source-rocketmq): without it loaded, say so.
    const rocket = await writeConf({
      'application.yml': application('      - name: logger', '', 'mode: rocketMQ'),
    });
    const rm = (await validateConfigDir(rocket, strict)).problems.find(
      (p) => p.path === 'canal.conf.mode',
    );
    expect(rm).toMatchObject({ severity: 'error', code: 'plugin-missing', line: 2 });
    expect(rm?.suggestion).toContain('@sluice/source-rocketmq');
  });
});

describe('the dead-letter transport follows canal.conf.mode unless set (issue #17)', () => {
  const settings = async (head: string, extra = '') =>
    (
      await validateConfigDir(
        await writeConf({ 'application.yml': application('      - name: logger', extra, head) }),
        { env: {} },
      )
    ).config?.sluice.deadLetter;

  it('is the <queue>.dlq queue in rabbitMQ mode, file in the others, and what is set when set', async () => {
    expect((await settings('mode: rabbitMQ'))?.type).toBe('rabbitmq');
    expect((await settings('mode: kafka'))?.type).toBe('file');
    expect((await settings('mode: tcp'))?.type).toBe('file');
    expect((await settings('mode: rabbitMQ', 'sluice:\n  deadLetter:\n    type: file'))?.type).toBe(
      'file',
    );
    expect(
      (await settings('mode: rabbitMQ', 'sluice:\n  deadLetter:\n    type: RabbitMQ'))?.type,
    ).toBe('rabbitmq');
  });
});

describe('canal.conf.accessKey/secretKey reach a rabbitMQ source as canal passes them', () => {
  it('copies them to canal.aliyun.accessKey/secretKey in mode rabbitMQ only', async () => {
    const props = async (mode: string) =>
      (
        await validateConfigDir(
          await writeConf({
            'application.yml': application(
              '      - name: logger',
              '',
              `mode: ${mode}\n  accessKey: ak\n  secretKey: sk`,
            ),
          }),
          { env: {} },
        )
      ).config?.canal.consumerProperties;
    expect(await props('rabbitMQ')).toMatchObject({
      'canal.aliyun.accessKey': 'ak',
      'canal.aliyun.secretKey': 'sk',
    });
    expect(await props('kafka')).not.toHaveProperty('canal.aliyun.accessKey');
  });
});
