#!/usr/bin/env node
import { exitQuietlyOnBrokenPipe } from './io.js';
import { main } from './main.js';
import { tuneHeapGrowth } from './heapGrowth.js';

// Sinks such as the logger print straight to stdout: `sluice start | head` must not crash either.
exitQuietlyOnBrokenPipe();

// V8's old-generation growth, before any command runs (heapGrowth.ts says why). A bad
// SLUICE_HEAP_GROWING_PERCENT stops every command but the help and the version, which must
// still say how to set it.
try {
  tuneHeapGrowth();
} catch (error) {
  const args = process.argv.slice(2);
  const informational =
    args.length === 0 ||
    args[0] === 'help' ||
    args.some((a) => a === '-h' || a === '--help' || a === '-v' || a === '--version');
  if (!informational) {
    process.stderr.write(`sluice: ${(error as Error).message}\n`);
    process.exit(2);
  }
}

const controller = new AbortController();
let signals = 0;
for (const name of ['SIGINT', 'SIGTERM'] as const) {
  process.on(name, () => {
    signals += 1;
    if (signals > 1) process.exit(130);
    process.stderr.write(
      `Received ${name}: stopping intake, draining and closing (send again to exit at once).\n`,
    );
    controller.abort(new Error(`Received ${name}.`));
  });
}

process.exitCode = await main(process.argv.slice(2), undefined, controller.signal);
