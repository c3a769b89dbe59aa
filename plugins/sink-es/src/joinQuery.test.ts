import { describe, expect, it } from 'vitest';
import type { RowChangeEvent, RowEventType, RowImage } from '@sluice/plugin-api';
import { DocumentError } from './document.js';
import type { JoinedTable } from './joinSql.js';
import type { EsMapping } from './mapping.js';
import {
  byJoinedRow,
  byMainKeys,
  documentFromRow,
  idColumnTexts,
  idEvaluation,
  isTable,
  joinedValues,
  mainKeyValues,
  rowKey,
  rowRouting,
} from './joinQuery.js';
import { planMapping, type EsPlan, type JoinPlan } from './plan.js';

function plan(esMapping: Partial<EsMapping['esMapping']> & { sql: string }): EsPlan {
  const p = planMapping({
    dataSourceKey: 'ds',
    esMapping: {
      _index: 'i',
      upsert: false,
      skips: [],
      commitBatch: 1000,
      syncByTimestamp: false,
      ...esMapping,
    },
  });
  if (Array.isArray(p)) throw new Error(JSON.stringify(p));
  return p;
}

const SQL =
  "select a.id as _id, a.name, a.role_id, b.role_name, b.tags, concat(a.name,'/',b.role_name) as nr from user a left join role b on b.id=a.role_id";

describe('join back-queries', () => {
  it('restricts the mapping SQL by main keys and by the main side of the ON', () => {
    const p = plan({ _id: '_id', sql: SQL });
    expect(byMainKeys(p.join!, ['id'], [[1], [2]])).toEqual({
      sql: `${SQL}\nWHERE \`a\`.\`id\` IN (?, ?)`,
      params: [1, 2],
    });
    expect(
      byMainKeys(
        p.join!,
        ['id', 'k'],
        [
          [1, 'x'],
          [2, 'y'],
        ],
      ),
    ).toEqual({
      sql: `${SQL}\nWHERE (\`a\`.\`id\` = ? AND \`a\`.\`k\` = ?) OR (\`a\`.\`id\` = ? AND \`a\`.\`k\` = ?)`,
      params: [1, 'x', 2, 'y'],
    });
    expect(byJoinedRow(p.join!, p.join!.select.joins[0]!, [[7], [8]])).toEqual({
      sql: `${SQL}\nWHERE (\`a\`.\`role_id\` = ?) OR (\`a\`.\`role_id\` = ?)`,
      params: [7, 8],
    });
  });

  it('builds the document from a row: _id out, skips out, objFields applied', () => {
    const p = plan({ _id: '_id', sql: SQL, skips: ['role_id'], objFields: { tags: 'array:;' } });
    const row = [5, 'u5', 1, 'admin', 'x;y', 'u5/admin'];
    expect(rowKey(p, p.join!, row)).toBe('5');
    expect(documentFromRow(p, p.join!, row)).toEqual({
      name: 'u5',
      role_name: 'admin',
      tags: ['x', 'y'],
      nr: 'u5/admin',
    });
    expect(documentFromRow(p, p.join!, [5, 'u5', null, null, null, null])).toEqual({
      name: 'u5',
      role_name: null,
      tags: null,
      nr: null,
    });
    const bad = plan({ _id: '_id', sql: SQL, objFields: { tags: 'object' } });
    expect(() => documentFromRow(bad, bad.join!, [5, 'u5', 1, 'admin', '{nope', 'x'])).toThrow(
      /objFields "tags": the value is not JSON/,
    );
  });

  it('adds the join field and routes by the parent of the row (skipped parent field)', () => {
    const p = plan({
      _id: '_id',
      sql: "select t.id as _id, t.customer_id, t.id as order_id, concat('#', t.serial_code) as order_serial from biz_order t",
      skips: ['customer_id'],
      relations: { customer_order: { name: 'order', parent: 'customer_id' } },
    });
    const row = [5, 3, 5, '#A'];
    expect(documentFromRow(p, p.join!, row)).toEqual({
      order_id: 5,
      order_serial: '#A',
      customer_order: { name: 'order', parent: '3' },
    });
    expect(rowRouting(p, p.join!, row)).toBe('3');
    expect(() => rowRouting(p, p.join!, [5, null, 5, '#A'])).toThrow(/NULL or empty/);
  });

  it("has the source compute a computed _id (canal's biz_order.yml) from the rows' text", () => {
    const p = plan({
      _id: '_id',
      sql: "select concat('oid_', t.id, '-', t.k) as _id, t.customer_id from biz_order t",
    });
    expect(p.join!.idExpression).toEqual({
      sql: "concat('oid_', `t`.`id`, '-', `t`.`k`)",
      columns: ['id', 'k'],
    });
    expect(
      idEvaluation(p.join!, [
        ['5', 'a'],
        ['6', null],
      ]),
    ).toEqual({
      sql: "SELECT `__sluice_n`, concat('oid_', `t`.`id`, '-', `t`.`k`) FROM (SELECT ? AS `__sluice_n`, ? AS `id`, ? AS `k` UNION ALL SELECT ?, ?, ?) AS `t`",
      params: [0, '5', 'a', 1, '6', null],
    });
  });
});

