import { describe, expect, it } from 'vitest';
import type { EsMapping } from './mapping.js';
import {
  byJoinedRow,
  byMainKeys,
  documentFromRow,
  idEvaluation,
  rowKey,
  rowRouting,
} from './joinQuery.js';
import { planMapping, type EsPlan } from './plan.js';

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
