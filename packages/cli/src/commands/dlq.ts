import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import {
  deadLetterDir,
  deadLetterFileName,
  deadLetterFiles,
  deadLetterQueueOf,
  deadLetterTransportOf,
  formatReport,
  FileDeadLetterReader,
  replayDeadLetters,
  rewriteDeadLetterFile,
  type DeadLetterBatch,
  type DeadLetterReader,
  type DeadLetterRecord,
  type DeadLetterTransport,
  type ResolvedConfig,
} from '@sluice/core';
import { commandLogger, type CliIo } from '../io.js';
import { UsageError } from '../usageError.js';
import {
  formatLine,
  formatRecord,
  isEmptyFilter,
  matches,
  parseOffsetRange,
  type DeadLetterFilter,
} from './dlqRecords.js';
import { parseCommandArgs } from './parse.js';
import { checkConfiguration } from './validate.js';

export const dlqHelp = `Usage: sluice dlq <replay|list|show|drop> [--config DIR] [--from FILE | --topic TOPIC] [filters]

Reads the dead-letter queue of a configuration (sluice.deadLetter) and
  replay  feeds the matching dead letters back through decode → route → apply: a dead letter
          of one sink instance goes to that instance only (its row, through the mapping that
          failed); records that fail again go back to the queue with attempts + 1
  list    prints one line per matching dead letter
  show    prints the matching dead letters in full, with a preview of the original message
  drop    deletes the matching dead letters (needs --yes)

Options:
  -c, --config DIR       configuration directory holding application.yml (default: config)
      --from FILE        a JSONL dead-letter file instead of the configured queue
      --topic TOPIC      a dead-letter topic/queue of the source transport (type kafka …)
      --limit N          list/show: at most N records (default: all for list, 20 for show)
      --preview N        show: payload preview length in characters (default 2000)
      --yes              drop: really delete
  -h, --help             show this help

Filters (all given must match):
      --destination NAME  canalAdapters instance the dead letter came from
      --sink KEY          sink instance key (- for undecodable messages)
      --mapping FILE      mapping file that failed
      --reason TEXT       reason contains TEXT (case-insensitive)
      --partition P       source partition
      --offset RANGE      source offset N, or range N..M, N.., ..M (inclusive)

Where: type file reads <sluice.deadLetter.dir>/<instance>.jsonl for each canalAdapters
instance (dir relative to the configuration directory); another type reads the source
transport's queue (Kafka: <instance><topicSuffix>, from where the last replay stopped). The
command says where it looked. A replay removes the records it read from the queue once every
one was applied or written back (file: rewritten in place atomically, no copy left; Kafka: the
replay group sluice-dlq-replay.<topic> commits past them). drop does the same for the records
it deletes (Kafka: the others are written back, then the group commits).

Exit codes: 0 success; 1 when a replay had records fail again, nothing could be read where the
configuration points (no dead-letter directory or file), drop without --yes, or any error;
2 usage error.
`;

const subcommands = ['replay', 'list', 'show', 'drop'] as const;
type Subcommand = (typeof subcommands)[number];

function positiveInt(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text) || Number(text) < 1)
    throw new UsageError(`sluice dlq: --${name} "${text}" is not a positive integer`);
  return Number(text);
}

/** One place dead letters are read from. */
interface Origin {
  readonly reader: DeadLetterReader;
  /** The file of a `file` queue (also for `--from`): rewritten in place by drop. */
  readonly file?: string;
}

/** What was read, and from where. */
interface Read {
  readonly origin: Origin;
  readonly batch: DeadLetterBatch & { files?: { file: string; length: number }[] };
}

/**
 * Where to read: `--from`, `--topic`, or the configured queue of every instance. For the file
 * queue, fails (issue #10 item 6) when the directory or every instance file is missing, since
 * then the replay would "succeed" on nothing while letters wait elsewhere.
 */