function event(
  type: RowEventType,
  images: { before?: RowImage; after?: RowImage },
  where: { database?: string; table?: string } = {},
): RowChangeEvent {
  return {
    kind: 'row',
    type,
    destination: 'd',
    database: where.database ?? 'shop',
    table: where.table ?? 'user',
    pkNames: ['id'],
    columns: {
      id: { mysqlType: 'bigint', sqlType: -5 },
      k: { mysqlType: 'varchar(20)', sqlType: 12 },
      role_id: { mysqlType: 'int', sqlType: 4 },
      name: { mysqlType: 'varchar(20)', sqlType: 12 },
    },
    executedAt: 0,
    producedAt: 0,
    changed: [],
    position: { source: 'd', partition: '0', offset: '1', index: 0 },
    ...images,
  };
}

/** A join plan written out by hand, with identifiers the mapping SQL parser would not produce. */
function handPlan(alias: string, idColumns: readonly string[] = []): JoinPlan {
  return {
    select: {
      main: { database: undefined, table: 'user', alias },
      joins: [],
      fields: [],
      text: 'SELECT x',
    },
    dataSourceKey: 'ds',
    positions: new Map(),
    idExpression: { sql: 'f()', columns: idColumns },
  };
}

function thrown(f: () => unknown): Error {
  try {
    f();
  } catch (e) {
    return e as Error;
  }
  throw new Error('did not throw');
}

describe('isTable', () => {
  const ref = (table: string, database?: string) => ({ database, table, alias: 'a' });

  it('compares the table name case-insensitively, and the database only when the ref names one', () => {
    const e = event('INSERT', { after: {} }, { database: 'Shop', table: 'User' });
    expect(isTable(e, ref('user'))).toBe(true);
    expect(isTable(e, ref('USER'))).toBe(true);
    expect(isTable(e, ref('User'))).toBe(true);
    expect(isTable(e, ref('users'))).toBe(false);
    expect(isTable(e, ref('role'))).toBe(false);
    expect(isTable(e, ref('user', 'shop'))).toBe(true);
    expect(isTable(e, ref('user', 'SHOP'))).toBe(true);
    expect(isTable(e, ref('user', 'Shop'))).toBe(true);
    expect(isTable(e, ref('user', 'other'))).toBe(false);
    expect(isTable(e, ref('role', 'shop'))).toBe(false);
    const lower = event('INSERT', { after: {} }, { database: 'shop', table: 'user' });
    expect(isTable(lower, ref('User', 'Shop'))).toBe(true);
    expect(isTable(lower, ref('user', 'shop2'))).toBe(false);
  });
});

