// The es sink against the testbed's Elasticsearch 8.19: field case 15 (pk mode delete), rejected
// documents, external versions, value conversion, connect errors, count and refresh.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { flatMessageFromJson, flatMessageToChangeEvents } from '@sluice/canal-protocol';
import {
  ErrorCodes,
  classifyError,
  type ChangeEvent,
  type MappingFile,
  type SinkRecord,
} from '@sluice/plugin-api';
import { EventBuilder } from '@sluice/testkit';
import { esUrl, uniqueName } from '../../../test/support/testbed.js';
import type { EsMapping } from '../src/index.js';
import { createSink, mappingFile, readIndex, recreateIndex, testClient } from './helpers.js';
import type { EsSinkInstance } from './types.js';

const client = testClient();
const indices: string[] = [];
const signal = new AbortController().signal;
afterAll(async () => {
  await client.indices.delete({ index: indices, ignore_unavailable: true });
  await client.close();
});

function newIndex(prefix: string): string {
  const index = uniqueName(prefix);
  indices.push(index);
  return index;
}

async function connected(properties = {}): Promise<EsSinkInstance> {
  const sink = createSink(properties);
  await sink.connect(signal);
  return sink;
}

const records = (
  mapping: MappingFile<EsMapping>,
  events: readonly ChangeEvent[],
): SinkRecord<EsMapping>[] => events.map((event) => ({ event, mapping }));

describe('field case 15: pk mode (no _id), DELETE deletes the document', () => {
  const dir = join(import.meta.dirname, 'fixtures/15-es-pk-mode-delete');

  it('deletes the document located by c_id and keeps the other one', async () => {
    const target = JSON.parse(readFileSync(join(dir, 'target.json'), 'utf8')) as {
      mappings: { properties: Record<string, { type: 'long' | 'keyword' }> };
      seed_docs_before_run: { _id: string; c_id: number; name: string }[];
    };
    const index = newIndex('user_idx');
    await recreateIndex(client, index, target.mappings.properties);
    for (const { _id, ...doc } of target.seed_docs_before_run)
      await client.index({ index, id: _id, document: doc });
    await client.indices.refresh({ index });
    // conf/es8/user.yml, with the test's index name.
    const mapping = mappingFile({
      _index: index,
      pk: 'c_id',
      upsert: false,
      sql: 'select a.id as c_id, a.name as name from user a',
      commitBatch: 3000,
    });
    const lines = readFileSync(join(dir, 'messages.jsonl'), 'utf8').split('\n').filter(Boolean);
    const events = lines.flatMap((line, n) =>
      flatMessageToChangeEvents(flatMessageFromJson(JSON.parse(line)), {
        destination: 'example',
        partition: '0',
        offset: String(n + 1),
      }),
    );
    const sink = await connected();
    try {
      for (const e of events) {
        const result = await sink.write(records(mapping, [e]), signal);
        expect(result.map((o) => o.status)).toEqual(['applied']);
      }
    } finally {
      await sink.close(signal);
    }
    await client.indices.refresh({ index });
    const c1 = await client.search({ index, query: { term: { c_id: 1 } } });
    expect(c1.hits.hits).toEqual([]);
    const c2 = await client.search<Record<string, unknown>>({
      index,
      query: { term: { c_id: 2 } },
    });
    expect(c2.hits.hits.map((h) => [h._id, h._source])).toEqual([
      ['auto-2', { c_id: 2, name: 'n2' }],
    ]);
    // No ghost, and no document was created for a pk that was found.
    expect([...(await readIndex(client, index)).keys()]).toEqual(['auto-2']);
  });

  it('creates a document with the pk value as _id when none is found, and deletes it again', async () => {
    const index = newIndex('pk_new');
    await recreateIndex(client, index, { c_id: { type: 'long' } });
    const mapping = mappingFile({
      _index: index,
      pk: 'c_id',
      sql: 'select a.id as c_id, a.name from user a',
    });
    const ev = new EventBuilder({
      destination: 'd',
      database: 'mytest',
      columns: { id: { mysqlType: 'bigint(20)', sqlType: -5 } },
    });
    const sink = await connected();
    try {
      // Insert then delete in one batch: the search cannot see the new document yet.
      const first = await sink.write(
        records(mapping, [
          ev.insert('user', { id: '7', name: 'x' }),
          ev.insert('user', { id: '8', name: 'y' }),
          ev.delete('user', { id: '7', name: 'x' }),
        ]),
        signal,
      );
      expect(first.map((o) => o.status)).toEqual(['applied', 'applied', 'applied']);
    } finally {
      await sink.close(signal);
    }
    expect(Object.fromEntries(await readIndex(client, index))).toEqual({
      '8': { c_id: 8, name: 'y' },
    });
  });
});

