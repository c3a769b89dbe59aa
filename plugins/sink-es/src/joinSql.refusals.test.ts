import sqlParser from 'node-sql-parser';
import { describe, expect, it, vi } from 'vitest';
import { parseJoinSelect } from './joinSql.js';

/** The ON condition message for shapes other than AND-ed column equalities. */
const complexOn = (alias: string) =>
  `the ON condition of "${alias}" must be equalities between columns joined by AND (canal: "Unsupported for complex of on-condition")`;
const notApplied = (clause: string) =>
  `${clause} in the mapping SQL is not applied (canal appends its own WHERE to the SQL; filter in the source instead)`;
const oneTable = (alias: string) =>
  `the sub-query "${alias}" must read exactly one table, without joins or nested sub-queries (canal's rule)`;
const notPlain = (column: string) =>
  `the ON column "${column}" must be a plain column of the sub-query's table in its select list (its changes are matched to documents by it)`;
const setOp = (op: string) =>
  `${op} is not applied: the mapping SQL must be one SELECT (canal refuses it too; back-queries append their WHERE to the SQL)`;

describe('parseJoinSelect refuses, with the reason', () => {
  it.each([
    // Statements.
    [
      'selec a.id',
      'the SQL does not parse: Expected "#", "--", "/*", ":=", "=", or [ \\t\\n\\r] but "a" found.',
    ],
    ['select a.id from u a; select b.id from v b', 'expected one SELECT statement'],
    ['update u set x = 1', 'expected a SELECT statement'],
    ['delete from u where id = 1', 'expected a SELECT statement'],
    ['select a.id from u a union select b.id from v b', setOp('UNION')],
    ['select a.id from u a UNION ALL select b.id from v b', setOp('UNION ALL')],
    ['select a.id from u a except select b.id from v b', setOp('EXCEPT')],
    // Clauses at the top level.
    ['select a.id from u a where a.id > 1', notApplied('WHERE')],
    [
      'select a.id, a.n from u a group by a.id',
      'GROUP BY in the mapping SQL is not applied (canal appends its own WHERE to the SQL; aggregate in a LEFT JOINed sub-query instead, e.g. LEFT JOIN (SELECT user_id, group_concat(label) AS labels FROM label GROUP BY user_id) l ON l.user_id = a.id)',
    ],
    ['select a.id from u a having a.id > 1', notApplied('HAVING')],
    ['select a.id from u a order by a.id', notApplied('ORDER BY')],
    ['select a.id from u a limit 10', notApplied('LIMIT')],
    ['with q as (select 1) select a.id from u a', notApplied('WITH')],
    ['select distinct a.id from u a', notApplied('DISTINCT')],
    // Tables.
    ['select 1', 'the SQL names no table'],
    ['select 1 as x from dual', 'expected a table'],
    ['select a.id from (select id from t) a', 'the main table must be a table, not a sub-query'],
    [
      'select id, name from user',
      'table "user" has no alias (canal needs an alias on every table)',
    ],
    [
      'select a.id from u a left join r on r.id = a.id',
      'table "r" has no alias (canal needs an alias on every table)',
    ],
    ['select a.id from u a left join r a on a.id = a.id', 'alias "a" is used twice'],
    [
      'select a.id from u a left join r b on b.id = a.id left join (select id from t) b on b.id = a.id',
      'alias "b" is used twice',
    ],
    // Joins.
    [
      'select a.id from u a join r b on b.id = a.rid',
      `INNER JOIN of "b" is not applied; canal's semantics are LEFT JOIN (write LEFT JOIN)`,
    ],
    [
      'select a.id from u a right join r b on b.id = a.rid',
      `RIGHT JOIN of "b" is not applied; canal's semantics are LEFT JOIN (write LEFT JOIN)`,
    ],
    [
      'select a.id from u a cross join r b',
      `CROSS JOIN of "b" is not applied; canal's semantics are LEFT JOIN (write LEFT JOIN)`,
    ],
    [
      'select a.id from u a, r b',
      `a comma join of "b" is not applied; canal's semantics are LEFT JOIN (write LEFT JOIN)`,
    ],
    [
      'select a.id from u a left join r b on b.id = a.rid full join s c on c.id = a.sid',
      `FULL JOIN of "c" is not applied; canal's semantics are LEFT JOIN (write LEFT JOIN)`,
    ],
    // ON conditions.
    ['select a.id from u a left join r b', 'the join of "b" has no ON condition'],
    ['select a.id from u a left join r b using (id)', 'the join of "b" has no ON condition'],
    ['select a.id from u a left join r b on b.id = 1', complexOn('b')],
    ['select a.id from u a left join r b on 1 = b.id', complexOn('b')],
    ['select a.id from u a left join r b on b.id > a.rid', complexOn('b')],
    ['select a.id from u a left join r b on b.flag', complexOn('b')],
    ['select a.id from u a left join r b on not b.flag', complexOn('b')],
    ['select a.id from u a left join r b on b.id = a.rid or b.t = a.t', complexOn('b')],
    ['select a.id from u a left join r b on b.t > 1 and b.id = a.rid', complexOn('b')],
    ['select a.id from u a left join r b on b.id = a.rid and b.t > 1', complexOn('b')],
    [
      "select a.id from u a left join r b on b.id = a.rid and (b.t = a.t and b.k = 'x')",
      complexOn('b'),
    ],
    [
      'select a.id from u a left join r b on b.id = rid',
      'column "rid" has no table alias (write <alias>.rid)',
    ],
    [
      'select a.id from u a left join r b on id = a.rid',
      'column "id" has no table alias (write <alias>.id)',
    ],
    [
      'select a.id from u a left join r b on a.x = a.y',
      'the ON condition of "b" must name a column of "b" on one side',
    ],
    [
      'select a.id from u a left join r b on b.id = c.x',
      'the ON condition of "b" names "c", which is not a table joined before it',
    ],
    [
      'select a.id from u a left join r b on c.x = b.id',
      'the ON condition of "b" names "c", which is not a table joined before it',
    ],
    [
      'select a.id from u a left join r b on b.x = b.y',
      'the ON condition of "b" names "b", which is not a table joined before it',
    ],
    [
      'select a.id from u a left join s c on c.id = b.sid left join r b on b.id = a.rid',
      'the ON condition of "c" names "b", which is not a table joined before it',
    ],
    // Joined sub-queries.
    [
      'select a.id from u a left join (select id from t) on id = a.id',
      'a joined sub-query needs an alias',
    ],
    [
      'select a.id from u a left join (values row(1)) b on b.id = a.id',
      'the sub-query "b" must be a SELECT',
    ],
    ['select a.id from u a left join (select 1 as id) b on b.id = a.id', oneTable('b')],
    ['select a.id from u a left join (select id from dual) b on b.id = a.id', oneTable('b')],
    [
      'select a.id from u a left join (select t.id from t join v on v.id = t.id) b on b.id = a.id',
      oneTable('b'),
    ],
    [
      'select a.id from u a left join (select id from (select id from t) z) b on b.id = a.id',
      oneTable('b'),
    ],
    [
      'select a.id from u a left join (select id from t union select id from v) b on b.id = a.id',
      oneTable('b'),
    ],
    ['select a.id from u a left join (select * from t) b on b.id = a.id', notPlain('b.id')],
    [
      'select a.id from u a left join (select max(id) as m from t group by k) b on b.m = a.id',
      notPlain('b.m'),
    ],
    // Select items.
    ['select * from u a', 'SELECT * is not applied (name the columns)'],
    ['select a.* from u a', 'SELECT * is not applied (name the columns)'],
    [
      'select a.id, b.* from u a left join r b on b.id = a.id',
      'SELECT * is not applied (name the columns)',
    ],
    ['select id from u a', 'column "id" has no table alias (write <alias>.id)'],
    ['select concat(a.x, y) as f from u a', 'column "y" has no table alias (write <alias>.y)'],
    ['select c.x from u a', 'column "c.x" names an unknown table alias'],
    ['select concat(a.x, c.y) as f from u a', 'column "c.y" names an unknown table alias'],
    [
      'select a.id, upper(a.name) from u a',
      'an expression in the select list needs an alias (… AS name)',
    ],
    [
      "select a.id, upper(a.name) as '' from u a",
      'an expression in the select list needs an alias (… AS name)',
    ],
    ['select (select 1) as s from u a', 'sub-queries in the select list'],
    ['select a.id in (select 1) as s from u a', 'sub-queries in the select list'],
    ['select count(*) as c from u a', 'aggregate functions (GROUP BY is not applied)'],
    ['select concat(a.x, count(*)) as c from u a', 'aggregate functions (GROUP BY is not applied)'],
    ['select a.x + max(a.y) as c from u a', 'aggregate functions (GROUP BY is not applied)'],
  ])('%s', (sql, reason) => {
    expect(parseJoinSelect(sql)).toEqual({ reason });
  });

  it("reads MariaDB's dialect: MySQL's JSON arrow does not parse", () => {
    expect(parseJoinSelect("select a.id as _id, a.j->'$.x' as x from u a")).toEqual({
      reason:
        'the SQL does not parse: Expected "!", "#", "$", "\'", "(", "+", "-", "--", "/*", "0x", ":", "?", "@", "@@", "AVG", "CASE", "CAST", "COUNT", "CURRENT_DATE", "CURRENT_TIME", "CURRENT_TIMESTAMP", "CURRENT_USER", "DATE", "DATETIME", "DATE_TRUNC", "EXTRACT", "FALSE", "GROUP_CONCAT", "INTERVAL", "MATCH", "MAX", "MIN", "N", "NULL", "SESSION_USER", "SUM", "SYSTEM_USER", "TIME", "TIMESTAMP", "TRUE", "USER", "X", "\\"", "_binary", "_latin1", "`", "b", "binary", "convert", "trim", "~", [ \\t\\n\\r], [0-9], or [A-Za-z_一-龥À-ſ] but ">" found.',
    });
  });

  it('an expression node-sql-parser cannot write back is a problem, not an exception', () => {
    const exprToSQL = vi.spyOn(sqlParser.Parser.prototype, 'exprToSQL').mockImplementation(() => {
      throw new Error('unknown over type');
    });
    try {
      expect(parseJoinSelect('select a.id as _id, upper(a.name) as n from u a')).toEqual({
        reason: 'the expression of "n" cannot be read: unknown over type',
      });
      expect(exprToSQL).toHaveBeenCalledTimes(1);
    } finally {
      exprToSQL.mockRestore();
    }
  });
});
