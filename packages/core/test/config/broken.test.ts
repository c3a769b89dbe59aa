import { describe, expect, it } from 'vitest';
import { formatReport, loadConfig, validateConfigDir, type ConfigProblem } from '@sluice/core';
import { fixture } from './support.js';
import { builtinSchemas } from './plugins.js';

const brief = (p: ConfigProblem) =>
  `${p.severity} ${p.file}:${p.line} ${p.path} [${p.code}]${p.suggestion ? ` ${p.suggestion}` : ''}`;

describe('a broken configuration directory', () => {
  it('reports every problem at once, with file, line, key path and suggestions', async () => {
    const result = await validateConfigDir(fixture('broken'), {
      env: {},
      plugins: builtinSchemas(),
    });
    expect(result.ok).toBe(false);
    expect(result.problems.map(brief).sort()).toEqual(
      [
        'error application.yml:3 server.port [invalid-value]',
        'error application.yml:5 canal.conf.mode [unknown-mode] did you mean "kafka"?',
        'error application.yml:6 canal.conf.flatMessage [invalid-value]',
        'error application.yml:7 canal.conf.syncBatchSize [placeholder-unresolved] set the environment variable BATCH_SIZE or write ${BATCH_SIZE:default}',
        'warning application.yml:9 canal.conf.timout [unknown-key] did you mean "timeout"?',
        'error application.yml:14 canal.conf.srcDataSources.defaultDS.url [jdbc-url]',
        'error application.yml:25 canal.conf.canalAdapters[0].groups[0].outerAdapters[0].name [unknown-adapter] did you mean "es7" or "es8"?',
        'error application.yml:32 canal.conf.canalAdapters[0].groups[0].outerAdapters[1].properties.threads [invalid-value]',
        'error application.yml:38 sluice.pipeline.lanes [invalid-value]',
        'error application.yml:39 sluice.pipeline.ordering [invalid-value]',
        'warning application.yml:40 sluice.deadLeter [unknown-key] did you mean "deadLetter"?',
        'error es7/broken.yml:5  [yaml-syntax]',
        'warning es7/typo.yml:7 esMapping.upsrt [unknown-key] did you mean "upsert"?',
        'error es7/typo.yml:9 esMapping.commitBatch [invalid-value]',
        'error rdb/user.yml:1 dataSourceKey [missing-data-source] did you mean "pgDS"?',
        'error rdb/user.yml:4 outerAdapterKey [missing-adapter-key] did you mean "mysql1"?',
        'warning redis/cache.yml:0  [unowned-mapping]',
        // No redis adapter is configured: the file is not used, so its problems are warnings.
        'warning redis/cache.yml:4 redisMapping.keys [required]',
        'warning redis/cache.yml:7 redisMapping.mode [invalid-value] did you mean "write"?',
        'warning redis/cache.yml:6 redisMapping.key [unknown-key] did you mean "keys"?',
      ].sort(),
    );
  });

  it('prints a report sorted by file and line, ending with the counts', async () => {
    const result = await validateConfigDir(fixture('broken'), {
      env: {},
      plugins: builtinSchemas(),
    });
    const report = formatReport(result.problems);
    const lines = report.trimEnd().split('\n');
    expect(lines[0]).toBe(
      'application.yml:3: error: server.port: 80810 is out of range (expected an integer from 0 to 65535)',
    );
    expect(lines).toContain(
      'application.yml:25: error: canal.conf.canalAdapters[0].groups[0].outerAdapters[0].name: unknown adapter "es" (expected one of logger, rdb, es6, es7, es8, redis); did you mean "es7" or "es8"?',
    );
    expect(lines.at(-1)).toMatch(/^\d+ errors, \d+ warnings$/);
    // Secrets never appear in the report.
    expect(report).not.toMatch(/s3cret-pw|pg-pass|rdb-pw/);
  });

  it('resolves a placeholder default and an environment value once the variable is set', async () => {
    const result = await validateConfigDir(fixture('broken'), {
      env: { BATCH_SIZE: '250', KAFKA_SERVERS: 'k1:9092' },
    });
    expect(result.problems.filter((p) => p.code === 'placeholder-unresolved')).toEqual([]);
    expect(result.config?.canal.syncBatchSize).toBe(250);
    expect(result.config?.canal.consumerProperties['kafka.bootstrap.servers']).toBe('k1:9092');
    const withoutEnv = await validateConfigDir(fixture('broken'), {
      env: {},
      plugins: builtinSchemas(),
    });
    expect(withoutEnv.config?.canal.consumerProperties['kafka.bootstrap.servers']).toBe(
      '127.0.0.1:9092',
    );
    expect(withoutEnv.config?.canal.syncBatchSize).toBe(1000);
  });

  it('keeps the valid parts: data sources with good URLs, mappings without errors', async () => {
    const { config } = await validateConfigDir(fixture('broken'), {
      env: {},
      plugins: builtinSchemas(),
    });
    expect(Object.keys(config?.canal.srcDataSources ?? {})).toEqual(['pgDS']);
    expect(config?.mappings.map((m) => m.file)).toEqual(['rdb/ok.yml']);
    expect(config?.mappings[0]?.owners).toEqual([{ name: 'rdb', key: 'mysql1' }]);
  });

  it('makes loadConfig throw a ConfigError carrying every problem', async () => {
    const error = await loadConfig(fixture('broken'), { env: {}, plugins: builtinSchemas() }).catch(
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ name: 'ConfigError', code: 'SLUICE_ERR_CONFIG_INVALID' });
    expect((error as { problems: unknown[] }).problems.length).toBeGreaterThan(15);
    expect((error as Error).message).toContain('application.yml:25');
  });

  it('reports a missing directory and an invalid application.yml without a config', async () => {
    const missing = await validateConfigDir(fixture('does-not-exist'), {
      env: {},
      plugins: builtinSchemas(),
    });
    expect(missing.config).toBeUndefined();
    expect(missing.problems).toMatchObject([
      { code: 'file-unreadable', file: 'application.yml', severity: 'error' },
    ]);
  });

  it('reads application.yml alone with mappings: false (no mapping file read or checked)', async () => {
    const result = await validateConfigDir(fixture('broken'), {
      env: {},
      plugins: builtinSchemas(),
      mappings: false,
    });
    expect(result.config?.canal.mode).toBeDefined();
    expect(result.config?.mappings).toEqual([]);
    expect(result.problems.filter((p) => p.file !== 'application.yml')).toEqual([]);
    expect(result.problems.map(brief)).toContain(
      'error application.yml:38 sluice.pipeline.lanes [invalid-value]',
    );
  });
});
