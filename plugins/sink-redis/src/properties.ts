/**
 * `outerAdapters[].properties` of the redis sink, and the ioredis client they describe.
 * Flat dotted keys, as canal's adapters use (`cluster.nodes`, `sentinel.master`).
 */
import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { FatalError, type Infer } from '@sluice/plugin-api';
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';

/** The properties schema (also the source of {@link RedisSinkProperties}). */
export const redisPropertiesSchema = {
  type: 'object',
  properties: {
    url: {
      type: 'string',
      description:
        'redis://[user:password@]host:port[/db] (rediss:// for TLS); overrides host/port/db.',
      secret: true,
    },
    host: { type: 'string', default: '127.0.0.1', description: 'Redis host (standalone).' },
    port: { type: 'integer', minimum: 1, maximum: 65535, default: 6379 },
    username: { type: 'string', description: 'ACL user (Redis 6+).' },
    password: { type: 'string', secret: true },
    db: {
      type: 'integer',
      minimum: 0,
      default: 0,
      description: 'Database number (not in Cluster).',
    },
    tls: { type: 'boolean', default: false, description: 'Connect with TLS.' },
    'tls.ca.path': {
      type: 'string',
      description: 'PEM CA file for TLS, relative to the configuration directory.',
    },
    'tls.rejectUnauthorized': { type: 'boolean', default: true },
    keyPrefix: { type: 'string', default: '', description: 'Prepended to every key.' },
    'sentinel.master': { type: 'string', description: 'Sentinel: name of the monitored master.' },
    'sentinel.nodes': { type: 'string', description: 'Sentinel: host:port,host:port,…' },
    'sentinel.password': { type: 'string', secret: true },
    'cluster.nodes': {
      type: 'string',
      description: 'Redis Cluster: seed nodes host:port,host:port,… (switches to Cluster mode).',
    },
    'delayedEviction.key': {
      type: 'string',
      description:
        'Sorted set holding pending delayed evictions; default <keyPrefix>sluice:delayed-evictions:<adapter key>.',
    },
    'delayedEviction.pollMs': {
      type: 'integer',
      minimum: 10,
      default: 100,
      description: 'How often the schedule is drained, ms.',
    },
    connectTimeoutMs: { type: 'integer', minimum: 1, default: 10_000 },
  },
} as const;

/** Validated properties. */
export type RedisSinkProperties = Infer<typeof redisPropertiesSchema>;

function hostPorts(text: string, what: string): Array<{ host: string; port: number }> {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map((s) => {
      const m = /^(.+):(\d{1,5})$/.exec(s);
      if (!m) throw new FatalError(`${what}: "${s}" is not host:port.`);
      return { host: m[1]!.replace(/^\[|\]$/g, ''), port: Number(m[2]) };
    });
}

/** Builds an unconnected ioredis client (standalone, Sentinel or Cluster). No I/O. */
export function createClient(
  p: RedisSinkProperties,
  configDir: string,
  connectionName: string,
): Redis | Cluster {
  const tls =
    p.tls || p.url?.startsWith('rediss://')
      ? {
          rejectUnauthorized: p['tls.rejectUnauthorized'],
          ...(p['tls.ca.path']
            ? {
                ca: readFileSync(
                  isAbsolute(p['tls.ca.path'])
                    ? p['tls.ca.path']
                    : resolve(configDir, p['tls.ca.path']),
                ),
              }
            : {}),
        }
      : undefined;
  const common: RedisOptions = {
    lazyConnect: true,
    connectionName,
    connectTimeout: p.connectTimeoutMs,
    maxRetriesPerRequest: 2,
    enableAutoPipelining: false,
    ...(p.username ? { username: p.username } : {}),
    ...(p.password ? { password: p.password } : {}),
    ...(tls ? { tls } : {}),
  };
  const seeds = p['cluster.nodes'];
  if (seeds) {
    const options: ClusterOptions = {
      lazyConnect: true,
      redisOptions: common,
      slotsRefreshTimeout: p.connectTimeoutMs,
      scaleReads: 'master',
      maxRedirections: 16,
    };
    return new Cluster(hostPorts(seeds, 'cluster.nodes'), options);
  }
  if (p['sentinel.master'] || p['sentinel.nodes']) {
    if (!p['sentinel.master'] || !p['sentinel.nodes'])
      throw new FatalError('Sentinel needs both sentinel.master and sentinel.nodes.');
    return new Redis({
      ...common,
      db: p.db,
      name: p['sentinel.master'],
      sentinels: hostPorts(p['sentinel.nodes'], 'sentinel.nodes'),
      ...(p['sentinel.password'] ? { sentinelPassword: p['sentinel.password'] } : {}),
    });
  }
  if (p.url) return new Redis(p.url, { ...common, ...(tls ? { tls } : {}) });
  return new Redis({ ...common, host: p.host, port: p.port, db: p.db });
}
