// The sink contract (testkit) in write mode: the cache holds each row as JSON under items:{id}.
import { afterAll } from 'vitest';
import { runSinkContractSuite } from '@sluice/testkit';
import { uniqueName } from '../../../test/support/testbed.js';
import { createSink, keysUnder, mappingFile, testClient, wipe } from './helpers.js';

for (const format of ['json', 'hash'] as const) {
  const prefix = `${uniqueName('contract')}:`;
  const client = testClient();
  afterAll(async () => {
    await wipe(client, prefix);
    client.disconnect();
  });
  runSinkContractSuite({
    name: `redis sink contract (write mode, ${format})`,
    target: {
      createSink: () => createSink({ prefix }),
      mapping: mappingFile({ mode: 'write', format, keys: ['items:{id}'] }),
      reset: () => wipe(client, prefix),
      async readState() {
        const state = new Map<string, Readonly<Record<string, unknown>>>();
        for (const key of await keysUnder(client, prefix)) {
          const row =
            format === 'json'
              ? (JSON.parse((await client.get(key)) ?? 'null') as Record<string, unknown>)
              : await client.hgetall(key);
          state.set(key.slice(`${prefix}items:`.length), row);
        }
        return state;
      },
      // A row whose key column is missing from the image: the key cannot be computed.
      poison: (event) => ({ ...event, after: { name: 'no id' } }),
      async disconnect() {
        // Kill the sink's connections server-side; ioredis reconnects by itself.
        const list = await client.client('LIST');
        for (const line of String(list).split('\n')) {
          if (!line.includes('name=sluice:test')) continue;
          const id = /\bid=(\d+)/.exec(line)?.[1];
          if (id) await client.client('KILL', 'ID', id);
        }
      },
    },
  });
}
