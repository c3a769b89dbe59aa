import type { Clock, DataSources, Logger, MappingFile } from '@sluice/plugin-api';
import { Cluster, Redis } from 'ioredis';
import {
  redisSink,
  type RedisMapping,
  type RedisMappingFile,
  type RedisSink,
} from '../src/index.js';
import { VERSION_SUFFIX } from '../src/version.js';
import { redisClusterNodes, redisUrl } from '../../../test/support/testbed.js';

export const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {}, child: () => quiet };
export const systemClock: Clock = { now: () => Date.now() };
const noDataSources: DataSources = { get: () => undefined, keys: () => [] };

/** A validated mapping file as the core would hand it over (defaults filled in). */
export function mappingFile(
  redisMapping: Partial<RedisMapping> & Pick<RedisMapping, 'keys'>,
  name = 'test.yml',
  header: Partial<Omit<RedisMappingFile, 'redisMapping'>> = {},
): MappingFile<RedisMappingFile> {
  const config: RedisMappingFile = {
    ...header,
    redisMapping: {
      database: 'sluice_contract',
      table: 'items',
      mode: 'evict',
      format: 'json',
      ttl: 0,
      tombstoneTtl: 86_400,
      delayedEviction: 0,
      readBatch: 1000,
      ...redisMapping,
    },
  };
  return { file: `redis/${name}`, name: name.replace(/\.yml$/, ''), config };
}

/** Cluster seed nodes of the testbed's redis-cluster service (throws when it is not up). */
export function clusterNodes(): string {
  return redisClusterNodes();
}

export interface SinkOptions {
  readonly prefix: string;
  readonly cluster?: boolean;
  readonly key?: string;
  readonly clock?: Clock;
  readonly pollMs?: number;
  readonly dataSources?: DataSources;
}

/** A redis sink instance on the testbed (standalone or cluster). */
export function createSink(o: SinkOptions): RedisSink {
  return redisSink.create({
    key: o.key ?? 'test',
    name: 'redis',
    hosts: undefined,
    configDir: process.cwd(),
    properties: {
      ...(o.cluster ? { 'cluster.nodes': clusterNodes() } : { url: redisUrl() }),
      host: '127.0.0.1',
      port: 6379,
      db: 0,
      tls: false,
      'tls.rejectUnauthorized': true,
      keyPrefix: o.prefix,
      'delayedEviction.pollMs': o.pollMs ?? 50,
      connectTimeoutMs: 5000,
    },
    deps: {
      logger: quiet,
      clock: o.clock ?? systemClock,
      dataSources: o.dataSources ?? noDataSources,
    },
  }) as RedisSink;
}

/** A plain client for checking the keyspace. */
export function testClient(cluster = false): Redis | Cluster {
  if (cluster) {
    const nodes = clusterNodes()
      .split(',')
      .map((s) => ({ host: s.split(':')[0]!, port: Number(s.split(':')[1]) }));
    return new Cluster(nodes, { redisOptions: { maxRetriesPerRequest: 2 } });
  }
  return new Redis(redisUrl(), { maxRetriesPerRequest: 2 });
}

/** Every key under `prefix` (all masters), version keys included unless `values` only. */
export async function keysUnder(
  client: Redis | Cluster,
  prefix: string,
  { valuesOnly = true }: { valuesOnly?: boolean } = {},
): Promise<string[]> {
  const nodes = client instanceof Cluster ? client.nodes('master') : [client];
  const out: string[] = [];
  for (const node of nodes) {
    let cursor = '0';
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', `*${prefix}*`, 'COUNT', 1000);
      cursor = next;
      out.push(...keys);
    } while (cursor !== '0');
  }
  return out
    .filter((k) => !valuesOnly || (!k.endsWith(VERSION_SUFFIX) && !k.includes('sluice:delayed')))
    .sort();
}

/** Deletes every key under `prefix` (value, version and schedule keys). */
export async function wipe(client: Redis | Cluster, prefix: string): Promise<void> {
  const keys = await keysUnder(client, prefix, { valuesOnly: false });
  for (const k of keys) await client.del(k);
}