async function originsOf(
  sub: Subcommand,
  config: ResolvedConfig,
  transport: DeadLetterTransport,
  values: { from?: string | undefined; topic?: string | undefined; config: string },
  io: CliIo,
): Promise<Origin[] | undefined> {
  if (values.from !== undefined) {
    const file = resolve(values.from);
    if (!(await stat(file).catch(() => undefined))?.isFile()) {
      io.stderr(`sluice dlq ${sub}: no dead-letter file ${file}.\n`);
      return undefined;
    }
    io.stderr(`Reading dead letters from ${file}.\n`);
    return [{ reader: new FileDeadLetterReader(file, async () => [file]), file }];
  }
  if (values.topic !== undefined) {
    const reader = transport.readerNamed(values.topic);
    if (!reader)
      throw new UsageError(
        `sluice dlq ${sub}: --topic needs a queue transport (sluice.deadLetter.type is file; use --from FILE)`,
      );
    io.stderr(`Reading dead letters from ${reader.location}.\n`);
    return [{ reader }];
  }
  const instances = [...new Set(config.canal.canalAdapters.map((a) => a.instance))];
  if (transport.type !== 'file') {
    return instances.map((instance) => {
      const reader = transport.reader(instance);
      io.stderr(`Reading dead letters from ${reader.location}.\n`);
      return { reader };
    });
  }
  const dir = deadLetterDir(config);
  const where = `sluice.deadLetter.dir "${config.sluice.deadLetter.dir}" of ${values.config}`;
  if (!(await stat(dir).catch(() => undefined))?.isDirectory()) {
    io.stderr(
      `sluice dlq ${sub}: there is no dead-letter directory ${dir} (${where}, relative paths resolve against the configuration directory). Nothing was ever dead-lettered there: check the path, or use --from FILE.\n`,
    );
    return undefined;
  }
  const present = new Set(await deadLetterFiles(dir));
  const origins: Origin[] = [];
  for (const instance of instances) {
    const file = resolve(dir, deadLetterFileName(instance));
    if (!present.has(file)) {
      io.stderr(`No dead-letter file for instance "${instance}" (${file}).\n`);
      continue;
    }
    io.stderr(`Reading dead letters from ${file}.\n`);
    origins.push({ reader: transport.reader(instance), file });
  }
  if (origins.length === 0) {
    const others = [...present].map((f) => `  ${f}`).join('\n');
    io.stderr(
      `sluice dlq ${sub}: none of the configured instances (${instances.join(', ')}) has a dead-letter file in ${dir}.` +
        (others
          ? ` The directory holds:\n${others}\nUse --from FILE to read one of them.\n`
          : '\n'),
    );
    return undefined;
  }
  return origins;
}

/** `sluice dlq replay|list|show|drop …`. */
export async function dlqCommand(
  args: readonly string[],
  io: CliIo,
  signal: AbortSignal,
): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    'dlq',
    args,
    {
      config: { type: 'string', short: 'c', default: 'config' },
      from: { type: 'string' },
      topic: { type: 'string' },
      destination: { type: 'string' },
      sink: { type: 'string' },
      mapping: { type: 'string' },
      reason: { type: 'string' },
      partition: { type: 'string' },
      offset: { type: 'string' },
      limit: { type: 'string' },
      preview: { type: 'string' },
      yes: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    true,
  );
  if (values.help) {
    io.stdout(dlqHelp);
    return 0;
  }
  const sub = positionals[0] as Subcommand | undefined;
  if (sub === undefined || !subcommands.includes(sub) || positionals.length > 1)
    throw new UsageError(`sluice dlq: expected "sluice dlq <${subcommands.join('|')}> [options]"`);
  if (values.from !== undefined && values.topic !== undefined)
    throw new UsageError(`sluice dlq ${sub}: give --from or --topic, not both`);
  const range = values.offset !== undefined ? parseOffsetRange(values.offset) : {};
  const filter: DeadLetterFilter = {
    destination: values.destination,
    sink: values.sink,
    mapping: values.mapping,
    reason: values.reason,
    partition: values.partition,
    offsetFrom: range.from,
    offsetTo: range.to,
  };
  const limit = positiveInt('limit', values.limit) ?? (sub === 'show' ? 20 : undefined);
  const preview = positiveInt('preview', values.preview) ?? 2000;

  const { result, registry } = await checkConfiguration(values.config);
  if (result.problems.length > 0) io.stderr(formatReport(result.problems));
  const config = result.config;
  if (!result.ok || config === undefined) {
    io.stderr(`sluice dlq ${sub}: the configuration in "${values.config}" has errors.\n`);
    return 1;
  }
  const transport = deadLetterTransportOf(config, registry);
  const origins = await originsOf(sub, config, transport, values, io);
  if (!origins) return 1;
  const closeAll = () =>
    Promise.all(origins.map((o) => o.reader.close(AbortSignal.timeout(10_000)).catch(() => {})));
  try {
    const reads: Read[] = [];
    for (const origin of origins) reads.push({ origin, batch: await origin.reader.read(signal) });
    const records = reads.flatMap((r) => r.batch.records);
    const selected = records.filter((r) => matches(r, filter));
    const places = origins.map((o) => o.reader.location).join(', ');
    switch (sub) {
      case 'list':
        for (const r of selected.slice(0, limit)) io.stdout(formatLine(r) + '\n');
        io.stdout(listSummary(selected.length, records.length, limit, places));
        return 0;
      case 'show':
        selected.slice(0, limit).forEach((r, i) => {
          io.stdout((i > 0 ? '\n' : '') + formatRecord(r, preview));
        });
        io.stdout(listSummary(selected.length, records.length, limit, places));
        return 0;
      case 'drop':
        return await drop(reads, selected.length, filter, values.yes, config, registry, io, signal);
      case 'replay':
        return await replay(
          reads,
          records,
          filter,
          config,
          registry,
          transport,
          values,
          io,
          signal,
        );
    }
  } finally {
    await closeAll();
  }
}

