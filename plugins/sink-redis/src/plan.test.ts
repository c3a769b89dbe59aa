import { EventBuilder } from '@sluice/testkit';
import { PermanentEventError } from '@sluice/plugin-api';
import { describe, expect, it } from 'vitest';
import { compileMapping } from './mapping.js';
import type { RedisMapping } from './mappingSchema.js';
import {
  parseScheduleMember,
  planEvent,
  scheduleMember,
  updateActs,
  type Command,
} from './plan.js';

const mapping = (m: Partial<RedisMapping>) =>
  compileMapping({
    database: 'shop',
    table: 'users',
    keys: ['user:{id}'],
    mode: 'evict',
    format: 'json',
    ttl: 0,
    tombstoneTtl: 60,
    delayedEviction: 0,
    readBatch: 1000,
    ...m,
  });
const opts = { prefix: 'p:', scheduleKey: 'p:sched', now: 1000 };
/** The version of the builder's n-th event (offset n, index 0): `test/0@<20 digits><10 digits>`. */
const v = (offset: number, index = 0) =>
  `test/0@${String(offset).padStart(20, '0')}${String(index).padStart(10, '0')}`;
const a = { id: '1', email: 'a@x', name: 'ann' };

describe('scheduleMember / parseScheduleMember', () => {
  it('writes `<dueMs>|<JSON [key]>` or `<dueMs>|<JSON [key, version]>` and reads it back', () => {
    expect(scheduleMember(1500, 'p:user:1')).toBe('1500|["p:user:1"]');
    expect(scheduleMember(1500, 'p:user:1', 'v1')).toBe('1500|["p:user:1","v1"]');
    expect(parseScheduleMember('1500|["p:user:1"]')).toEqual({
      key: 'p:user:1',
      version: undefined,
    });
    expect(parseScheduleMember('1500|["p:user:1","v1"]')).toEqual({
      key: 'p:user:1',
      version: 'v1',
    });
    // Only the first "|" separates the due time: keys may contain "|".
    expect(parseScheduleMember(scheduleMember(7, 'a|b', 'c|d'))).toEqual({
      key: 'a|b',
      version: 'c|d',
    });
  });

  it('a malformed member is undefined, never a guessed key', () => {
    expect(parseScheduleMember('1500|not json')).toBeUndefined();
    expect(parseScheduleMember('1500|{"key":"k"}')).toBeUndefined();
    expect(parseScheduleMember('1500|[]')).toBeUndefined();
    expect(parseScheduleMember('1500|[42]')).toBeUndefined();
    expect(parseScheduleMember('1500|["k",42]')).toEqual({ key: 'k', version: undefined });
  });
});

describe('updateActs', () => {
  const ev = new EventBuilder({ database: 'shop' });
  const upd = (changes: Record<string, string>) => ev.update('users', a, { ...a, ...changes });

  it('INSERT and DELETE always act, whatever the condition', () => {
    const m = mapping({ condition: { changedColumns: ['name'], ignoredColumns: [] } });
    expect(updateActs(ev.insert('users', a), m)).toBe(true);
    expect(updateActs(ev.delete('users', a), m)).toBe(true);
  });

  it('an UPDATE without a list of changed columns acts', () => {
    const m = mapping({ condition: { changedColumns: ['name'] } });
    expect(updateActs({ ...upd({ email: 'b' }), changed: [] }, m)).toBe(true);
  });

  it('changedColumns: acts only when one of them (or a key column) changed', () => {
    const m = mapping({ keys: ['user:{id}'], condition: { changedColumns: ['name', 'email'] } });
    expect(updateActs(upd({ name: 'bob' }), m)).toBe(true);
    expect(updateActs(upd({ email: 'b' }), m)).toBe(true);
    expect(updateActs(upd({ id: '2' }), m)).toBe(true);
    const n = mapping({ keys: ['user:{id}'], condition: { changedColumns: ['name'] } });
    expect(updateActs(upd({ email: 'b' }), n)).toBe(false);
  });

  it('ignoredColumns: skipped only when every changed column is ignored', () => {
    const m = mapping({ condition: { ignoredColumns: ['name', 'email'] } });
    expect(updateActs(upd({ name: 'bob', email: 'b' }), m)).toBe(false);
    expect(updateActs(upd({ name: 'bob' }), m)).toBe(false);
    const n = mapping({ condition: { ignoredColumns: ['name'] } });
    expect(updateActs(upd({ name: 'bob', email: 'b' }), n)).toBe(true);
    expect(updateActs(upd({ email: 'b' }), n)).toBe(true);
  });

  it('a key column of evictKeys counts as a key column too', () => {
    const m = mapping({
      evictKeys: ['by-email:{email}'],
      condition: { ignoredColumns: ['email'] },
    });
    expect(updateActs(upd({ email: 'b' }), m)).toBe(true);
  });

  it('acts when any changed column is a key column or a changedColumns entry, not all', () => {
    const m = mapping({ keys: ['user:{id}'], condition: { changedColumns: ['name'] } });
    expect(updateActs(upd({ id: '2', email: 'b' }), m)).toBe(true);
    expect(updateActs(upd({ name: 'bob', email: 'b' }), m)).toBe(true);
  });

  it('no condition: every UPDATE acts', () => {
    expect(updateActs(upd({ name: 'bob' }), mapping({}))).toBe(true);
  });
});

