import { describe, expect, it } from 'vitest';
import { EventBuilder } from '@sluice/testkit';
import { formatChange } from './formatChange.js';

const ev = new EventBuilder({ database: 'mytest' });

describe('formatChange', () => {
  it('prints an INSERT with its key and the other columns, NULL unquoted', () => {
    expect(formatChange(ev.insert('user', { id: '1', name: 'Alice', role_id: null }))).toBe(
      'mytest.user INSERT [id=1] name="Alice" role_id=NULL',
    );
  });

  it('prints only the changed columns of an UPDATE, before → after', () => {
    const line = formatChange(
      ev.update(
        'user',
        { id: '1', name: 'Alice', age: '3' },
        { id: '1', name: 'Alicia', age: '3' },
      ),
    );
    expect(line).toBe('mytest.user UPDATE [id=1] name: "Alice" → "Alicia"');
  });

  it('prints a DELETE by the key of its before image', () => {
    expect(formatChange(ev.delete('user', { id: '7', name: 'x' }))).toBe(
      'mytest.user DELETE [id=7]',
    );
  });

  it('prints a composite key in pkNames order, and "no key" without one', () => {
    expect(formatChange(ev.delete('link', { b: '2', a: '1' }, { pkNames: ['a', 'b'] }))).toBe(
      'mytest.link DELETE [a=1,b=2]',
    );
    expect(formatChange(ev.insert('log', { msg: 'hi' }, { pkNames: [] }))).toBe(
      'mytest.log INSERT [no key] msg="hi"',
    );
  });

  it('shows a primary-key change as old→new in the key', () => {
    const line = formatChange(
      ev.update('user', { id: '3', name: 'Zoë' }, { id: '30', name: 'Zoë' }),
    );
    expect(line).toBe('mytest.user UPDATE [id=3→30] id: "3" → "30"');
  });

  it('prints binary columns (latin-1 text from canal) as hex, text columns as quoted text', () => {
    const typed = new EventBuilder({
      database: 'mytest',
      columns: {
        id: { mysqlType: 'bigint(20)', sqlType: -5 },
        avatar: { mysqlType: 'blob', sqlType: 2004 },
        tag: { mysqlType: 'varbinary(8)', sqlType: -3 },
      },
    });
    const line = formatChange(
      typed.insert('user', { id: '1', avatar: '\u0000\u00ff\u0089PNG', tag: null }),
    );
    expect(line).toBe('mytest.user INSERT [id=1] avatar=0x00ff89504e47 tag=NULL');
  });

  it('prints a DDL with its type and statement', () => {
    expect(formatChange(ev.ddl('user', 'ALTER TABLE user ADD COLUMN email varchar(64)'))).toBe(
      'mytest.user ALTER ALTER TABLE user ADD COLUMN email varchar(64)',
    );
  });

  it('prints a database-level DDL (no table) without a trailing dot', () => {
    expect(formatChange(ev.ddl('', 'CREATE DATABASE shop2', 'CREATE'))).toBe(
      'mytest CREATE CREATE DATABASE shop2',
    );
  });

  it('escapes quotes and newlines in values (one line per change)', () => {
    const line = formatChange(ev.insert('user', { id: '1', name: 'a "b"\nc' }));
    expect(line).toBe('mytest.user INSERT [id=1] name="a \\"b\\"\\nc"');
    expect(line).not.toContain('\n');
  });

  it('prints a statement without database or table as "-"', () => {
    const noDb = new EventBuilder({ database: '' });
    expect(formatChange(noDb.ddl('', 'FLUSH PRIVILEGES', 'QUERY'))).toBe(
      '- QUERY FLUSH PRIVILEGES',
    );
  });

  it('prints a key column missing from the image as NULL (a MINIMAL row image)', () => {
    expect(formatChange(ev.delete('user', { name: 'x' }, { pkNames: ['id'] }))).toBe(
      'mytest.user DELETE [id=NULL]',
    );
  });

  it('prints a multi-character old key unquoted, and several changed columns comma-separated', () => {
    expect(
      formatChange(
        ev.update('user', { id: '12', name: 'A', age: '3' }, { id: '345', name: 'B', age: '4' }),
      ),
    ).toBe('mytest.user UPDATE [id=12→345] id: "12" → "345", name: "A" → "B", age: "3" → "4"');
  });
});
