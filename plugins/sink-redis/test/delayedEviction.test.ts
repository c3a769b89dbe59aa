/**
 * The delayed second eviction. A cache-aside reader loads a row from MariaDB, the row changes and
 * the sink evicts, then the reader stores what it loaded: a stale entry that the first eviction
 * came too early to remove. The interleaving is forced step by step (no timing luck): with the
 * delayed eviction on the stale entry is gone once the delay passed; with it off the stale entry
 * stays (so the feature is needed). And a pending delayed eviction survives a crash of the sink.
 */
import mysql from 'mysql2/promise';
import { EventBuilder } from '@sluice/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mysqlEndpoint, uniqueName } from '../../../test/support/testbed.js';
import { createSink, mappingFile, testClient, wipe } from './helpers.js';

const db = uniqueName('redis_race');
const client = testClient();
const prefixes: string[] = [];
let conn: mysql.Connection;

beforeAll(async () => {
  const ep = mysqlEndpoint();
  conn = await mysql.createConnection({
    host: ep.host,
    port: ep.port,
    user: ep.user,
    password: ep.password,
  });
  await conn.query(`CREATE DATABASE \`${db}\``);
  await conn.query(`CREATE TABLE \`${db}\`.users (id INT PRIMARY KEY, name VARCHAR(50))`);
});

afterAll(async () => {
  await conn.query(`DROP DATABASE IF EXISTS \`${db}\``);
  await conn.end();
  for (const p of prefixes) await wipe(client, p);
  client.disconnect();
});

/** The application's read path: cache hit, or load from the source (in two steps, see below). */
async function loadFromSource(id: number): Promise<string> {
  const [rows] = await conn.query<mysql.RowDataPacket[]>(
    `SELECT id, name FROM \`${db}\`.users WHERE id = ?`,
    [id],
  );
  return JSON.stringify(rows[0] ?? null);
}

const waitUntil = async (what: () => Promise<boolean>, ms: number): Promise<boolean> => {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await what()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return what();
};

async function race(
  delayedEviction: number,
): Promise<{ firstAfterRace: string | null; final: string | null; source: string }> {
  const prefix = `${uniqueName('race')}:`;
  prefixes.push(prefix);
  const id = delayedEviction > 0 ? 1 : 2;
  const mapping = mappingFile({
    database: db,
    table: 'users',
    keys: ['user:{id}'],
    delayedEviction,
  });
  const ev = new EventBuilder({ database: db });
  const sink = createSink({ prefix, pollMs: 20 });
  const signal = new AbortController().signal;
  await sink.connect(signal);
  try {
    await conn.query(`INSERT INTO \`${db}\`.users VALUES (?, 'v1')`, [id]);
    // 1. The reader misses and reads the source: it holds v1.
    expect(await client.get(`${prefix}user:${id}`)).toBeNull();
    const loaded = await loadFromSource(id);
    // 2. The row changes; the sink evicts the key (there is nothing to evict yet).
    await conn.query(`UPDATE \`${db}\`.users SET name = 'v2' WHERE id = ?`, [id]);
    const result = await sink.write(
      [
        {
          event: ev.update('users', { id: String(id), name: 'v1' }, { id: String(id), name: 'v2' }),
          mapping,
        },
      ],
      signal,
    );
    expect(result.map((o) => o.status)).toEqual(['applied']);
    // 3. The reader stores what it loaded before the change: stale.
    await client.set(`${prefix}user:${id}`, loaded);
    const firstAfterRace = await client.get(`${prefix}user:${id}`);
    // 4. Wait out the delay (and well beyond); the drainer polls every 20 ms.
    const wait = (delayedEviction || 300) + 1000;
    await waitUntil(async () => (await client.get(`${prefix}user:${id}`)) === null, wait);
    return {
      firstAfterRace,
      final: await client.get(`${prefix}user:${id}`),
      source: await loadFromSource(id),
    };
  } finally {
    await sink.close(signal);
  }
}

