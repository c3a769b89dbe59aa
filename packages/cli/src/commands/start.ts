import { constants } from 'node:fs';
import { access, mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import {
  formatReport,
  RuntimeAdmin,
  SluiceRuntime,
  startAdminServer,
  type AdminServer,
  type RunSummary,
} from '@sluice/core';
import { UsageError } from '../usageError.js';
import { cliVersion } from '../version.js';
import { appliedHeapGrowth } from '../heapGrowth.js';
import { commandLogger, type CliIo } from '../io.js';
import { parseCommandArgs } from './parse.js';
import { checkConfiguration } from './validate.js';

export const startHelp = `Usage: sluice start [--config DIR] [--once] [--admin-port N]

Runs the pipelines of a canal-adapter configuration directory, with the admin HTTP API
(canal-adapter's /etl, /count, /destinations, /syncSwitch, plus /health, /metrics, /status) on
127.0.0.1:server.port (8081 by default) unless sluice.admin.enabled is false.

Options:
  -c, --config DIR    configuration directory holding application.yml (default: config)
      --once          apply what is available now, then exit 0 (no admin API)
      --admin-port N  the admin API's port instead of sluice.admin.port / server.port
                      (0 picks a free one; the URL is logged)
  -h, --help          show this help
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
    'admin-port': { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  });
  if (values.help) {
    io.stdout(startHelp);
    return 0;
  }
  // Usage errors first: nothing is logged as starting for a command line that cannot run.
  const adminPort = portOption(values['admin-port']);
  const logger = commandLogger(io);
  // The same checks as `sluice validate`: refuse to start on errors, print the warnings.
  const { result, registry } = await checkConfiguration(values.config);
  if (result.problems.length > 0) io.stderr(formatReport(result.problems));
  const config = result.config;
  if (!result.ok || config === undefined) {
    io.stderr(`sluice start: the configuration in "${values.config}" has errors; not starting.\n`);
    return 1;
  }
  const growth = appliedHeapGrowth();
  logger.info('Starting Sluice.', {
    version: cliVersion(),
    configDir: resolve(config.dir),
    once: values.once,
    // V8's old-generation growth (absent when main runs in-process, without the binary).
    ...(growth
      ? { heapGrowingPercent: growth.percent, heapGrowingPercentSetBy: growth.setBy }
      : {}),
  });
  const ignoredEnv = growth?.ignoredEnv;
  if (ignoredEnv !== undefined)
    logger.warn(
      `SLUICE_HEAP_GROWING_PERCENT=${ignoredEnv} is ignored: node was started with its own --heap-growing-percent, which wins.`,
    );
  // A dead-letter directory that cannot be written would hold the first bad event (and its
  // partition) forever: refuse to start instead, saying where and why.
  if (config.sluice.deadLetter.type.toLowerCase() === 'file') {
    const dir = config.sluice.deadLetter.dir;
    try {
      await ensureWritableDir(dir);
    } catch (error) {
      io.stderr(
        `sluice start: the dead-letter directory ${dir} (sluice.deadLetter.dir) cannot be written: ` +
          `${(error as NodeJS.ErrnoException).code ?? (error as Error).message}. Point it at writable ` +
          `storage (e.g. /var/lib/sluice/dlq).\n`,
      );
      return 1;
    }
  }
  const runtime = new SluiceRuntime({ config, registry, logger, once: values.once });
  // The admin API comes up before any connection is made, so a taken port fails the start at
  // once (as canal-adapter's embedded server does) instead of after the sources connected.
  let admin: AdminServer | undefined;
  if (config.sluice.admin.enabled && !values.once) {
    const settings = config.sluice.admin;
    const port = adminPort ?? settings.port;
    try {
      admin = await startAdminServer(new RuntimeAdmin(runtime, { version: cliVersion() }), {
        host: settings.host,
        port,
        ...(settings.token !== undefined ? { token: settings.token } : {}),
        logger: logger.child({ component: 'admin' }),
      });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      const why =
        code === 'EADDRINUSE'
          ? `port ${port} on ${settings.host} is in use by another process`
          : (error as Error).message;
      io.stderr(
        `sluice start: the admin API cannot listen (${why}). Set server.port or sluice.admin.port, ` +
          `pass --admin-port (0 = any free port), or set sluice.admin.enabled: false.\n`,
      );
      return 1;
    }
  }
  await runtime.start();
  try {
    // Running ETL jobs end first (cancelled): they use the sinks the runtime is about to close.
    await runtime.untilStopped(signal, async () => admin?.close());
  } finally {
    await admin?.close().catch(() => undefined);
    const summary = runtime.summary();
    logger.info('Stopped.', { applied: summary.applied, deadLettered: summary.deadLettered });
    if (values.once) io.stderr(formatSummary(summary));
  }
  if (values.once && runtime.summary().unfinished) {
    io.stderr(
      'sluice start --once: stopped before everything read was applied; the rest was not committed and is applied by the next run.\n',
    );
    return 1;
  }
  return 0;
}

/**
 * Creates `dir` (parents first, one level at a time: Node's recursive mkdir can loop on special
 * file systems) and proves it writable by writing and removing a probe file (as root, `access`
 * says yes even on a read-only mount). Throws the file system's error.
 */
async function ensureWritableDir(dir: string): Promise<void> {
  const missing: string[] = [];
  for (let d = dir; ; d = dirname(d)) {
    try {
      await access(d, constants.F_OK);
      break;
    } catch {
      missing.unshift(d);
      if (dirname(d) === d) break;
    }
  }
  for (const d of missing)
    await mkdir(d).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'EEXIST') throw e;
    });
  const probe = join(dir, `.sluice-write-check-${process.pid}`);
  await writeFile(probe, '');
  await rm(probe, { force: true });
}

/** `--admin-port`: a TCP port number, or undefined when not given. */
function portOption(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const port = Number(value);
  if (!/^\d+$/.test(value) || port > 65535)
    throw new UsageError(
      `sluice start: --admin-port must be a port number (0-65535), not "${value}".`,
    );
  return port;
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
