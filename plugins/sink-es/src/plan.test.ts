import type { MappingCheckProblem } from '@sluice/plugin-api';
import { describe, expect, it } from 'vitest';
import type { ObjFieldSpec } from './esValue.js';
import { parseJoinSelect, type JoinSelect } from './joinSql.js';
import type { EsMapping } from './mapping.js';
import { planMapping, type EsPlan } from './plan.js';

type Es = EsMapping['esMapping'];

const mapping = (es: Partial<Es>, dataSourceKey = 'ds'): EsMapping => ({
  dataSourceKey,
  esMapping: {
    _index: 'i',
    sql: '',
    upsert: false,
    skips: [],
    commitBatch: 1000,
    syncByTimestamp: false,
    ...es,
  },
});
function plan(es: Partial<Es>, dataSourceKey?: string): EsPlan {
  const p = planMapping(mapping(es, dataSourceKey));
  if (Array.isArray(p)) throw new Error(JSON.stringify(p));
  return p;
}
function problems(es: Partial<Es>): MappingCheckProblem[] {
  const p = planMapping(mapping(es));
  if (!Array.isArray(p)) throw new Error(`expected problems, got a plan for ${es.sql}`);
  return p;
}
function joinSelect(sql: string): JoinSelect {
  const j = parseJoinSelect(sql);
  if ('reason' in j) throw new Error(j.reason);
  return j;
}
const f = (name: string, column = name) => ({ name, column });
const noObj = new Map<string, ObjFieldSpec>();
const err = (path: string[], message: string): MappingCheckProblem => ({
  severity: 'error',
  path,
  message,
});

const SINGLE = 'select a.id as _id, a.name, a.qty as n, a.tags, a.pid from shop.items a';