function listSummary(selected: number, total: number, limit: number | undefined, places: string) {
  const shown = limit !== undefined && selected > limit ? ` (${limit} shown)` : '';
  return `${selected} of ${total} dead letter(s) match${shown}; read from ${places}.\n`;
}

async function drop(
  reads: readonly Read[],
  count: number,
  filter: DeadLetterFilter,
  yes: boolean,
  config: ResolvedConfig,
  registry: Parameters<typeof deadLetterQueueOf>[1],
  io: CliIo,
  signal: AbortSignal,
): Promise<number> {
  if (!yes) {
    io.stderr(
      `sluice dlq drop: ${count} dead letter(s) match${isEmptyFilter(filter) ? ' (no filter: all of them)' : ''}; nothing was deleted. Add --yes to delete them.\n`,
    );
    return 1;
  }
  let dropped = 0;
  for (const { origin, batch } of reads) {
    if (origin.file !== undefined) {
      // In place: only the lines read are filtered; what was appended since stays.
      const length = batch.files?.find((f) => f.file === origin.file)?.length;
      if (length === undefined || length === 0) continue;
      const done = await rewriteDeadLetterFile(origin.file, (r) => !matches(r, filter), length);
      dropped += done.removed;
      continue;
    }
    // A queue transport: write the records to keep back, then commit past everything read.
    const keep = batch.records.filter((r) => !matches(r, filter));
    if (keep.length === batch.records.length) continue;
    const queue = deadLetterQueueOf(config, registry);
    try {
      for (const r of keep) await queue.write(r, signal);
    } finally {
      await queue.close(AbortSignal.timeout(10_000));
    }
    await batch.commit(signal);
    dropped += batch.records.length - keep.length;
  }
  io.stdout(
    `Dropped ${dropped} dead letter(s) from ${reads.map((r) => r.origin.reader.location).join(', ')}.\n`,
  );
  return 0;
}

async function replay(
  reads: readonly Read[],
  records: readonly DeadLetterRecord[],
  filter: DeadLetterFilter,
  config: ResolvedConfig,
  registry: Parameters<typeof deadLetterQueueOf>[1],
  transport: DeadLetterTransport,
  values: { config: string },
  io: CliIo,
  signal: AbortSignal,
): Promise<number> {
  const logger = commandLogger(io);
  const deadLetter = deadLetterQueueOf(config, registry);
  try {
    let summary;
    try {
      summary = await replayDeadLetters({
        config,
        registry,
        logger,
        records,
        select: (r) => matches(r, filter),
        deadLetter,
        signal,
      });
    } catch (error) {
      // Nothing is lost: nothing read was removed from its queue.
      io.stderr(
        `sluice dlq replay: the replay stopped: ${(error as Error).message}\n` +
          `Nothing was removed from the dead-letter queue: the next replay reads the same records again (records already applied are applied again).\n`,
      );
      return 1;
    }
    // Everything read was applied or written back: remove it from where it was read.
    for (const { batch } of reads) await batch.commit(signal);
    const places = reads.map((r) => r.origin.reader.location).join(', ');
    const back = summary.deadLetteredAgainIn.map((d) => transport.locationOf(d)).join(', ');
    io.stdout(
      `Replayed ${summary.replayed} dead letter(s) from ${places}` +
        (summary.skipped > 0 ? `, wrote ${summary.skipped} not matching back unchanged` : '') +
        `; ${summary.deadLetteredAgain} failed again` +
        (summary.deadLetteredAgain > 0 ? ` and went back to ${back}` : '') +
        '.\n',
    );
    if (summary.replayed === 0 && records.length === 0)
      io.stderr(`The dead-letter queue is empty (${values.config}).\n`);
    return summary.deadLetteredAgain > 0 ? 1 : 0;
  } finally {
    await deadLetter.close(AbortSignal.timeout(10_000));
  }
}