describe('byMainKeys', () => {
  it('one key: an IN list of one placeholder; the values only in params', () => {
    const p = plan({ _id: '_id', sql: SQL });
    expect(byMainKeys(p.join!, ['id'], [["1' OR '1'='1"]])).toEqual({
      sql: `${SQL}\nWHERE \`a\`.\`id\` IN (?)`,
      params: ["1' OR '1'='1"],
    });
    expect(byMainKeys(p.join!, ['id'], [[1], [null], ['é😀'], [3]])).toEqual({
      sql: `${SQL}\nWHERE \`a\`.\`id\` IN (?, ?, ?, ?)`,
      params: [1, null, 'é😀', 3],
    });
  });

  it('several key columns and a single key: one parenthesised conjunction', () => {
    const p = plan({ _id: '_id', sql: SQL });
    expect(byMainKeys(p.join!, ['id', 'k', 'name'], [[1, 'x', null]])).toEqual({
      sql: `${SQL}\nWHERE (\`a\`.\`id\` = ? AND \`a\`.\`k\` = ? AND \`a\`.\`name\` = ?)`,
      params: [1, 'x', null],
    });
  });

  it('quotes the alias and the columns, doubling every backtick in them', () => {
    const j = handPlan('m`a``');
    expect(byMainKeys(j, ['c`1`'], [[1]])).toEqual({
      sql: 'SELECT x\nWHERE `m``a`````.`c``1``` IN (?)',
      params: [1],
    });
    expect(byMainKeys(j, ['é', 'ü`'], [['a', 'b']])).toEqual({
      sql: 'SELECT x\nWHERE (`m``a`````.`é` = ? AND `m``a`````.`ü``` = ?)',
      params: ['a', 'b'],
    });
  });
});

describe('idEvaluation', () => {
  it('one image: a single SELECT, numbered 0, NULL and unicode only as params', () => {
    const p = plan({
      _id: '_id',
      sql: "select concat('oid_', t.id, '-', t.k) as _id, t.customer_id from biz_order t",
    });
    expect(idEvaluation(p.join!, [["x'); DROP TABLE t; --", null]])).toEqual({
      sql: "SELECT `__sluice_n`, concat('oid_', `t`.`id`, '-', `t`.`k`) FROM (SELECT ? AS `__sluice_n`, ? AS `id`, ? AS `k`) AS `t`",
      params: [0, "x'); DROP TABLE t; --", null],
    });
  });

  it('three images: the column names only on the first row, numbers 0, 1, 2', () => {
    const p = plan({
      _id: '_id',
      sql: "select concat('oid_', t.id) as _id, t.customer_id from biz_order t",
    });
    expect(idEvaluation(p.join!, [['1'], ['ü'], [null]])).toEqual({
      sql: "SELECT `__sluice_n`, concat('oid_', `t`.`id`) FROM (SELECT ? AS `__sluice_n`, ? AS `id` UNION ALL SELECT ?, ? UNION ALL SELECT ?, ?) AS `t`",
      params: [0, '1', 1, 'ü', 2, null],
    });
  });

  it('quotes the column names and the main alias', () => {
    expect(idEvaluation(handPlan('t`', ['a`b', 'c']), [['1', '2']])).toEqual({
      sql: 'SELECT `__sluice_n`, f() FROM (SELECT ? AS `__sluice_n`, ? AS `a``b`, ? AS `c`) AS `t```',
      params: [0, '1', '2'],
    });
  });
});

describe('idColumnTexts', () => {
  const j = handPlan('t', ['id', 'k']);

  it('reads the raw text of the id columns from the chosen image, NULL as null', () => {
    const e = event('UPDATE', {
      before: { id: '1', k: 'old', name: 'n' },
      after: { id: '2', k: null, name: 'n' },
    });
    expect(idColumnTexts(j, e, 'before')).toEqual(['1', 'old']);
    expect(idColumnTexts(j, e, 'after')).toEqual(['2', null]);
    expect(idColumnTexts(handPlan('t', []), e, 'after')).toEqual([]);
  });

  it('throws a DocumentError naming the column, the image and the table when a column is missing', () => {
    const e = event('UPDATE', { before: { id: '1' }, after: { id: '2', k: 'x' } });
    expect(idColumnTexts(j, e, 'after')).toEqual(['2', 'x']);
    const err = thrown(() => idColumnTexts(j, e, 'before'));
    expect(err).toBeInstanceOf(DocumentError);
    expect(err.message).toBe(
      'column "k" of the computed _id is not in the before image of shop.user (binlog_row_image must be FULL)',
    );
  });

  it('throws when the image is absent altogether', () => {
    const ins = event('INSERT', { after: { id: '1', k: 'x' } });
    expect(idColumnTexts(j, ins, 'after')).toEqual(['1', 'x']);
    const err = thrown(() => idColumnTexts(j, ins, 'before'));
    expect(err).toBeInstanceOf(DocumentError);
    expect(err.message).toBe(
      'column "id" of the computed _id is not in the before image of shop.user (binlog_row_image must be FULL)',
    );
    const del = event('DELETE', { before: { id: '1', k: 'x' } });
    expect(idColumnTexts(j, del, 'before')).toEqual(['1', 'x']);
    expect(thrown(() => idColumnTexts(j, del, 'after')).message).toBe(
      'column "id" of the computed _id is not in the after image of shop.user (binlog_row_image must be FULL)',
    );
  });
});

