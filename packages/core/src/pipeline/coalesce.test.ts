import { describe, expect, it } from 'vitest';
import type { ChangeEvent, MappingFile, RowChangeEvent, RowImage } from '@sluice/plugin-api';
import { coalesce, type CoalesceItem } from './coalesce.js';

let seq = 0;
function row(
  type: RowChangeEvent['type'],
  images: { before?: RowImage; after?: RowImage },
  extra: Partial<RowChangeEvent> = {},
): RowChangeEvent {
  return {
    kind: 'row',
    type,
    destination: 'd',
    database: 'db',
    table: 't',
    pkNames: ['id'],
    columns: {},
    executedAt: 0,
    producedAt: 0,
    changed: [],
    position: { source: 'd', partition: '0', offset: String(seq++), index: 0 },
    ...images,
    ...extra,
  };
}
const ins = (id: string, v = 'a') => row('INSERT', { after: { id, v } });
const upd = (id: string, from: string, to: string, changed = ['v']) =>
  row('UPDATE', { before: { id, v: from }, after: { id, v: to } }, { changed });
const del = (id: string, v = 'z') => row('DELETE', { before: { id, v } });
const ddl: ChangeEvent = {
  kind: 'ddl',
  type: 'ALTER',
  sql: 'ALTER TABLE t ADD c INT',
  destination: 'd',
  database: 'db',
  table: 't',
  pkNames: [],
  columns: {},
  executedAt: 0,
  producedAt: 0,
  position: { source: 'd', partition: '0', offset: '99', index: 0 },
};
const mapping = (file: string): MappingFile => ({ file, name: file, config: {} });
const item = (
  event: ChangeEvent,
  opts: { mapping?: MappingFile; coalescible?: boolean } = {},
): CoalesceItem => ({
  event,
  mapping: opts.mapping,
  coalescible: opts.coalescible ?? true,
});
const sizes = (items: CoalesceItem[]) => coalesce(items).map((w) => w.members.length);

