/**
 * The write-mode Lua scripts (src/scripts.ts) run by the testbed Redis itself, through EVAL:
 * every branch of `sluiceApply` and `sluiceEvictIf` with its exact effect on the value key, the
 * version key and their TTLs.
 *
 * Stryker cannot mutate Lua (for it the script is one string literal), so this file also does
 * what a mutation run would: hand-made mutants of the Lua text, each of which must make at least
 * one of the behaviour checks fail. A mutant that survives names a script branch no check pins.
 */
import type { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { uniqueName } from '../../../test/support/testbed.js';
import { APPLY_SCRIPT, EVICT_IF_SCRIPT } from '../src/scripts.js';
import { encodeVersion, versionKeyOf } from '../src/version.js';
import { testClient, wipe } from './helpers.js';

const client = testClient() as Redis;
const prefix = uniqueName('lua');
let serial = 0;

afterAll(async () => {
  await wipe(client, prefix);
  client.disconnect();
});

interface Scripts {
  readonly apply: string;
  readonly evictIf: string;
}

/** A fresh value key and its version key (same slot, as the sink builds them). */
function keys(): [string, string] {
  serial += 1;
  const key = `${prefix}:k${serial}`;
  return [key, versionKeyOf(key)];
}

/** A version of stream `source/0` at `offset`, row `index` (src/version.ts). */
function v(offset: number, index = 0, source = 'canal'): string {
  return encodeVersion({ source, partition: '0', offset: String(offset), index });
}

function apply(s: Scripts, k: [string, string], ...args: (string | number)[]): Promise<unknown> {
  return client.eval(s.apply, 2, k[0], k[1], ...args.map(String));
}

function evictIf(s: Scripts, k: [string, string], version: string): Promise<unknown> {
  return client.eval(s.evictIf, 2, k[0], k[1], version);
}

/** PTTL of a key: -2 missing, -1 no expiry, else ms left. */
const pttl = (key: string): Promise<number> => client.pttl(key);

/**
 * The behaviour of the scripts, one named check each. A check throws (an `expect` failure or a
 * Redis error raised by the script) when the scripts under test behave otherwise.
 */
const CHECKS: Record<string, (s: Scripts) => Promise<void>> = {
  'json: sets the value and the version, both without expiry, and returns 1': async (s) => {
    const k = keys();
    expect(await apply(s, k, 'json', v(5), 0, 0, '{"id":1}')).toBe(1);
    expect(await client.get(k[0])).toBe('{"id":1}');
    expect(await client.get(k[1])).toBe(v(5));
    expect(await pttl(k[0])).toBe(-1);
    expect(await pttl(k[1])).toBe(-1);
  },
  'json: valueTtlMs and versionTtlMs become the keys’ expiries': async (s) => {
    const k = keys();
    expect(await apply(s, k, 'json', v(5), 50_000, 90_000, 'x')).toBe(1);
    const [value, version] = [await pttl(k[0]), await pttl(k[1])];
    expect(value).toBeGreaterThan(40_000);
    expect(value).toBeLessThanOrEqual(50_000);
    expect(version).toBeGreaterThan(80_000);
    expect(version).toBeLessThanOrEqual(90_000);
  },
  'a newer version of the stream overwrites, and drops the older TTL': async (s) => {
    const k = keys();
    await apply(s, k, 'json', v(5), 50_000, 0, 'old');
    expect(await apply(s, k, 'json', v(6), 0, 0, 'new')).toBe(1);
    expect(await client.get(k[0])).toBe('new');
    expect(await pttl(k[0])).toBe(-1);
    expect(await client.get(k[1])).toBe(v(6));
  },
  'a later row of the same message (higher index) overwrites': async (s) => {
    const k = keys();
    await apply(s, k, 'json', v(5, 1), 0, 0, 'row 1');
    expect(await apply(s, k, 'json', v(5, 2), 0, 0, 'row 2')).toBe(1);
    expect(await client.get(k[0])).toBe('row 2');
  },
  'the same version again (a replay) changes nothing and returns 0': async (s) => {
    const k = keys();
    await apply(s, k, 'json', v(5), 0, 0, 'first');
    expect(await apply(s, k, 'json', v(5), 50_000, 0, 'second')).toBe(0);
    expect(await client.get(k[0])).toBe('first');
    expect(await pttl(k[0])).toBe(-1);
  },
  'an older version of the stream changes nothing and returns 0': async (s) => {
    const k = keys();
    await apply(s, k, 'json', v(9), 0, 0, 'newer');
    for (const older of [v(8), v(8, 5), v(1)]) {
      expect(await apply(s, k, 'del', older, 0, 0)).toBe(0);
      expect(await apply(s, k, 'hash', older, 0, 0, 'f', '1')).toBe(0);
    }
    expect(await client.get(k[0])).toBe('newer');
    expect(await client.get(k[1])).toBe(v(9));
  },
  'a version of another stream is not comparable: the write wins': async (s) => {
    const k = keys();
    await apply(s, k, 'json', v(9, 0, 'canal'), 0, 0, 'first stream');
    expect(await apply(s, k, 'json', v(1, 0, 'other'), 0, 0, 'second stream')).toBe(1);
    expect(await client.get(k[0])).toBe('second stream');
    expect(await client.get(k[1])).toBe(v(1, 0, 'other'));
  },
  'hash: replaces the whole hash (no field of the old row stays) and sets the version': async (
    s,
  ) => {
    const k = keys();
    await client.hset(k[0], 'gone', 'x', 'name', 'old');
    expect(await apply(s, k, 'hash', v(5), 0, 0, 'id', '1', 'name', 'Ann')).toBe(1);
    expect(await client.hgetall(k[0])).toEqual({ id: '1', name: 'Ann' });
    expect(await client.get(k[1])).toBe(v(5));
    expect(await pttl(k[0])).toBe(-1);
  },
  'hash: valueTtlMs becomes the hash’s expiry': async (s) => {
    const k = keys();
    expect(await apply(s, k, 'hash', v(5), 50_000, 0, 'id', '1')).toBe(1);
    expect(await pttl(k[0])).toBeGreaterThan(40_000);
    expect(await pttl(k[0])).toBeLessThanOrEqual(50_000);
  },
  'hash without fields: the value is deleted, not an error': async (s) => {
    const k = keys();
    await client.hset(k[0], 'a', '1');
    expect(await apply(s, k, 'hash', v(5), 50_000, 0)).toBe(1);
    expect(await client.exists(k[0])).toBe(0);
    expect(await client.get(k[1])).toBe(v(5));
  },
  'del: deletes the value and keeps the version as a tombstone with versionTtlMs': async (s) => {
    const k = keys();
    await apply(s, k, 'json', v(5), 0, 0, 'x');
    expect(await apply(s, k, 'del', v(6), 0, 60_000)).toBe(1);
    expect(await client.exists(k[0])).toBe(0);
    expect(await client.get(k[1])).toBe(v(6));
    expect(await pttl(k[1])).toBeGreaterThan(50_000);
    expect(await pttl(k[1])).toBeLessThanOrEqual(60_000);
    // The tombstone keeps an older write (a replay from before the delete) out.
    expect(await apply(s, k, 'json', v(5), 0, 0, 'x')).toBe(0);
    expect(await client.exists(k[0])).toBe(0);
  },
  'etl json: written where the key has no version, without setting one': async (s) => {
    const k = keys();
    await client.set(k[0], 'stale cache entry');
    expect(await apply(s, k, 'etl', v(5), 50_000, 0, 'json', '{"id":1}')).toBe(1);
    expect(await client.get(k[0])).toBe('{"id":1}');
    expect(await pttl(k[0])).toBeGreaterThan(40_000);
    expect(await client.exists(k[1])).toBe(0);
    // Any event overwrites what the ETL wrote, even an "older" one.
    expect(await apply(s, k, 'json', v(1), 0, 0, 'event')).toBe(1);
    expect(await client.get(k[0])).toBe('event');
  },
  'etl hash: the pairs after the format, the old fields gone, no version set': async (s) => {
    const k = keys();
    await client.hset(k[0], 'gone', 'x');
    expect(await apply(s, k, 'etl', v(5), 0, 0, 'hash', 'id', '1', 'name', 'Bo')).toBe(1);
    expect(await client.hgetall(k[0])).toEqual({ id: '1', name: 'Bo' });
    expect(await pttl(k[0])).toBe(-1);
    expect(await client.exists(k[1])).toBe(0);
  },
  'etl never overwrites a key an event wrote or deleted (it has a version)': async (s) => {
    const k = keys();
    await apply(s, k, 'json', v(1), 0, 0, 'event');
    expect(await apply(s, k, 'etl', v(9), 0, 0, 'json', 'etl')).toBe(0);
    expect(await client.get(k[0])).toBe('event');
    const d = keys();
    await apply(s, d, 'del', v(1), 0, 0);
    expect(await apply(s, d, 'etl', v(9), 0, 0, 'hash', 'id', '1')).toBe(0);
    expect(await client.exists(d[0])).toBe(0);
    expect(await client.get(d[1])).toBe(v(1));
  },
  'evictIf: deletes the value while the version key holds the tombstone, returns 1': async (s) => {
    const k = keys();
    await client.set(k[0], 'stale');
    await client.set(k[1], v(5));
    expect(await evictIf(s, k, v(5))).toBe(1);
    expect(await client.exists(k[0])).toBe(0);
    expect(await client.get(k[1])).toBe(v(5));
  },
  'evictIf: leaves a newer write (or a missing version) alone, returns 0': async (s) => {
    const k = keys();
    await client.set(k[0], 'newer');
    await client.set(k[1], v(6));
    expect(await evictIf(s, k, v(5))).toBe(0);
    expect(await client.get(k[0])).toBe('newer');
    const m = keys();
    await client.set(m[0], 'no version');
    expect(await evictIf(s, m, v(5))).toBe(0);
    expect(await client.get(m[0])).toBe('no version');
  },
};

const REAL: Scripts = { apply: APPLY_SCRIPT, evictIf: EVICT_IF_SCRIPT };

describe('write-mode scripts on Redis', () => {
  for (const [name, check] of Object.entries(CHECKS)) it(name, () => check(REAL));
});

/**
 * Hand-made mutants of the Lua text: `from` (which must occur exactly once in the script) is
 * replaced by `to`. Each changes what the script does to the keyspace. Not listed: `format ==
 * 'del'` made false, which is equivalent: a `del` then falls to the hash branch, which deletes the
 * value and, with no field pairs in ARGV, writes nothing (the same effect).
 */
const MUTANTS: readonly { script: keyof Scripts; from: string; to: string }[] = [
  { script: 'apply', from: 'if stored then return 0 end', to: 'if false then return 0 end' },
  { script: 'apply', from: 'elseif stored then', to: 'elseif false then' },
  {
    script: 'apply',
    from: "if op == 'etl' then\n  if stored",
    to: "if op == 'xetl' then\n  if stored",
  },
  { script: 'apply', from: 'if sl > tail and vl > tail', to: 'if sl > tail or vl > tail' },
  {
    script: 'apply',
    from: '== string.sub(version, 1, vl - tail)',
    to: '~= string.sub(version, 1, vl - tail)',
  },
  {
    script: 'apply',
    from: '>= string.sub(version, vl - tail + 1)',
    to: '> string.sub(version, vl - tail + 1)',
  },
  {
    script: 'apply',
    from: '>= string.sub(version, vl - tail + 1)',
    to: '<= string.sub(version, vl - tail + 1)',
  },
  {
    script: 'apply',
    from: 'string.sub(stored, sl - tail + 1)',
    to: 'string.sub(stored, sl - tail + 2)',
  },
  { script: 'apply', from: 'string.sub(stored, 1, sl - tail)', to: 'string.sub(stored, 1, sl)' },
  { script: 'apply', from: "if op == 'etl' then format = ARGV[5] end", to: '' },
  { script: 'apply', from: "elseif format == 'json' then", to: "elseif format == 'hash' then" },
  { script: 'apply', from: "if op == 'etl' then payload = ARGV[6] end", to: '' },
  {
    script: 'apply',
    from: "redis.call('SET', KEYS[1], payload, 'PX', valueTtl)",
    to: "redis.call('SET', KEYS[1], payload)",
  },
  {
    script: 'apply',
    from: "if valueTtl > 0 then\n    redis.call('SET'",
    to: "if valueTtl >= 0 then\n    redis.call('SET'",
  },
  { script: 'apply', from: 'local first = 5', to: 'local first = 6' },
  { script: 'apply', from: "if op == 'etl' then first = 6 end", to: '' },
  {
    script: 'apply',
    from: "  redis.call('DEL', KEYS[1])\n  if #ARGV",
    to: '  if #ARGV',
  },
  { script: 'apply', from: 'if #ARGV >= first + 1 then', to: 'if true then' },
  {
    script: 'apply',
    from: "if valueTtl > 0 then redis.call('PEXPIRE', KEYS[1], valueTtl) end",
    to: '',
  },
  { script: 'apply', from: "if op == 'etl' then return 1 end", to: '' },
  {
    script: 'apply',
    from: "redis.call('SET', KEYS[2], version, 'PX', versionTtl)",
    to: "redis.call('SET', KEYS[2], version)",
  },
  { script: 'apply', from: "else\n  redis.call('SET', KEYS[2], version)\n", to: 'else\n' },
  { script: 'apply', from: 'end\nreturn 1\n', to: 'end\nreturn 0\n' },
  { script: 'evictIf', from: '== ARGV[1] then', to: '~= ARGV[1] then' },
  { script: 'evictIf', from: "return redis.call('DEL', KEYS[1])", to: 'return 1' },
];

/** The names of the checks the scripts fail. */
async function failures(s: Scripts): Promise<string[]> {
  const out: string[] = [];
  for (const [name, check] of Object.entries(CHECKS)) {
    try {
      await check(s);
    } catch {
      out.push(name);
    }
  }
  return out;
}

function mutantOf(m: (typeof MUTANTS)[number]): Scripts {
  const original = REAL[m.script];
  // The mutation must still apply: an edit of the script must move the mutant too.
  expect(original.split(m.from), `"${m.from}" once in ${m.script}`).toHaveLength(2);
  return { ...REAL, [m.script]: original.replace(m.from, m.to) };
}

describe('hand-made mutants of the scripts', () => {
  for (const m of MUTANTS) {
    it(`${m.script}: ${JSON.stringify(m.from)} → ${JSON.stringify(m.to)} is caught`, async () => {
      expect(await failures(mutantOf(m))).not.toEqual([]);
    });
  }
  it('every check catches at least one mutant', async () => {
    const caught = new Set<string>();
    for (const m of MUTANTS) for (const name of await failures(mutantOf(m))) caught.add(name);
    expect(Object.keys(CHECKS).filter((name) => !caught.has(name))).toEqual([]);
  });
});
