// Values converted by the index's field types (read once with GET <index>/_mapping, again after a
// mapping error), against the testbed Elasticsearch 8.19 and OpenSearch 2.19: MySQL tinyint(1)
// and varchar into boolean, SQL datetime text into date, number-looking varchar into long and
// double, JSON text into object; keyword/text and unmapped fields keep the source value; a value
// that cannot be converted is dead-lettered alone with the field, type and value in the reason.
import { afterAll, describe, expect, it } from 'vitest';
import type { ChangeEvent, MappingFile } from '@sluice/plugin-api';
import { EventBuilder } from '@sluice/testkit';
import { esUrl, opensearchUrl, uniqueName } from '../../../test/support/testbed.js';
import type { EsMapping } from '../src/index.js';
import { createSink, mappingFile } from './helpers.js';

const signal = new AbortController().signal;

async function http(url: string, method: string, body?: unknown): Promise<unknown> {
  const r = await fetch(url, {
    method,
    headers: { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await r.text();
  if (!r.ok) throw new Error(`${method} ${url}: ${r.status} ${text}`);
  return JSON.parse(text) as unknown;
}

describe.each([
  ['Elasticsearch 8.19', () => esUrl()],
  ['OpenSearch 2.19', () => opensearchUrl()],
])('field-type conversion on %s', (_name, url) => {
  const index = `es-sql-${uniqueName('types')}`;
  afterAll(async () => {
    await fetch(`${url()}/${index}`, { method: 'DELETE' });
  });
  const ev = new EventBuilder({
    destination: 'd',
    database: 'db',
    columns: {
      id: { mysqlType: 'bigint(20)', sqlType: -5 },
      active: { mysqlType: 'tinyint(1)', sqlType: -6 },
      code: { mysqlType: 'int(11)', sqlType: 4 },
    },
  });
  const mapping: MappingFile<EsMapping> = mappingFile({
    _index: index,
    _id: '_id',
    sql: 'select a.id as _id, a.active, a.enabled, a.born, a.n, a.score, a.meta, a.name, a.code, a.extra, a.flag from t a',
  });
  const row = (id: string, over: Record<string, string | null> = {}) => ({
    id,
    active: '1',
    enabled: 'false',
    born: '2026-12-01 08:30:00',
    n: '42',
    score: '3.5',
    meta: '{"k":[1,2]}',
    name: '007',
    code: '7',
    extra: '12',
    flag: null,
    ...over,
  });
  const docs = async (): Promise<Record<string, unknown>> => {
    await http(`${url()}/${index}/_refresh`, 'POST');
    const r = (await http(`${url()}/${index}/_search?size=100`, 'GET')) as {
      hits: { hits: { _id: string; _source: unknown }[] };
    };
    return Object.fromEntries(r.hits.hits.map((h) => [h._id, h._source]));
  };
  const status = (r: readonly { status: string }[]) =>
    r.map((o) =>
      'error' in o ? String((o as unknown as { error: Error }).error.message) : o.status,
    );

  it('converts by the mapping, keeps keyword/text/unmapped values, dead-letters what cannot be converted', async () => {
    await http(`${url()}/${index}`, 'PUT', {
      mappings: {
        properties: {
          active: { type: 'boolean' },
          enabled: { type: 'boolean' },
          born: { type: 'date' },
          n: { type: 'long' },
          score: { type: 'double' },
          meta: { type: 'object' },
          name: { type: 'text' },
          code: { type: 'keyword' },
        },
      },
    });
    const sink = createSink({}, url());
    await sink.connect(signal);
    try {
      const events: ChangeEvent[] = [
        ev.insert('t', row('1')),
        ev.insert('t', row('2', { n: 'abc' })),
        ev.insert('t', row('3', { active: '0', born: '2026-12-01', score: '-1e2' })),
        ev.insert('t', row('4', { born: 'yesterday' })),
      ];
      const result = await sink.write(
        events.map((event) => ({ event, mapping })),
        signal,
      );
      expect(status(result)).toEqual([
        'applied',
        expect.stringMatching(/field "n" \(long\): "abc" is not an integer/),
        'applied',
        expect.stringMatching(/field "born" \(date\): "yesterday" is not a date/),
      ]);
    } finally {
      await sink.close(signal);
    }
    const all = await docs();
    expect(all['1']).toEqual({
      active: true,
      enabled: false,
      born: '2026-12-01T08:30:00',
      n: 42,
      score: 3.5,
      meta: { k: [1, 2] },
      name: '007',
      code: 7,
      extra: '12',
      flag: null,
    });
    expect(all['3']).toMatchObject({ active: false, born: '2026-12-01', score: -100 });
    expect(Object.keys(all).sort()).toEqual(['1', '3']);
  });

  it('a field mapped after the first read is picked up when Elasticsearch rejects a value for it', async () => {
    const sink = createSink({}, url());
    await sink.connect(signal);
    try {
      // The sink has read the mapping (no "flag" yet).
      expect(
        status(await sink.write([{ event: ev.insert('t', row('5')), mapping }], signal)),
      ).toEqual(['applied']);
      await http(`${url()}/${index}/_mapping`, 'PUT', {
        properties: { flag: { type: 'boolean' } },
      });
      // "1" is no boolean to Elasticsearch: the item fails with a mapping error, the sink reads
      // the mapping again, sees "flag", and writes the batch again with flag converted.
      const result = await sink.write(
        [
          { event: ev.insert('t', row('6', { flag: '1' })), mapping },
          { event: ev.insert('t', row('7', { flag: '0' })), mapping },
        ],
        signal,
      );
      expect(status(result)).toEqual(['applied', 'applied']);
    } finally {
      await sink.close(signal);
    }
    const all = await docs();
    expect(all['6']).toMatchObject({ flag: true, n: 42 });
    expect(all['7']).toMatchObject({ flag: false });
  });
});
