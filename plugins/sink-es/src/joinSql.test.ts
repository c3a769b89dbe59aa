import { describe, expect, it } from 'vitest';
import { parseJoinSelect } from './joinSql.js';

const reason = (sql: string) => {
  const r = parseJoinSelect(sql);
  return 'reason' in r ? r.reason : 'parsed';
};

describe('parseJoinSelect', () => {
  it("reads canal's mytest_user mapping with a LEFT JOIN and a concat expression", () => {
    const r = parseJoinSelect(
      "select a.id as _id, a.name, a.role_id, b.role_name, concat(a.name,'_',b.role_name) as nr from mytest.user a left join role b on b.id=a.role_id;",
    );
    expect(r).toEqual({
      main: { database: 'mytest', table: 'user', alias: 'a' },
      joins: [
        {
          database: undefined,
          table: 'role',
          alias: 'b',
          on: [{ own: 'id', other: { alias: 'a', column: 'role_id' } }],
          subquery: false,
        },
      ],
      fields: [
        {
          name: '_id',
          simple: { alias: 'a', column: 'id' },
          columns: [{ alias: 'a', column: 'id' }],
          expression: undefined,
        },
        {
          name: 'name',
          simple: { alias: 'a', column: 'name' },
          columns: [{ alias: 'a', column: 'name' }],
          expression: undefined,
        },
        {
          name: 'role_id',
          simple: { alias: 'a', column: 'role_id' },
          columns: [{ alias: 'a', column: 'role_id' }],
          expression: undefined,
        },
        {
          name: 'role_name',
          simple: { alias: 'b', column: 'role_name' },
          columns: [{ alias: 'b', column: 'role_name' }],
          expression: undefined,
        },
        {
          name: 'nr',
          simple: undefined,
          columns: [
            { alias: 'a', column: 'name' },
            { alias: 'b', column: 'role_name' },
          ],
          expression: "concat(`a`.`name`, '_', `b`.`role_name`)",
        },
      ],
      text: "select a.id as _id, a.name, a.role_id, b.role_name, concat(a.name,'_',b.role_name) as nr from mytest.user a left join role b on b.id=a.role_id",
    });
  });

  it('says what is not applied', () => {
    expect(reason('select a.id as _id, a.name from user a where a.id>1')).toMatch(/^WHERE/);
    expect(reason('select a.id as _id, b.x from user a join role b on b.id=a.role_id')).toMatch(
      /INNER JOIN of "b" is not applied|JOIN of "b" is not applied/,
    );
    expect(
      reason(
        'select a.id as _id, b.x from user a left join (select t.id, u.x from t join u on u.id = t.id) b on b.id=a.role_id',
      ),
    ).toMatch(/must read exactly one table/);
    expect(
      reason(
        "select a.id as _id, b.x from user a left join (select max(id) as m, group_concat(n separator ';') x from t group by id) b on b.m=a.role_id",
      ),
    ).toMatch(/ON column "b.m" must be a plain column of the sub-query's table/);
    expect(reason('select a.id as _id from (select id from t) a')).toMatch(
      /main table must be a table/,
    );
    expect(reason('select a.id as _id, a.n from user a group by a.id')).toMatch(
      /GROUP BY in the mapping SQL is not applied .*LEFT JOINed sub-query/,
    );
    expect(reason('select a.id as _id, count(*) as c from user a')).toMatch(/aggregate/);
    expect(reason('select a.id as _id, b.x from user a left join role b on b.id=1')).toMatch(
      /equalities between columns/,
    );
    expect(reason('select * from user a')).toMatch(/\*/);
    expect(reason('select a.id, upper(a.name) from user a')).toMatch(/needs an alias/);
    expect(reason('select id, name from user')).toMatch(/no alias/);
    expect(reason('select a.id from user a left join role b on b.id = c.x')).toMatch(
      /not a table joined before/,
    );
    expect(reason('selec a.id')).toMatch(/does not parse/);
  });

  it('reads a LEFT JOINed group_concat sub-query: its table, and the table column behind the ON', () => {
    const sql =
      "select a.id as _id, a.name, l.labels from user a left join (select x.user_id as uid, group_concat(x.label order by x.id desc separator ';') as labels from mytest.label x where x.deleted = 0 group by x.user_id) l on l.uid = a.id";
    const r = parseJoinSelect(sql);
    if ('reason' in r) throw new Error(r.reason);
    expect(r.joins).toEqual([
      {
        database: 'mytest',
        table: 'label',
        alias: 'l',
        on: [{ own: 'user_id', other: { alias: 'a', column: 'id' } }],
        subquery: true,
      },
    ]);
    expect(r.fields.map((f) => [f.name, f.simple])).toEqual([
      ['_id', { alias: 'a', column: 'id' }],
      ['name', { alias: 'a', column: 'name' }],
      ['labels', { alias: 'l', column: 'labels' }],
    ]);
    expect(r.text).toBe(sql);
  });
});
