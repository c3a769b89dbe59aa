import type { RowChangeEvent } from '@sluice/plugin-api';
import { MemorySink, MemoryTarget, runSinkContractSuite } from '../src/index.js';

// The in-memory sink is the reference: it must pass every contract test.
const target = new MemoryTarget();
target.reject = (event) =>
  event.kind === 'row' && event.after?.['name'] === '☠' ? 'poisoned by the test' : undefined;

runSinkContractSuite({
  name: 'in-memory sink contract',
  target: {
    createSink: () => new MemorySink(target),
    reset: async () => target.clear(),
    readState: async () => target.table('sluice_contract', 'items'),
    poison: (event: RowChangeEvent) => ({ ...event, after: { ...event.after, name: '☠' } }),
    disconnect: async (sink) => (sink as MemorySink).disconnect(),
  },
});

// A target without the optional hooks: those tests are skipped, not failed.
const bare = new MemoryTarget();
runSinkContractSuite({
  name: 'in-memory sink contract (no hooks, two tests)',
  tests: ['delete', 'partialFailure'],
  target: {
    createSink: () => new MemorySink(bare),
    reset: async () => bare.clear(),
    readState: async () => bare.table('sluice_contract', 'items'),
  },
});

// A write-only target (no readState): the state tests are skipped, the others run.
const writeOnly = new MemoryTarget();
runSinkContractSuite({
  name: 'in-memory sink contract (write-only target)',
  target: {
    createSink: () => new MemorySink(writeOnly),
    reset: async () => writeOnly.clear(),
  },
});
