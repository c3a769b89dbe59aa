import { describe, expect, it } from 'vitest';
import {
  isJoinSqlProblem,
  parseJoinSelect,
  statementText,
  type JoinField,
  type JoinSelect,
} from './joinSql.js';

/** A plain column field `alias.column [AS name]`. */
const simple = (alias: string, column: string, name = column): JoinField => ({
  name,
  simple: { alias, column },
  columns: [{ alias, column }],
  expression: undefined,
});

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
    expect(isJoinSqlProblem(r)).toBe(false);
  });

  it('reads a LEFT JOINed group_concat sub-query: its table, and the table column behind the ON', () => {
    const sql =
      "select a.id as _id, a.name, l.labels from user a left join (select x.user_id as uid, group_concat(x.label order by x.id desc separator ';') as labels from mytest.label x where x.deleted = 0 group by x.user_id) l on l.uid = a.id";
    expect(parseJoinSelect(sql)).toEqual({
      main: { database: undefined, table: 'user', alias: 'a' },
      joins: [
        {
          database: 'mytest',
          table: 'label',
          alias: 'l',
          on: [{ own: 'user_id', other: { alias: 'a', column: 'id' } }],
          subquery: true,
        },
      ],
      fields: [simple('a', 'id', '_id'), simple('a', 'name'), simple('l', 'labels')],
      text: sql,
    });
  });

  it("reads a sub-query's columns unqualified, by the table's alias, by its name or backquoted; its other items are not plain", () => {
    const r = (sub: string) => {
      const p = parseJoinSelect(
        `select a.id as _id, s.n from user a left join (${sub}) s on s.k = a.id and a.g = s.g`,
      );
      return isJoinSqlProblem(p) ? p.reason : { joins: p.joins, fields: p.fields };
    };
    const joined = (table: string, k: string, g: string) => ({
      joins: [
        {
          database: undefined,
          table,
          alias: 's',
          on: [
            { own: k, other: { alias: 'a', column: 'id' } },
            { own: g, other: { alias: 'a', column: 'g' } },
          ],
          subquery: true,
        },
      ],
      fields: [simple('a', 'id', '_id'), simple('s', 'n')],
    });
    // Unqualified, with and without an output alias.
    expect(r('select user_id as k, g, count(*) as n from tag group by user_id, g')).toEqual(
      joined('tag', 'user_id', 'g'),
    );
    // Qualified by the table's name (the table has no alias).
    expect(
      r('select tag.user_id as k, tag.grp as g, max(tag.v) as n from tag group by 1, 2'),
    ).toEqual(joined('tag', 'user_id', 'grp'));
    // Qualified by the table's alias, backquoted.
    expect(r('select `t`.`uid` as `k`, `t`.`g`, 1 as n from `tag` `t`')).toEqual(
      joined('tag', 'uid', 'g'),
    );
    // A column qualified by another name is not the table's: not a plain column to match by.
    expect(r('select z.user_id as k, t.g, 1 as n from tag t')).toBe(
      `the ON column "s.k" must be a plain column of the sub-query's table in its select list (its changes are matched to documents by it)`,
    );
    // The second ON pair's column missing: the first one found is not enough.
    expect(r('select t.user_id as k, 1 as n from tag t')).toBe(
      `the ON column "s.g" must be a plain column of the sub-query's table in its select list (its changes are matched to documents by it)`,
    );
    // An output alias renames: the table column is no longer reachable by its own name.
    expect(r('select t.k as kk, t.g, 1 as n from tag t')).toBe(
      `the ON column "s.k" must be a plain column of the sub-query's table in its select list (its changes are matched to documents by it)`,
    );
    // An empty output alias is none.
    expect(r("select t.k as '', t.g, 1 as n from tag t")).toEqual(joined('tag', 'k', 'g'));
  });

  it('keeps the text as written but for trailing whitespace and semicolons', () => {
    const r = parseJoinSelect('select a.id as _id\n  from mytest.user a ;\n ;  \n\t');
    expect(r).toEqual({
      main: { database: 'mytest', table: 'user', alias: 'a' },
      joins: [],
      fields: [simple('a', 'id', '_id')],
      text: 'select a.id as _id\n  from mytest.user a',
    });
  });

  it('keeps comments in the text but leading ones (back-queries append their WHERE on a new line)', () => {
    const sql = 'select a.id as _id, # the id\n  a.name -- the name\n  from user a -- end';
    expect(parseJoinSelect(`/* mapping */ ${sql}\n`)).toEqual({
      main: { database: undefined, table: 'user', alias: 'a' },
      joins: [],
      fields: [simple('a', 'id', '_id'), simple('a', 'name')],
      text: sql,
    });
  });

  it('reads one statement followed by a comment after its semicolon', () => {
    // The text ends before the semicolon: a back-query (text + "\nWHERE …") stays one statement.
    const r = parseJoinSelect('select a.id as _id from user a; -- the users');
    if (isJoinSqlProblem(r)) throw new Error(r.reason);
    expect(r).toEqual({
      main: { database: undefined, table: 'user', alias: 'a' },
      joins: [],
      fields: [simple('a', 'id', '_id')],
      text: 'select a.id as _id from user a',
    });
  });

  it('reads keywords in any case and keeps the case of names', () => {
    expect(
      parseJoinSelect(
        'SELECT A.ID AS _Id, B.Role_Name From MyDb.User A LeFt OuTeR JoIn Role B On A.Role_Id = B.Id',
      ),
    ).toEqual({
      main: { database: 'MyDb', table: 'User', alias: 'A' },
      joins: [
        {
          database: undefined,
          table: 'Role',
          alias: 'B',
          on: [{ own: 'Id', other: { alias: 'A', column: 'Role_Id' } }],
          subquery: false,
        },
      ],
      fields: [simple('A', 'ID', '_Id'), simple('B', 'Role_Name')],
      text: 'SELECT A.ID AS _Id, B.Role_Name From MyDb.User A LeFt OuTeR JoIn Role B On A.Role_Id = B.Id',
    });
  });

  it('reads backquoted names, unicode and spaces included, as the names', () => {
    const sql =
      "SELECT `甲`.`编号` AS `_id`, `甲`.`名字`, `乙`.`角色 名`, concat(`甲`.`名字`, '·', `乙`.`角色 名`) AS `全名` FROM `库`.`用户` `甲` LEFT JOIN `角色` AS `乙` ON `乙`.`编号` = `甲`.`角色`";
    expect(parseJoinSelect(sql)).toEqual({
      main: { database: '库', table: '用户', alias: '甲' },
      joins: [
        {
          database: undefined,
          table: '角色',
          alias: '乙',
          on: [{ own: '编号', other: { alias: '甲', column: '角色' } }],
          subquery: false,
        },
      ],
      fields: [
        simple('甲', '编号', '_id'),
        simple('甲', '名字'),
        simple('乙', '角色 名'),
        {
          name: '全名',
          simple: undefined,
          columns: [
            { alias: '甲', column: '名字' },
            { alias: '乙', column: '角色 名' },
          ],
          expression: "concat(`甲`.`名字`, '·', `乙`.`角色 名`)",
        },
      ],
      text: sql,
    });
  });

  it('reads AND-ed ON equalities in any order and nesting, and joins on a joined table', () => {
    const r = parseJoinSelect(
      'select a.id as _id, c.v from db1.user a left join db2.role b on a.role_id = b.id and (b.tenant = a.tenant and a.k = b.k) left join perm c on c.role_id = b.id',
    );
    if (isJoinSqlProblem(r)) throw new Error(r.reason);
    expect(r.joins).toEqual([
      {
        database: 'db2',
        table: 'role',
        alias: 'b',
        on: [
          { own: 'id', other: { alias: 'a', column: 'role_id' } },
          { own: 'tenant', other: { alias: 'a', column: 'tenant' } },
          { own: 'k', other: { alias: 'a', column: 'k' } },
        ],
        subquery: false,
      },
      {
        database: undefined,
        table: 'perm',
        alias: 'c',
        on: [{ own: 'role_id', other: { alias: 'b', column: 'id' } }],
        subquery: false,
      },
    ]);
  });

  it('names a field by its alias, else its column; an empty alias is none', () => {
    const r = parseJoinSelect(
      "select a.id as _id, a.name as '', a.x as y, a.x, case when a.s > 0 then b.t else a.u end as c, a.n + 1 as m from user a left join role b on b.id = a.role_id",
    );
    if (isJoinSqlProblem(r)) throw new Error(r.reason);
    expect(r.fields).toEqual([
      simple('a', 'id', '_id'),
      simple('a', 'name'),
      simple('a', 'x', 'y'),
      simple('a', 'x'),
      {
        name: 'c',
        simple: undefined,
        columns: [
          { alias: 'a', column: 's' },
          { alias: 'b', column: 't' },
          { alias: 'a', column: 'u' },
        ],
        expression: 'CASE WHEN `a`.`s` > 0 THEN `b`.`t` ELSE `a`.`u` END',
      },
      {
        name: 'm',
        simple: undefined,
        columns: [{ alias: 'a', column: 'n' }],
        expression: '`a`.`n` + 1',
      },
    ]);
  });

  it('reads an expression without columns', () => {
    const r = parseJoinSelect("select a.id as _id, 'es' as src, now() as at from user a");
    if (isJoinSqlProblem(r)) throw new Error(r.reason);
    expect(r.fields.slice(1)).toEqual([
      { name: 'src', simple: undefined, columns: [], expression: "'es'" },
      { name: 'at', simple: undefined, columns: [], expression: 'now()' },
    ]);
  });
});

