/**
 * A cache-invalidation scenario: users and orders change (key-column changes, deletes, inserts,
 * a unique column moving between rows, orders moving between users, updated_at-only updates)
 * while an "application" keeps re-populating the cache from the source rows (cache-aside,
 * including negative entries). At the end every key in the keyspace must match the source rows.
 */
import type { ChangeEvent, MappingFile, RowImage } from '@sluice/plugin-api';
import { EventBuilder } from '@sluice/testkit';
import type { Cluster, Redis } from 'ioredis';
import type { RedisMappingFile } from '../src/index.js';
import { jsonValue } from '../src/rowValue.js';
import { keysUnder, mappingFile } from './helpers.js';

export type Row = Record<string, string>;

/** A small seeded PRNG (mulberry32), so a failing scenario replays exactly. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface ScenarioMappings {
  readonly users: MappingFile<RedisMappingFile>;
  readonly orders: MappingFile<RedisMappingFile>;
}

/** The two mappings of the scenario in `mode`. */
export function scenarioMappings(mode: 'evict' | 'write', delayedEviction = 0): ScenarioMappings {
  return {
    users: mappingFile(
      {
        database: 'shop',
        table: 'users',
        mode,
        keys: ['user:{id}', 'user:email:{email}', '{{user:{id}}}:profile'],
        condition: { ignoredColumns: ['updated_at'] },
        delayedEviction,
      },
      'users.yml',
    ),
    orders: mappingFile(
      {
        database: 'shop',
        table: 'orders',
        mode,
        keys: ['order:{id}'],
        evictKeys: ['orders:by_user:{user_id}'],
        delayedEviction,
      },
      'orders.yml',
    ),
  };
}

const USERS = 20;
const ORDERS = 40;

/** The source tables and the event stream that produced them. */
export class Scenario {
  readonly users = new Map<string, Row>();
  readonly orders = new Map<string, Row>();
  readonly events: ChangeEvent[] = [];
  readonly #ev = new EventBuilder({ destination: 'shop', database: 'shop' });
  readonly #random: () => number;
  #nextId = 1000;
  #clock = 0;

  constructor(seed: number) {
    this.#random = rng(seed);
  }

