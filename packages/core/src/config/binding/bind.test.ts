import { describe, expect, it } from 'vitest';
import type { ObjectSchema } from '@sluice/plugin-api';
import { bindFlatProperties, bindNode, formatPath } from './bind.js';
import { ProblemCollector } from './problems.js';
import { parseYamlTree } from './yamlTree.js';

const schema: ObjectSchema = {
  type: 'object',
  required: ['name'],
  properties: {
    name: { type: 'string' },
    outerAdapterKey: { type: 'string' },
    syncBatchSize: { type: 'integer', minimum: 1, default: 1000 },
    flatMessage: { type: 'boolean', default: true },
    mode: {
      type: 'string',
      enum: ['evict', 'write-through'],
      caseInsensitive: true,
      default: 'evict',
    },
    token: { type: 'string', secret: true },
    properties: { type: 'map', values: { type: 'string' } },
    skips: { type: 'array', items: { type: 'string' } },
    nested: { type: 'object', properties: { inner: { type: 'integer' } } },
  },
};

function bind(yaml: string, options: { exactKeys?: boolean } = {}) {
  const { root, errors } = parseYamlTree(yaml, 'm.yml');
  expect(errors).toEqual([]);
  const problems = new ProblemCollector();
  const secrets = new Set<string>();
  const value = bindNode(schema, root, [], {
    problems,
    secrets,
    resolveText: (t) => t,
    ...options,
  }) as Record<string, unknown>;
  return { value, problems: problems.problems, secrets };
}

describe('bindNode', () => {
  it.each([
    'outerAdapterKey',
    'outer-adapter-key',
    'OUTER_ADAPTER_KEY',
    'outer_adapter_key',
    'OuterAdapterKey',
  ])('binds the relaxed spelling %s', (key) => {
    const r = bind(`name: x\n${key}: mysql1\n`);
    expect(r.value['outerAdapterKey']).toBe('mysql1');
    expect(r.problems).toEqual([]);
  });

  it('applies defaults for absent and empty values, and keeps text as written', () => {
    const r = bind('name: 0123\nsyncBatchSize:\nflatMessage: ~\nmode:\n');
    expect(r.value).toMatchObject({
      name: '0123',
      syncBatchSize: 1000,
      flatMessage: true,
      mode: 'evict',
    });
  });

  it('converts scalars like Spring (on/off, case-insensitive enums, comma lists)', () => {
    const r = bind(
      'name: x\nflatMessage: "off"\nmode: WRITE-THROUGH\nskips: a, b ,c\nsyncBatchSize: " 20 "\n',
    );
    expect(r.value).toMatchObject({
      flatMessage: false,
      mode: 'write-through',
      skips: ['a', 'b', 'c'],
      syncBatchSize: 20,
    });
  });

  it('reports type errors with file, line, path and what was expected', () => {
    const r = bind(
      'name: x\nsyncBatchSize: 0\nflatMessage: maybe\nmode: lru\nnested:\n  inner: 1.5\nproperties: [1]\n',
    );
    expect(r.problems.map((p) => [p.line, p.path, p.severity, p.expected])).toEqual([
      [2, 'syncBatchSize', 'error', 'an integer ≥ 1'],
      [3, 'flatMessage', 'error', 'true or false'],
      [4, 'mode', 'error', 'one of evict, write-through'],
      [7, 'properties', 'error', 'a mapping of keys'],
      [6, 'nested.inner', 'error', 'an integer'],
    ]);
  });

  it('warns about unknown keys and suggests the closest valid key', () => {
    const r = bind('name: x\nsyncBatchSise: 5\nzzz: 1\n');
    expect(r.problems).toMatchObject([
      {
        severity: 'warning',
        code: 'unknown-key',
        line: 2,
        path: 'syncBatchSise',
        suggestion: 'did you mean "syncBatchSize"?',
      },
      { severity: 'warning', code: 'unknown-key', line: 3, path: 'zzz' },
    ]);
    expect(r.problems[1]?.suggestion).toBeUndefined();
    expect(r.value['syncBatchSize']).toBe(1000);
  });

  it('reports a missing or empty required key', () => {
    expect(bind('mode: evict\n').problems).toMatchObject([
      { severity: 'error', code: 'required', path: 'name', message: 'missing' },
    ]);
    expect(bind('name:\n').problems).toMatchObject([
      { severity: 'error', code: 'required', line: 1, message: 'must not be empty' },
    ]);
  });

  it('warns when one key is set twice under different spellings; the last wins', () => {
    const r = bind('name: x\nsyncBatchSize: 1\nsync-batch-size: 2\n');
    expect(r.value['syncBatchSize']).toBe(2);
    expect(r.problems).toMatchObject([{ code: 'duplicate-key', line: 3 }]);
  });

  it('expands dotted keys into nested objects and flattens nested maps into dotted keys', () => {
    const r = bind(
      'name: x\nnested.inner: 4\nproperties:\n  jdbc:\n    url: u\n  jdbc.username: bob\n',
    );
    expect(r.value['nested']).toEqual({ inner: 4 });
    expect(r.value['properties']).toEqual({ 'jdbc.url': 'u', 'jdbc.username': 'bob' });
  });

  it('collects secret values from secret fields and secret-looking map keys', () => {
    const r = bind(
      'name: x\ntoken: t0k3n\nproperties:\n  jdbc.password: pw1\n  security.auth: u:pw2\n  jdbc.url: u\n',
    );
    expect([...r.secrets].sort()).toEqual(['pw1', 't0k3n', 'u:pw2']);
  });

  it('matches keys exactly in exact mode (canal map keys are verbatim)', () => {
    const r = bind('Name: x\nname: y\n', { exactKeys: true });
    expect(r.value['name']).toBe('y');
    expect(r.problems).toMatchObject([
      { code: 'unknown-key', path: 'Name', suggestion: 'did you mean "name"?' },
    ]);
  });
});

