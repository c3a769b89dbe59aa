import { defineConfig } from 'vitest/config';
import base from './vitest.config.js';

/**
 * The suite `pnpm mutate` (Stryker) runs: the unit tests next to the mutated modules (ordering
 * core, codecs, sink conversions) and the codec tests under packages/canal-protocol/test. No
 * testbed, no type checking; each mutant runs only the tests that cover it (perTest coverage).
 */
export default defineConfig({
  resolve: base.resolve,
  test: {
    include: [
      'packages/core/src/pipeline/**/*.test.ts',
      'packages/canal-protocol/src/**/*.test.ts',
      'packages/canal-protocol/test/**/*.test.ts',
      'plugins/sink-*/src/**/*.test.ts',
    ],
    exclude: [
      '**/node_modules/**',
      '**/dist/**',
      // Sweeps that compare sink-rdb's fast paths with toParam/planRowReference over ~200k
      // cases (6 s a run): every convert.ts mutant would pay for them. convert.test.ts pins
      // toParam itself; the sweeps still run in `pnpm test`.
      'plugins/sink-rdb/src/fastConvert.test.ts',
      'plugins/sink-rdb/src/rowPlan.test.ts',
    ],
    testTimeout: 30_000,
    pool: 'forks',
    // Tests that read a module's source text (the lane scheduler's hand-made mutants) skip
    // themselves: under Stryker that text is the instrumented copy.
    env: { SLUICE_MUTATION_RUN: '1' },
  },
});
