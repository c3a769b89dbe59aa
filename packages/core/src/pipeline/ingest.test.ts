import { describe, expect, it } from 'vitest';
import { DecodeError } from '@sluice/canal-protocol';
import type { ChangeEvent, MappingFile } from '@sluice/plugin-api';
import { flat, quietLogger } from '../../test/support/pipeline.js';
import { Router, type MappingRoute } from '../router/router.js';
import { AckTracker } from './ackTracker.js';
import { hashString, rowKey } from './conflictKeys.js';
import { Ingest, type IngestCounts, type IngestSink } from './ingest.js';
import type { OrderingMode } from './settings.js';

const mapping = (file: string): MappingFile => ({ file, name: file, config: {} });
const route = (file: string, table: string, ordering?: OrderingMode): MappingRoute => ({
  mapping: mapping(file),
  destination: 'example',
  groupId: 'g1',
  database: 'db',
  table,
  ...(ordering ? { ordering } : {}),
});

/** An ingest step over sinks given as [key, routes (undefined: no mapping files), ordering]. */
function ingestOf(
  sinks: [key: string, routes: MappingRoute[] | undefined, ordering?: OrderingMode][],
): Ingest {
  const router = new Router({
    destination: 'example',
    groupId: 'g1',
    sinks: sinks.map(([key, routes]) => ({ key, routes })),
  });
  return new Ingest({
    destination: 'example',
    format: 'flat',
    router,
    sinks: sinks.map(([key, , ordering]): IngestSink => ({ key, ordering: ordering ?? 'per-key' })),
    logger: quietLogger(),
  });
}

const counts = (): IngestCounts => ({ consumed: new Map(), skipped: new Map() });
const message = (payload: string, offset = '5') => ({
  ticket: new AckTracker().open(offset, 1),
  origin: { partition: 'p0', offset, payload },
});
const rows = (n: number, table = 't') =>
  flat({
    type: 'INSERT',
    table,
    data: Array.from({ length: n }, (_, i) => ({ id: String(i + 1), v: `v${i + 1}` })),
  });
const idOf = (e: ChangeEvent) => (e.kind === 'row' ? e.after?.['id'] : undefined);

describe('Ingest.decode', () => {
  it('decodes a message with the origin as every event position', () => {
    const ingest = ingestOf([['logger', undefined]]);
    const events = ingest.decode(rows(2), { partition: 'orig', offset: '77' });
    expect(events.map((e) => [e.destination, e.position.partition, e.position.offset])).toEqual([
      ['example', 'orig', '77'],
      ['example', 'orig', '77'],
    ]);
  });

  it('throws a DecodeError on a message that is not canal', () => {
    const ingest = ingestOf([['logger', undefined]]);
    expect(() => ingest.decode('{not json', { partition: 'p0', offset: '1' })).toThrow(DecodeError);
  });
});

