import { EventBuilder } from '@sluice/testkit';
import { describe, expect, it } from 'vitest';
import { checkRedisMapping, compileMapping, redisTables } from './mapping.js';
import type { RedisMapping, RedisMappingFile } from './mappingSchema.js';
import { parseScheduleMember, planEvent, updateActs } from './plan.js';

const file = (m: Partial<RedisMapping>): RedisMappingFile => ({
  redisMapping: {
    database: 'shop',
    table: 'users',
    keys: ['user:{id}'],
    mode: 'evict',
    format: 'json',
    ttl: 0,
    tombstoneTtl: 86_400,
    delayedEviction: 0,
    readBatch: 1000,
    ...m,
  },
});

describe('mapping check and tables', () => {
  it('names its table', () => {
    expect(redisTables(file({}))).toEqual([{ database: 'shop', table: 'users' }]);
    expect(redisTables(file({ database: '' }))).toEqual([{ database: undefined, table: 'users' }]);
  });

  it('reports bad templates, constant keys, misplaced options, conflicting conditions', () => {
    expect(checkRedisMapping(file({}))).toEqual([]);
    const problems = checkRedisMapping(
      file({
        keys: ['user:{id', 'all-users'],
        evictKeys: ['{{x}'],
        ttl: 5,
        condition: { changedColumns: ['a'], ignoredColumns: ['b'] },
      }),
    );
    expect(problems.map((p) => `${p.severity} ${p.path.join('.')}`)).toEqual([
      'error redisMapping.keys.0',
      'error redisMapping.keys.1',
      'error redisMapping.evictKeys.0',
      'warning redisMapping.ttl',
      'error redisMapping.condition',
    ]);
  });
});

describe('plan', () => {
  const ev = new EventBuilder({ database: 'shop' });
  const opts = { prefix: 'p:', scheduleKey: 'p:sched', now: 1000 };
  const a = { id: '1', email: 'a@x', updated_at: '1' };

  it('evicts old and new keys when a key column changes; skips updated_at-only updates', () => {
    const m = compileMapping(
      file({
        keys: ['user:{id}', 'user:email:{email}'],
        condition: { ignoredColumns: ['updated_at'] },
      }).redisMapping,
    );
    const moved = planEvent(ev.update('users', a, { ...a, email: 'b@x' }), m, opts);
    expect(moved.map((c) => `${c.kind} ${c.key}`)).toEqual([
      'unlink p:user:1',
      'unlink p:user:email:a@x',
      'unlink p:user:email:b@x',
    ]);
    const touch = ev.update('users', a, { ...a, updated_at: '2' });
    expect(updateActs(touch, m)).toBe(false);
    expect(planEvent(touch, m, opts)).toEqual([]);
    // A key column among the changes always acts, whatever the condition says.
    const m2 = compileMapping(
      file({ keys: ['user:{id}'], condition: { changedColumns: ['name'] } }).redisMapping,
    );
    expect(updateActs(ev.update('users', a, { ...a, id: '2' }), m2)).toBe(true);
    expect(updateActs(ev.update('users', a, { ...a, email: 'q' }), m2)).toBe(false);
  });

  it('write mode: tombstones keys the new image no longer has, writes the others, schedules delayed evictions', () => {
    const m = compileMapping(
      file({
        mode: 'write',
        keys: ['user:{id}', 'user:email:{email}'],
        evictKeys: ['list'],
        delayedEviction: 500,
      }).redisMapping,
    );
    const plan = planEvent(ev.update('users', a, { ...a, email: 'b@x' }), m, opts);
    const describe = (member: string) => {
      const parsed = parseScheduleMember(member)!;
      return `${member.split('|')[0]} ${parsed.key} ${parsed.version ? 'if-still-deleted' : ''}`;
    };
    expect(
      plan.map(
        (c) =>
          `${c.kind} ${c.key} ${c.kind === 'apply' ? c.args[0] : c.kind === 'schedule' ? describe(c.member) : ''}`,
      ),
    ).toEqual([
      'apply p:user:email:a@x del',
      'apply p:user:1 json',
      'apply p:user:email:b@x json',
      'unlink p:list ',
      'schedule p:sched 1500 p:user:email:a@x if-still-deleted',
      'schedule p:sched 1500 p:list ',
    ]);
  });

  it('rejects an event whose key column is missing from the image, skips keys of NULL columns', () => {
    const m = compileMapping(file({ keys: ['user:email:{email}'] }).redisMapping);
    expect(() => planEvent(ev.insert('users', { id: '1' }), m, opts)).toThrow(
      /"email".*not in the after image/,
    );
    expect(planEvent(ev.insert('users', { id: '1', email: null }), m, opts)).toEqual([]);
  });
});
