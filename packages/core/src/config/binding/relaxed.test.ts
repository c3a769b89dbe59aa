import { describe, expect, it } from 'vitest';
import { canonicalKey, closestMatches, didYouMean, editDistance, sameKey } from './relaxed.js';

describe('relaxed binding keys', () => {
  it('treats case, "-" and "_" as insignificant', () => {
    for (const variant of [
      'outerAdapterKey',
      'outer-adapter-key',
      'OUTER_ADAPTER_KEY',
      'outeradapterkey',
      'Outer_Adapter-Key',
    ]) {
      expect(sameKey(variant, 'outerAdapterKey')).toBe(true);
    }
    expect(canonicalKey('_index')).toBe('index');
  });

  it('keeps keys that differ in letters apart', () => {
    expect(sameKey('outerAdapterKeys', 'outerAdapterKey')).toBe(false);
    expect(sameKey('jdbc.url', 'jdbcurl')).toBe(false);
  });
});

describe('suggestions', () => {
  it('counts a transposition as one edit', () => {
    expect(editDistance('kafak', 'kafka')).toBe(1);
    expect(editDistance('', 'abc')).toBe(3);
    expect(editDistance('same', 'same')).toBe(0);
  });

  it('suggests the closest key, and nothing for an unrelated word', () => {
    expect(closestMatches('timout', ['timeout', 'retries', 'mode'])).toEqual(['timeout']);
    expect(closestMatches('sync-batchsize', ['syncBatchSize', 'batchSize'])).toEqual([
      'syncBatchSize',
    ]);
    expect(closestMatches('zzzzzz', ['timeout', 'retries'])).toEqual([]);
    expect(closestMatches('', ['timeout'])).toEqual([]);
  });

  it('phrases one or several options', () => {
    expect(didYouMean(['es7', 'es8'])).toBe('did you mean "es7" or "es8"?');
    expect(didYouMean(['a'])).toBe('did you mean "a"?');
    expect(didYouMean([])).toBeUndefined();
  });
});
