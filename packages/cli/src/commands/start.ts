import { resolve } from 'node:path';
import { createLogger, formatReport, SluiceRuntime, type RunSummary } from '@sluice/core';
import { cliVersion } from '../version.js';
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
  logger.info('Starting Sluice.', {
    version: cliVersion(),
    configDir: resolve(config.dir),
    once: values.once,
  });
  const runtime = new SluiceRuntime({ config, registry, logger, once: values.once });
  const onAbort = () => void runtime.stop(undefined, signal.reason);
  await runtime.start();
  if (signal.aborted) onAbort();
  else signal.addEventListener('abort', onAbort, { once: true });
  try {
    await runtime.finished;
  } catch (error) {
    if (!signal.aborted) throw error;
  } finally {
    signal.removeEventListener('abort', onAbort);
    const summary = runtime.summary();
    logger.info('Stopped.', { applied: summary.applied, deadLettered: summary.deadLettered });
    if (values.once) io.stderr(formatSummary(summary));
  }
  return 0;
}

/** The end-of-run summary of `--once`: totals, then one line per sink instance. */
export function formatSummary(summary: RunSummary): string {
  const lines = [
    `Applied ${summary.applied} event(s), dead-lettered ${summary.deadLettered}` +
      (summary.undecodable > 0 ? ` (${summary.undecodable} undecodable message(s)).` : '.'),
    ...summary.sinks.map(
      (s) =>
        `  ${s.destination}/${s.groupId} sink "${s.key}": ${s.applied} applied, ${s.deadLettered} dead-lettered`,
    ),
  ];
  return lines.join('\n') + '\n';
}