describe('delayed second eviction', () => {
  it('removes the entry a reader re-populated from a stale read between the change and the first eviction', async () => {
    const r = await race(300);
    expect(r.firstAfterRace).toBe(JSON.stringify({ id: 1, name: 'v1' })); // the race happened
    expect(r.source).toBe(JSON.stringify({ id: 1, name: 'v2' }));
    expect(r.final).toBeNull(); // the next read loads v2
  });

  it('without it the stale entry survives (the feature is needed)', async () => {
    const r = await race(0);
    expect(r.source).toBe(JSON.stringify({ id: 2, name: 'v2' }));
    expect(r.final).toBe(JSON.stringify({ id: 2, name: 'v1' }));
  });

  it('a pending delayed eviction survives a crash of the sink and is done by the next instance', async () => {
    const prefix = `${uniqueName('race_crash')}:`;
    prefixes.push(prefix);
    const mapping = mappingFile({
      database: db,
      table: 'users',
      keys: ['user:{id}'],
      delayedEviction: 400,
    });
    const ev = new EventBuilder({ database: db });
    const first = createSink({ prefix, key: 'crashy', pollMs: 20 });
    const signal = new AbortController().signal;
    await first.connect(signal);
    await first.write([{ event: ev.insert('users', { id: '7', name: 'a' }), mapping }], signal);
    // "Crash": drop the instance without a graceful close (the abort signal skips draining).
    const dead = new AbortController();
    dead.abort();
    await first.close(dead.signal);
    const schedule = `${prefix}sluice:delayed-evictions:crashy`;
    expect(await client.zcard(schedule)).toBe(1);
    await client.set(`${prefix}user:7`, 'stale');
    await new Promise((r) => setTimeout(r, 500)); // due now, but nobody runs
    expect(await client.get(`${prefix}user:7`)).toBe('stale');
    const next = createSink({ prefix, key: 'crashy', pollMs: 20 });
    await next.connect(signal);
    try {
      expect(
        await waitUntil(async () => (await client.get(`${prefix}user:7`)) === null, 3000),
      ).toBe(true);
      expect(await waitUntil(async () => (await client.zcard(schedule)) === 0, 3000)).toBe(true);
    } finally {
      await next.close(signal);
    }
  });

  it('write mode: the second eviction of a deleted key removes a re-populated value, never a newer write', async () => {
    const prefix = `${uniqueName('race_write')}:`;
    prefixes.push(prefix);
    const mapping = mappingFile({
      database: db,
      table: 'users',
      mode: 'write',
      keys: ['user:{id}'],
      delayedEviction: 200,
    });
    const ev = new EventBuilder({ database: db });
    const sink = createSink({ prefix, pollMs: 20 });
    const signal = new AbortController().signal;
    await sink.connect(signal);
    try {
      const write = (events: ReturnType<typeof ev.insert>[]) =>
        sink.write(
          events.map((event) => ({ event, mapping })),
          signal,
        );
      await write([
        ev.insert('users', { id: '1', name: 'a' }),
        ev.insert('users', { id: '2', name: 'b' }),
      ]);
      await write([
        ev.delete('users', { id: '1', name: 'a' }),
        ev.delete('users', { id: '2', name: 'b' }),
      ]);
      // 1 is re-populated by a reader that read before the delete; 2 is inserted again (newer).
      await client.set(`${prefix}user:1`, 'stale');
      await write([ev.insert('users', { id: '2', name: 'b2' })]);
      expect(
        await waitUntil(async () => (await client.get(`${prefix}user:1`)) === null, 2000),
      ).toBe(true);
      await waitUntil(
        async () => (await client.zcard(`${prefix}sluice:delayed-evictions:test`)) === 0,
        2000,
      );
      expect(await client.get(`${prefix}user:2`)).toBe(JSON.stringify({ id: '2', name: 'b2' }));
    } finally {
      await sink.close(signal);
    }
  });
});
