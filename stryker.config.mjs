import { fileURLToPath } from 'node:url';
// StrykerJS configuration of `pnpm mutate` (see docs/testing.md). Which files are mutated comes
// from scripts/mutate.mjs (groups `core`, `codecs`, `sinks`, or a file list); this file holds
// what every run shares.
/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  // pnpm keeps @stryker-mutator/core from seeing its siblings: name the runner explicitly.
  plugins: [fileURLToPath(import.meta.resolve('@stryker-mutator/vitest-runner'))],
  vitest: { configFile: 'vitest.mutate.config.ts', related: true },
  coverageAnalysis: 'perTest',
  // Two cores shared with other work: one mutant at a time unless MUTATE_CONCURRENCY says more.
  concurrency: Number(process.env.MUTATE_CONCURRENCY ?? 1),
  checkers: [],
  ignoreStatic: true,
  timeoutMS: 3_000,
  timeoutFactor: 2,
  reporters: ['clear-text', 'progress-append-only', 'json', 'html'],
  clearTextReporter: { allowEmojis: false, logTests: false, reportScoreTable: true },
  jsonReporter: { fileName: `reports/mutation/${process.env.MUTATE_NAME ?? 'mutation'}.json` },
  htmlReporter: { fileName: `reports/mutation/${process.env.MUTATE_NAME ?? 'mutation'}.html` },
  // No `break` on Stryker's raw total: scripts/mutate.mjs fails the run when any file is below
  // 90 % without the equivalent mutants of docs/mutation-equivalents.md (the fast path's raw
  // score counts ~60 mutants that only cost speed).
  thresholds: { high: 95, low: 90, break: null },
  tempDirName: '.stryker-tmp',
  cleanTempDir: 'always',
  ignorePatterns: ['.testbed', '.sluice', 'reports', '**/dist', 'coverage', '.turbo'],
};
