import { describe, expect, it } from 'vitest';
import type { RowChangeEvent, RowImage } from '@sluice/plugin-api';
import { buildDocument, DocumentError, fieldValue, keyText } from './document.js';
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