const show = (plan: readonly Command[]) =>
  plan.map((c) => {
    switch (c.kind) {
      case 'unlink':
        return `unlink ${c.key}`;
      case 'apply':
        return `apply ${c.key} ${c.versionKey} ${JSON.stringify(c.args)}`;
      case 'schedule':
        return `schedule ${c.key} ${c.dueMs} ${c.member}`;
      case 'evictIf':
        return `evictIf ${c.key} ${c.versionKey} ${c.version}`;
    }
  });

describe('planEvent, evict mode', () => {
  it('INSERT unlinks the keys of the after image, DELETE those of the before image', () => {
    const ev = new EventBuilder({ database: 'shop' });
    const m = mapping({ keys: ['user:{id}', 'by-email:{email}'], evictKeys: ['count:{name}'] });
    expect(show(planEvent(ev.insert('users', a), m, opts))).toEqual([
      'unlink p:count:ann',
      'unlink p:user:1',
      'unlink p:by-email:a@x',
    ]);
    expect(show(planEvent(ev.delete('users', { ...a, id: '2' }), m, opts))).toEqual([
      'unlink p:count:ann',
      'unlink p:user:2',
      'unlink p:by-email:a@x',
    ]);
  });

  it('an UPDATE unlinks each key of both images once', () => {
    const ev = new EventBuilder({ database: 'shop' });
    const m = mapping({ keys: ['user:{id}'], evictKeys: ['count:{name}'] });
    expect(show(planEvent(ev.update('users', a, { ...a, name: 'bob' }), m, opts))).toEqual([
      'unlink p:count:ann',
      'unlink p:count:bob',
      'unlink p:user:1',
    ]);
  });

  it('delayedEviction schedules a second eviction of every unlinked key at now + delay', () => {
    const ev = new EventBuilder({ database: 'shop' });
    const m = mapping({ delayedEviction: 250 });
    expect(show(planEvent(ev.insert('users', a), m, opts))).toEqual([
      'unlink p:user:1',
      'schedule p:sched 1250 1250|["p:user:1"]',
    ]);
  });

  it('a key column missing from the before image is a PermanentEventError naming it', () => {
    const ev = new EventBuilder({ database: 'shop' });
    const m = mapping({ keys: ['user:{id}'] });
    const del = ev.delete('users', { email: 'a@x' });
    expect(() => planEvent(del, m, opts)).toThrow(PermanentEventError);
    expect(() => planEvent(del, m, opts)).toThrow(
      'Column "id" of key template "user:{id}" is not in the before image of the event, so the key cannot be computed.',
    );
  });
});

