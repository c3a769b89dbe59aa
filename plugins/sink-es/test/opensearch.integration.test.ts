// The es sink against the testbed's OpenSearch 2.19 (modules assembled from Maven Central): the
// client is picked per server, single-table writes land, and the server has what the join and
// parent/child work needs (painless _update_by_query, _delete_by_query, has_child).
import { Client as OpenSearchClient } from '@opensearch-project/opensearch';
import { afterAll, describe, expect, it } from 'vitest';
import { EventBuilder } from '@sluice/testkit';
import { esUrl, opensearchUrl, uniqueName } from '../../../test/support/testbed.js';
import { connection } from '../src/properties.js';
import { openSearchApi } from '../src/searchApi.js';
import { createSink, mappingFile } from './helpers.js';

const os = new OpenSearchClient({ node: opensearchUrl(), maxRetries: 0 });
const signal = new AbortController().signal;
const indices: string[] = [];
afterAll(async () => {
  if (indices.length > 0) await os.indices.delete({ index: indices, ignore_unavailable: true });
  await os.close();
});

function newIndex(prefix: string): string {
  const index = uniqueName(prefix);
  indices.push(index);
  return index;
}

const props = { requestTimeoutMs: 10_000, refresh: false, server: 'auto' } as const;

describe('client per server', () => {
  it('server: auto picks the Elastic client for Elasticsearch and the OpenSearch one for OpenSearch', async () => {
    const es = await openSearchApi(connection(esUrl(), props, '/', 'es'), signal);
    const oss = await openSearchApi(connection(opensearchUrl(), props, '/', 'os'), signal);
    try {
      expect(es.product).toBe('Elasticsearch');
      expect(oss.product).toBe('OpenSearch');
    } finally {
      await es.close();
      await oss.close();
    }
  });

  it('an API key against OpenSearch is refused at connect', async () => {
    await expect(
      openSearchApi(connection(opensearchUrl(), { ...props, apiKey: 'abc' }, '/', 'os'), signal),
    ).rejects.toThrow(/apiKey is an Elasticsearch feature/);
  });

  it('writes single-table documents to OpenSearch with external versions', async () => {
    const index = newIndex('os_user');
    await os.indices.create({
      index,
      body: { mappings: { properties: { id: { type: 'long' } } } },
    });
    const mapping = mappingFile({
      _index: index,
      _id: 'id',
      sql: 'select a.id, a.name from user a',
    });
    const ev = new EventBuilder({ destination: 'd', database: 'mytest' });
    const sink = createSink({}, opensearchUrl());
    await sink.connect(signal);
    try {
      const first = await sink.write(
        [ev.insert('user', { id: '1', name: 'a' }), ev.insert('user', { id: '2', name: 'b' })].map(
          (event) => ({ event, mapping }),
        ),
        signal,
      );
      expect(first.map((o) => o.status)).toEqual(['applied', 'applied']);
      // The same events again (a replay): the external versions keep the documents as they are.
      const again = await sink.write(
        [ev.update('user', { id: '1', name: 'a' }, { id: '1', name: 'z' })].map((event) => ({
          event: { ...event, position: { ...event.position, offset: '0', index: 0 } },
          mapping,
        })),
        signal,
      );
      expect(again.map((o) => ('error' in o ? String(o.error) : o.status))).toEqual(['applied']);
    } finally {
      await sink.close(signal);
    }
    await os.indices.refresh({ index });
    const res = await os.search({ index, body: { query: { match_all: {} }, sort: ['id'] } });
    const hits = (res.body.hits.hits as { _id: string; _source: unknown }[]).map((h) => [
      h._id,
      h._source,
    ]);
    expect(hits).toEqual([
      ['1', { name: 'a' }],
      ['2', { name: 'b' }],
    ]);
  });
});

describe('the OpenSearch testbed has the modules the integ-test-zip lacks', () => {
  it('painless _update_by_query, has_child and _delete_by_query work', async () => {
    const index = newIndex('os_caps');
    await os.indices.create({
      index,
      body: {
        mappings: {
          properties: {
            role_id: { type: 'long' },
            role_name: { type: 'keyword' },
            rel: { type: 'join', relations: { order: 'item' } },
          },
        },
      },
    });
    await os.bulk({
      refresh: true,
      body: [
        { index: { _index: index, _id: '1' } },
        { role_id: 1, role_name: 'a', rel: 'order' },
        { index: { _index: index, _id: '2' } },
        { role_id: 1, role_name: 'a', rel: 'order' },
        { index: { _index: index, _id: '3', routing: '1' } },
        { role_id: 2, role_name: 'x', rel: { name: 'item', parent: '1' } },
      ],
    });
    const ubq = await os.updateByQuery({
      index,
      refresh: true,
      body: {
        query: { term: { role_id: 1 } },
        script: {
          lang: 'painless',
          source: 'ctx._source.role_name = params.n',
          params: { n: 'b' },
        },
      },
    });
    expect((ubq.body as { updated?: number }).updated).toBe(2);
    const parents = await os.search({
      index,
      body: { query: { has_child: { type: 'item', query: { match_all: {} } } } },
    });
    expect(
      (parents.body.hits.hits as { _id: string; _source: unknown }[]).map((h) => [
        h._id,
        h._source,
      ]),
    ).toEqual([['1', { role_id: 1, role_name: 'b', rel: 'order' }]]);
    const dbq = await os.deleteByQuery({
      index,
      refresh: true,
      body: { query: { term: { role_id: 2 } } },
    });
    expect((dbq.body as { deleted?: number }).deleted).toBe(1);
  });
});
