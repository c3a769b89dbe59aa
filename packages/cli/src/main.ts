import { isSluiceError } from '@sluice/plugin-api';
import { dlqCommand } from './commands/dlq.js';
import { etlCommand } from './commands/etl.js';
import { inspectCommand } from './commands/inspect.js';
import { startCommand } from './commands/start.js';
import { statusCommand } from './commands/status.js';
import { validateCommand } from './commands/validate.js';
import { processIo, type CliIo } from './io.js';
import { UsageError } from './usageError.js';
import { cliVersion } from './version.js';

type Command = (args: readonly string[], io: CliIo, signal: AbortSignal) => Promise<number>;

/** The subcommands, with one line of help each. */
const commands: Record<string, { run: Command; summary: string }> = {
  start: { run: startCommand, summary: 'run the pipelines of a configuration directory' },
  status: {
    run: statusCommand,
    summary: 'what a running Sluice does: switches, lag, throughput, dead letters',
  },
  etl: {
    run: etlCommand,
    summary: 'full sync of one mapping file (sluice etl rdb|es8|redis [KEY] TASK)',
  },
  dlq: { run: dlqCommand, summary: 'list, show, replay or drop dead letters (sluice dlq --help)' },
  validate: {
    run: (args, io) => validateCommand(args, io),
    summary: 'check a configuration directory and print every problem',
  },
  inspect: {
    run: (args, io, signal) => inspectCommand(args, io, signal),
    summary: 'decode canal messages (FlatMessage JSON or protobuf) and print ChangeEvents',
  },
};

export function mainHelp(): string {
  const width = Math.max(...Object.keys(commands).map((c) => c.length));
  return `Usage: sluice <command> [options]

Sluice applies canal's change messages (from Kafka, RabbitMQ, RocketMQ, canal-server over tcp,
or JSON-lines files) to sinks, reading
canal-adapter's application.yml and mapping files unchanged. Built in today: the logger, rdb,
redis and es8 sinks; rdb applies to MySQL, MariaDB and PostgreSQL, and es8 (also named es7, es6)
applies Elasticsearch and OpenSearch mappings with joins, group_concat sub-queries and
parent/child relations. rdb, es8 and redis (write mode) have a full sync (sluice etl). Plugin
sinks load through
sluice.plugins.

Commands:
${Object.entries(commands)
  .map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`)
  .join('\n')}

Options:
  -h, --help           show this help (sluice <command> --help for a command's options)
  -v, --version        print the version
  --log-level LEVEL    debug, info, warn or error (default info, or SLUICE_LOG_LEVEL); logs are
                       JSON lines unless stderr is a terminal (SLUICE_LOG_FORMAT=json|pretty)

Environment: SLUICE_HEAP_GROWING_PERCENT=N (an integer 0-10000) sets V8's old-generation
growth: a full GC when the old generation has grown N % (default 100; 0 = V8's own choice;
node's --heap-growing-percent=N before bin.js wins). README, "Memory and V8".

Exit codes: 0 success, 1 failure, 2 usage error.
`;
}

const LOG_LEVELS = ['debug', 'info', 'warn', 'error'];

/**
 * `--log-level LEVEL` (or `--log-level=LEVEL`), accepted before or after the command: removed
 * from `args` and put in force for this process (as `SLUICE_LOG_LEVEL`, which it overrides).
 */
function takeLogLevel(args: string[]): void {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg !== '--log-level' && !arg.startsWith('--log-level=')) continue;
    const value = arg.includes('=') ? arg.slice(arg.indexOf('=') + 1) : args[i + 1];
    if (value === undefined || !LOG_LEVELS.includes(value.toLowerCase()))
      throw new UsageError(
        `sluice: --log-level must be one of ${LOG_LEVELS.join(', ')}${value === undefined ? '' : `, not "${value}"`}.`,
      );
    process.env['SLUICE_LOG_LEVEL'] = value.toLowerCase();
    args.splice(i, arg.includes('=') ? 1 : 2);
    i -= 1;
  }
}

/**
 * Runs the `sluice` command line and returns the exit code: 0 success, 1 failure, 2 usage error.
 */
export async function main(
  argv: readonly string[],
  io: CliIo = processIo,
  signal: AbortSignal = new AbortController().signal,
): Promise<number> {
  // `pnpm start -- --once` passes pnpm's `--` separator through: drop it.
  const separator = argv.indexOf('--');
  const args =
    separator < 0 ? [...argv] : [...argv.slice(0, separator), ...argv.slice(separator + 1)];
  try {
    takeLogLevel(args);
    const [first, ...rest] = args;
    if (first === undefined || first === '-h' || first === '--help' || first === 'help') {
      io.stdout(mainHelp());
      return first === undefined ? 2 : 0;
    }
    if (first === '-v' || first === '--version') {
      io.stdout(`sluice ${cliVersion()}\n`);
      return 0;
    }
    if (first.startsWith('-')) throw new UsageError(`sluice: unknown option "${first}"`);
    const command = commands[first];
    if (!command) {
      throw new UsageError(
        `sluice: unknown command "${first}"; commands: ${Object.keys(commands).join(', ')}`,
      );
    }
    return await command.run(rest, io, signal);
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr(`${error.message}\nRun "sluice --help" for usage.\n`);
      return 2;
    }
    const message = isSluiceError(error)
      ? `${error.message} [${error.code}]`
      : ((error as Error).stack ?? String(error));
    io.stderr(`sluice: ${message}\n`);
    return 1;
  }
}
