import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const root = fileURLToPath(new URL('.', import.meta.url));

/**
 * One suite for the whole workspace. `@sluice/*` resolves to each package's TypeScript source,
 * so tests never run against a stale build.
 */
export default defineConfig({
  resolve: {
    alias: [
      {
        find: /^@sluice\/(plugin-api|canal-protocol|core|cli|testkit)$/,
        replacement: `${root}packages/$1/src/index.ts`,
      },
      {
        find: /^@sluice\/((?:source|sink)-[a-z0-9-]+)$/,
        replacement: `${root}plugins/$1/src/index.ts`,
      },
    ],
  },
  test: {
    include: [
      'packages/*/src/**/*.test.ts',
      'packages/*/test/**/*.test.ts',
      'plugins/*/src/**/*.test.ts',
      'plugins/*/test/**/*.test.ts',
      'examples/*/src/**/*.test.ts',
      'examples/*/test/**/*.test.ts',
      'test/**/*.test.ts',
    ],
    exclude: ['**/node_modules/**', '**/dist/**'],
    testTimeout: 30_000,
    hookTimeout: 180_000,
    pool: 'forks',
    typecheck: {
      enabled: true,
      include: ['packages/*/src/**/*.test-d.ts', 'packages/*/test/**/*.test-d.ts'],
      tsconfig: './tsconfig.typecheck.json',
    },
  },
});
