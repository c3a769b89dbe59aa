import { describe, expect, it } from 'vitest';
import { validateConfigDir } from '@sluice/core';
import { application, writeConf } from './support.js';
import { builtinSchemas } from './plugins.js';
import { sourcePropertiesOf } from '../../src/config/application/canalSchemas.js';

const logger = `      - name: logger`;

describe('canal.conf.accessKey / secretKey (canal-adapter copies them into the consumer properties)', () => {
  it('become canal.aliyun.accessKey / secretKey of the rocketMQ source', async () => {
    const dir = await writeConf({
      'application.yml': application(
        logger,
        '',
        `mode: rocketMQ
  accessKey: AK1
  secretKey: \${SK}
  consumerProperties:
    rocketmq.namesrv.addr: 127.0.0.1:9876`,
      ),
    });
    const result = await validateConfigDir(dir, {
      env: { SK: 'sk-from-env' },
      plugins: builtinSchemas(),
    });
    expect(result.config?.canal.consumerProperties).toEqual({
      'rocketmq.namesrv.addr': '127.0.0.1:9876',
      'canal.aliyun.accessKey': 'AK1',
      'canal.aliyun.secretKey': 'sk-from-env',
    });
  });

  it('in modes rocketmq and rabbitmq only, when set, and over a consumerProperties key of the same name', () => {
    const conf = { accessKey: 'AK', secretKey: 'SK' };
    const copied = { 'canal.aliyun.accessKey': 'AK', 'canal.aliyun.secretKey': 'SK' };
    expect(sourcePropertiesOf('rocketmq', conf, {})).toEqual(copied);
    expect(sourcePropertiesOf('rabbitmq', conf, {})).toEqual(copied);
    expect(sourcePropertiesOf('kafka', conf, {})).toEqual({});
    expect(sourcePropertiesOf('tcp', conf, {})).toEqual({});
    expect(
      sourcePropertiesOf('rocketmq', conf, {
        'canal.aliyun.accessKey': 'old',
        'canal.aliyun.secretKey': 'old',
      }),
    ).toEqual(copied);
    // canal's shipped file has `accessKey:` and `secretKey:` empty: keys set by hand stay.
    const handSet = { 'canal.aliyun.accessKey': 'AK2', 'canal.aliyun.secretKey': 'SK2' };
    expect(sourcePropertiesOf('rocketmq', { accessKey: '', secretKey: ' ' }, handSet)).toEqual(
      handSet,
    );
  });
});
