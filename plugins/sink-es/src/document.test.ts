import { describe, expect, it } from 'vitest';
import type { RowChangeEvent, RowImage } from '@sluice/plugin-api';
import { buildDocument, DocumentError, fieldValue, keyText, routingOf } from './document.js';
import type { ObjFieldSpec } from './esValue.js';
import type { EsPlan } from './plan.js';

const f = (name: string, column = name) => ({ name, column });
function plan(extra: Partial<EsPlan> = {}): EsPlan {
  return {
    index: 'i',
    idField: f('_id', 'id'),
    pkField: undefined,
    upsert: false,
    fields: [f('name'), f('n', 'qty')],
    objFields: new Map<string, ObjFieldSpec>(),
    relations: [],
    join: undefined,
    ...extra,
  };
}
function event(after: RowImage | undefined, before?: RowImage): RowChangeEvent {
  return {
    kind: 'row',
    type: after ? (before ? 'UPDATE' : 'INSERT') : 'DELETE',
    destination: 'd',
    database: 'shop',
    table: 'items',
    pkNames: ['id'],
    columns: {
      id: { mysqlType: 'bigint', sqlType: -5 },
      name: { mysqlType: 'varchar(20)', sqlType: 12 },
      qty: { mysqlType: 'int', sqlType: 4 },
      tags: { mysqlType: 'varchar(20)', sqlType: 12 },
      doc: { mysqlType: 'json', sqlType: 12 },
    },
    executedAt: 0,
    producedAt: 0,
    changed: [],
    position: { source: 'd', partition: '0', offset: '1', index: 0 },
    ...(after ? { after } : {}),
    ...(before ? { before } : {}),
  };
}

describe('buildDocument', () => {
  it('builds _source from the after image, typed, by field name', () => {
    expect(buildDocument(plan(), event({ id: '1', name: 'pen', qty: '3' }))).toEqual({
      name: 'pen',
      n: 3,
    });
    expect(buildDocument(plan(), event({ id: '1', name: null, qty: '-2' }))).toEqual({
      name: null,
      n: -2,
    });
  });

  it('applies objFields to the value text', () => {
    const p = plan({
      fields: [f('tags'), f('doc')],
      objFields: new Map<string, ObjFieldSpec>([
        ['tags', { kind: 'array', separator: /;/ }],
        ['doc', { kind: 'object' }],
      ]),
    });
    expect(
      buildDocument(p, event({ id: '1', tags: 'a;b', doc: '{"x":12345678901234567890}' })),
    ).toEqual({
      tags: ['a', 'b'],
      doc: { x: '12345678901234567890' },
    });
    expect(() => buildDocument(p, event({ id: '1', tags: 'a', doc: '{oops' }))).toThrow(
      /objFields "doc": the value is not JSON/,
    );
  });

  it('a column missing from the image, or not of its type, is a DocumentError naming it', () => {
    expect(() => buildDocument(plan(), event({ id: '1', name: 'pen' }))).toThrow(
      /column "qty" \(field "n"\) is not in the after image of shop.items/,
    );
    const e = (() => {
      try {
        buildDocument(plan(), event({ id: '1', name: 'pen', qty: 'many' }));
      } catch (error) {
        return error;
      }
    })();
    expect(e).toBeInstanceOf(DocumentError);
    expect((e as Error).message).toMatch(/^column "qty": .*not an integer/);
  });
});

describe('fieldValue and keyText', () => {
  it('reads the requested image', () => {
    const u = event({ id: '2', name: 'new', qty: '1' }, { id: '1', name: 'old', qty: '1' });
    expect(fieldValue(plan(), u, f('name'), 'before')).toBe('old');
    expect(fieldValue(plan(), u, f('name'), 'after')).toBe('new');
    expect(keyText(plan(), u, f('_id', 'id'), 'before')).toBe('1');
    expect(keyText(plan(), u, f('_id', 'id'), 'after')).toBe('2');
  });

  it('a NULL, empty or object key cannot address a document', () => {
    const p = plan();
    expect(() => keyText(p, event({ id: null }), f('_id', 'id'), 'after')).toThrow(
      /the _id field "_id" is NULL in the after image/,
    );
    const pk = plan({ idField: undefined, pkField: f('name') });
    expect(() => keyText(pk, event({ name: '' }), f('name'), 'after')).toThrow(
      /the pk field "name" is empty or not a scalar/,
    );
    const obj = plan({ objFields: new Map([['doc', { kind: 'object' } as ObjFieldSpec]]) });
    expect(() => keyText(obj, event({ doc: '{"a":1}' }), f('doc'), 'after')).toThrow(
      /empty or not a scalar/,
    );
    expect(keyText(p, event({ id: '0' }), f('_id', 'id'), 'after')).toBe('0');
  });
});

describe('relations (parent/child join field)', () => {
  const child = plan({
    fields: [f('name')],
    relations: [{ field: 'rel', name: 'order', parent: f('parent', 'qty') }],
  });

  it('adds {name, parent} and routes by the parent id (canal putRelationData)', () => {
    const e = event({ id: '1', name: 'o1', qty: '7' });
    expect(buildDocument(child, e)).toEqual({ name: 'o1', rel: { name: 'order', parent: '7' } });
    expect(routingOf(child, e, 'after')).toBe('7');
  });

  it('a parent-side relation has a name only and no routing', () => {
    const parent = plan({ relations: [{ field: 'rel', name: 'customer', parent: undefined }] });
    const e = event({ id: '1', name: 'c', qty: '1' });
    expect(buildDocument(parent, e)).toEqual({ name: 'c', n: 1, rel: { name: 'customer' } });
    expect(routingOf(parent, e, 'after')).toBeUndefined();
  });

  it('routes a delete by the deleted row, and refuses a child without a parent', () => {
    expect(routingOf(child, event(undefined, { id: '1', name: 'o1', qty: '9' }), 'before')).toBe(
      '9',
    );
    expect(() => buildDocument(child, event({ id: '1', name: 'o1', qty: null }))).toThrow(
      /parent field "parent" is NULL/,
    );
    expect(() => routingOf(child, event({ id: '1', name: 'o1', qty: null }), 'after')).toThrow(
      DocumentError,
    );
  });
});

describe('document errors', () => {
  const on = (
    parent: { name: string; column: string },
    objFields = new Map<string, ObjFieldSpec>(),
  ) =>
    plan({ fields: [f('name')], objFields, relations: [{ field: 'rel', name: 'order', parent }] });

  it('are DocumentErrors by name', () => {
    expect(new DocumentError('x').name).toBe('DocumentError');
  });

  it('a child whose parent column is missing, empty or an object cannot be built', () => {
    expect(() => buildDocument(on(f('parent', 'qty')), event({ id: '1', name: 'o1' }))).toThrow(
      /column "qty" \(field "parent"\) is not in the after image/,
    );
    expect(() => buildDocument(on(f('parent', 'name')), event({ id: '1', name: '' }))).toThrow(
      /the parent field "parent" is NULL or empty; a child document needs its parent id/,
    );
    const obj = on(f('parent', 'doc'), new Map([['parent', { kind: 'object' } as ObjFieldSpec]]));
    expect(() => buildDocument(obj, event({ id: '1', name: 'o1', doc: '{"a":1}' }))).toThrow(
      'a parent id must be a scalar',
    );
  });

  it('routing without a parent id says which image lacks it', () => {
    expect(() =>
      routingOf(on(f('parent', 'name')), event(undefined, { id: '1', name: '' }), 'before'),
    ).toThrow(
      'relation "rel" (order): the parent field "parent" is NULL or empty in the before image; the document\'s routing is unknown',
    );
  });
});
