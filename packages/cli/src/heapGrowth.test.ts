import { describe, expect, it } from 'vitest';
import {
  HEAP_GROWING_PERCENT_ENV,
  SLUICE_HEAP_GROWING_PERCENT,
  appliedHeapGrowth,
  heapGrowingPercentOf,
  tuneHeapGrowth,
} from './heapGrowth.js';

describe('heapGrowingPercentOf', () => {
  it('reads node’s own flag in each spelling V8 accepts', () => {
    expect(heapGrowingPercentOf(['--heap-growing-percent=30'])).toBe(30);
    expect(heapGrowingPercentOf(['--heap_growing_percent=45'])).toBe(45);
    expect(heapGrowingPercentOf(['--max-old-space-size=512', '--heap-growing-percent=7'])).toBe(7);
    expect(heapGrowingPercentOf(['--heap-growing-percent=0'])).toBe(0);
  });

  it('is undefined without the flag, and not fooled by a longer name', () => {
    expect(heapGrowingPercentOf([])).toBeUndefined();
    expect(heapGrowingPercentOf(['--max-semi-space-size=64'])).toBeUndefined();
    expect(heapGrowingPercentOf(['--heap-growing-percentage=5'])).toBeUndefined();
  });

  it('reads a value V8 would not take as 0 (V8’s own factor)', () => {
    expect(heapGrowingPercentOf(['--heap-growing-percent=x'])).toBe(0);
    expect(heapGrowingPercentOf(['--heap-growing-percent=-5'])).toBe(0);
    expect(heapGrowingPercentOf(['--heap-growing-percent'])).toBe(0);
  });
});

describe('tuneHeapGrowth', () => {
  const run = (execArgv: string[], env: Record<string, string | undefined>) => {
    const flags: string[] = [];
    const growth = tuneHeapGrowth(execArgv, env, (f) => flags.push(f));
    return { growth, flags };
  };

  it(`sets ${SLUICE_HEAP_GROWING_PERCENT} % by default`, () => {
    expect(SLUICE_HEAP_GROWING_PERCENT).toBe(100);
    const { growth, flags } = run([], {});
    expect(growth).toEqual({ percent: 100, setBy: 'sluice' });
    expect(flags).toEqual(['--heap-growing-percent=100']);
    expect(appliedHeapGrowth()).toEqual(growth);
  });

  it('leaves node’s own flag alone, and says which environment value it overrode', () => {
    const { growth, flags } = run(['--heap-growing-percent=20'], {
      [HEAP_GROWING_PERCENT_ENV]: '300',
    });
    expect(growth).toEqual({ percent: 20, setBy: 'node', ignoredEnv: '300' });
    expect(flags).toEqual([]);
    expect(appliedHeapGrowth()).toEqual(growth);
    expect(run(['--heap-growing-percent=20'], {}).growth).toEqual({ percent: 20, setBy: 'node' });
  });

  it('refuses a malformed environment variable even when node’s flag wins', () => {
    expect(() =>
      tuneHeapGrowth(
        ['--heap-growing-percent=20'],
        { [HEAP_GROWING_PERCENT_ENV]: 'abc' },
        () => {},
      ),
    ).toThrow(RangeError);
  });

  it('takes the environment variable, 0 included (V8’s dynamic factor)', () => {
    expect(run([], { [HEAP_GROWING_PERCENT_ENV]: '250' })).toEqual({
      growth: { percent: 250, setBy: 'env' },
      flags: ['--heap-growing-percent=250'],
    });
    expect(run([], { [HEAP_GROWING_PERCENT_ENV]: '0' }).flags).toEqual([
      '--heap-growing-percent=0',
    ]);
    expect(run([], { [HEAP_GROWING_PERCENT_ENV]: ' ' }).growth.setBy).toBe('sluice');
    expect(run([], { [HEAP_GROWING_PERCENT_ENV]: ' 50 ' }).growth).toEqual({
      percent: 50,
      setBy: 'env',
    });
  });

  it('refuses an environment variable that is not an integer from 0 to 10000, setting nothing', () => {
    for (const bad of ['abc', '-1', '1.5', '10001', '1e9', '1e2', '0x10', '+5']) {
      const flags: string[] = [];
      expect(() =>
        tuneHeapGrowth([], { [HEAP_GROWING_PERCENT_ENV]: bad }, (f) => flags.push(f)),
      ).toThrow(
        new RangeError(
          `SLUICE_HEAP_GROWING_PERCENT must be an integer from 0 to 10000 (0: V8's own choice), got "${bad}".`,
        ),
      );
      expect(flags).toEqual([]);
    }
    expect(() => run([], { [HEAP_GROWING_PERCENT_ENV]: '10000' })).not.toThrow();
  });
});