describe('mainKeyValues', () => {
  it('reads the key columns of the chosen image, typed as Elasticsearch values', () => {
    const e = event('UPDATE', {
      before: { id: '7', k: 'ä', role_id: null },
      after: { id: '8', k: 'b', role_id: '3' },
    });
    expect(mainKeyValues(['id', 'k', 'role_id'], e, 'before')).toEqual([7, 'ä', null]);
    expect(mainKeyValues(['id', 'k', 'role_id'], e, 'after')).toEqual([8, 'b', 3]);
    expect(mainKeyValues(['k'], e, 'after')).toEqual(['b']);
    expect(mainKeyValues([], e, 'after')).toEqual([]);
  });

  it('throws a DocumentError when a key column is not in the image', () => {
    const e = event('UPDATE', { before: { id: '7' }, after: { id: '8', k: 'b' } });
    const err = thrown(() => mainKeyValues(['id', 'k'], e, 'before'));
    expect(err).toBeInstanceOf(DocumentError);
    expect(err.message).toBe(
      'key column "k" is not in the before image of shop.user (binlog_row_image must be FULL)',
    );
    const ins = event('INSERT', { after: { id: '8' } });
    expect(thrown(() => mainKeyValues(['id'], ins, 'before')).message).toBe(
      'key column "id" is not in the before image of shop.user (binlog_row_image must be FULL)',
    );
  });

  it('throws a DocumentError naming the column when a value does not read', () => {
    const e = event('INSERT', { after: { id: 'abc' } });
    const err = thrown(() => mainKeyValues(['id'], e, 'after'));
    expect(err).toBeInstanceOf(DocumentError);
    expect(err.message).toBe('column "id": id: value "abc" is not an integer (mysqlType "bigint")');
  });
});

describe('byJoinedRow', () => {
  const sql =
    'select a.id as _id, a.name, b.x from user a left join role b on b.id=a.role_id and b.k=a.k';

  it('puts each ON equality on the other side, one conjunction per tuple', () => {
    const p = plan({ _id: '_id', sql });
    const joined = p.join!.select.joins[0]!;
    expect(byJoinedRow(p.join!, joined, [[1, 'x']])).toEqual({
      sql: `${sql}\nWHERE (\`a\`.\`role_id\` = ? AND \`a\`.\`k\` = ?)`,
      params: [1, 'x'],
    });
    expect(
      byJoinedRow(p.join!, joined, [
        [1, "it's"],
        [2, 'ü'],
      ]),
    ).toEqual({
      sql: `${sql}\nWHERE (\`a\`.\`role_id\` = ? AND \`a\`.\`k\` = ?) OR (\`a\`.\`role_id\` = ? AND \`a\`.\`k\` = ?)`,
      params: [1, "it's", 2, 'ü'],
    });
  });

  it('quotes the other alias and column, doubling backticks', () => {
    const joined: JoinedTable = {
      database: undefined,
      table: 'role',
      alias: 'b',
      subquery: false,
      on: [{ own: 'id', other: { alias: 'x`y', column: 'r`' } }],
    };
    expect(byJoinedRow(handPlan('a'), joined, [[5]])).toEqual({
      sql: 'SELECT x\nWHERE (`x``y`.`r``` = ?)',
      params: [5],
    });
  });
});