describe('primary-key changes', () => {
  it('_id mode and pk mode: the document moves from the old key to the new one', async () => {
    const byId = newIndex('pkchange_id');
    const byPk = newIndex('pkchange_pk');
    await recreateIndex(client, byPk, { c_id: { type: 'long' } });
    await client.index({
      index: byPk,
      id: 'auto-5',
      document: { c_id: 5, name: 'a' },
      refresh: true,
    });
    const idMapping = mappingFile({
      _index: byId,
      _id: '_id',
      sql: 'select a.id as _id, a.name from t a',
    });
    const pkMapping = mappingFile({
      _index: byPk,
      pk: 'c_id',
      sql: 'select a.id as c_id, a.name from t a',
    });
    const ev = new EventBuilder({
      destination: 'd',
      database: 'db',
      columns: { id: { mysqlType: 'int(11)', sqlType: 4 } },
    });
    const sink = await connected();
    try {
      const ins = ev.insert('t', { id: '5', name: 'a' });
      const move = ev.update('t', { id: '5', name: 'a' }, { id: '6', name: 'b' });
      expect(
        (await sink.write(records(idMapping, [ins, move]), signal)).map((o) => o.status),
      ).toEqual(['applied', 'applied']);
      expect((await sink.write(records(pkMapping, [move]), signal)).map((o) => o.status)).toEqual([
        'applied',
      ]);
    } finally {
      await sink.close(signal);
    }
    expect(Object.fromEntries(await readIndex(client, byId))).toEqual({ '6': { name: 'b' } });
    expect(Object.fromEntries(await readIndex(client, byPk))).toEqual({
      '6': { c_id: 6, name: 'b' },
    });
  });
});

describe('per-record outcomes', () => {
  it('a document Elasticsearch rejects fails alone; its batch mates are applied and it is not re-sent', async () => {
    const index = newIndex('rejects');
    // A geo_point value goes as the source holds it, so Elasticsearch itself rejects a bad one.
    await recreateIndex(client, index, { qty: { type: 'integer' }, at: { type: 'geo_point' } });
    const mapping = mappingFile({
      _index: index,
      _id: '_id',
      sql: 'select a.id as _id, a.qty, a.at from t a',
    });
    const ev = new EventBuilder({ destination: 'd', database: 'db' });
    const sink = await connected();
    try {
      const result = await sink.write(
        records(mapping, [
          ev.insert('t', { id: '1', qty: '1', at: '1,2' }),
          ev.insert('t', { id: '2', qty: '2', at: 'nowhere' }),
          ev.insert('t', { id: '3', qty: '3', at: '1,2' }),
          ev.insert('t', { id: '5', qty: 'many', at: '1,2' }),
        ]),
        signal,
      );
      expect(result.map((o) => o.status)).toEqual(['applied', 'failed', 'applied', 'failed']);
      const error = (result[1] as { error: Error }).error;
      expect(classifyError(error)).toBe('permanent');
      expect(error.message).toMatch(
        /rejected index of .*\/2 \(status 400\) document_parsing_exception|mapper_parsing_exception/,
      );
      // A value the index's field type cannot take fails before Elasticsearch, saying why.
      expect((result[3] as { error: Error }).error.message).toMatch(
        /field "qty" \(integer\): "many" is not an integer/,
      );
      // The next batch is not affected by the rejected document (canal re-sends it, §5.7).
      const next = await sink.write(
        records(mapping, [ev.insert('t', { id: '4', qty: '4', at: '1,2' })]),
        signal,
      );
      expect(next.map((o) => o.status)).toEqual(['applied']);
    } finally {
      await sink.close(signal);
    }
    expect([...(await readIndex(client, index)).keys()].sort()).toEqual(['1', '3', '4']);
  });

  it('a bad objFields JSON value or a NULL _id fails that record only, before Elasticsearch', async () => {
    const index = newIndex('badjson');
    const mapping = mappingFile({
      _index: index,
      _id: '_id',
      sql: 'select a.id as _id, a.attrs from t a',
      objFields: { attrs: 'object' },
    });
    const ev = new EventBuilder({ destination: 'd', database: 'db' });
    const sink = await connected();
    try {
      const result = await sink.write(
        records(mapping, [
          ev.insert('t', { id: '1', attrs: '{"a":1}' }),
          ev.insert('t', { id: '2', attrs: '{not json' }),
          ev.insert('t', { id: null, attrs: '{}' }),
        ]),
        signal,
      );
      expect(result.map((o) => o.status)).toEqual(['applied', 'failed', 'failed']);
      expect((result[1] as { error: Error }).error.message).toMatch(
        /objFields "attrs": the value is not JSON/,
      );
      expect((result[2] as { error: Error }).error.message).toMatch(/_id field "_id" is NULL/);
    } finally {
      await sink.close(signal);
    }
    expect(Object.fromEntries(await readIndex(client, index))).toEqual({
      '1': { attrs: { a: 1 } },
    });
  });
});

