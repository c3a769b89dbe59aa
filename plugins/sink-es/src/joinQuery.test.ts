import { describe, expect, it } from 'vitest';
import type { EsMapping } from './mapping.js';
import { byJoinedRow, byMainKeys, documentFromRow, rowKey } from './joinQuery.js';
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
    expect(byMainKeys(p.join!, 'id', [1, 2])).toEqual({
      sql: `${SQL}\nWHERE \`a\`.\`id\` IN (?, ?)`,
      params: [1, 2],
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
});