describe('joinedValues', () => {
  const joined: JoinedTable = {
    database: undefined,
    table: 'role',
    alias: 'b',
    subquery: false,
    on: [
      { own: 'id', other: { alias: 'a', column: 'role_id' } },
      { own: 'k', other: { alias: 'a', column: 'k' } },
    ],
  };

  it('INSERT: the after image only, typed', () => {
    expect(joinedValues(event('INSERT', { after: { id: '3', k: 'x' } }), joined)).toEqual([
      [3, 'x'],
    ]);
    // Even if an INSERT came with a before image, only the after image counts.
    expect(
      joinedValues(
        event('INSERT', { before: { id: '1', k: 'y' }, after: { id: '3', k: 'x' } }),
        joined,
      ),
    ).toEqual([[3, 'x']]);
  });

  it('DELETE: the before image only', () => {
    expect(joinedValues(event('DELETE', { before: { id: '4', k: 'é' } }), joined)).toEqual([
      [4, 'é'],
    ]);
    expect(
      joinedValues(
        event('DELETE', { before: { id: '4', k: 'é' }, after: { id: '5', k: 'z' } }),
        joined,
      ),
    ).toEqual([[4, 'é']]);
  });

  it('UPDATE: before then after, once when the ON columns did not change', () => {
    expect(
      joinedValues(
        event('UPDATE', { before: { id: '1', k: 'x' }, after: { id: '2', k: 'x' } }),
        joined,
      ),
    ).toEqual([
      [1, 'x'],
      [2, 'x'],
    ]);
    expect(
      joinedValues(
        event('UPDATE', {
          before: { id: '1', k: 'x', name: 'a' },
          after: { id: '1', k: 'x', name: 'b' },
        }),
        joined,
      ),
    ).toEqual([[1, 'x']]);
    // Values equal as JSON (1 and '1' are not).
    expect(
      joinedValues(
        event('UPDATE', { before: { id: '1', k: '1' }, after: { id: '1', k: '01' } }),
        joined,
      ),
    ).toEqual([
      [1, '1'],
      [1, '01'],
    ]);
  });

  it('UPDATE without a before image: the after image only', () => {
    expect(joinedValues(event('UPDATE', { after: { id: '2', k: 'x' } }), joined)).toEqual([
      [2, 'x'],
    ]);
  });

  it('leaves out a tuple with any NULL (it joins no document)', () => {
    expect(
      joinedValues(
        event('UPDATE', { before: { id: '1', k: null }, after: { id: '2', k: 'x' } }),
        joined,
      ),
    ).toEqual([[2, 'x']]);
    expect(
      joinedValues(
        event('UPDATE', { before: { id: '1', k: 'x' }, after: { id: null, k: 'x' } }),
        joined,
      ),
    ).toEqual([[1, 'x']]);
    expect(joinedValues(event('DELETE', { before: { id: null, k: null } }), joined)).toEqual([]);
  });

  it('throws a DocumentError when an ON column is missing from an image', () => {
    const err = thrown(() =>
      joinedValues(
        event('UPDATE', { before: { id: '1', k: 'x' }, after: { id: '2' } }, { table: 'role' }),
        joined,
      ),
    );
    expect(err).toBeInstanceOf(DocumentError);
    expect(err.message).toBe(
      'join column "k" of shop.role is not in the after image (binlog_row_image must be FULL)',
    );
    expect(
      thrown(() => joinedValues(event('DELETE', { before: { k: 'x' } }), joined)).message,
    ).toBe(
      'join column "id" of shop.user is not in the before image (binlog_row_image must be FULL)',
    );
    expect(
      thrown(() => joinedValues(event('INSERT', { after: { id: '1' } }), joined)).message,
    ).toBe(
      'join column "k" of shop.user is not in the after image (binlog_row_image must be FULL)',
    );
  });

  it('throws a DocumentError naming the column when a value does not read', () => {
    const err = thrown(() =>
      joinedValues(event('INSERT', { after: { id: 'x1', k: 'x' } }), joined),
    );
    expect(err).toBeInstanceOf(DocumentError);
    expect(err.message).toBe('column "id": id: value "x1" is not an integer (mysqlType "bigint")');
  });
});

