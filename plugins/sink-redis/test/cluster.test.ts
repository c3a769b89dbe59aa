// The same scenarios and the contract suite on the testbed's 3-master Redis Cluster: commands are
// grouped per master by slot, version keys share their value key's slot, SCAN covers every master.
import { runSinkContractSuite } from '@sluice/testkit';
import { afterAll, describe, expect, it } from 'vitest';
import { uniqueName } from '../../../test/support/testbed.js';
import { createSink, keysUnder, mappingFile, testClient, wipe } from './helpers.js';
import { scenarioSuite } from './scenarioSuite.js';
import type { Cluster } from 'ioredis';

describe('redis sink scenarios (Cluster)', () => scenarioSuite(true));

const prefix = `${uniqueName('ccontract')}:`;
const client = testClient(true);
afterAll(async () => {
  await wipe(client, prefix);
  client.disconnect();
});

runSinkContractSuite({
  name: 'redis sink contract on Redis Cluster (write mode, json)',
  target: {
    createSink: () => createSink({ prefix, cluster: true }),
    mapping: mappingFile({ mode: 'write', keys: ['items:{id}'] }),
    reset: () => wipe(client, prefix),
    async readState() {
      const state = new Map<string, Readonly<Record<string, unknown>>>();
      for (const key of await keysUnder(client, prefix))
        state.set(
          key.slice(`${prefix}items:`.length),
          JSON.parse((await client.get(key)) ?? 'null') as Record<string, unknown>,
        );
      return state;
    },
    poison: (event) => ({ ...event, after: { name: 'no id' } }),
  },
});

it('spreads a batch over every master (value, version and hash-tagged keys)', async () => {
  const p = `${uniqueName('cspread')}:`;
  const sink = createSink({ prefix: p, cluster: true });
  const signal = new AbortController().signal;
  await sink.connect(signal);
  try {
    const mapping = mappingFile({ mode: 'write', keys: ['item:{id}', '{{item:{id}}}:copy'] });
    const { EventBuilder } = await import('@sluice/testkit');
    const ev = new EventBuilder({ database: 'sluice_contract' });
    const batch = Array.from({ length: 60 }, (_, i) => ({
      event: ev.insert('items', { id: String(i), name: `n${i}` }),
      mapping,
    }));
    const result = await sink.write(batch, signal);
    expect(result.every((o) => o.status === 'applied')).toBe(true);
    const perNode = await Promise.all(
      (client as Cluster).nodes('master').map(async (n) => (await n.keys(`${p}*`)).length),
    );
    expect(perNode.every((n) => n > 0)).toBe(true);
    expect(await keysUnder(client, p)).toHaveLength(120);
  } finally {
    await sink.close(signal);
    await wipe(client, p);
  }
});
