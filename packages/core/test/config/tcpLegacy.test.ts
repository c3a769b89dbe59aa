import { describe, expect, it } from 'vitest';
import { formatReport, validateConfigDir } from '@sluice/core';
import { fixture } from './support.js';
import { builtinSchemas } from './plugins.js';
import { sourcePropertiesOf } from '../../src/config/application/canalSchemas.js';

describe("canal-adapter 1.1.4's shipped tcp configuration (canalServerHost, batchSize)", () => {
  it('runs unchanged: the old keys become the tcp source’s consumerProperties, with a warning each', async () => {
    const result = await validateConfigDir(fixture('canal-1.1.4-tcp'), {
      env: {},
      plugins: builtinSchemas(),
      requirePlugins: true,
    });
    expect(result.ok, formatReport(result.problems)).toBe(true);
    expect(result.config?.canal.mode).toBe('tcp');
    expect(result.config?.canal.consumerProperties).toEqual({
      'canal.tcp.server.host': '127.0.0.1:11111',
      'canal.tcp.batch.size': '500',
      'canal.conf.timeout': '500', // `timeout:` (empty) is canal's default, 500
    });
    const deprecated = result.problems.filter((p) => p.code === 'deprecated-key');
    expect(deprecated.map((p) => [p.path, p.line])).toEqual([
      ['canal.conf.canalServerHost', 14],
      ['canal.conf.batchSize', 18],
    ]);
    expect(deprecated[0]?.message).toContain(
      'Sluice reads it as consumerProperties canal.tcp.server.host when that is not set',
    );
  });

  it('the 1.1.5+ key wins over the old one, and other modes never read the old keys', async () => {
    const conf = { canalServerHost: '127.0.0.1:11111', batchSize: 500, username: '' };
    expect(sourcePropertiesOf('tcp', conf, { 'canal.tcp.server.host': '10.0.0.1:11111' })).toEqual({
      'canal.tcp.server.host': '10.0.0.1:11111',
      'canal.tcp.batch.size': '500',
    });
    expect(sourcePropertiesOf('tcp', conf, { 'canal.tcp.server.host': '' })).toEqual({
      'canal.tcp.server.host': '127.0.0.1:11111',
      'canal.tcp.batch.size': '500',
    });
    expect(sourcePropertiesOf('kafka', conf, {})).toEqual({});
    const kafka = await validateConfigDir(fixture('canal-1.1.4-tcp'), {
      env: { CANAL_CONF_MODE: 'kafka' },
      plugins: builtinSchemas(),
    });
    expect(kafka.config?.canal.consumerProperties).toEqual({});
    expect(kafka.problems.find((p) => p.path === 'canal.conf.canalServerHost')?.message).toBe(
      'deprecated: canal-adapter ignores it',
    );
  });
});

describe('canal.conf.timeout reaches the tcp source', () => {
  it('as canal.conf.timeout in the source properties (tcp only; empty keeps the default)', () => {
    expect(sourcePropertiesOf('tcp', { timeout: 2000 }, {})).toEqual({
      'canal.conf.timeout': '2000',
    });
    expect(sourcePropertiesOf('tcp', { timeout: '0' }, {})).toEqual({ 'canal.conf.timeout': '0' });
    expect(sourcePropertiesOf('tcp', { timeout: '' }, {})).toEqual({});
    expect(sourcePropertiesOf('kafka', { timeout: 2000 }, {})).toEqual({});
  });
});
