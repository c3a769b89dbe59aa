import { describe, expect, it } from 'vitest';
import { FatalError } from './errors.js';
import { etlCondition, keysetAfterSql, keysetPageSql, quoteMysqlName, whereSql } from './etlSql.js';

describe('quoteMysqlName', () => {
  it('wraps in backticks and doubles inner backticks', () => {
    expect(quoteMysqlName('id')).toBe('`id`');
    expect(quoteMysqlName('a`b')).toBe('`a``b`');
    expect(quoteMysqlName('``')).toBe('``````');
    expect(quoteMysqlName('')).toBe('``');
    expect(quoteMysqlName('名 字; DROP')).toBe('`名 字; DROP`');
  });
});

describe('etlCondition (canal: applied only with params)', () => {
  it('drops a leading "where" in any case, with the blanks around it', () => {
    expect(etlCondition('  WHERE  c_time >= {} ', ['2020-01-01'], 'f.yml')).toEqual({
      text: 'c_time >= {}',
      sql: '(c_time >= ?\n)',
      params: ['2020-01-01'],
    });
    expect(etlCondition('where\ta = {}', ['1'], 'f.yml')?.text).toBe('a = {}');
    expect(etlCondition('Where\na = {}', ['1'], 'f.yml')?.text).toBe('a = {}');
  });

  it('keeps "where" that is not the leading keyword', () => {
    expect(etlCondition('whereabouts = {}', ['x'], 'f.yml')?.text).toBe('whereabouts = {}');
    expect(etlCondition('a = {} and where_x = 1', ['1'], 'f.yml')?.sql).toBe(
      '(a = ? and where_x = 1\n)',
    );
    expect(etlCondition('where where = {}', ['1'], 'f.yml')?.text).toBe('where = {}');
    expect(etlCondition("note <> 'where x' AND id > {}", ['1'], 'f.yml')?.text).toBe(
      "note <> 'where x' AND id > {}",
    );
  });

  it('binds every {} to a param in order, and copies the params', () => {
    const params = ['1', 'b'];
    const c = etlCondition('a > {} AND b = {}', params, 'f.yml')!;
    expect(c.sql).toBe('(a > ? AND b = ?\n)');
    expect(c.params).toEqual(['1', 'b']);
    expect(c.params).not.toBe(params);
    // Adjacent and edge placeholders.
    expect(etlCondition('{}{}', ['1', '2'], 'f.yml')?.sql).toBe('(??\n)');
  });

  it('is ignored without params (a full import), or without a condition', () => {
    expect(etlCondition('where a = {}', [], 'f.yml')).toBeUndefined();
    expect(etlCondition('where a = 1', [], 'f.yml')).toBeUndefined();
    expect(etlCondition(undefined, ['1'], 'f.yml')).toBeUndefined();
    expect(etlCondition('', ['1'], 'f.yml')).toBeUndefined();
    expect(etlCondition('   ', ['1'], 'f.yml')).toBeUndefined();
  });

  it('refuses a placeholder count other than the param count, naming the file', () => {
    const call = (cond: string, params: string[]) => () => etlCondition(cond, params, 'rdb/x.yml');
    expect(call('a = {} and b = {}', ['1'])).toThrow(
      new FatalError('rdb/x.yml: etlCondition has 2 {} placeholder(s) but 1 param(s) were given.'),
    );
    expect(call('a = 1', ['1'])).toThrow(
      'rdb/x.yml: etlCondition has 0 {} placeholder(s) but 1 param(s) were given.',
    );
    expect(call('a = {0}', ['1'])).toThrow(
      'rdb/x.yml: etlCondition has 0 {} placeholder(s) but 1 param(s) were given.',
    );
    expect(call('a = {}', ['1', '2'])).toThrow(FatalError);
  });

  it('ends the condition on its own line, so a trailing comment cannot hide the parenthesis', () => {
    expect(etlCondition('a = {} -- recent rows', ['1'], 'f.yml')?.sql).toBe(
      '(a = ? -- recent rows\n)',
    );
  });
});

describe('whereSql', () => {
  it('is empty without terms and ANDs terms on a new line', () => {
    expect(whereSql([])).toBe('');
    expect(whereSql(['a = ?'])).toBe('\nWHERE a = ?');
    expect(whereSql(['(x)', 'b IS NOT NULL', 'c > ?'])).toBe(
      '\nWHERE (x) AND b IS NOT NULL AND c > ?',
    );
  });
});

describe('keysetAfterSql', () => {
  it('compares one column directly and several as a row', () => {
    expect(keysetAfterSql(['`id`'])).toBe('`id` > ?');
    expect(keysetAfterSql(['`a`.`x`', '`a`.`y`'])).toBe('(`a`.`x`, `a`.`y`) > (?, ?)');
    expect(keysetAfterSql(['a', 'b', 'c'])).toBe('(a, b, c) > (?, ?, ?)');
  });

  it('refuses no key column', () => {
    expect(() => keysetAfterSql([])).toThrow(
      new RangeError('A keyset needs at least one key column.'),
    );
  });
});

describe('keysetPageSql', () => {
  const select = 'SELECT `id`, `name` FROM `db`.`t`';

  it('reads the first page without a keyset term', () => {
    expect(keysetPageSql({ select, keys: ['`id`'], after: false, limit: 500 })).toBe(
      'SELECT `id`, `name` FROM `db`.`t`\nORDER BY `id` LIMIT 500',
    );
    expect(
      keysetPageSql({ select, keys: ['`id`'], where: ['(a = ?\n)'], after: false, limit: 1 }),
    ).toBe('SELECT `id`, `name` FROM `db`.`t`\nWHERE (a = ?\n)\nORDER BY `id` LIMIT 1');
  });

  it('reads later pages after the last key, the where terms first', () => {
    expect(keysetPageSql({ select, keys: ['`a`', '`b`'], after: true, limit: 10 })).toBe(
      'SELECT `id`, `name` FROM `db`.`t`\nWHERE (`a`, `b`) > (?, ?)\nORDER BY `a`, `b` LIMIT 10',
    );
    expect(
      keysetPageSql({
        select,
        keys: ['`id`'],
        where: ['(c = ?\n)', '`id` IS NOT NULL'],
        after: true,
        limit: 7,
      }),
    ).toBe(
      'SELECT `id`, `name` FROM `db`.`t`\nWHERE (c = ?\n) AND `id` IS NOT NULL AND `id` > ?\nORDER BY `id` LIMIT 7',
    );
  });

  it('does not change the where terms it is given', () => {
    const where = Object.freeze(['x = 1']);
    keysetPageSql({ select, keys: ['`id`'], where, after: true, limit: 2 });
    expect(where).toEqual(['x = 1']);
  });

  it('refuses a limit that is not a positive integer, and no key column', () => {
    for (const limit of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53]) {
      expect(() => keysetPageSql({ select, keys: ['`id`'], after: false, limit })).toThrow(
        new RangeError(`A page limit must be a positive integer, got ${limit}.`),
      );
    }
    expect(keysetPageSql({ select, keys: ['`id`'], after: false, limit: 2 ** 53 - 1 })).toContain(
      `LIMIT ${2 ** 53 - 1}`,
    );
    for (const after of [true, false])
      expect(() => keysetPageSql({ select, keys: [], after, limit: 1 })).toThrow(
        new RangeError('A keyset needs at least one key column.'),
      );
  });
});
