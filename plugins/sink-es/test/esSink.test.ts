import { describe, expect, it } from 'vitest';
import { esSink } from '../src/index.js';
import { checkEs, esTables, type EsMapping } from '../src/mapping.js';

const mapping = (
  esMapping: Partial<EsMapping['esMapping']>,
  dataSourceKey = 'defaultDS',
): EsMapping => ({
  dataSourceKey,
  esMapping: {
    _index: 'mytest_user',
    sql: '',
    upsert: false,
    skips: [],
    commitBatch: 1000,
    syncByTimestamp: false,
    ...esMapping,
  },
});
const context = {
  defaultDatabase: (key: string | undefined) => (key === 'defaultDS' ? 'mytest' : undefined),
};

describe('es sink definition', () => {
  it('is named es8 with the aliases es7 and es6, each reading its own directory', () => {
    expect(esSink.name).toBe('es8');
    expect(esSink.aliases).toEqual(['es7', 'es6']);
    expect(esSink.mappings?.directories).toEqual(['es8', 'es7', 'es6']);
  });

  it('creates an instance without I/O (even for an unreachable host)', () => {
    const sink = esSink.create({
      key: 'es-1',
      name: 'es7',
      hosts: '127.0.0.1:1',
      properties: { requestTimeoutMs: 1000, refresh: false, server: 'auto' },
      configDir: '/cfg',
      deps: { dataSources: { get: () => undefined, keys: () => [] } },
    });
    expect(typeof sink.write).toBe('function');
  });
});

describe('es mapping tables and checks', () => {
  it('reads every table of the SQL, qualified by the SQL or the data source database', () => {
    const m = mapping({
      _id: '_id',
      sql: 'select a.id as _id, b.name from user a left join other.role b on b.id = a.role_id',
    });
    expect(esTables(m, context)).toEqual([
      { database: 'mytest', table: 'user' },
      { database: 'other', table: 'role' },
    ]);
    expect(
      esTables(mapping({ _id: '_id', sql: 'select a.id from t a' }, 'unknownDS'), context),
    ).toEqual([{ database: undefined, table: 't' }]);
  });

  it('requires _id or pk and SQL naming a table', () => {
    expect(
      checkEs(mapping({ sql: 'select 1' })).map((p) => `${p.severity} ${p.path.join('.')}`),
    ).toEqual(['error esMapping._id', 'error esMapping.sql']);
    expect(checkEs(mapping({ pk: 'id', sql: 'select a.id from t a' }))).toEqual([]);
  });

  it('refuses what this version cannot apply yet, at the key that says it', () => {
    const problems = (m: Partial<EsMapping['esMapping']>) =>
      checkEs(mapping(m)).map((p) => `${p.severity} ${p.path.join('.')}: ${p.message}`);
    // LEFT JOINs and expressions are applied (re-queried); what is not says what and where.
    expect(
      problems({
        _id: '_id',
        sql: 'select a.id as _id, b.role_name from user a left join role b on b.id=a.role_id',
      }),
    ).toEqual([]);
    expect(problems({ _id: '_id', sql: 'select a.id as _id, upper(a.n) as n from t a' })).toEqual(
      [],
    );
    expect(problems({ _id: '_id', sql: "select concat('x_', a.id) as _id from t a" })).toEqual([]);
    expect(
      problems({
        _id: '_id',
        sql: "select concat(a.id, '_', b.type) as _id from t a left join u b on b.id = a.u_id",
      }),
    ).toEqual([
      'error esMapping._id: the computed _id "_id" reads b.type of a joined table: an id must come from main-table columns only (a joined row\'s change would move documents, and a deleted row\'s id could not be computed; canal then deletes nothing)',
    ]);
    expect(problems({ _id: '_id', sql: 'select now() as _id, a.n from t a' })).toEqual([
      'error esMapping._id: the computed _id "_id" reads no column of the main table (a): every row would get the same id',
    ]);
    expect(problems({ pk: 'p', sql: "select concat('x_', a.id) as p from t a" })).toEqual([
      'error esMapping.pk: in a join mapping the pk field "p" must be a plain column of the main table (a.<column>); documents are located by the pk value',
    ]);
    expect(
      problems({
        _id: '_id',
        sql: "select a.id as _id, b.x from user a left join (select id, group_concat(n separator ';') x from t group by id) b on b.id=a.role_id",
      }),
    ).toEqual([]);
    expect(problems({ _id: '_id', sql: 'select a.id as _id from t a where a.x = 1' })[0]).toMatch(
      /WHERE in the mapping SQL is not applied/,
    );
    expect(problems({ _id: 'nope', sql: 'select a.id as _id from t a' })).toEqual([
      'error esMapping._id: _id "nope" is not a field of the SQL (fields: _id)',
    ]);
    expect(
      problems({ pk: 'c_id', sql: 'select a.id as c_id from t a', objFields: { c_id: 'obj:x' } }),
    ).toEqual([
      'error esMapping.objFields.c_id: unknown objFields spec "obj:x" (expected array:<separator>, object or json)',
    ]);
    expect(
      problems({
        _id: '_id',
        sql: 'select a.id as _id, a.p from t a',
        relations: { j: { name: 'c', parent: 'p' } },
        syncByTimestamp: true,
      }).map((p) => p.split(':')[0]),
    ).toEqual(['error esMapping.syncByTimestamp']);
    // relations: canal's biz_order/customer shapes are applied; what cannot be routed is refused.
    expect(
      problems({
        _id: 'id',
        sql: 'select t.id, t.name from customer t',
        relations: { customer_order: { name: 'customer' } },
      }),
    ).toEqual([]);
    expect(
      problems({
        _id: '_id',
        sql: 'select a.id as _id, a.p, upper(a.q) as q from t a',
        relations: { j: { name: 'c', parent: 'nope' } },
      }),
    ).toEqual([
      'error esMapping.relations.j.parent: parent "nope" is not a field of the SQL (fields: _id, p, q)',
    ]);
    expect(
      problems({
        _id: '_id',
        sql: 'select a.id as _id, upper(a.p) as p from t a',
        relations: { j: { name: 'c', parent: 'p' } },
      }),
    ).toEqual([
      'error esMapping.relations.j.parent: parent "p" must be a plain column of the main table: a deleted row\'s routing is read from the row itself',
    ]);
    expect(
      problems({
        pk: 'id',
        sql: 'select a.id, a.p from t a',
        relations: { j: { name: 'c', parent: 'p' } },
      }),
    ).toEqual([
      'error esMapping.relations: a relation with a parent needs _id: pk mode locates documents by search, without their routing',
    ]);
    expect(
      problems({
        _id: 'id',
        sql: 'select a.id, a.p, a.q from t a',
        relations: { j: { name: 'c', parent: 'p' }, k: { name: 'd', parent: 'q' }, l: {} },
      }),
    ).toEqual([
      'error esMapping.relations.l.name: relation "l" needs a name (the relation of the documents, e.g. order)',
      'error esMapping.relations: only one relation can name a parent (a document has one routing); got j, k',
    ]);
    expect(
      problems({
        _id: '_id',
        sql: 'SELECT `a`.`id` AS _id, a.name n, a.tags FROM mytest.`user` AS a;',
        objFields: { tags: 'array:;' },
      }),
    ).toEqual([]);
  });
});