describe('re-queried rows', () => {
  it('documentFromRow: NULL for a position past the row, objFields over numbers as text', () => {
    const p = plan({ _id: '_id', sql: SQL, objFields: { role_id: 'array:,' } });
    expect(documentFromRow(p, p.join!, [5, 'u5', 12])).toEqual({
      name: 'u5',
      role_id: ['12'],
      role_name: null,
      tags: null,
      nr: null,
    });
    expect(documentFromRow(p, p.join!, [5, 'u5', '', 'r', 't', 'n'])).toEqual({
      name: 'u5',
      role_id: [],
      role_name: 'r',
      tags: 't',
      nr: 'n',
    });
  });

  it('documentFromRow: the exact objFields error', () => {
    const p = plan({ _id: '_id', sql: SQL, objFields: { tags: 'object' } });
    const err = thrown(() => documentFromRow(p, p.join!, [5, 'u5', 1, 'admin', '{nope', 'x']));
    expect(err).toBeInstanceOf(DocumentError);
    const cause = thrown(() => JSON.parse('{nope'));
    expect(err.message).toBe(`objFields "tags": the value is not JSON (${cause.message})`);
    expect(documentFromRow(p, p.join!, [5, 'u5', 1, 'admin', '{"a":[1]}', 'x'])).toEqual({
      name: 'u5',
      role_id: 1,
      role_name: 'admin',
      tags: { a: [1] },
      nr: 'x',
    });
  });

  const relSql =
    "select t.id as _id, t.customer_id, t.id as order_id, concat('#', t.serial_code) as order_serial from biz_order t";

  it('rowRouting: none without a parent relation; the parent id as text', () => {
    const none = plan({ _id: '_id', sql: relSql });
    expect(rowRouting(none, none.join!, [5, 3, 5, '#A'])).toBeUndefined();
    const noParent = plan({ _id: '_id', sql: relSql, relations: { rel: { name: 'customer' } } });
    expect(rowRouting(noParent, noParent.join!, [5, 3, 5, '#A'])).toBeUndefined();
    const p = plan({
      _id: '_id',
      sql: relSql,
      relations: {
        first: { name: 'customer' },
        customer_order: { name: 'order', parent: 'customer_id' },
      },
    });
    expect(rowRouting(p, p.join!, [5, 'c-ü', 5, '#A'])).toBe('c-ü');
    expect(rowRouting(p, p.join!, [5, 0, 5, '#A'])).toBe('0');
    expect(rowRouting(p, p.join!, [5, false, 5, '#A'])).toBe('false');
  });

  it('rowRouting: NULL, empty, missing or non-scalar parent is an error', () => {
    const p = plan({
      _id: '_id',
      sql: relSql,
      relations: { customer_order: { name: 'order', parent: 'customer_id' } },
    });
    const message =
      'relation "customer_order" (order): the parent field "customer_id" is NULL or empty; a child document needs its parent id';
    for (const v of [null, '', ['3'], { id: 3 }]) {
      const err = thrown(() => rowRouting(p, p.join!, [5, v, 5, '#A']));
      expect(err).toBeInstanceOf(DocumentError);
      expect(err.message).toBe(message);
    }
    expect(thrown(() => rowRouting(p, p.join!, [5])).message).toBe(message);
  });

  it('rowKey: the _id field, else the pk field, as text; undefined when NULL, empty or not scalar', () => {
    const p = plan({ _id: '_id', sql: SQL });
    expect(rowKey(p, p.join!, [7, 'n'])).toBe('7');
    expect(rowKey(p, p.join!, ['ü-1'])).toBe('ü-1');
    expect(rowKey(p, p.join!, [0])).toBe('0');
    expect(rowKey(p, p.join!, [false])).toBe('false');
    expect(rowKey(p, p.join!, [null, 'n'])).toBeUndefined();
    expect(rowKey(p, p.join!, [''])).toBeUndefined();
    expect(rowKey(p, p.join!, [[1]])).toBeUndefined();
    expect(rowKey(p, p.join!, [{ a: 1 }])).toBeUndefined();
    expect(rowKey(p, p.join!, [])).toBeUndefined();
    const pk = plan({
      pk: 'id',
      sql: 'select a.id, a.name, b.role_name from user a left join role b on b.id=a.role_id',
    });
    expect(pk.idField).toBeUndefined();
    expect(rowKey(pk, pk.join!, [9, 'n', 'r'])).toBe('9');
    expect(rowKey(pk, pk.join!, [null, 'n', 'r'])).toBeUndefined();
  });
});
