import { describe, expect, it } from 'vitest';
import {
  environmentName,
  resolveMappingPlaceholders,
  resolveSpringPlaceholders,
  springLookup,
} from './placeholders.js';
import { parseYamlTree } from './yamlTree.js';

const lookupOf = (values: Record<string, string>) => (name: string) => values[name];

describe('Spring placeholders (application.yml)', () => {
  it('substitutes values and defaults, including nested ones', () => {
    const lookup = lookupOf({ HOST: 'db1', PORT: '3307' });
    expect(resolveSpringPlaceholders('jdbc:mysql://${HOST}:${PORT}/x', lookup)).toEqual({
      text: 'jdbc:mysql://db1:3307/x',
      missing: [],
    });
    expect(resolveSpringPlaceholders('${NOPE:127.0.0.1:9092}', lookup).text).toBe('127.0.0.1:9092');
    expect(resolveSpringPlaceholders('${NOPE:${HOST}}', lookup).text).toBe('db1');
    expect(resolveSpringPlaceholders('${NOPE:}', lookup)).toEqual({ text: '', missing: [] });
  });

  it('reports a placeholder with neither value nor default and leaves it as written', () => {
    const r = resolveSpringPlaceholders('a ${MISSING} b ${ALSO_MISSING}', lookupOf({}));
    expect(r.missing).toEqual(['MISSING', 'ALSO_MISSING']);
    expect(r.text).toBe('a ${MISSING} b ${ALSO_MISSING}');
  });

  it('resolves placeholders inside looked-up values, without looping forever on cycles', () => {
    expect(resolveSpringPlaceholders('${A}', lookupOf({ A: '${B}', B: 'b' })).text).toBe('b');
    const cyclic = resolveSpringPlaceholders('${A}', lookupOf({ A: '${A}' }));
    expect(typeof cyclic.text).toBe('string');
  });

  it('looks names up in the environment (exact, then relaxed) and in application.yml itself', () => {
    const { root } = parseYamlTree(
      'canal.conf:\n  mode: kafka\nserver:\n  port: 9000\n',
      'application.yml',
    );
    const lookup = springLookup({ CANAL_CONF_TIMEOUT: '700', exact: 'yes' }, root);
    expect(lookup('exact')).toBe('yes');
    expect(lookup('canal.conf.timeout')).toBe('700');
    expect(lookup('canal.conf.mode')).toBe('kafka');
    expect(lookup('server.port')).toBe('9000');
    expect(lookup('nothing.here')).toBeUndefined();
  });

  it('maps property names to environment variable names like Spring', () => {
    expect(environmentName('canal.conf.mode')).toBe('CANAL_CONF_MODE');
    expect(environmentName('canal.conf.sync-batch-size')).toBe('CANAL_CONF_SYNCBATCHSIZE');
    expect(environmentName('sluice.admin.token')).toBe('SLUICE_ADMIN_TOKEN');
  });
});

describe('mapping-file placeholders', () => {
  it('substitutes ${name}, has no default syntax and leaves unknown names as they are', () => {
    const lookup = lookupOf({ DB: 'shop' });
    expect(resolveMappingPlaceholders('${DB}.user', lookup)).toBe('shop.user');
    expect(resolveMappingPlaceholders('${UNSET}.user', lookup)).toBe('${UNSET}.user');
    expect(resolveMappingPlaceholders('${DB:other}', lookup)).toBe('${DB:other}');
  });
});