describe('isJoinSqlProblem', () => {
  it('tells a problem from a parsed SQL', () => {
    expect(isJoinSqlProblem(parseJoinSelect('select a.id from user'))).toBe(true);
    expect(isJoinSqlProblem(parseJoinSelect('select a.id from user a'))).toBe(false);
  });
});

describe('statementText', () => {
  it('drops trailing semicolons with the blanks and comments after them', () => {
    expect(statementText('select a.id from t a;')).toBe('select a.id from t a');
    expect(statementText('select a.id from t a ; ;\n')).toBe('select a.id from t a');
    expect(statementText('select a.id from t a; -- note')).toBe('select a.id from t a');
    expect(statementText('select a.id from t a;\n# note\n/* more\n ; */ ;')).toBe(
      'select a.id from t a',
    );
    expect(statementText('select a.id from t a; --\n')).toBe('select a.id from t a');
  });

  it('drops leading blanks and comments', () => {
    expect(statementText('  -- the users\n/* v2 */ # x\nselect a.id from t a')).toBe(
      'select a.id from t a',
    );
  });

  it('keeps what is not only a comment after a semicolon, and comments without one', () => {
    // A comment ending the last line stays: appended clauses start on a new line.
    expect(statementText('select a.id from t a -- note')).toBe('select a.id from t a -- note');
    // `--x` is not a comment in MySQL.
    expect(statementText('select a.id from t a; --x')).toBe('select a.id from t a; --x');
    expect(statementText("select group_concat(x SEPARATOR ';') y from t a")).toBe(
      "select group_concat(x SEPARATOR ';') y from t a",
    );
    expect(statementText('select 1; select 2')).toBe('select 1; select 2');
    expect(statementText('select 1; select 2 -- c')).toBe('select 1; select 2 -- c');
    // Nothing but a semicolon.
    expect(statementText(';')).toBe('');
    expect(statementText(' ; -- x')).toBe('');
  });

  it('gives the parsed text of a mapping SQL', () => {
    const parsed = parseJoinSelect(
      '-- users with roles\nselect a.id as _id, b.name from user a left join role b on b.id = a.role_id; -- end',
    );
    expect(isJoinSqlProblem(parsed)).toBe(false);
    expect((parsed as JoinSelect).text).toBe(
      'select a.id as _id, b.name from user a left join role b on b.id = a.role_id',
    );
  });
});
