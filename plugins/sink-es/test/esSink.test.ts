import { describe, expect, it } from 'vitest';
import { ErrorCodes, SluiceError } from '@sluice/plugin-api';
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

  it('refuses to create an instance with a fatal error saying what to use meanwhile', () => {
    let error: unknown;
    try {
      esSink.create({
        key: 'es-1',
        name: 'es7',
        hosts: 'http://127.0.0.1:9200',
        properties: {},
        configDir: '/cfg',
        deps: {},
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(SluiceError);
    expect((error as SluiceError).code).toBe(ErrorCodes.fatal);
    expect((error as Error).message).toMatch(
      /outerAdapters "es-1" \(es7\).*validates.*not apply changes to Elasticsearch yet/,
    );
    expect((error as Error).message).toMatch(/canal-adapter's es7 adapter/);
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
});
