import { describe, expect, it } from 'vitest';
import { groupOperations, type Operation } from './plan.js';

const key = (id: string) => ({
  columns: ['id'],
  values: [id],
  id: `s${id}`,
  looseId: `s${id.toLowerCase()}`,
});
const up = (id: string, v: string): Operation => ({
  kind: 'upsert',
  table: 't',
  row: { columns: ['id', 'v'], values: [id, v] },
  key: key(id),
});
const del = (id: string): Operation => ({ kind: 'delete', table: 't', key: key(id) });
const shape = (ops: Operation[]) =>
  groupOperations(ops).map(
    (g) => `${g.kind}:${[...g.rows.values()].map((r) => r.join('=')).join(',')}`,
  );

describe('groupOperations', () => {
  it('puts operations on different rows into one statement per kind', () => {
    expect(shape([up('1', 'a'), del('2'), up('3', 'c'), del('4')])).toEqual([
      'upsert:1=a,3=c',
      'delete:2,4',
    ]);
  });
  it('keeps the order of operations on the same row (delete then re-insert, insert then delete)', () => {
    expect(shape([up('1', 'a'), del('1'), up('1', 'b')])).toEqual([
      'upsert:1=a',
      'delete:1',
      'upsert:1=b',
    ]);
    expect(shape([del('2'), up('2', 'x'), del('2')])).toEqual([
      'delete:2',
      'upsert:2=x',
      'delete:2',
    ]);
  });
  it('lets the later image of a row win within a statement, moved to its end', () => {
    expect(shape([up('1', 'a'), up('2', 'b'), up('1', 'c')])).toEqual(['upsert:2=b,1=c']);
  });
  it('treats keys equal but for case as the same row (MySQL collations)', () => {
    expect(shape([up('A', 'a'), del('a')])).toEqual(['upsert:A=a', 'delete:a']);
    expect(shape([del('a'), up('A', 'x')])).toEqual(['delete:a', 'upsert:A=x']);
  });
});
