import { createLogger, formatReport, runSluice } from '@sluice/core';
import type { CliIo } from '../io.js';
import { parseCommandArgs } from './parse.js';
import { checkConfiguration } from './validate.js';

export const startHelp = `Usage: sluice start [--config DIR] [--once]

Runs the pipelines of a canal-adapter configuration directory.

Options:
  -c, --config DIR  configuration directory holding application.yml (default: config)
      --once        apply what is available now, then exit 0
  -h, --help        show this help
`;

/** `sluice start`: runs until the sources drain (`--once`) or SIGINT/SIGTERM. */
export async function startCommand(
  args: readonly string[],
  io: CliIo,
  signal: AbortSignal,
): Promise<number> {
  const { values } = parseCommandArgs('start', args, {
    config: { type: 'string', short: 'c', default: 'config' },
    once: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  });
  if (values.help) {
    io.stdout(startHelp);
    return 0;
  }
  const logger = createLogger({ write: (line) => io.stderr(line + '\n') });
  // The same checks as `sluice validate`: refuse to start on errors, print the warnings.
  const { result, registry } = await checkConfiguration(values.config);
  if (result.problems.length > 0) io.stderr(formatReport(result.problems));
  const config = result.config;
  if (!result.ok || config === undefined) {
    io.stderr(`sluice start: the configuration in "${values.config}" has errors; not starting.\n`);
    return 1;
  }
  await runSluice({ config, registry, logger, once: values.once, signal });
  return 0;
}
