import { coreServices, defineSink } from '@sluice/plugin-api';
import { checkRedisMapping, redisTables } from './mapping.js';
import { redisMappingSchema } from './mappingSchema.js';
import { createClient, redisPropertiesSchema } from './properties.js';
import { RedisSink } from './RedisSink.js';

/**
 * The `redis` sink: keeps Redis caches correct under canal's row changes. Mapping files in
 * `redis/*.yml` (see docs/configuration.md and the README's "Cache invalidation" section).
 *
 * ```yaml
 * outerAdapters:
 * - name: redis
 *   key: cache1
 *   properties:
 *     url: redis://127.0.0.1:6379/0
 *     keyPrefix: "app:"
 * ```
 *
 * Not coalescing: in evict mode every intermediate image's keys must be evicted (a key column
 * that changed twice). Per-key order suffices: keys shared by different rows (derived keys, a
 * unique column moving between rows) are evicted idempotently, and written values are versioned.
 */
export const redisSink = defineSink({
  name: 'redis',
  description:
    'Cache invalidation for Redis: evicts (or writes, versioned) the keys built from each changed row.',
  propertiesSchema: redisPropertiesSchema,
  mappings: {
    directories: ['redis'],
    schema: redisMappingSchema,
    tables: redisTables,
    check: checkRedisMapping,
  },
  deps: {
    logger: coreServices.logger,
    clock: coreServices.clock,
    dataSources: coreServices.dataSources,
  },
  create(ctx) {
    const p = ctx.properties;
    const prefix = p.keyPrefix;
    return new RedisSink({
      key: ctx.key,
      prefix,
      scheduleKey: p['delayedEviction.key'] || `${prefix}sluice:delayed-evictions:${ctx.key}`,
      pollMs: p['delayedEviction.pollMs'],
      createClient: () => createClient(p, ctx.configDir, `sluice:${ctx.key}`),
      logger: ctx.deps.logger.child({ sink: ctx.key }),
      clock: ctx.deps.clock,
      dataSources: ctx.deps.dataSources,
    });
  },
});
