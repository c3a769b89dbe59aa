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
    expect(problems({ _id: '_id', sql: "select concat('x_', a.id) as _id from t a" })).toEqual([
      'error esMapping._id: in a join mapping the _id field "_id" must be a plain column of the main table (a.<column>); computed ids are not applied yet',
    ]);
    expect(
      problems({
        _id: '_id',
        sql: "select a.id as _id, b.x from user a left join (select id, group_concat(n separator ';') x from t group by id) b on b.id=a.role_id",
      }),
    ).toEqual([
      'error esMapping.sql: not applied by this version of Sluice: joined sub-queries (e.g. group_concat) are not applied yet.',
    ]);
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
    ).toEqual(['error esMapping.relations', 'error esMapping.syncByTimestamp']);
    expect(
      problems({
        _id: '_id',
        sql: 'SELECT `a`.`id` AS _id, a.name n, a.tags FROM mytest.`user` AS a;',
        objFields: { tags: 'array:;' },
      }),
    ).toEqual([]);
  });
});
