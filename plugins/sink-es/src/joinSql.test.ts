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
        },
      ],
      fields: [
        {
          name: '_id',
          simple: { alias: 'a', column: 'id' },
          columns: [{ alias: 'a', column: 'id' }],
        },
        {
          name: 'name',
          simple: { alias: 'a', column: 'name' },
          columns: [{ alias: 'a', column: 'name' }],
        },
        {
          name: 'role_id',
          simple: { alias: 'a', column: 'role_id' },
          columns: [{ alias: 'a', column: 'role_id' }],
        },
        {
          name: 'role_name',
          simple: { alias: 'b', column: 'role_name' },
          columns: [{ alias: 'b', column: 'role_name' }],
        },
        {
          name: 'nr',
          simple: undefined,
          columns: [
            { alias: 'a', column: 'name' },
            { alias: 'b', column: 'role_name' },
          ],
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
        "select a.id as _id, b.x from user a left join (select id, group_concat(n separator ';') x from t group by id) b on b.id=a.role_id",
      ),
    ).toMatch(/joined sub-queries/);
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
});
