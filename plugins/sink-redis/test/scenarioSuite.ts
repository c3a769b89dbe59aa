/**
 * The scenario suite (standalone and Cluster): see scenario.ts for the workload.
 */
import type { ChangeEvent, SinkRecord } from '@sluice/plugin-api';
import { afterAll, expect, it } from 'vitest';
import type { RedisMappingFile, RedisSink } from '../src/index.js';
import { uniqueName } from '../../../test/support/testbed.js';
import { createSink, keysUnder, testClient, wipe } from './helpers.js';
import { Scenario, scenarioMappings, type ScenarioMappings } from './scenario.js';

export function records(
  events: readonly ChangeEvent[],
  m: ScenarioMappings,
): SinkRecord<RedisMappingFile>[] {
  return events.map((event) => ({ event, mapping: event.table === 'users' ? m.users : m.orders }));
}

async function apply(sink: RedisSink, events: readonly ChangeEvent[], m: ScenarioMappings) {
  const result = await sink.write(records(events, m), new AbortController().signal);
  const bad = result.filter((o) => o.status !== 'applied');
  expect(bad).toEqual([]);
}

export function scenarioSuite(cluster: boolean): void {
  const client = testClient(cluster);
  const prefixes: string[] = [];
  afterAll(async () => {
    for (const p of prefixes) await wipe(client, p);
    client.disconnect();
  });

  for (const mode of ['evict', 'write'] as const) {
    it(`${mode} mode: no stale key after key-column changes, deletes, derived keys and a replay`, async () => {
      const prefix = `${uniqueName(`sc_${mode}`)}:`;
      prefixes.push(prefix);
      const m = scenarioMappings(mode);
      const s = new Scenario(mode === 'evict' ? 7 : 11);
      const sink = createSink({ prefix, cluster });
      const signal = new AbortController().signal;
      await sink.connect(signal);
      try {
        await apply(sink, s.seed(), m);
        await s.populate(client, prefix, 1);
        for (let round = 0; round < 15; round++) {
          const batch = Array.from({ length: 20 }, () => s.change());
          await apply(sink, batch, m);
          await s.populate(client, prefix);
        }
        expect(await s.stale(client, prefix)).toEqual([]);
        // The test can fail: a cache entry built from a row that then changes is stale until
        // the sink acts on the change.
        const extra = s.change();
        await s.populate(client, prefix, 1);
        await apply(sink, [extra], m);
        expect(await s.stale(client, prefix)).toEqual([]);
        expect((await keysUnder(client, prefix)).length).toBeGreaterThan(10);
      } finally {
        await sink.close(signal);
      }
      // A restarted instance replays everything from the start; while the replay is only half
      // way, no older event may have overwritten a newer value (versions; tombstones of deleted
      // rows and of old keys of moved rows).
      const again = createSink({ prefix, cluster });
      await again.connect(signal);
      try {
        const half = Math.floor(s.events.length / 2);
        for (let i = 0; i < half; i += 50)
          await apply(again, s.events.slice(i, Math.min(i + 50, half)), m);
        expect(await s.stale(client, prefix)).toEqual([]);
        for (let i = 0; i < s.events.length; i += 50)
          await apply(again, s.events.slice(i, i + 50), m);
        expect(await s.stale(client, prefix)).toEqual([]);
        if (mode === 'write') {
          // Write-through: every current row is in the cache under each of its keys.
          for (const u of s.users.values())
            for (const key of [
              `user:${u['id']}`,
              `user:email:${u['email']}`,
              `{user:${u['id']}}:profile`,
            ])
              expect(await client.get(prefix + key)).toBe(s.expected(key));
          // count: keys of the templates (present rows, plus the application's negative entries).
          expect(await again.count(m.users, signal)).toBeGreaterThanOrEqual(s.users.size * 3);
        }
      } finally {
        await again.close(signal);
      }
    }, 60_000);
  }
}
