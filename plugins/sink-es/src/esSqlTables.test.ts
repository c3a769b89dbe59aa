import { describe, expect, it } from 'vitest';
import { sqlTables } from './esSqlTables.js';

describe('sqlTables', () => {
  it('finds the main and joined tables of canal sample mappings', () => {
    expect(
      sqlTables(
        'select a.id as _id, a.name, a.role_id, b.role_name, a.c_time from user a left join role b on b.id=a.role_id',
      ),
    ).toEqual([
      { database: undefined, table: 'user' },
      { database: undefined, table: 'role' },
    ]);
    expect(sqlTables("select concat('oid_',t.id) as _id, t.customer_id from biz_order t")).toEqual([
      { database: undefined, table: 'biz_order' },
    ]);
  });

  it('reads schema qualifiers, backticks, sub-queries and upper case, once each', () => {
    const sql = `SELECT a.id AS _id, c.labels FROM \`shop\`.\`user\` a
      LEFT JOIN (SELECT user_id, group_concat(label separator ';') AS labels FROM shop.label GROUP BY user_id) c ON c.user_id = a.id
      JOIN role r ON r.id = a.role_id JOIN role r2 ON r2.id = a.role2_id`;
    expect(sqlTables(sql)).toEqual([
      { database: 'shop', table: 'user' },
      { database: 'shop', table: 'label' },
      { database: undefined, table: 'role' },
    ]);
  });

  it('ignores FROM inside string literals and comments', () => {
    expect(sqlTables("select 'from fake' as x, a.id from real_t a -- join other o\n")).toEqual([
      { database: undefined, table: 'real_t' },
    ]);
  });

  it('finds nothing in text without FROM', () => {
    expect(sqlTables('select 1')).toEqual([]);
  });
});