describe('external versions from the event position', () => {
  it('an older event replayed after a newer one does not overwrite or resurrect the document', async () => {
    const index = newIndex('versions');
    const mapping = mappingFile({
      _index: index,
      _id: '_id',
      sql: 'select a.id as _id, a.name from t a',
    });
    const ev = new EventBuilder({ destination: 'd', database: 'db' });
    const v1 = ev.insert('t', { id: '1', name: 'old' });
    const v2 = ev.update('t', { id: '1', name: 'old' }, { id: '1', name: 'new' });
    const gone1 = ev.insert('t', { id: '2', name: 'x' });
    const gone2 = ev.delete('t', { id: '2', name: 'x' });
    const sink = await connected();
    try {
      expect(
        (await sink.write(records(mapping, [v2, gone1, gone2]), signal)).map((o) => o.status),
      ).toEqual(['applied', 'applied', 'applied']);
      // Replays of the older events: 409 from Elasticsearch, counted as applied.
      expect(
        (await sink.write(records(mapping, [v1, gone1]), signal)).map((o) => o.status),
      ).toEqual(['applied', 'applied']);
    } finally {
      await sink.close(signal);
    }
    expect(Object.fromEntries(await readIndex(client, index))).toEqual({ '1': { name: 'new' } });
    const doc = await client.get({ index, id: '1' });
    expect(doc._version).toBe(Number(v2.position.offset) * 2 ** 20);
  });

  it('upsert: true merges with doc_as_upsert (no versions)', async () => {
    const index = newIndex('upserts');
    await client.index({ index, id: '1', document: { other: 'kept' }, refresh: true });
    const mapping = mappingFile({
      _index: index,
      _id: '_id',
      upsert: true,
      sql: 'select a.id as _id, a.name from t a',
    });
    const ev = new EventBuilder({ destination: 'd', database: 'db' });
    const sink = await connected();
    try {
      await sink.write(
        records(mapping, [
          ev.insert('t', { id: '1', name: 'n' }),
          ev.insert('t', { id: '2', name: 'm' }),
        ]),
        signal,
      );
    } finally {
      await sink.close(signal);
    }
    expect(Object.fromEntries(await readIndex(client, index))).toEqual({
      '1': { other: 'kept', name: 'n' },
      '2': { name: 'm' },
    });
  });
});

