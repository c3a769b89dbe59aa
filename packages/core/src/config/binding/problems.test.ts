import { describe, expect, it } from 'vitest';
import { formatProblem, type ConfigProblem } from './problems.js';

const problem = (over: Partial<ConfigProblem>): ConfigProblem => ({
  severity: 'warning',
  code: 'invalid-value',
  file: 'rdb/a.yml',
  line: 10,
  path: 'dbMapping.targetTable',
  message: 'Sluice writes "a.b" as table b of schema a.',
  ...over,
});

describe('formatProblem', () => {
  it('prints file:line, severity, key path, message, then the suggestion', () => {
    expect(formatProblem(problem({ suggestion: 'use targetDb: a' }))).toBe(
      'rdb/a.yml:10: warning: dbMapping.targetTable: Sluice writes "a.b" as table b of schema a; use targetDb: a',
    );
  });

  it('drops a sentence full stop only when something follows it', () => {
    expect(formatProblem(problem({}))).toBe(
      'rdb/a.yml:10: warning: dbMapping.targetTable: Sluice writes "a.b" as table b of schema a.',
    );
    expect(formatProblem(problem({ expected: 'a table name' }))).toBe(
      'rdb/a.yml:10: warning: dbMapping.targetTable: Sluice writes "a.b" as table b of schema a (expected a table name)',
    );
  });

  it('leaves out the line when there is none and the key path when the whole file is meant', () => {
    expect(formatProblem(problem({ line: 0, path: '', message: 'missing' }))).toBe(
      'rdb/a.yml: warning: missing',
    );
  });
});
