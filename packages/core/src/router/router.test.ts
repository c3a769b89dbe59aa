import { describe, expect, it } from 'vitest';
import { ErrorCodes, classifyError, type ChangeEvent } from '@sluice/plugin-api';
import { Router, type MappingRoute } from './router.js';

const event = (database: string, table: string, destination = 'example'): ChangeEvent => ({
  kind: 'row',
  type: 'INSERT',
  destination,
  database,
  table,
  pkNames: ['id'],
  columns: {},
  executedAt: 0,
  producedAt: 0,
  after: { id: '1' },
  changed: [],
  position: { source: destination, partition: '0', offset: '0', index: 0 },
});
const route = (file: string, extra: Partial<MappingRoute> = {}): MappingRoute => ({
  mapping: { file: `rdb/${file}`, name: file, config: {} },
  destination: 'example',
  groupId: 'g1',
  database: 'mytest',
  table: 'user',
  ...extra,
});
const names = (r: readonly (MappingRoute | undefined)[]) => r.map((x) => x?.mapping.name);

describe('Router', () => {
  it('replacing the mappings of an unknown sink instance is a fatal configuration error, not a retryable one', () => {
    const router = new Router({
      destination: 'example',
      groupId: 'g1',
      sinks: [{ key: 'rdb', routes: [] }],
    });
    let error: unknown;
    try {
      router.replaceRoutes('nope', []);
    } catch (e) {
      error = e;
    }
    expect(error).toMatchObject({
      code: ErrorCodes.config,
      message: 'No sink instance "nope" in group "g1" of "example".',
    });
    expect(classifyError(error)).toBe('fatal');
  });

  it('gives a sink without mappings every event, and every matching mapping of a mapping-based sink', () => {
    const router = new Router({
      destination: 'example',
      groupId: 'g1',
      sinks: [
        { key: 'logger', routes: undefined },
        { key: 'rdb', routes: [route('a.yml'), route('b.yml'), route('c.yml', { table: 'role' })] },
      ],
    });
    expect(router.route(0, event('mytest', 'user'))).toEqual([undefined]);
    expect(names(router.route(1, event('mytest', 'user')))).toEqual(['a.yml', 'b.yml']);
    expect(names(router.route(1, event('mytest', 'role')))).toEqual(['c.yml']);
    expect(router.route(1, event('mytest', 'other'))).toEqual([]);
  });

  it('matches destination, groupId, database and table exactly (case-sensitive), groupId ignored in tcp mode', () => {
    const routes = [
      route('a.yml', { groupId: 'g2' }),
      route('b.yml', { groupId: undefined }),
      route('c.yml', { table: 'User' }),
    ];
    const mq = new Router({
      destination: 'example',
      groupId: 'g1',
      sinks: [{ key: 'rdb', routes }],
    });
    expect(mq.route(0, event('mytest', 'user'))).toEqual([]);
    expect(mq.route(0, event('mytest', 'user', 'other'))).toEqual([]);
    const tcp = new Router({
      destination: 'example',
      groupId: 'g1',
      tcpMode: true,
      sinks: [{ key: 'rdb', routes }],
    });
    expect(names(tcp.route(0, event('mytest', 'user')))).toEqual(['a.yml', 'b.yml']);
  });

  it('applies a mirrorDb mapping to every table of its database, honouring the group id', () => {
    const router = new Router({
      destination: 'example',
      groupId: 'g1',
      sinks: [
        {
          key: 'rdb',
          routes: [
            route('mirror.yml', { table: undefined, groupId: '' }),
            route('other.yml', { table: undefined, groupId: 'g2' }),
          ],
        },
      ],
    });
    expect(names(router.route(0, event('mytest', 'anything')))).toEqual(['mirror.yml']);
    expect(router.route(0, event('elsewhere', 'anything'))).toEqual([]);
  });

  it('replaces one sink instance’s routes and refuses an unknown sink', () => {
    const router = new Router({
      destination: 'example',
      groupId: 'g1',
      sinks: [{ key: 'rdb', routes: [route('a.yml')] }],
    });
    router.replaceRoutes('rdb', [route('b.yml')]);
    expect(names(router.route(0, event('mytest', 'user')))).toEqual(['b.yml']);
    expect(() => router.replaceRoutes('nope', [])).toThrow(/No sink instance "nope"/);
  });
});