  #pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.#random() * items.length)]!;
  }

  #freeEmail(): string {
    const used = new Set([...this.users.values()].map((u) => u['email']));
    for (;;) {
      const e = `u${Math.floor(this.#random() * (USERS + 6))}@example.com`;
      if (!used.has(e)) return e;
    }
  }

  #emit(e: ChangeEvent): ChangeEvent {
    this.events.push(e);
    return e;
  }

  insertUser(id: string): ChangeEvent {
    const row: Row = {
      id,
      email: this.#freeEmail(),
      name: `n${id}`,
      updated_at: String(this.#clock++),
    };
    this.users.set(id, row);
    return this.#emit(this.#ev.insert('users', row));
  }

  insertOrder(id: string, userId: string): ChangeEvent {
    const row: Row = { id, user_id: userId, total: String(Math.floor(this.#random() * 100)) };
    this.orders.set(id, row);
    return this.#emit(this.#ev.insert('orders', row));
  }

  /** The initial rows. */
  seed(): ChangeEvent[] {
    const out: ChangeEvent[] = [];
    for (let i = 1; i <= USERS; i++) out.push(this.insertUser(String(i)));
    for (let i = 1; i <= ORDERS; i++)
      out.push(this.insertOrder(String(i), this.#pick([...this.users.keys()])));
    return out;
  }

  #update(table: 'users' | 'orders', before: Row, after: Row): ChangeEvent {
    const rows = table === 'users' ? this.users : this.orders;
    rows.delete(before['id']!);
    rows.set(after['id']!, after);
    return this.#emit(this.#ev.update(table, before, after));
  }

  /** One random change. */
  change(): ChangeEvent {
    const r = this.#random();
    const userIds = [...this.users.keys()];
    const orderIds = [...this.orders.keys()];
    if (r < 0.12 && userIds.length > 3) {
      const u = this.users.get(this.#pick(userIds))!;
      this.users.delete(u['id']!);
      return this.#emit(this.#ev.delete('users', u));
    }
    if (r < 0.22) return this.insertUser(String(this.#nextId++));
    if (r < 0.34 && userIds.length > 0) {
      const u = this.users.get(this.#pick(userIds))!;
      return this.#update('users', u, {
        ...u,
        email: this.#freeEmail(),
        updated_at: String(this.#clock++),
      });
    }
    if (r < 0.42 && userIds.length > 0) {
      // A primary-key change.
      const u = this.users.get(this.#pick(userIds))!;
      return this.#update('users', u, { ...u, id: String(this.#nextId++) });
    }
    if (r < 0.52 && userIds.length > 0) {
      const u = this.users.get(this.#pick(userIds))!;
      return this.#update('users', u, { ...u, updated_at: String(this.#clock++) });
    }
    if (r < 0.6 && userIds.length > 0) {
      const u = this.users.get(this.#pick(userIds))!;
      return this.#update('users', u, {
        ...u,
        name: `${u['name']}'`,
        updated_at: String(this.#clock++),
      });
    }
    if (r < 0.72 && orderIds.length > 0) {
      // An order moves to another user: both users' derived lists change.
      const o = this.orders.get(this.#pick(orderIds))!;
      return this.#update('orders', o, { ...o, user_id: this.#pick([...userIds, '99999']) });
    }
    if (r < 0.8 && orderIds.length > 0) {
      const o = this.orders.get(this.#pick(orderIds))!;
      this.orders.delete(o['id']!);
      return this.#emit(this.#ev.delete('orders', o));
    }
    if (r < 0.9 && orderIds.length > 0) {
      const o = this.orders.get(this.#pick(orderIds))!;
      return this.#update('orders', o, { ...o, total: String(Number(o['total']) + 1) });
    }
    return this.insertOrder(String(this.#nextId++), this.#pick([...userIds, '99999']));
  }

  /** The cached value the application would build for `key` (without the prefix) now. */
  expected(key: string): string | undefined {
    const json = (row: Row | undefined) =>
      row ? jsonValue(row as RowImage, {}, undefined) : 'null';
    let m: RegExpExecArray | null;
    if ((m = /^user:email:(.+)$/.exec(key)))
      return json([...this.users.values()].find((u) => u['email'] === m![1]));
    if ((m = /^user:(.+)$/.exec(key))) return json(this.users.get(m[1]!));
    if ((m = /^\{user:(.+)\}:profile$/.exec(key))) return json(this.users.get(m[1]!));
    if ((m = /^order:(.+)$/.exec(key))) return json(this.orders.get(m[1]!));
    if ((m = /^orders:by_user:(.+)$/.exec(key)))
      return JSON.stringify(
        [...this.orders.values()]
          .filter((o) => o['user_id'] === m![1])
          .map((o) => o['id'])
          .sort(),
      );
    return undefined;
  }

  /** Keys the application may cache now (present rows and some negative entries). */
  cacheableKeys(): string[] {
    const keys: string[] = [];
    const ids = [...this.users.keys(), String(this.#nextId), String(this.#nextId + 1)];
    for (const id of ids) keys.push(`user:${id}`, `{user:${id}}:profile`);
    for (const u of this.users.values()) keys.push(`user:email:${u['email']}`);
    for (let i = 0; i < USERS + 6; i++) keys.push(`user:email:u${i}@example.com`);
    for (const id of [...this.orders.keys(), String(this.#nextId)]) keys.push(`order:${id}`);
    for (const uid of [...this.users.keys(), '99999']) keys.push(`orders:by_user:${uid}`);
    return keys;
  }

  /** Cache-aside reads: populate a random share of the cacheable keys from the source. */
  async populate(client: Redis | Cluster, prefix: string, share = 0.5): Promise<void> {
    for (const key of this.cacheableKeys()) {
      if (this.#random() >= share) continue;
      await client.set(prefix + key, this.expected(key)!);
    }
  }

  /** Keys whose cached value differs from what the source rows give now. */
  async stale(client: Redis | Cluster, prefix: string): Promise<string[]> {
    const out: string[] = [];
    for (const full of await keysUnder(client, prefix)) {
      const key = full.slice(full.indexOf(prefix) + prefix.length);
      const want = this.expected(key);
      const got = await client.get(full);
      const norm = (v: string | null | undefined) => {
        if (v === null || v === undefined) return v;
        const parsed = JSON.parse(v) as unknown;
        if (parsed && typeof parsed === 'object' && !Array.isArray(parsed))
          delete (parsed as Record<string, unknown>)['updated_at'];
        return JSON.stringify(parsed);
      };
      if (norm(want) !== norm(got)) out.push(`${key}: cached ${got}, source ${want}`);
    }
    return out;
  }
}