describe('Ingest.route', () => {
  it('gives one record per event, sink and matching mapping, in source order, sharing the message', () => {
    const ingest = ingestOf([
      ['rdb', [route('rdb/a.yml', 't'), route('rdb/b.yml', 't')]],
      ['logger', undefined],
    ]);
    const payload = rows(2);
    const m = message(payload);
    const events = ingest.decode(payload, m.origin);
    const routed = ingest.route(events, m, counts());
    expect(routed.map((r) => [idOf(r.event), r.sink, r.mapping?.file])).toEqual([
      ['1', 0, 'rdb/a.yml'],
      ['1', 0, 'rdb/b.yml'],
      ['1', 1, undefined],
      ['2', 0, 'rdb/a.yml'],
      ['2', 0, 'rdb/b.yml'],
      ['2', 1, undefined],
    ]);
    for (const r of routed) {
      expect(r.ticket).toBe(m.ticket);
      expect(r.origin).toBe(m.origin);
      expect(r.table).toBe('db.t');
      expect(r.barrier).toBe(false);
      expect(r.coalescible).toBe(true);
      expect(r.bytes).toBe(Math.ceil(payload.length / 2));
    }
    const first = events[0]!;
    const key = first.kind === 'row' ? hashString(rowKey(first, first.after)) : 0;
    // Held as a signed 32-bit integer (a small integer in the entry); one key: key2 repeats it.
    expect([routed[0]!.key >>> 0, routed[0]!.key2 >>> 0]).toEqual([key, key]);
    expect(routed[0]!.key).toBe(key | 0);
  });

  it('takes the ordering of the mapping over that of its sink', () => {
    const ingest = ingestOf([
      ['byTable', [route('x/t.yml', 't')], 'table'],
      ['strict', [route('y/t.yml', 't', 'partition')], 'per-key'],
    ]);
    const m = message(rows(1));
    const [table, strict] = ingest.route(ingest.decode(rows(1), m.origin), m, counts());
    const one = (hash: number) => ({ key: hash | 0, key2: hash | 0 });
    expect(table).toMatchObject({ ...one(hashString('db.t')), coalescible: false, barrier: false });
    expect(strict).toMatchObject({ ...one(hashString('\u0002partition')), coalescible: false });
  });

  it('makes a DDL a barrier for its table (no row keys)', () => {
    const ingest = ingestOf([['logger', undefined]]);
    const ddl = flat({ type: 'ALTER', sql: 'ALTER TABLE t ADD c INT' });
    const m = message(ddl);
    const [entry] = ingest.route(ingest.decode(ddl, m.origin), m, counts());
    expect(entry).toMatchObject({ table: 'db.t', barrier: true });
  });

  it('counts events per table and the events a mapping-based sink has no mapping for', () => {
    const ingest = ingestOf([
      ['rdb', [route('rdb/t.yml', 't')]],
      ['logger', undefined],
    ]);
    const m = message(rows(2));
    const events = [
      ...ingest.decode(rows(2, 't'), m.origin),
      ...ingest.decode(rows(1, 'u'), m.origin),
      ...ingest.decode(rows(3, 't'), m.origin),
    ];
    const c = counts();
    const routed = ingest.route(events, m, c);
    expect(Object.fromEntries(c.consumed)).toEqual({ 'db.t': 5, 'db.u': 1 });
    expect(Object.fromEntries(c.skipped)).toEqual({ 'rdb\u0000db.u': 1 });
    expect(routed.filter((r) => r.sink === 0)).toHaveLength(5);
    expect(routed.filter((r) => r.sink === 1)).toHaveLength(6);
    // Fewer records than events × sinks: the array ends at the last record, without holes.
    expect(routed).toHaveLength(11);
    expect(Object.keys(routed)).toHaveLength(11);
  });
});

describe('Ingest.routeReplay', () => {
  it('routes only to the sink instances and the mapping file the override names', () => {
    const ingest = ingestOf([
      ['rdb', [route('rdb/a.yml', 't'), route('rdb/b.yml', 't')]],
      ['logger', undefined],
    ]);
    const m = message(rows(2));
    const events = ingest.decode(rows(2), m.origin);
    const c = counts();
    const routed = ingest.routeReplay(events, m, c, { sinks: ['rdb'], mapping: 'rdb/b.yml' });
    expect(routed.map((r) => [idOf(r.event), r.sink, r.mapping?.file])).toEqual([
      ['1', 0, 'rdb/b.yml'],
      ['2', 0, 'rdb/b.yml'],
    ]);
    expect(Object.fromEntries(c.consumed)).toEqual({ 'db.t': 2 });
    expect(c.skipped.size).toBe(0);
    // Without a mapping named, every mapping of the named sink; without sinks, every sink.
    expect(ingest.routeReplay(events, m, counts(), { sinks: ['rdb'] })).toHaveLength(4);
    expect(ingest.routeReplay(events, m, counts(), {})).toHaveLength(6);
    // A named sink that has no mapping for the table: nothing routed, counted as skipped.
    const other = ingest.decode(rows(1, 'u'), m.origin);
    const c2 = counts();
    expect(ingest.routeReplay(other, m, c2, { sinks: ['rdb'] })).toEqual([]);
    expect(Object.fromEntries(c2.skipped)).toEqual({ 'rdb\u0000db.u': 1 });
  });
});