describe('planEvent, write mode', () => {
  it('INSERT writes the JSON row under a versioned key in the same slot', () => {
    const ev = new EventBuilder({ database: 'shop' });
    const m = mapping({ mode: 'write' });
    expect(show(planEvent(ev.insert('users', a), m, opts))).toEqual([
      `apply p:user:1 {p:user:1}:sluice-version ${JSON.stringify(['json', v(1), 0, 0, JSON.stringify(a)])}`,
    ]);
  });

  it('ttl: values expire after ttl, versions after the longer of ttl and tombstoneTtl', () => {
    const ev = new EventBuilder({ database: 'shop' });
    const short = mapping({ mode: 'write', ttl: 5, tombstoneTtl: 60 });
    expect(planEvent(ev.insert('users', a), short, opts)[0]).toMatchObject({
      args: ['json', v(1), 5000, 60_000, JSON.stringify(a)],
    });
    const long = mapping({ mode: 'write', ttl: 120, tombstoneTtl: 60 });
    expect(planEvent(ev.insert('users', a), long, opts)[0]).toMatchObject({
      args: ['json', v(2), 120_000, 120_000, JSON.stringify(a)],
    });
  });

  it('hash format with projected fields: field/value pairs of the after image', () => {
    const ev = new EventBuilder({ database: 'shop' });
    const m = mapping({ mode: 'write', format: 'hash', columns: { mail: 'email', name: '' } });
    expect(planEvent(ev.insert('users', a), m, opts)).toEqual([
      {
        kind: 'apply',
        key: 'p:user:1',
        versionKey: '{p:user:1}:sluice-version',
        args: ['hash', v(1), 0, 0, 'mail', 'a@x', 'name', 'ann'],
      },
    ]);
  });

  it('DELETE tombstones the old keys for tombstoneTtl, with a conditional delayed eviction', () => {
    const ev = new EventBuilder({ database: 'shop' });
    const m = mapping({ mode: 'write', evictKeys: ['list'], delayedEviction: 500 });
    expect(show(planEvent(ev.delete('users', a), m, opts))).toEqual([
      `apply p:user:1 {p:user:1}:sluice-version ${JSON.stringify(['del', v(1), 0, 60_000])}`,
      'unlink p:list',
      `schedule p:sched 1500 1500|${JSON.stringify(['p:user:1', v(1)])}`,
      'schedule p:sched 1500 1500|["p:list"]',
    ]);
  });

  it('an UPDATE that keeps its keys writes them and tombstones nothing; no delay, no schedule', () => {
    const ev = new EventBuilder({ database: 'shop' });
    const m = mapping({ mode: 'write', keys: ['user:{id}'], columns: { name: '' } });
    expect(show(planEvent(ev.update('users', a, { ...a, name: 'bob' }), m, opts))).toEqual([
      `apply p:user:1 {p:user:1}:sluice-version ${JSON.stringify(['json', v(1), 0, 0, '{"name":"bob"}'])}`,
    ]);
  });

  it('a value that cannot be built is a PermanentEventError with the reason', () => {
    const ev = new EventBuilder({
      database: 'shop',
      columns: { id: { mysqlType: 'int', sqlType: 4 } },
    });
    const m = mapping({ mode: 'write' });
    const bad = ev.insert('users', { ...a, id: 'x' });
    // The key renders ("p:user:x"), the typed JSON value does not.
    expect(() => planEvent(bad, m, opts)).toThrow(PermanentEventError);
    expect(() => planEvent(bad, m, opts)).toThrow(/^The value cannot be built: .*"x"/);
    const projected = mapping({ mode: 'write', columns: { phone: '' } });
    expect(() => planEvent(ev.insert('users', a), projected, opts)).toThrow(
      'The value cannot be built: Column "phone" is not in the row image.',
    );
    const badOffset = ev.insert('users', a, { offset: '-1' });
    expect(() => planEvent(badOffset, m, opts)).toThrow(
      'The value cannot be built: Event offset "-1" is not an unsigned 64-bit decimal.',
    );
  });

  it('a DELETE needs no value: its projected columns may be missing', () => {
    const ev = new EventBuilder({ database: 'shop' });
    const m = mapping({ mode: 'write', columns: { phone: '' } });
    expect(show(planEvent(ev.delete('users', a), m, opts))).toEqual([
      `apply p:user:1 {p:user:1}:sluice-version ${JSON.stringify(['del', v(1), 0, 60_000])}`,
    ]);
  });

  it('an UPDATE skipped by the condition plans nothing', () => {
    const ev = new EventBuilder({ database: 'shop' });
    const m = mapping({ mode: 'write', condition: { ignoredColumns: ['name'] } });
    expect(planEvent(ev.update('users', a, { ...a, name: 'bob' }), m, opts)).toEqual([]);
  });

  it('names the image a key column is missing from, for keys and evictKeys', () => {
    const ev = new EventBuilder({ database: 'shop' });
    const evict = mapping({ keys: [], evictKeys: ['count:{name}'] });
    expect(() => planEvent(ev.insert('users', { id: '1' }), evict, opts)).toThrow(
      /"name" of key template "count:\{name\}" is not in the after image/,
    );
    expect(() => planEvent(ev.delete('users', { id: '1' }), evict, opts)).toThrow(
      /"name" of key template "count:\{name\}" is not in the before image/,
    );
    const write = mapping({ mode: 'write', keys: ['by-email:{email}'] });
    expect(() => planEvent(ev.insert('users', { id: '1' }), write, opts)).toThrow(
      /"email" of key template "by-email:\{email\}" is not in the after image/,
    );
    expect(() => planEvent(ev.delete('users', { id: '1' }), write, opts)).toThrow(
      /"email" of key template "by-email:\{email\}" is not in the before image/,
    );
  });

  it('keeps the cause of a value error; a defect (TypeError) is not turned into a bad event', () => {
    const ev = new EventBuilder({
      database: 'shop',
      columns: { id: { mysqlType: 'int', sqlType: 4 } },
    });
    const m = mapping({ mode: 'write' });
    let error: unknown;
    try {
      planEvent(ev.insert('users', { ...a, id: 'x' }), m, opts);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(PermanentEventError);
    expect((error as Error).cause).toBeInstanceOf(Error);
    expect(((error as Error).cause as Error).message).toMatch(/"x"/);
    const broken = { ...ev.insert('users', a), position: undefined } as unknown as Parameters<
      typeof planEvent
    >[0];
    expect(() => planEvent(broken, m, opts)).toThrow(TypeError);
  });
});
