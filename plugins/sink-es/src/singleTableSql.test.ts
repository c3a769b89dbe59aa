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

  it('removes comments and folds whitespace; an item is owned by the alias, the table or nothing', () => {
    const fields = (sql: string) => {
      const r = parseSingleTableSelect(sql);
      if ('reason' in r) throw new Error(r.reason);
      return r.fields.map((f) => `${f.name}<-${f.column}`);
    };
    expect(fields('  select id/* the key,\n of it */from user  ')).toEqual(['id<-id']);
    expect(fields('select id, -- the key\n name -- and, the name\nfrom user')).toEqual([
      'id<-id',
      'name<-name',
    ]);
    expect(fields('select\n\tid,\n  name\n\nfrom\n  user  u')).toEqual(['id<-id', 'name<-name']);
    // No owner, the alias, or the table's own name.
    expect(fields('select id, u.name, user.role r from user u')).toEqual([
      'id<-id',
      'name<-name',
      'r<-role',
    ]);
    expect(fields('select `user`.`id` from `user`')).toEqual(['id<-id']);
  });

  it('says exactly why a SQL is not the single-table case', () => {
    const reason = (sql: string) => (parseSingleTableSelect(sql) as { reason?: string }).reason;
    const literal = 'string literals in the SQL (expressions): not a single-table select';
    expect(reason("select 'x' as k, id from user")).toBe(literal);
    expect(reason('select "x" as k, id from user')).toBe(literal);
    const shape = 'expected SELECT <columns> FROM <table> <alias>';
    expect(reason('delete from user')).toBe(shape);
    expect(reason('reselect id from user')).toBe(shape);
    expect(reason('select id')).toBe(shape);
    expect(reason('select id from user   where  id = 1')).toBe(
      'not a single-table select: expected "FROM table alias" (no WHERE, GROUP BY or joins), got "FROM user where id = 1"',
    );
    // A keyword where the alias would be, in any case.
    expect(reason('select id from user WHERE')).toMatch(/got "FROM user WHERE"$/);
    expect(reason('select id from user join')).toBe(
      'a join or sub-query: not a single-table select',
    );
    // The item as written, commas inside parentheses included.
    const expr = (item: string) =>
      `select item "${item}" is an expression (a function, arithmetic or *): not a single-table select`;
    expect(reason('select concat(a, b) as x, id from user')).toBe(expr('concat(a, b) as x'));
    expect(reason('select id, concat(a, b) x from user')).toBe(expr('concat(a, b) x'));
    expect(reason('select upper(a) x, id y from user')).toBe(expr('upper(a) x'));
    expect(reason('select `odd(name)` from user')).toBe(expr('`odd(name)`'));
    expect(reason('select u.id, * from user u')).toBe(expr('*'));
    expect(reason('select b.id from user a')).toBe(
      'select item "b.id" names an alias that is not the table\'s',
    );
  });
});
