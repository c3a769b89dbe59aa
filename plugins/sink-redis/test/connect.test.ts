import { getEventListeners } from 'node:events';
import { NotConnectedError } from '@sluice/plugin-api';
import { expect, it } from 'vitest';
import { redisSink } from '../src/index.js';
import { createSink, quiet, systemClock } from './helpers.js';

it('connect leaves no listener on the shared signal (it runs again on every reconnect)', async () => {
  const signal = new AbortController().signal;
  for (let i = 0; i < 12; i++) {
    const sink = createSink({ prefix: 'connect_test:' });
    await sink.connect(signal);
    await sink.close(signal);
  }
  expect(getEventListeners(signal, 'abort')).toHaveLength(0);
});

it('an unreachable Redis is NotConnected (the core retries), not a crash', async () => {
  const sink = redisSink.create({
    key: 'down',
    name: 'redis',
    hosts: undefined,
    configDir: process.cwd(),
    properties: {
      host: '127.0.0.1',
      port: 1, // nothing listens there
      db: 0,
      tls: false,
      'tls.rejectUnauthorized': true,
      keyPrefix: '',
      'delayedEviction.pollMs': 100,
      connectTimeoutMs: 1000,
    },
    deps: {
      logger: quiet,
      clock: systemClock,
      dataSources: { get: () => undefined, keys: () => [] },
    },
  });
  const signal = new AbortController().signal;
  await expect(sink.connect(signal)).rejects.toBeInstanceOf(NotConnectedError);
  await sink.close(signal);
});
