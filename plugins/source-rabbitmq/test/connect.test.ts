/**
 * `connect` against the testbed node: an unreachable broker is a NotConnectedError (the core
 * retries with backoff), refused credentials and an unknown vhost are FatalErrors that say which
 * setting to fix and never show the password.
 */
import { createServer, type AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { FatalError, NotConnectedError } from '@sluice/plugin-api';
import { TestRabbit, createSource, recordingLogger } from './helpers.js';

let rabbit: TestRabbit;
let queue = '';
beforeAll(async () => {
  rabbit = await new TestRabbit().start();
  queue = await rabbit.createQueue('connect');
});
afterAll(async () => {
  await rabbit?.stop();
});

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

it('an unreachable broker is NotConnected (retried by the core)', async () => {
  const source = createSource({ queue, port: await closedPort() });
  const error = await source.connect(AbortSignal.timeout(10_000)).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(NotConnectedError);
  expect(String(error)).toMatch(/Cannot connect to RabbitMQ at 127\.0\.0\.1:\d+ .*ECONNREFUSED/);
  await source.close(AbortSignal.timeout(5000));
});

it('refused credentials are fatal, name the user and hide the password', async () => {
  const source = createSource({
    queue,
    properties: { 'rabbitmq.username': 'nobody', 'rabbitmq.password': 'Sup3rSecret' },
  });
  const error = await source.connect(AbortSignal.timeout(10_000)).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(FatalError);
  expect(String(error)).toMatch(/refused user "nobody"/);
  expect(String(error)).not.toContain('Sup3rSecret');
  await source.close(AbortSignal.timeout(5000));
});

it('an unknown virtual host is fatal and names it', async () => {
  const source = createSource({ queue, properties: { 'rabbitmq.virtual.host': 'no-such-vhost' } });
  const error = await source.connect(AbortSignal.timeout(10_000)).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(FatalError);
  expect(String(error)).toMatch(/virtual host "no-such-vhost"/);
  await source.close(AbortSignal.timeout(5000));
});

it('canal.conf.accessKey/secretKey (an Aliyun login) are not silently ignored: a warning, then username/password', async () => {
  const logger = recordingLogger();
  const source = createSource({
    queue,
    logger,
    properties: { 'canal.aliyun.accessKey': 'AK', 'canal.aliyun.secretKey': 'SK-secret' },
  });
  await source.connect(AbortSignal.timeout(10_000));
  await source.close(AbortSignal.timeout(5000));
  const warnings = logger.lines.filter((l) => l.level === 'warn').map((l) => l.message);
  expect(warnings).toEqual([
    expect.stringMatching(
      /accessKey and secretKey are set, but Sluice has no Aliyun AMQP login: it logs in as user "guest"/,
    ),
  ]);
  expect(warnings.join('\n')).not.toContain('SK-secret');
});
