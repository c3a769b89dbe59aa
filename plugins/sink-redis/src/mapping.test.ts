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

describe('compileMapping', () => {
  it('every setting, with modes and formats in any case, ms from seconds; compiled once per object', () => {
    const m = file({
      mode: 'WRITE' as RedisMapping['mode'],
      format: 'Hash' as RedisMapping['format'],
      keys: ['user:{id}'],
      evictKeys: ['user:email:{email}'],
      columns: { id: '', mail: 'email', name: null as unknown as string },
      ttl: 5,
      tombstoneTtl: 7,
      delayedEviction: 250,
      condition: { changedColumns: ['email'], ignoredColumns: ['updated_at'] },
      etlCondition: 'where id > {}',
      readBatch: 10,
    }).redisMapping!;
    const c = compileMapping(m);
    expect({ ...c, keys: c.keys.map((k) => k.columns), evictKeys: c.evictKeys.length }).toEqual({
      mode: 'write',
      keys: [['id']],
      evictKeys: 1,
      format: 'hash',
      fields: [
        ['id', 'id'],
        ['mail', 'email'],
        ['name', 'name'],
      ],
      ttlMs: 5000,
      tombstoneTtlMs: 7000,
      delayMs: 250,
      changedColumns: new Set(['email']),
      ignoredColumns: new Set(['updated_at']),
      keyColumns: new Set(['id', 'email']),
      etlCondition: 'where id > {}',
      readBatch: 10,
    });
    expect(compileMapping(m)).toBe(c);
  });

  it('defaults: evict, json, every column, no keys, no conditions, no ETL condition', () => {
    const c = compileMapping(
      file({
        mode: 'Evict' as RedisMapping['mode'],
        format: 'JSON' as RedisMapping['format'],
        keys: undefined,
        etlCondition: '',
      }).redisMapping!,
    );
    expect(c).toMatchObject({ mode: 'evict', format: 'json', fields: undefined, keys: [] });
    expect([c.evictKeys, c.changedColumns, c.ignoredColumns, c.keyColumns]).toEqual([
      [],
      new Set(),
      new Set(),
      new Set(),
    ]);
    expect(c.etlCondition).toBeUndefined();
    expect(
      compileMapping(
        file({ mode: 'other' as RedisMapping['mode'], format: 'other' as RedisMapping['format'] })
          .redisMapping!,
      ),
    ).toMatchObject({
      mode: 'evict',
      format: 'json',
    });
  });
});

describe('checkRedisMapping, problem by problem', () => {
  const check = (m: Partial<RedisMapping>) => checkRedisMapping(file(m));

  it('a key template without a placeholder: an error in keys, a warning in evictKeys', () => {
    const constant = (severity: string, path: string[]) => ({
      severity,
      path,
      message: '"all" has no {column} placeholder: every row maps to the same key.',
      suggestion: 'add a placeholder such as {id}',
    });
    expect(check({ keys: ['user:{id}', 'all'], evictKeys: ['all'] })).toEqual([
      constant('error', ['redisMapping', 'keys', '1']),
      constant('warning', ['redisMapping', 'evictKeys', '0']),
    ]);
  });

  it('literal braces that make no valid Redis Cluster hash tag', () => {
    const warning = (source: string) => ({
      severity: 'warning',
      path: ['redisMapping', 'keys', '0'],
      message: `"${source}" has literal braces but no valid hash tag; in Redis Cluster its keys are hashed whole.`,
    });
    expect(check({ keys: ['user:{{}}:{id}'] })).toEqual([warning('user:{{}}:{id}')]);
    expect(check({ keys: ['user}}:{id}'] })).toEqual([warning('user}}:{id}')]);
    // A tag of literal text, or around a placeholder (the column's value is the tag): fine.
    expect(check({ keys: ['user:{{shard}}:{id}'] })).toEqual([]);
    expect(check({ keys: ['user:{{{id}}}'] })).toEqual([]);
  });

  it('write-mode options in evict mode are warnings; none in write mode', () => {
    const misplaced = (key: string) => ({
      severity: 'warning',
      path: ['redisMapping', key],
      message: `"${key}" applies to mode: write only; evict mode ignores it.`,
    });
    const options = { columns: { id: '' }, etlCondition: 'where 1', ttl: 5 };
    expect(check({ mode: 'evict', ...options })).toEqual([
      misplaced('columns'),
      misplaced('etlCondition'),
      misplaced('ttl'),
    ]);
    expect(check({ mode: 'Write' as RedisMapping['mode'], ...options })).toEqual([]);
    // Unset mode (a file the schema refused): evict.
    const unset = { ...file(options).redisMapping!, mode: undefined } as unknown as RedisMapping;
    expect(checkRedisMapping({ redisMapping: unset })).toHaveLength(3);
  });

  it('changedColumns and ignoredColumns together are an error; either alone is fine', () => {
    expect(check({ condition: { changedColumns: ['a'], ignoredColumns: ['b'] } })).toEqual([
      {
        severity: 'error',
        path: ['redisMapping', 'condition'],
        message: 'Set changedColumns or ignoredColumns, not both.',
      },
    ]);
    expect(check({ condition: { changedColumns: ['a'] } })).toEqual([]);
    expect(check({ condition: { ignoredColumns: ['b'] } })).toEqual([]);
    expect(check({ condition: { changedColumns: [], ignoredColumns: ['b'] } })).toEqual([]);
  });

  it('a file without redisMapping, or without a table, names no table and reports nothing', () => {
    expect(redisTables({} as RedisMappingFile)).toEqual([]);
    expect(redisTables(file({ table: '' }))).toEqual([]);
    expect(checkRedisMapping({} as RedisMappingFile)).toEqual([]);
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
