import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  defineSource,
  type DeadLetterContext,
  type DeadLetterRecord,
  type SourceInstance,
} from '@sluice/plugin-api';
import { loadConfig } from '../config/application/loadConfig.js';
import { PluginRegistry } from '../registry.js';
import { deadLetterQueueOf, deadLetterTransportOf } from './transport.js';

async function config(deadLetter: string) {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-dlt-'));
  await writeFile(
    join(dir, 'application.yml'),
    `canal.conf:
  mode: kafka
  flatMessage: true
  consumerProperties:
    kafka.bootstrap.servers: 10.0.0.1:9092
    kafka.security.protocol: SASL_SSL
  canalAdapters:
  - instance: orders
    groups:
    - groupId: g1
      outerAdapters:
      - name: logger
  - instance: users
    groups:
    - groupId: g1
      outerAdapters:
      - name: logger
sluice:
  deadLetter:
${deadLetter}
`,
  );
  return { dir, config: await loadConfig(dir) };
}

const instance: SourceInstance = {
  connect: async () => {},
  run: async () => {},
  commit: async () => {},
  close: async () => {},
};

const letter = (destination: string): DeadLetterRecord => ({
  at: 'x',
  destination,
  groupId: 'g1',
  partition: '0',
  offset: '1',
  reason: 'r',
  attempts: 1,
  payload: 'p',
  payloadEncoding: 'utf8',
});

describe('deadLetterTransportOf', () => {
  it('type file: one JSONL file per instance under dir, relative to the configuration directory', async () => {
    const { dir, config: c } = await config('    type: file\n    dir: dead');
    const transport = deadLetterTransportOf(c, new PluginRegistry());
    expect(transport.locationOf('orders')).toBe(join(dir, 'dead', 'orders.jsonl'));
    expect(transport.reader('users').location).toBe(join(dir, 'dead', 'users.jsonl'));
    expect(transport.readerNamed('x')).toBeUndefined();
  });

  it("another type uses that source's deadLetters capability with the consumerProperties", async () => {
    const { dir, config: c } = await config('    type: kafka\n    topicSuffix: -dead');
    const contexts: DeadLetterContext[] = [];
    const written: string[] = [];
    const registry = new PluginRegistry();
    registry.register(
      defineSource({
        name: 'kafka',
        create: () => instance,
        deadLetters: {
          queue: (ctx) => {
            contexts.push(ctx);
            return {
              location: `topic ${ctx.name ?? `${ctx.instance}.dlq`}`,
              write: async (r) => void written.push(`${ctx.instance}:${r.destination}`),
              close: async () => {},
            };
          },
          reader: (ctx) => ({
            location: `topic ${ctx.name ?? `${ctx.instance}.dlq`}`,
            read: async () => ({ records: [], commit: async () => {} }),
            close: async () => {},
          }),
        },
      }),
      'test',
    );
    const queue = deadLetterQueueOf(c, registry);
    expect(queue.location).toBe('topic orders-dead, topic users-dead');
    await queue.write(letter('users'), AbortSignal.timeout(1000));
    await queue.write(letter('orders'), AbortSignal.timeout(1000));
    await queue.write(letter('users'), AbortSignal.timeout(1000));
    expect(written).toEqual(['users:users', 'orders:orders', 'users:users']);
    // one queue per destination, built with the source's connection properties
    const built = contexts.filter((x) => x.instance === 'users');
    expect(built).toHaveLength(1);
    expect(built[0]).toEqual({
      instance: 'users',
      name: 'users-dead',
      properties: {
        'kafka.bootstrap.servers': '10.0.0.1:9092',
        'kafka.security.protocol': 'SASL_SSL',
      },
      configDir: dir,
    });
    await queue.close(AbortSignal.timeout(1000));
    expect(deadLetterTransportOf(c, registry).readerNamed('all')?.location).toBe('topic all');
  });

  it('fails clearly when the source has no dead-letter queue of its own', async () => {
    const { config: c } = await config('    type: kafka');
    const registry = new PluginRegistry();
    registry.register(defineSource({ name: 'kafka', create: () => instance }), 'test');
    expect(() => deadLetterTransportOf(c, registry)).toThrow(
      /source plugin "kafka" has no dead-letter queue of its own; use type file/,
    );
  });
});
