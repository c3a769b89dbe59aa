import { describe, expect, it } from 'vitest';
import { RabbitOptionsError, describeBroker, parseRabbitHost, rabbitOptions } from './options.js';

describe('parseRabbitHost (canal: host or host:port)', () => {
  it('reads host alone with the default port, and host:port', () => {
    expect(parseRabbitHost('mq.example')).toEqual({ host: 'mq.example', port: 5672 });
    expect(parseRabbitHost(' 127.0.0.1:15673 ')).toEqual({ host: '127.0.0.1', port: 15673 });
    expect(parseRabbitHost('[::1]:5673')).toEqual({ host: '::1', port: 5673 });
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
    });
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
