import { defineConfig } from 'vitest/config';
import base from './vitest.config.js';

/**
 * The suite `pnpm mutate` (Stryker) runs: the unit tests next to the mutated modules (ordering
 * core, plugin-api helpers, codecs, sink conversions) and the codec tests under
 * packages/canal-protocol/test. No testbed, no type checking; each mutant runs only the tests
 * that cover it (perTest coverage).
 */
export default defineConfig({
  resolve: base.resolve,
  test: {
    include: [
      'packages/core/src/pipeline/**/*.test.ts',
      'packages/plugin-api/src/**/*.test.ts',
      'packages/canal-protocol/src/**/*.test.ts',
      'packages/canal-protocol/test/**/*.test.ts',
      'plugins/sink-*/src/**/*.test.ts',
    ],
    exclude: [
      '**/node_modules/**',
      '**/dist/**',
      // The sweep that compares sink-rdb's converters with toParam over ~200k cases (6 s a
      // run): every convert.ts mutant would pay for it. convert.test.ts pins toParam itself,
      // fastConvert.fastPath.test.ts the fast pairs; the sweep still runs in `pnpm test`.
      // (rowPlan.test.ts, under a second, is in: it is what kills rowPlan.ts's mutants.)
      'plugins/sink-rdb/src/fastConvert.test.ts',
    ],
    testTimeout: 30_000,
    pool: 'forks',
    // Tests that read a module's source text (the lane scheduler's hand-made mutants) skip
    // themselves: under Stryker that text is the instrumented copy.
    env: { SLUICE_MUTATION_RUN: '1' },
  },
});
