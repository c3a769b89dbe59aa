import { describe, expect, it } from 'vitest';
import {
  KeyTemplateError,
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
