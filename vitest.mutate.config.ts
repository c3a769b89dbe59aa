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
    exclude: ['**/node_modules/**', '**/dist/**'],
    testTimeout: 30_000,
    pool: 'forks',
  },
});
