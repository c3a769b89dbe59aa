import { describe, expect, it } from 'vitest';
import { parseSingleTableSelect } from './singleTableSql.js';

describe('parseSingleTableSelect', () => {
  it('reads fields with their aliases, the table, its schema and its alias', () => {
    expect(
      parseSingleTableSelect(
        'select a.id as _id, a.name, a.c_time ctime, `a`.`role` AS r from `mytest`.user a',
      ),
    ).toEqual({
      database: 'mytest',
      table: 'user',
      alias: 'a',
      fields: [
        { name: '_id', column: 'id' },
        { name: 'name', column: 'name' },
        { name: 'ctime', column: 'c_time' },
        { name: 'r', column: 'role' },
      ],
    });
    expect(parseSingleTableSelect('select id, name from user')).toMatchObject({
      table: 'user',
      alias: undefined,
      fields: [
        { name: 'id', column: 'id' },
        { name: 'name', column: 'name' },
      ],
    });
  });

  it('reports joins, sub-queries, comma joins, expressions, * and other aliases', () => {
    const reason = (sql: string) => (parseSingleTableSelect(sql) as { reason?: string }).reason;
    expect(reason('select a.id from user a left join role b on b.id=a.role_id')).toBe(
      'a join or sub-query: not a single-table select',
    );
    expect(reason('select a.id from user a, role b')).toBe(
      'a join or sub-query: not a single-table select',
    );
    expect(reason('select a.id from (select id from user) a')).toBe(
      'a join or sub-query: not a single-table select',
    );
    expect(reason('select a.id + 1 as x from user a')).toMatch(/is an expression/);
    expect(reason('select * from user a')).toMatch(/is an expression/);
    expect(reason('select b.id from user a')).toMatch(/not the table's/);
    expect(reason('select a.id from user a group by a.id')).toMatch(/expected "FROM table alias"/);
  });
});
