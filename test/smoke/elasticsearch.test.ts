import { Client } from '@elastic/elasticsearch';
import { afterAll, describe, expect, it } from 'vitest';
import { esUrl, uniqueName } from '../support/testbed.js';

describe('testbed smoke: Elasticsearch', () => {
  const client = new Client({ node: esUrl() });
  const index = uniqueName('smoke_index');

  afterAll(async () => {
    await client.indices.delete({ index, ignore_unavailable: true }).catch(() => {});
    await client.close();
  });

  // Not client.info(): GET / lives in the rest-root module, which the integ-test-zip lacks.
  it('is an 8.x cluster that is at least yellow', async () => {
    const nodes = await client.nodes.info({ node_id: '_local', metric: '_none' });
    const versions = Object.values(nodes.nodes).map((n) => n.version);
    expect(versions).toHaveLength(1);
    expect(versions[0]).toMatch(/^8\./);
    const health = await client.cluster.health({ wait_for_status: 'yellow', timeout: '30s' });
    expect(['yellow', 'green']).toContain(health.status);
  });

  it('indexes and searches a document', async () => {
    await client.indices.create({
      index,
      settings: { number_of_shards: 1, number_of_replicas: 0 },
      mappings: { properties: { name: { type: 'text' }, tag: { type: 'keyword' } } },
    });
    await client.index({
      index,
      id: '1',
      document: { name: 'sluice smoke test', tag: 'smoke' },
      refresh: 'wait_for',
    });
    const res = await client.search<{ name: string; tag: string }>({
      index,
      query: { match: { name: 'smoke' } },
    });
    expect(res.hits.hits).toHaveLength(1);
    expect(res.hits.hits[0]?._id).toBe('1');
    expect(res.hits.hits[0]?._source?.tag).toBe('smoke');
  });
});
