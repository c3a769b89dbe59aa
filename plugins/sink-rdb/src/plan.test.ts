import { describe, expect, it } from 'vitest';
import { groupOperations, statementsOf, type Operation } from './plan.js';

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

describe('groupOperations: statement signatures', () => {
  it('one statement per kind, table and column list; each group knows its columns and key', () => {
    const other = (id: string): Operation => ({
      kind: 'upsert',
      table: 'u',
      row: { columns: ['id', 'v'], values: [id, 'x'] },
      key: key(id),
    });
    const wide: Operation = {
      kind: 'upsert',
      table: 't',
      row: { columns: ['id', 'v', 'w'], values: ['9', 'a', 'b'] },
      key: key('9'),
    };
    const groups = groupOperations([up('1', 'a'), other('1'), wide, up('2', 'b')]);
    expect(
      groups.map((g) => [g.kind, g.table, g.columns.join(','), g.keyColumns.join(',')]),
    ).toEqual([
      ['upsert', 't', 'id,v', 'id'],
      ['upsert', 'u', 'id,v', 'id'],
      ['upsert', 't', 'id,v,w', 'id'],
    ]);
    expect([...groups[0]!.rows.entries()]).toEqual([
      ['s1', ['1', 'a']],
      ['s2', ['2', 'b']],
    ]);
    // Same key in two tables: not the same row, so no new statement is needed.
    expect(groupOperations([up('1', 'a'), other('1'), up('1', 'c')])).toHaveLength(2);
    const deletes = groupOperations([del('1'), del('2')]);
    expect(deletes).toHaveLength(1);
    expect(deletes[0]!.columns).toEqual(['id']);
    expect([...deletes[0]!.rows.values()]).toEqual([['1'], ['2']]);
  });
});

describe('statementsOf', () => {
  const group = (rows: number, columns = ['id', 'v']) =>
    groupOperations(
      Array.from({ length: rows }, (_, i): Operation => ({
        kind: 'upsert',
        table: 't',
        row: { columns, values: columns.map((c) => `${c}${i}`) },
        key: key(String(i)),
      })),
    )[0]!;
  const build = (g: { table: string }, rows: number) => `${g.table}:${rows}`;

  it('cuts a group by rows and by parameters, parameters flattened in row order', () => {
    const g = group(5);
    expect(statementsOf(g, 2, 1000, build).map((s) => s.sql)).toEqual(['t:2', 't:2', 't:1']);
    expect(statementsOf(g, 100, 6, build).map((s) => s.sql)).toEqual(['t:3', 't:2']);
    expect(statementsOf(g, 100, 4, build).map((s) => s.sql)).toEqual(['t:2', 't:2', 't:1']);
    expect(statementsOf(g, 5, 10, build)).toEqual([
      { sql: 't:5', params: ['id0', 'v0', 'id1', 'v1', 'id2', 'v2', 'id3', 'v3', 'id4', 'v4'] },
    ]);
  });

  it('always at least one row per statement, whatever the bounds', () => {
    const g = group(2, ['id', 'a', 'b']);
    expect(statementsOf(g, 0, 1, build).map((s) => s.sql)).toEqual(['t:1', 't:1']);
    const empty = {
      kind: 'delete' as const,
      table: 't',
      columns: [],
      keyColumns: [],
      rows: new Map(),
    };
    expect(statementsOf(empty, 10, 10, build)).toEqual([]);
    // No columns counts as one parameter per row.
    const bare = {
      ...empty,
      rows: new Map([
        ['a', []],
        ['b', []],
        ['c', []],
      ]),
    };
    expect(statementsOf(bare, 10, 2, build).map((s) => s.sql)).toEqual(['t:2', 't:1']);
  });

  it('column lists that join to the same text are different statements', () => {
    const op = (columns: string[]): Operation => ({
      kind: 'upsert',
      table: 't',
      row: { columns, values: columns },
      key: key(columns.join('')),
    });
    const groups = groupOperations([op(['id', 'ab', 'c']), op(['id', 'a', 'bc'])]);
    expect(groups.map((g) => g.columns.join(','))).toEqual(['id,ab,c', 'id,a,bc']);
  });

  it('an upsert and a delete whose column lists are alike stay different statements', () => {
    // A table whose only column is its key: the upsert's row columns equal the delete's key columns.
    const bare = (id: string): Operation => ({
      kind: 'upsert',
      table: 't',
      row: { columns: ['id'], values: [id] },
      key: key(id),
    });
    expect(shape([bare('1'), del('2'), bare('3')])).toEqual(['upsert:1,3', 'delete:2']);
  });

  it("each statement carries exactly its own rows' parameters", () => {
    const g = groupOperations([up('1', 'a'), up('2', 'b'), up('3', 'c')])[0]!;
    expect(statementsOf(g, 2, 1000, (_, rows) => `${rows}`)).toEqual([
      { sql: '2', params: ['1', 'a', '2', 'b'] },
      { sql: '1', params: ['3', 'c'] },
    ]);
  });
});