describe('values', () => {
  it('keeps bigints beyond 2^53 exact, DECIMAL as text, dates ISO, JSON/array objFields, NULLs and unicode', async () => {
    const index = newIndex('values');
    await recreateIndex(client, index, {
      big: { type: 'keyword' },
      huge: { type: 'long' },
      neg: { type: 'long' },
      born: { type: 'date' },
      at: { type: 'date' },
    });
    const mapping = mappingFile({
      _index: index,
      _id: '_id',
      sql: 'select a.id as _id, a.big, a.huge, a.neg, a.price, a.born, a.at, a.attrs, a.tags, a.name, a.nothing, a.secret from t a',
      objFields: { attrs: 'json', tags: 'array:;' },
      skips: ['secret'],
    });
    const col = (mysqlType: string, sqlType: number) => ({ mysqlType, sqlType });
    const ev = new EventBuilder({
      destination: 'd',
      database: 'db',
      columns: {
        id: col('bigint(20) unsigned', -5),
        big: col('bigint(20) unsigned', -5),
        huge: col('bigint(20)', -5),
        neg: col('bigint(20)', -5),
        price: col('decimal(12,2)', 3),
        born: col('date', 91),
        at: col('datetime(3)', 93),
        attrs: col('json', 12),
        tags: col('varchar(255)', 12),
        name: col('varchar(255)', 12),
        nothing: col('int(11)', 4),
        secret: col('varchar(255)', 12),
      },
    });
    const sink = await connected({ refresh: true });
    try {
      const result = await sink.write(
        records(mapping, [
          ev.insert('t', {
            id: '18446744073709551615',
            big: '18446744073709551615',
            huge: '1152921504606846977',
            neg: '-9223372036854775808',
            price: '12345678901.10',
            born: '2020-02-29',
            at: '2020-02-29 23:59:58.123',
            attrs: '{"k":[1,2],"o":{"x":"y"},"big":1234567890123456789,"s":"9007199254740993"}',
            tags: 'a;b;c',
            name: 'héllo 👋 世界',
            nothing: null,
            secret: 's3cret',
          }),
        ]),
        signal,
      );
      expect(result.map((o) => (o.status === 'failed' ? o.error.message : o.status))).toEqual([
        'applied',
      ]);
      await sink.flush(signal);
      expect(await sink.count!(mapping, signal)).toEqual({ count: 1, fields: { esIndex: index } });
    } finally {
      await sink.close(signal);
    }
    // The raw _source as sent: exact text for the big integers and the decimal.
    const raw = await fetch(`${esUrl()}/${index}/_doc/18446744073709551615?filter_path=_source`);
    const text = await raw.text();
    expect(text).toContain('"big":"18446744073709551615"');
    expect(text).toContain('"huge":"1152921504606846977"');
    expect(text).toContain('"neg":"-9223372036854775808"');
    expect(text).toContain('"price":"12345678901.10"');
    expect(JSON.parse(text)).toMatchObject({
      _source: {
        born: '2020-02-29',
        at: '2020-02-29T23:59:58.123',
        attrs: { k: [1, 2], o: { x: 'y' }, big: '1234567890123456789', s: '9007199254740993' },
        tags: ['a', 'b', 'c'],
        name: 'héllo 👋 世界',
        nothing: null,
      },
    });
    expect(text).not.toContain('secret');
    // Elasticsearch indexed the exact values: term queries find them, a neighbour does not.
    for (const [field, value] of [
      ['big', '18446744073709551615'],
      ['huge', '1152921504606846977'],
    ]) {
      const hit = await client.search({ index, query: { term: { [field!]: value } } });
      expect(hit.hits.hits.map((h) => h._id)).toEqual(['18446744073709551615']);
    }
    const near = await client.search({ index, query: { term: { huge: '1152921504606846976' } } });
    expect(near.hits.hits).toEqual([]);
  });
});

describe('connect', () => {
  it('accepts hosts without a scheme and several comma-separated hosts', async () => {
    const hostPort = esUrl().replace(/^https?:\/\//, '');
    const sink = createSink({}, ` ${hostPort} , ${hostPort}`);
    await sink.connect(signal);
    await sink.healthcheck!(signal);
    await sink.close(signal);
  });

  it('is NotConnectedError when Elasticsearch is unreachable, FatalError on 401', async () => {
    const down = createSink({ requestTimeoutMs: 2000 }, '127.0.0.1:1');
    const e1 = await down.connect(signal).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((e1 as { code?: string }).code).toBe(ErrorCodes.notConnected);
    await down.close(signal);
    // The testbed has no security; a 401 comes from a reply that says so.
    const { createServer } = await import('node:http');
    const server = createServer((_req, res) => {
      res.writeHead(401, {
        'content-type': 'application/json',
        'x-elastic-product': 'Elasticsearch',
      });
      res.end(
        '{"error":{"type":"security_exception","reason":"unable to authenticate"},"status":401}',
      );
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    const denied = createSink({ 'security.auth': 'elastic:wrong' }, `127.0.0.1:${port}`);
    const e2 = await denied.connect(signal).then(
      () => undefined,
      (e: unknown) => e,
    );
    server.close();
    expect((e2 as { code?: string }).code).toBe(ErrorCodes.fatal);
    expect((e2 as Error).message).toMatch(/401|authenticate/);
    expect((e2 as Error).message).not.toContain('wrong');
    await denied.close(signal);
  });
});
