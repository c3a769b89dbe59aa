import { describe, expect, it } from 'vitest';
import { RabbitOptionsError, describeBroker, parseRabbitHost, rabbitOptions } from './options.js';

describe('parseRabbitHost (canal: host or host:port)', () => {
  it('reads host alone with the default port, and host:port', () => {
    expect(parseRabbitHost('mq.example')).toEqual({ host: 'mq.example', port: 5672, tls: false });
    expect(parseRabbitHost(' 127.0.0.1:15673 ')).toEqual({
      host: '127.0.0.1',
      port: 15673,
      tls: false,
    });
    expect(parseRabbitHost('[::1]:5673')).toEqual({ host: '::1', port: 5673, tls: false });
  });

  it('takes amqp:// and amqps:// (TLS, 5671 by default)', () => {
    expect(parseRabbitHost('amqps://mq.example')).toEqual({
      host: 'mq.example',
      port: 5671,
      tls: true,
    });
    expect(parseRabbitHost('AMQPS://127.0.0.1:15674/')).toEqual({
      host: '127.0.0.1',
      port: 15674,
      tls: true,
    });
    expect(parseRabbitHost('amqp://h:1')).toEqual({ host: 'h', port: 1, tls: false });
  });

  it.each(['', '  ', undefined])('refuses a missing host (%j)', (raw) => {
    expect(() => parseRabbitHost(raw)).toThrow(/rabbitmq.host is not set/);
  });

  it.each(['h:0', 'h:65536', 'h:abc', 'h:', 'h:1:2'])('refuses a bad port in %j', (raw) => {
    expect(() => parseRabbitHost(raw)).toThrow(RabbitOptionsError);
  });
});

describe('rabbitOptions', () => {
  it('applies canal-adapter defaults (vhost /, guest) and Sluice defaults', () => {
    const o = rabbitOptions({ 'rabbitmq.host': 'h', 'rabbitmq.virtual.host': '' }, 'q');
    expect(o).toMatchObject({
      host: 'h',
      port: 5672,
      vhost: '/',
      username: 'guest',
      password: 'guest',
      queue: 'q',
      prefetch: 5000,
      exclusive: false,
      heartbeatSeconds: 30,
    });
  });

  it('reads every key', () => {
    const o = rabbitOptions(
      {
        'rabbitmq.host': 'h:1',
        'rabbitmq.virtual.host': 'canal',
        'rabbitmq.username': 'u',
        'rabbitmq.password': 'p',
        'rabbitmq.prefetch.count': '10',
        'rabbitmq.consumer.exclusive': 'TRUE',
        'rabbitmq.heartbeat.seconds': '0',
        'rabbitmq.connection.timeout.ms': '500',
        'rabbitmq.reconnect.max.ms': '700',
      },
      'orders',
    );
    expect(o).toEqual({
      host: 'h',
      port: 1,
      vhost: 'canal',
      username: 'u',
      password: 'p',
      queue: 'orders',
      prefetch: 10,
      exclusive: true,
      heartbeatSeconds: 0,
      connectTimeoutMs: 500,
      reconnectMaxMs: 700,
      aliyunKeysIgnored: false,
      tls: undefined,
    });
  });

  it('reads the TLS keys, paths against the configuration directory', () => {
    const o = rabbitOptions(
      {
        'rabbitmq.host': 'h:5671',
        'rabbitmq.ssl.enabled': 'true',
        'rabbitmq.ssl.ca.path': 'tls/ca.pem',
        'rabbitmq.ssl.cert.path': '/etc/c.pem',
        'rabbitmq.ssl.key.path': 'k.pem',
        'rabbitmq.ssl.key.passphrase': 'pp',
        'rabbitmq.ssl.verify': 'false',
      },
      'q',
      '/conf',
    );
    expect(o.tls).toEqual({
      caPath: '/conf/tls/ca.pem',
      certPath: '/etc/c.pem',
      keyPath: '/conf/k.pem',
      passphrase: 'pp',
      verify: false,
    });
    expect(describeBroker(o)).toBe('RabbitMQ at h:5671 (vhost "/", TLS)');
    // amqps:// alone turns TLS on, verifying with Node's CAs.
    expect(rabbitOptions({ 'rabbitmq.host': 'amqps://h' }, 'q').tls).toEqual({
      caPath: undefined,
      certPath: undefined,
      keyPath: undefined,
      passphrase: undefined,
      verify: true,
    });
    expect(() =>
      rabbitOptions({ 'rabbitmq.host': 'amqps://h', 'rabbitmq.ssl.cert.path': 'c.pem' }, 'q'),
    ).toThrow(/must be set together/);
    expect(() =>
      rabbitOptions({ 'rabbitmq.host': 'h', 'rabbitmq.ssl.enabled': 'yes' }, 'q'),
    ).toThrow(/rabbitmq.ssl.enabled must be true or false/);
  });

  it('notes canal.conf.accessKey/secretKey (Aliyun login) only when both are set', () => {
    const keys = (ak: string, sk: string) =>
      rabbitOptions(
        { 'rabbitmq.host': 'h', 'canal.aliyun.accessKey': ak, 'canal.aliyun.secretKey': sk },
        'q',
      ).aliyunKeysIgnored;
    expect(keys('ak', 'sk')).toBe(true);
    expect(keys('ak', '')).toBe(false);
    expect(keys('', '')).toBe(false);
  });

  it('refuses bad numbers, booleans and an empty queue, naming the key', () => {
    expect(() =>
      rabbitOptions({ 'rabbitmq.host': 'h', 'rabbitmq.prefetch.count': '0' }, 'q'),
    ).toThrow(/rabbitmq.prefetch.count must be an integer from 1 to 65535, got "0"/);
    expect(() =>
      rabbitOptions({ 'rabbitmq.host': 'h', 'rabbitmq.consumer.exclusive': 'yes' }, 'q'),
    ).toThrow(/rabbitmq.consumer.exclusive must be true or false/);
    expect(() => rabbitOptions({ 'rabbitmq.host': 'h' }, ' ')).toThrow(/queue name/);
  });

  it('never puts the password in the broker description', () => {
    const o = rabbitOptions({ 'rabbitmq.host': 'h', 'rabbitmq.password': 's3cret' }, 'q');
    expect(describeBroker(o)).toBe('RabbitMQ at h:5672 (vhost "/")');
  });
});