describe('planMapping: single-table mappings (documents built from the event)', () => {
  it('_id mode: the _id field is the key and is left out of _source', () => {
    expect(planMapping(mapping({ _index: 'items', _id: '_id', sql: SINGLE }))).toEqual({
      index: 'items',
      idField: f('_id', 'id'),
      pkField: undefined,
      upsert: false,
      fields: [f('name'), f('n', 'qty'), f('tags'), f('pid')],
      objFields: noObj,
      relations: [],
      join: undefined,
    });
  });

  it('pk mode: the pk field locates documents and stays in _source', () => {
    const p = plan({ pk: 'n', sql: SINGLE, upsert: true });
    expect(p.idField).toBeUndefined();
    expect(p.pkField).toEqual(f('n', 'qty'));
    expect(p.upsert).toBe(true);
    expect(p.fields).toEqual([f('_id', 'id'), f('name'), f('n', 'qty'), f('tags'), f('pid')]);
    expect(p.join).toBeUndefined();
  });

  it('_id wins over pk; an empty _id or pk counts as unset', () => {
    const both = plan({ _id: '_id', pk: 'n', sql: SINGLE });
    expect(both.idField).toEqual(f('_id', 'id'));
    expect(both.pkField).toBeUndefined();
    const emptyId = plan({ _id: '', pk: 'name', sql: SINGLE });
    expect(emptyId.idField).toBeUndefined();
    expect(emptyId.pkField).toEqual(f('name'));
    expect(emptyId.fields).toHaveLength(5);
    const emptyPk = plan({ _id: '_id', pk: '', sql: SINGLE });
    expect(emptyPk.idField).toEqual(f('_id', 'id'));
    expect(emptyPk.pkField).toBeUndefined();
    const none = plan({ _id: '', pk: '', sql: SINGLE });
    expect(none.idField).toBeUndefined();
    expect(none.pkField).toBeUndefined();
    expect(none.fields).toHaveLength(5);
  });

  it('skips leave fields out of _source (by field name, not by column)', () => {
    expect(plan({ _id: '_id', sql: SINGLE, skips: ['n', 'tags', 'qty', 'nope'] }).fields).toEqual([
      f('name'),
      f('pid'),
    ]);
    expect(plan({ pk: 'name', sql: SINGLE, skips: ['name'] }).fields).toEqual([
      f('_id', 'id'),
      f('n', 'qty'),
      f('tags'),
      f('pid'),
    ]);
  });

  it('unicode field names and an index name pass through unchanged', () => {
    expect(
      plan({ _index: 'índice_商品', _id: 'ключ', sql: 'select a.id as `ключ`, a.`名前` from t a' }),
    ).toMatchObject({ index: 'índice_商品', idField: f('ключ', 'id'), fields: [f('名前')] });
  });

  it('an empty SQL plans nothing and reports nothing (the schema reports it)', () => {
    expect(planMapping(mapping({ _id: '_id', sql: '' }))).toEqual([]);
  });

  it('_id or pk that is not a select field: one problem listing the fields', () => {
    expect(problems({ _id: 'id', sql: SINGLE })).toEqual([
      err(
        ['esMapping', '_id'],
        '_id "id" is not a field of the SQL (fields: _id, name, n, tags, pid)',
      ),
    ]);
    expect(problems({ pk: 'qty', sql: SINGLE })).toEqual([
      err(
        ['esMapping', 'pk'],
        'pk "qty" is not a field of the SQL (fields: _id, name, n, tags, pid)',
      ),
    ]);
    // with a valid _id, a wrong pk is not read at all
    expect(plan({ _id: '_id', pk: 'qty', sql: SINGLE }).pkField).toBeUndefined();
  });

  it('objFields: parsed specs by field; a bad spec is a problem at its key', () => {
    const p = plan({
      _id: '_id',
      sql: SINGLE,
      objFields: { tags: 'array:;', name: 'object', pid: 'json' },
    });
    expect(p.objFields).toEqual(
      new Map<string, ObjFieldSpec>([
        ['tags', { kind: 'array', separator: /;/ }],
        ['name', { kind: 'object' }],
        ['pid', { kind: 'object' }],
      ]),
    );
    expect(
      problems({ _id: '_id', sql: SINGLE, objFields: { tags: 'list', name: 'array:' } }),
    ).toEqual([
      err(
        ['esMapping', 'objFields', 'tags'],
        'unknown objFields spec "list" (expected array:<separator>, object or json)',
      ),
      err(['esMapping', 'objFields', 'name'], 'array: needs a separator (e.g. array:;)'),
    ]);
  });

  it('syncByTimestamp is refused with a suggestion', () => {
    expect(problems({ _id: '_id', sql: SINGLE, syncByTimestamp: true })).toEqual([
      {
        severity: 'error',
        path: ['esMapping', 'syncByTimestamp'],
        message:
          'syncByTimestamp: true makes canal-adapter skip incremental sync for this mapping; Sluice has no timestamp scheduler and does not skip silently.',
        suggestion: 'remove syncByTimestamp (or the mapping)',
      },
    ]);
  });

  it('collects every problem, in key order', () => {
    expect(
      problems({
        _id: 'x',
        sql: SINGLE,
        objFields: { tags: 'csv' },
        relations: { j: { name: '' } },
        syncByTimestamp: true,
      }).map((p) => p.path.join('.')),
    ).toEqual([
      'esMapping._id',
      'esMapping.objFields.tags',
      'esMapping.relations.j.name',
      'esMapping.syncByTimestamp',
    ]);
  });
});

