import { describe, expect, it } from 'vitest';
import type { ObjectSchema } from '@sluice/plugin-api';
import { resolvePaths, withDefaults } from './defaults.js';

const schema: ObjectSchema = {
  type: 'object',
  properties: {
    lanes: { type: 'integer', default: 8 },
    name: { type: 'string' },
    batch: {
      type: 'object',
      default: {},
      properties: { bytes: { type: 'integer', default: 4096 }, size: { type: 'integer' } },
    },
  },
};

describe('withDefaults', () => {
  it('fills missing keys at every depth from the schema, keeping what is set', () => {
    expect(withDefaults(schema, undefined)).toEqual({ lanes: 8, batch: { bytes: 4096 } });
    expect(withDefaults(schema, { lanes: 2, batch: { size: 5 }, extra: 'x' })).toEqual({
      lanes: 2,
      batch: { bytes: 4096, size: 5 },
      extra: 'x',
    });
  });
});

describe('resolvePaths', () => {
  it('resolves path properties against the directory, keeping absolute ones and other keys', () => {
    const paths: ObjectSchema = {
      type: 'object',
      properties: {
        dir: { type: 'string', path: 'created' },
        name: { type: 'string' },
        nested: { type: 'object', properties: { file: { type: 'string', path: 'existing' } } },
      },
    };
    expect(
      resolvePaths(paths, { dir: 'dlq', name: 'x', nested: { file: '/abs/f' } }, '/conf'),
    ).toEqual({ dir: '/conf/dlq', name: 'x', nested: { file: '/abs/f' } });
  });
});
