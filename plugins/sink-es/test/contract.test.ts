// The sink contract (testkit) against the testbed's Elasticsearch 8.19, with an _id mapping.
import { afterAll } from 'vitest';
import { runSinkContractSuite } from '@sluice/testkit';
import { uniqueName } from '../../../test/support/testbed.js';
import { createSink, mappingFile, readIndex, recreateIndex, testClient } from './helpers.js';

const index = uniqueName('es_contract');
const client = testClient();
afterAll(async () => {
  await client.indices.delete({ index, ignore_unavailable: true });
  await client.close();
});

runSinkContractSuite({
  name: 'es sink contract (_id mapping, Elasticsearch 8.19)',
  target: {
    createSink: () => createSink(),
    mapping: mappingFile({
      _index: index,
      _id: '_id',
      sql: 'select a.id as _id, a.name, a.qty from items a',
    }),
    reset: () => recreateIndex(client, index, { qty: { type: 'integer' } }),
    async readState() {
      const docs = await readIndex(client, index);
      return new Map([...docs].map(([id, source]) => [id, { id, ...source }]));
    },
    // qty is an integer field of the index: Elasticsearch rejects the document.
    poison: (event) => ({ ...event, after: { ...event.after, qty: 'not a number' } }),
    // No `disconnect`: the testbed's Elasticsearch cannot drop one client's connections.
  },
});
