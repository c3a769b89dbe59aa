import { describe, expect, it } from 'vitest';
import { checkRdb, type RdbMapping } from './schemas.js';
import { routeOf } from './route.js';

const mapping = (dbMapping: Record<string, unknown>): RdbMapping =>
  ({
    concurrent: false,
    dbMapping: {
      database: 'mytest',
      table: 'user',
      targetPk: { id: 'id' },
      mapAll: true,
      ...dbMapping,
    },
  }) as unknown as RdbMapping;
const messages = (m: RdbMapping) => checkRdb(m).map((p) => `${p.severity} ${p.message}`);

describe('checkRdb', () => {
  it('accepts a complete mapping without a word', () => {
    expect(checkRdb(mapping({ targetDb: 'mytest2', targetTable: 'user' }))).toEqual([]);
  });

  it('reads targetTable schema.table as two names, and warns that canal-adapter does not', () => {
    const m = mapping({ targetTable: 'mytest2.user' });
    expect(checkRdb(m)).toEqual([
      expect.objectContaining({
        severity: 'warning',
        path: ['dbMapping', 'targetTable'],
        suggestion: 'use targetDb: mytest2 and targetTable: user',
      }),
    ]);
    expect(routeOf(m, 'user')).toMatchObject({ schema: 'mytest2', table: 'user' });
  });

  it('with targetDb set, a dotted targetTable is one name (as canal quotes it): warned, not split', () => {
    const m = mapping({ targetDb: 'mytest2', targetTable: 'mytest2.user' });
    expect(messages(m)).toEqual([
      'warning with targetDb set, "mytest2.user" is one table name containing a dot (written `mytest2`.`mytest2.user`, as canal-adapter does)',
    ]);
    expect(checkRdb(m)[0]?.suggestion).toBe('targetTable: user');
    expect(routeOf(m, 'user')).toMatchObject({ schema: 'mytest2', table: 'mytest2.user' });
  });

  it('refuses a mapping without table, targetTable or columns, and an etlCondition with ";"', () => {
    expect(checkRdb({} as RdbMapping)).toEqual([
      expect.objectContaining({ severity: 'error', path: ['dbMapping'] }),
    ]);
    expect(
      messages(mapping({ table: '', mapAll: false, etlCondition: 'where 1=1; drop table x' })),
    ).toEqual([
      'error dbMapping.table is missing (required unless mirrorDb: true).',
      'error dbMapping.targetTable is missing (required unless mirrorDb: true).',
      'error No columns are mapped: set targetColumns or mapAll: true.',
      'error etlCondition must be one WHERE fragment; ";" is not allowed.',
    ]);
  });

  it('warns on an empty targetPk; a mirrorDb mapping needs no table', () => {
    expect(messages(mapping({ targetTable: 'user', targetPk: {} }))).toEqual([
      expect.stringMatching(/^warning targetPk is empty/),
    ]);
    expect(checkRdb({ dbMapping: { database: 'mytest', mirrorDb: true } } as RdbMapping)).toEqual(
      [],
    );
  });
});