describe('planMapping: relations (parent/child join field)', () => {
  it('a relation without parent, and one with a parent field', () => {
    expect(
      plan({ _id: '_id', sql: SINGLE, relations: { join_field: { name: 'order' } } }).relations,
    ).toEqual([{ field: 'join_field', name: 'order', parent: undefined }]);
    expect(
      plan({
        _id: '_id',
        sql: SINGLE,
        relations: { j: { name: 'item', parent: 'pid' }, k: { name: 'tag', parent: '' } },
      }).relations,
    ).toEqual([
      { field: 'j', name: 'item', parent: f('pid') },
      { field: 'k', name: 'tag', parent: undefined },
    ]);
  });

  it('a relation needs a name', () => {
    expect(problems({ _id: '_id', sql: SINGLE, relations: { j: { parent: 'pid' } } })).toEqual([
      err(
        ['esMapping', 'relations', 'j', 'name'],
        'relation "j" needs a name (the relation of the documents, e.g. order)',
      ),
    ]);
    // the nameless relation is not planned: its parent does not count in pk mode either
    expect(
      problems({ pk: 'name', sql: SINGLE, relations: { j: { name: '', parent: 'pid' } } }),
    ).toEqual([
      err(
        ['esMapping', 'relations', 'j', 'name'],
        'relation "j" needs a name (the relation of the documents, e.g. order)',
      ),
    ]);
  });

  it('the parent must be a select field', () => {
    expect(
      problems({ _id: '_id', sql: SINGLE, relations: { j: { name: 'item', parent: 'pids' } } }),
    ).toEqual([
      err(
        ['esMapping', 'relations', 'j', 'parent'],
        'parent "pids" is not a field of the SQL (fields: _id, name, n, tags, pid)',
      ),
    ]);
  });

  it('only one relation may name a parent', () => {
    expect(
      problems({
        _id: '_id',
        sql: SINGLE,
        relations: {
          a: { name: 'x', parent: 'pid' },
          b: { name: 'y' },
          c: { name: 'z', parent: 'name' },
        },
      }),
    ).toEqual([
      err(
        ['esMapping', 'relations'],
        'only one relation can name a parent (a document has one routing); got a, c',
      ),
    ]);
  });

  it('a relation with a parent needs _id mode; one without parent does not', () => {
    expect(
      problems({ pk: 'name', sql: SINGLE, relations: { j: { name: 'item', parent: 'pid' } } }),
    ).toEqual([
      err(
        ['esMapping', 'relations'],
        'a relation with a parent needs _id: pk mode locates documents by search, without their routing',
      ),
    ]);
    expect(plan({ pk: 'name', sql: SINGLE, relations: { j: { name: 'item' } } }).relations).toEqual(
      [{ field: 'j', name: 'item', parent: undefined }],
    );
  });
});

const JOIN =
  "select a.id as _id, a.name, a.role_id, b.role_name, concat(a.name,'/',b.role_name) as nr from user a left join role b on b.id=a.role_id";

