import { Client, type estypes } from '@elastic/elasticsearch';
import type { DataSourceOptions, DataSources, MappingFile } from '@sluice/plugin-api';
import { esUrl, mysqlEndpoint } from '../../../test/support/testbed.js';
import { esSink, type EsMapping, type EsSinkProperties } from '../src/index.js';
import type { EsSinkInstance } from './types.js';

/** A client of the testbed Elasticsearch for setting up and reading indices. */
export function testClient(): Client {
  return new Client({ node: esUrl(), maxRetries: 0 });
}

/** A mapping file for `esMapping` (defaults like the schema's). */
export function mappingFile(
  esMapping: Partial<EsMapping['esMapping']> & { _index: string; sql: string },
): MappingFile<EsMapping> {
  return {
    file: `es8/${esMapping._index}.yml`,
    name: `${esMapping._index}.yml`,
    config: {
      dataSourceKey: 'defaultDS',
      esMapping: {
        upsert: false,
        skips: [],
        commitBatch: 1000,
        syncByTimestamp: false,
        ...esMapping,
      },
    },
  };
}

/** `srcDataSources` with one entry, `key`, for a database of the testbed MariaDB (or none). */
export function dataSources(key?: string, database?: string): DataSources {
  const all = new Map<string, DataSourceOptions>();
  if (key !== undefined && database !== undefined) {
    const e = mysqlEndpoint();
    all.set(key, {
      key,
      kind: 'mariadb',
      host: e.host,
      port: e.port,
      database,
      user: e.user,
      password: e.password,
      params: {},
      maxActive: 3,
    });
  }
  return { get: (k) => all.get(k), keys: () => [...all.keys()] };
}

/** A sink instance on the testbed (not connected). */
export function createSink(
  properties: Partial<EsSinkProperties> = {},
  hosts: string = esUrl(),
  sources: DataSources = dataSources(),
): EsSinkInstance {
  return esSink.create({
    key: 'es-test',
    name: 'es8',
    hosts,
    properties: { requestTimeoutMs: 10_000, refresh: false, server: 'auto', ...properties },
    configDir: '/nonexistent',
    deps: { dataSources: sources },
  });
}

/** (Re)creates `index` with `properties` as its mapping. */
export async function recreateIndex(
  client: Client,
  index: string,
  properties: Record<string, estypes.MappingProperty> = {},
): Promise<void> {
  await client.indices.delete({ index, ignore_unavailable: true });
  await client.indices.create({ index, mappings: { properties } });
}

/** Every document of `index` by id, after a refresh. */
export async function readIndex(
  client: Client,
  index: string,
): Promise<Map<string, Record<string, unknown>>> {
  await client.indices.refresh({ index, ignore_unavailable: true });
  const res = await client.search<Record<string, unknown>>({
    index,
    size: 10_000,
    query: { match_all: {} },
    ignore_unavailable: true,
  });
  return new Map(res.hits.hits.map((h) => [h._id!, h._source ?? {}]));
}