describe('coalesce', () => {
  it('a primary-key change ends the runs of both its keys: [U 1, U 1→2, I 1] is 3 writes', () => {
    const change = row('UPDATE', { before: { id: '1', v: 'x' }, after: { id: '2', v: 'x' } });
    const items = [item(upd('1', 'a', 'b')), item(change), item(ins('1'))];
    const out = coalesce(items);
    expect(out.map((w) => w.members)).toEqual([[items[0]], [items[1]], [items[2]]]);
    expect(out.map((w) => w.record)).toEqual(
      items.map((i) => ({ event: i.event, mapping: i.mapping })),
    );
    // With a mapping too (its runs are keyed by mapping and row key).
    const m = mapping('rdb/a.yml');
    const change3 = row('UPDATE', { before: { id: '1', v: 'x' }, after: { id: '2', v: 'x' } });
    expect(
      sizes([
        item(upd('1', 'a', 'b'), { mapping: m }),
        item(change3, { mapping: m }),
        item(ins('1'), { mapping: m }),
      ]),
    ).toEqual([1, 1, 1]);
    // Also for the new key: [I 2, U 1→2, U 2] is 3 writes.
    const change2 = row('UPDATE', { before: { id: '1', v: 'x' }, after: { id: '2', v: 'x' } });
    expect(sizes([item(ins('2')), item(change2), item(upd('2', 'x', 'y'))])).toEqual([1, 1, 1]);
  });

  it('a primary-key change leaves the runs of other keys (also of equally named keys elsewhere) open', () => {
    const change = row('UPDATE', { before: { id: '1', v: 'x' }, after: { id: '2', v: 'x' } });
    const otherDb = (e: RowChangeEvent) => ({ ...e, database: 'xdb' });
    expect(
      sizes([
        item(upd('3', 'a', 'b')),
        item(otherDb(upd('1', 'a', 'b'))),
        item(change),
        item(upd('3', 'b', 'c')),
        item(otherDb(upd('1', 'b', 'c'))),
      ]),
    ).toEqual([2, 2, 1]);
  });

  it('a DDL ends every run', () => {
    expect(
      sizes([
        item(upd('1', 'a', 'b')),
        item(upd('2', 'a', 'b')),
        item(ddl),
        item(upd('1', 'b', 'c')),
        item(upd('2', 'b', 'c')),
      ]),
    ).toEqual([1, 1, 1, 1, 1]);
  });

  it('never merges records of two mappings, even of one row', () => {
    const a = mapping('rdb/a.yml');
    const b = mapping('rdb/b.yml');
    const out = coalesce([
      item(upd('1', 'a', 'b'), { mapping: a }),
      item(upd('1', 'a', 'b'), { mapping: b }),
      item(upd('1', 'b', 'c'), { mapping: a }),
      item(upd('1', 'b', 'c'), { mapping: b }),
    ]);
    expect(out.map((w) => w.members.length)).toEqual([2, 2]);
    expect(out.map((w) => w.record?.mapping)).toEqual([a, b]);
    // A record without a mapping is not merged with one of a mapping.
    expect(sizes([item(upd('1', 'a', 'b')), item(upd('1', 'b', 'c'), { mapping: a })])).toEqual([
      1, 1,
    ]);
  });

  it('never merges non-coalescible items, and one ends the run of its key', () => {
    expect(
      sizes([
        item(upd('1', 'a', 'b'), { coalescible: false }),
        item(upd('1', 'b', 'c'), { coalescible: false }),
      ]),
    ).toEqual([1, 1]);
    expect(
      sizes([
        item(upd('1', 'a', 'b')),
        item(upd('1', 'b', 'c'), { coalescible: false }),
        item(upd('1', 'c', 'd')),
      ]),
    ).toEqual([1, 1, 1]);
  });

  it('a lone item is written as it came (the same event and mapping, nothing else)', () => {
    const m = mapping('rdb/a.yml');
    const items = [item(upd('1', 'a', 'b'), { mapping: m }), item(ins('2'))];
    const out = coalesce(items);
    expect(out[0]!.record.event).toBe(items[0]!.event);
    expect(out[0]!.record.mapping).toBe(m);
    expect(out[1]!.record.event).toBe(items[1]!.event);
    expect(Object.keys(out[0]!.record).sort()).toEqual(['event', 'mapping']);
  });

  it('insert then updates: one INSERT of the final image, no before image, no changed list', () => {
    const m = mapping('es/a.yml');
    const last = upd('1', 'b', 'c', ['v']);
    const [w, ...rest] = coalesce([
      item(ins('1', 'a'), { mapping: m }),
      item(upd('1', 'a', 'b'), { mapping: m }),
      item(last, { mapping: m }),
    ]);
    expect(rest).toEqual([]);
    expect(w!.members).toHaveLength(3);
    expect(w!.record!.mapping).toBe(m);
    expect(w!.record!.event).toStrictEqual({
      ...last,
      type: 'INSERT',
      before: undefined,
      changed: [],
    });
  });

  it('updates: the first before image, the last after image, the union of changed columns', () => {
    const a = upd('1', 'a', 'b', ['v']);
    const b = upd('1', 'b', 'c', ['w']);
    const c = upd('1', 'c', 'd', ['v', 'x']);
    const [w] = coalesce([item(a), item(b), item(c)]);
    expect(w!.record!.event).toStrictEqual({ ...c, before: a.before, changed: ['v', 'w', 'x'] });
  });

  it('anything then a delete: the delete (never cancelled)', () => {
    const d = del('1');
    const [w] = coalesce([item(ins('1')), item(upd('1', 'a', 'b')), item(d)]);
    expect(w!.record!.event).toBe(d);
    const d2 = del('2');
    const [w2] = coalesce([item(upd('2', 'a', 'b')), item(d2)]);
    expect(w2!.record!.event).toBe(d2);
  });

  it('delete then insert (and then update): the last event as it is', () => {
    const i = ins('1', 'n');
    const [w] = coalesce([item(del('1')), item(i)]);
    expect(w!.record!.event).toBe(i);
    const u = upd('1', 'n', 'm');
    const [w2] = coalesce([item(del('1')), item(ins('1', 'n')), item(u)]);
    expect(w2!.record!.event).toBe(u);
    // update then insert (a replayed insert): the insert
    const i2 = ins('1', 'q');
    const [w3] = coalesce([item(upd('1', 'a', 'b')), item(i2)]);
    expect(w3!.record!.event).toBe(i2);
  });

  it('keeps the order of first occurrence across keys', () => {
    const out = coalesce([
      item(upd('1', 'a', 'b')),
      item(upd('2', 'a', 'b')),
      item(upd('1', 'b', 'c')),
      item(ins('3')),
    ]);
    expect(out.map((w) => (w.record!.event as RowChangeEvent).after?.['id'])).toEqual([
      '1',
      '2',
      '3',
    ]);
  });
});