describe('planMapping: join mappings (documents re-queried from the source)', () => {
  it('plans the back-query: select, data source, positions; joined fields have no column', () => {
    expect(plan({ _index: 'users', _id: '_id', sql: JOIN }, 'src1')).toEqual({
      index: 'users',
      idField: f('_id', 'id'),
      pkField: undefined,
      upsert: false,
      fields: [f('name'), f('role_id'), f('role_name', ''), f('nr', '')],
      objFields: noObj,
      relations: [],
      join: {
        select: joinSelect(JOIN),
        dataSourceKey: 'src1',
        positions: new Map([
          ['_id', 0],
          ['name', 1],
          ['role_id', 2],
          ['role_name', 3],
          ['nr', 4],
        ]),
        idExpression: undefined,
      },
    });
  });

  it('pk mode on a plain main-table column', () => {
    const p = plan({ pk: 'role_id', sql: JOIN, skips: ['nr'] });
    expect(p.idField).toBeUndefined();
    expect(p.pkField).toEqual(f('role_id'));
    expect(p.fields).toEqual([f('_id', 'id'), f('name'), f('role_id'), f('role_name', '')]);
    expect(p.join?.idExpression).toBeUndefined();
  });

  it('a computed _id over main-table columns: its SQL and its columns, each once', () => {
    const sql =
      "select concat(a.id,'_',a.kind,a.id) as _id, a.name, b.x from user a left join role b on b.id=a.rid";
    const p = plan({ _id: '_id', sql });
    expect(p.idField).toEqual(f('_id', ''));
    expect(p.fields).toEqual([f('name'), f('x', '')]);
    expect(p.join?.idExpression).toEqual({
      sql: "concat(`a`.`id`, '_', `a`.`kind`, `a`.`id`)",
      columns: ['id', 'kind'],
    });
    // also when pk is set besides _id
    expect(plan({ _id: '_id', pk: 'name', sql }).join?.idExpression?.columns).toEqual([
      'id',
      'kind',
    ]);
    // a single-table SQL with an expression is a join mapping too
    expect(
      plan({ _id: 'k', sql: 'select upper(a.code) as k, a.name from item a' }).join,
    ).toMatchObject({ idExpression: { sql: 'upper(`a`.`code`)', columns: ['code'] } });
  });

  it('a computed _id that reads no column is refused', () => {
    expect(problems({ _id: '_id', sql: "select concat('x') as _id, a.name from user a" })).toEqual([
      err(
        ['esMapping', '_id'],
        'the computed _id "_id" reads no column of the main table (a): every row would get the same id',
      ),
    ]);
  });

  it('a computed _id that reads joined columns is refused, naming them', () => {
    expect(
      problems({
        _id: '_id',
        sql: "select concat(a.id,'_',b.id,c.z) as _id, a.name from user a left join role b on b.id=a.rid left join t c on c.id=a.id",
      }),
    ).toEqual([
      err(
        ['esMapping', '_id'],
        'the computed _id "_id" reads b.id, c.z of a joined table: an id must come from main-table columns only (a joined row\'s change would move documents, and a deleted row\'s id could not be computed; canal then deletes nothing)',
      ),
    ]);
  });

  it('an _id or pk from a joined table, or a computed pk, is refused', () => {
    const onJoined = 'select b.x as k, a.name, a.id from user a left join role b on b.id=a.rid';
    expect(problems({ _id: 'k', sql: onJoined })).toEqual([
      err(
        ['esMapping', '_id'],
        'in a join mapping the _id field "k" must be a plain column or an expression of the main table (a.<column>)',
      ),
    ]);
    const pkMessage = err(
      ['esMapping', 'pk'],
      'in a join mapping the pk field "k" must be a plain column of the main table (a.<column>); documents are located by the pk value',
    );
    expect(problems({ pk: 'k', sql: onJoined })).toEqual([pkMessage]);
    expect(problems({ _id: '', pk: 'k', sql: onJoined })).toEqual([pkMessage]);
    expect(
      problems({
        pk: 'k',
        sql: "select concat(a.id,'x') as k, a.name from user a left join role b on b.id=a.rid",
      }),
    ).toEqual([pkMessage]);
    // an _id that is no field: only the "not a field" problem
    expect(problems({ _id: 'zz', sql: onJoined })).toEqual([
      err(['esMapping', '_id'], '_id "zz" is not a field of the SQL (fields: k, name, id)'),
    ]);
  });

  it('SQL that neither shape applies is refused with the reason and a suggestion', () => {
    expect(
      problems({ _id: 'id', sql: 'select a.id, b.x from user a inner join role b on b.id=a.rid' }),
    ).toEqual([
      {
        severity: 'error',
        path: ['esMapping', 'sql'],
        message:
          'not applied by this version of Sluice: INNER JOIN of "b" is not applied; canal\'s semantics are LEFT JOIN (write LEFT JOIN).',
        suggestion:
          "keep canal-adapter's es adapter for this mapping meanwhile (on its own consumer group)",
      },
    ]);
  });

  it('a relation parent must be a plain main-table column', () => {
    for (const parent of ['role_name', 'nr'])
      expect(
        problems({ _id: '_id', sql: JOIN, relations: { j: { name: 'user', parent } } }),
      ).toEqual([
        err(
          ['esMapping', 'relations', 'j', 'parent'],
          `parent "${parent}" must be a plain column of the main table: a deleted row's routing is read from the row itself`,
        ),
      ]);
    // the refused parent does not count as a second parent, nor against pk mode
    expect(
      problems({
        _id: '_id',
        sql: JOIN,
        relations: { j: { name: 'user', parent: 'nr' }, k: { name: 'r', parent: 'role_id' } },
      }).map((p) => p.path.join('.')),
    ).toEqual(['esMapping.relations.j.parent']);
    expect(
      problems({ pk: 'name', sql: JOIN, relations: { j: { name: 'user', parent: 'nr' } } }).map(
        (p) => p.path.join('.'),
      ),
    ).toEqual(['esMapping.relations.j.parent']);
    expect(
      plan({ _id: '_id', sql: JOIN, relations: { j: { name: 'user', parent: 'role_id' } } })
        .relations,
    ).toEqual([{ field: 'j', name: 'user', parent: f('role_id') }]);
  });
});
