import { describe, expect, it } from 'vitest';
import { etlSelect } from './etl.js';
import type { EsMapping } from './mapping.js';
import { planMapping, type EsPlan } from './plan.js';

const mapping = (sql: string, key: { _id?: string; pk?: string } = { _id: '_id' }): EsMapping => ({
  dataSourceKey: 'ds',
  esMapping: {
    _index: 'i',
    sql,
    upsert: false,
    skips: [],
    commitBatch: 1000,
    syncByTimestamp: false,
    ...key,
  },
});
const plan = (m: EsMapping): EsPlan => {
  const p = planMapping(m);
  if (Array.isArray(p)) throw new Error(JSON.stringify(p));
  return p;
};

describe('etlSelect', () => {
  it('single table: the select columns under the alias, keyed by the _id column', () => {
    const m = mapping('select a.id as _id, a.name, a.c_time as t from mydb.user a');
    const s = etlSelect(m, plan(m));
    expect(s.sql).toBe(
      'SELECT `a`.`id` AS `__sluice_k0`, `a`.`id`, `a`.`name`, `a`.`c_time` FROM `mydb`.`user` AS `a`',
    );
    expect(s.keys).toEqual(['`a`.`id`']);
    expect([...s.positions]).toEqual([
      ['_id', 1],
      ['name', 2],
      ['t', 3],
    ]);
  });

  it('single table without alias: the table name is the alias (etlCondition may name it)', () => {
    const m = mapping('select id, name from user', { pk: 'id' });
    const s = etlSelect(m, plan(m));
    expect(s.sql).toBe(
      'SELECT `user`.`id` AS `__sluice_k0`, `user`.`id`, `user`.`name` FROM `user` AS `user`',
    );
    expect(s.keys).toEqual(['`user`.`id`']);
  });

  it('join mapping: the mapping SQL itself, keyed by the main table column of _id', () => {
    const m = mapping(
      'select a.id as _id, a.name, b.role_name from user a left join role b on b.id = a.role_id;',
    );
    const s = etlSelect(m, plan(m));
    expect(s.sql).toBe(
      'SELECT `a`.`id` AS `__sluice_k0`, a.id as _id, a.name, b.role_name from user a left join role b on b.id = a.role_id',
    );
    expect(s.keys).toEqual(['`a`.`id`']);
    expect(s.positions.get('role_name')).toBe(3);
  });
});

describe('etlSelect of a join mapping with comments', () => {
  it('reads past leading comments and stops at the semicolon (not the comment after it)', () => {
    const m = mapping(
      '-- users and roles\n/* v2 */ SELECT/* all */a.id as _id, b.role_name from user a left join role b on b.id = a.role_id; -- end',
    );
    const s = etlSelect(m, plan(m));
    expect(s.sql).toBe(
      'SELECT `a`.`id` AS `__sluice_k0`, /* all */a.id as _id, b.role_name from user a left join role b on b.id = a.role_id',
    );
  });
});
