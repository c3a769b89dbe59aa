import { describe, expect, it } from 'vitest';
import {
  createLogger,
  formatReport,
  printConfig,
  redact,
  redactConfig,
  validateConfigDir,
} from '@sluice/core';
import { fixture, writeConf } from './support.js';
import { builtinSchemas } from './plugins.js';

const SECRETS = ['121212', 'm121212', 'test:123456', 'hunter2', 'sk-999', 'jaas-secret', 'tok-abc'];

describe('secrets', () => {
  it('never appear in the printed configuration', async () => {
    const dir = await writeConf({
      'application.yml': `canal.conf:
  mode: kafka
  secretKey: sk-999
  consumerProperties:
    kafka.bootstrap.servers: k:9092
    kafka.sasl.jaas.config: jaas-secret
    rabbitmq.password: hunter2
  srcDataSources:
    ds:
      url: jdbc:mysql://bob:hunter2@h/db?password=hunter2
      password: 121212
  canalAdapters:
  - instance: example
    groups:
    - groupId: g1
      outerAdapters:
      - name: es8
        hosts: http://h:9200
        properties:
          security.auth: test:123456
      - name: rdb
        properties:
          jdbc.url: jdbc:mysql://h/t
          jdbc.password: m121212
sluice:
  admin:
    token: \${TOKEN}
`,
    });
    const result = await validateConfigDir(dir, {
      env: { TOKEN: 'tok-abc' },
      plugins: builtinSchemas(),
    });
    expect(result.config).toBeDefined();
    const printed = printConfig(result.config!, result.secrets);
    for (const secret of SECRETS) expect(printed).not.toContain(secret);
    expect(printed).toContain('"kafka.bootstrap.servers": "k:9092"');
    expect(printed).toContain('******');
    expect(formatReport(result.problems)).not.toMatch(/hunter2|121212|tok-abc/);
    // The parsed data source keeps the real password for the plugin that connects with it.
    expect(result.config!.canal.srcDataSources['ds']?.password).toBe('121212');
  });

  it('are masked in the canal sample printout too', async () => {
    const result = await validateConfigDir(fixture('canal-sample'), {
      env: {},
      plugins: builtinSchemas(),
    });
    const printed = printConfig(result.config!, result.secrets);
    for (const secret of ['121212', 'm121212', 'test:123456'])
      expect(printed).not.toContain(secret);
  });

  it('are masked by redactConfig under secret-looking keys even without a known value', () => {
    expect(
      redactConfig({
        'security.auth': 'u:p',
        nested: { password: 'x', name: 'n' },
        list: [{ token: 't' }],
      }),
    ).toEqual({
      'security.auth': '******',
      nested: { password: '******', name: 'n' },
      list: [{ token: '******' }],
    });
  });

  it('are masked in log lines (security.auth, jaas config, passwords)', () => {
    const lines: string[] = [];
    const logger = createLogger({ write: (l) => lines.push(l) });
    logger.info('Connecting.', {
      properties: {
        'security.auth': 'u:p',
        'kafka.sasl.jaas.config': 'j',
        'jdbc.password': 'pw',
        author: 'me',
      },
    });
    expect(lines[0]).not.toMatch(/u:p|"j"|"pw"/);
    expect(lines[0]).toContain('"author":"me"');
    expect(redact({ secretKey: 's' })).toEqual({ secretKey: '******' });
  });
});
