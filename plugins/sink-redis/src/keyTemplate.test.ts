import { describe, expect, it } from 'vitest';
import {
  KeyTemplateError,
  globEscape,
  hashTag,
  keyPattern,
  parseKeyTemplate,
  renderKey,
  staticPrefix,
} from './keyTemplate.js';

describe('key templates', () => {
  it('renders columns, with {{ and }} as literal braces (Cluster hash tags)', () => {
    const row = { id: '42', email: 'a@b', user_id: '7' };
    expect(renderKey(parseKeyTemplate('user:{id}'), row, 'app:')).toBe('app:user:42');
    expect(renderKey(parseKeyTemplate('user:email:{email}'), row, '')).toBe('user:email:a@b');
    expect(renderKey(parseKeyTemplate('{{user:{id}}}:profile'), row, '')).toBe('{user:42}:profile');
    expect(renderKey(parseKeyTemplate('{{{id}}}'), row, '')).toBe('{42}');
    expect(renderKey(parseKeyTemplate('x:{ id }:{user_id}'), row, '')).toBe('x:42:7');
    expect(parseKeyTemplate('a:{id}:{id}:{email}').columns).toEqual(['id', 'email']);
  });

  it('reports a NULL column (nothing to touch) apart from a missing one (cannot know the key)', () => {
    const t = parseKeyTemplate('user:email:{email}');
    expect(renderKey(t, { email: null }, '')).toEqual({ nullColumn: 'email' });
    expect(renderKey(t, { id: '1' }, '')).toEqual({ missing: 'email' });
    expect(renderKey(parseKeyTemplate('u:{toString}'), {}, '')).toEqual({ missing: 'toString' });
  });

  it('rejects malformed templates with the position', () => {
    for (const bad of ['user:{id', 'user:}', 'user:{}', 'a{b{c}', '{{user:{id}}']) {
      expect(() => parseKeyTemplate(bad), bad).toThrow(KeyTemplateError);
    }
    expect(() => parseKeyTemplate('user:{id')).toThrow(/position 5 is not closed/);
  });

  it('gives SCAN prefixes and exact key patterns', () => {
    const t = parseKeyTemplate('{{user:{id}}}:profile');
    expect(staticPrefix(t, 'p:')).toBe('p:{user:');
    const re = keyPattern(t, 'p:');
    expect(re.test('p:{user:9}:profile')).toBe(true);
    expect(re.test('p:{user:9}:profile:sluice-version')).toBe(false);
    expect(re.test('{user:9}:profile')).toBe(false);
  });

  it('finds hash tags like Redis Cluster does', () => {
    expect(hashTag('{user:1}:profile')).toBe('user:1');
    expect(hashTag('a{}b{c}')).toBeUndefined();
    expect(hashTag('plain')).toBeUndefined();
    expect(hashTag('x{y')).toBeUndefined();
  });
});

describe('key templates: exact parts, messages and patterns', () => {
  it('parses into text and column parts, merging literal braces into the text', () => {
    expect(parseKeyTemplate('{{a}}:{id}:x{ b }').parts).toEqual([
      { kind: 'text', text: '{a}:' },
      { kind: 'column', column: 'id' },
      { kind: 'text', text: ':x' },
      { kind: 'column', column: 'b' },
    ]);
    expect(parseKeyTemplate('{id}{v}').parts).toEqual([
      { kind: 'column', column: 'id' },
      { kind: 'column', column: 'v' },
    ]);
    expect(parseKeyTemplate('plain').parts).toEqual([{ kind: 'text', text: 'plain' }]);
    expect(parseKeyTemplate('')).toEqual({ source: '', parts: [], columns: [] });
    expect(parseKeyTemplate('u:{id}').source).toBe('u:{id}');
  });

  it('says what is wrong and where', () => {
    expect(() => parseKeyTemplate('ab}')).toThrow(
      '"ab}": the "}" at position 2 closes nothing; write "}}" for a literal brace.',
    );
    expect(() => parseKeyTemplate('a{ }')).toThrow(
      '"a{ }": "{ }" at position 1 is not a {column} placeholder; write "{{" and "}}" for literal braces.',
    );
    expect(() => parseKeyTemplate('a{b{c}')).toThrow(
      /"\{b\{c\}" at position 1 is not a \{column\}/,
    );
    expect(() => parseKeyTemplate('x{')).toThrow(
      '"x{": the "{" at position 1 is not closed; write "{{" for a literal brace.',
    );
  });

  it('renders the prefix, NULL/undefined columns and empty values', () => {
    const t = parseKeyTemplate('u:{id}:{v}');
    expect(renderKey(t, { id: '1', v: '' }, 'p:')).toBe('p:u:1:');
    expect(renderKey(t, { id: '1' }, '')).toEqual({ missing: 'v' });
    expect(renderKey(t, { id: null, v: 'x' }, '')).toEqual({ nullColumn: 'id' });
    expect(renderKey(parseKeyTemplate('k'), {}, 'p:')).toBe('p:k');
  });

  it('static prefix: only literal text before the first placeholder', () => {
    expect(staticPrefix(parseKeyTemplate('{id}:x'), 'p:')).toBe('p:');
    expect(staticPrefix(parseKeyTemplate('user:{id}'), '')).toBe('user:');
    expect(staticPrefix(parseKeyTemplate(''), 'p:')).toBe('p:');
  });

  it('escapes glob and regex metacharacters; placeholders match one or more characters', () => {
    expect(globEscape('a*b?c[d]e\\f')).toBe('a\\*b\\?c\\[d\\]e\\\\f');
    expect(globEscape('plain:key')).toBe('plain:key');
    const re = keyPattern(parseKeyTemplate('a.b+{id}(x)'), 'p|');
    expect(re.test('p|a.b+1(x)')).toBe(true);
    expect(re.test('p|a.b+\n2(x)')).toBe(true);
    expect(re.test('p|axb+1(x)')).toBe(false);
    expect(re.test('p|a.b+(x)')).toBe(false);
    expect(re.test('pxa.b+1(x)')).toBe(false);
    expect(re.test('p|a.b+1(x)y')).toBe(false);
    expect(re.test('yp|a.b+1(x)')).toBe(false);
  });

  it('hash tags: the first { and the next }', () => {
    expect(hashTag('a{b}c{d}')).toBe('b');
    expect(hashTag('{}{x}')).toBeUndefined();
    expect(hashTag('}{x}')).toBe('x');
    expect(hashTag('ab}c')).toBeUndefined();
    expect(new KeyTemplateError('m').name).toBe('KeyTemplateError');
    expect(hashTag('{x')).toBeUndefined();
    expect(hashTag('{a}')).toBe('a');
  });
});
