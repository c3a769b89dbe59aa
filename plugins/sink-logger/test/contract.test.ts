import { afterAll, beforeAll, vi } from 'vitest';
import { runSinkContractSuite } from '@sluice/testkit';
import { loggerSink } from '../src/index.js';

// The logger prints; keep the test output clean while the suite runs.
beforeAll(() => {
  vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
});
afterAll(() => {
  vi.restoreAllMocks();
});

// A write-only sink: nothing to read back (no readState), nothing it rejects (no poison), no
// connection to break (no disconnect). The suite runs the rest and reports those as skipped.
runSinkContractSuite({
  name: 'logger sink contract',
  target: {
    createSink: () =>
      loggerSink.create({
        key: 'contract',
        name: 'logger',
        hosts: undefined,
        properties: { output: 'stdout' },
        configDir: '/cfg',
        deps: {},
      }),
    reset: async () => {},
  },
});
