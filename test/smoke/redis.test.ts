import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { redisUrl, uniqueName } from '../support/testbed.js';

describe('testbed smoke: Redis', () => {
  const redis = new Redis(redisUrl(), { lazyConnect: true, maxRetriesPerRequest: 1 });
  const key = `${uniqueName('smoke')}:key`;

  afterAll(async () => {
    await redis.del(key).catch(() => 0);
    redis.disconnect();
  });

  it('answers PING and does SET/GET', async () => {
    await redis.connect();
    expect(await redis.ping()).toBe('PONG');
    expect(await redis.set(key, 'sluice', 'EX', 60)).toBe('OK');
    expect(await redis.get(key)).toBe('sluice');
  });
});
