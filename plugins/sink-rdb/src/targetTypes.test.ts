import { describe, expect, it } from 'vitest';
import { targetTable, type TargetColumn } from './targetTypes.js';

const col = (name: string): TargetColumn => ({
  name,
  dataType: 'int',
  family: 'integer',
  bitWidth: 0,
  fixedBits: false,
});

describe('targetTable', () => {
  it('keeps schema, table and columns as given', () => {
    const columns = [col('id'), col('Name')];
    const t = targetTable('shop', 'user', columns);
    expect(t.schema).toBe('shop');
    expect(t.table).toBe('user');
    expect(t.columns).toBe(columns);
  });

  it('finds a column by its exact name first, then by a unique case-insensitive match', () => {
    const id = col('id');
    const name = col('Name');
    const t = targetTable('s', 't', [id, name]);
    expect(t.column('id')).toBe(id);
    expect(t.column('Name')).toBe(name);
    expect(t.column('ID')).toBe(id);
    expect(t.column('name')).toBe(name);
    expect(t.column('NAME')).toBe(name);
    expect(t.column('nom')).toBeUndefined();
    expect(t.column('')).toBeUndefined();
  });

  it('an ambiguous case-insensitive match finds nothing; exact names still win', () => {
    // PostgreSQL allows "Code" and "code" side by side.
    const upper = col('Code');
    const lower = col('code');
    const t = targetTable('s', 't', [upper, lower]);
    expect(t.column('Code')).toBe(upper);
    expect(t.column('code')).toBe(lower);
    expect(t.column('CODE')).toBeUndefined();
    // Three spellings: still ambiguous after the third.
    expect(targetTable('s', 't', [col('Ab'), col('aB'), col('AB')]).column('ab')).toBeUndefined();
    expect(targetTable('s', 't', [col('x'), col('X'), col('Y')]).column('y')?.name).toBe('Y');
  });

  it('a name like an Object.prototype member is only a column when the table has it', () => {
    const t = targetTable('s', 't', [col('id')]);
    expect(t.column('constructor')).toBeUndefined();
    expect(t.column('__proto__')).toBeUndefined();
    const proto = col('__proto__');
    expect(targetTable('s', 't', [proto]).column('__PROTO__')).toBe(proto);
  });
});