describe('formatPath', () => {
  it('writes indexes and dotted map keys unambiguously', () => {
    expect(formatPath(['canal', 'conf', 'canalAdapters', 0, 'properties', 'jdbc.url'])).toBe(
      'canal.conf.canalAdapters[0].properties["jdbc.url"]',
    );
  });
});

describe('bindFlatProperties', () => {
  it('converts scalars, fills defaults, keeps verbatim keys and passes unknown keys through', () => {
    const bound = bindFlatProperties(
      {
        type: 'object',
        properties: {
          'jdbc.url': { type: 'string' },
          threads: { type: 'integer', default: 3 },
          batch: { type: 'integer' },
          tls: { type: 'boolean', default: false },
          mode: { type: 'string', enum: ['evict', 'write'], default: 'evict' },
        },
      },
      { 'jdbc.url': 'jdbc:mysql://h/db', batch: '500', tls: 'true', 'x.extra': 'kept' },
    );
    expect(bound).toEqual({
      'jdbc.url': 'jdbc:mysql://h/db',
      threads: 3,
      batch: 500,
      tls: true,
      mode: 'evict',
      'x.extra': 'kept',
    });
  });

  it('an empty value means the default, as in canal', () => {
    const bound = bindFlatProperties(
      { type: 'object', properties: { threads: { type: 'integer', default: 3 } } },
      { threads: '' },
    );
    expect(bound).toEqual({ threads: 3 });
  });
});

describe('path properties', () => {
  const paths: ObjectSchema = {
    type: 'object',
    properties: {
      input: { type: 'string', path: 'existing', default: 'samples' },
      store: { type: 'string', path: 'created' },
    },
  };

  it('resolves them against the configuration directory and reports a missing existing path', () => {
    const problems = new ProblemCollector();
    const { root } = parseYamlTree('store: state/offsets.json\n', 'a.yml');
    const bound = bindNode(paths, root, [], {
      problems,
      secrets: new Set(),
      resolveText: (t) => t,
      configDir: '/no/such/conf',
    });
    expect(bound).toEqual({
      input: '/no/such/conf/samples',
      store: '/no/such/conf/state/offsets.json',
    });
    expect(problems.problems).toEqual([
      expect.objectContaining({
        severity: 'error',
        code: 'path-missing',
        path: 'input',
        message: '/no/such/conf/samples does not exist (the default "samples"; the key is not set)',
      }),
    ]);
  });

  it('resolves them in flat plugin properties when given the directory, and leaves them without', () => {
    expect(bindFlatProperties(paths, { store: 's.json', input: '/abs/in' }, '/conf')).toEqual({
      input: '/abs/in',
      store: '/conf/s.json',
    });
    expect(bindFlatProperties(paths, { store: 's.json' })).toEqual({
      input: 'samples',
      store: 's.json',
    });
  });
});
