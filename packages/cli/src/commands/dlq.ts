import { readdir, rename } from 'node:fs/promises';
import { join } from 'node:path';
import {
  createLogger,
  deadLetterQueueOf,
  deadLetterTopic,
  kafkaBrokersOf,
  formatReport,
  readDeadLetterFile,
  readDeadLetterTopic,
  replayDeadLetters,
  type DeadLetterRecord,
} from '@sluice/core';
import type { CliIo } from '../io.js';
import { UsageError } from '../usageError.js';
import { parseCommandArgs } from './parse.js';
import { checkConfiguration } from './validate.js';

export const dlqHelp = `Usage: sluice dlq replay [--config DIR] [--from FILE | --topic TOPIC] [--sink KEY]

Feeds dead-lettered events back through the normal decode → route → apply path. A dead letter
of one sink instance is applied to that instance only (and only its row); records that fail
again go back to the dead-letter queue.

Options:
  -c, --config DIR   configuration directory holding application.yml (default: config)
      --from FILE    a JSONL dead-letter file (moved aside to FILE.replayed-<time> first)
      --topic TOPIC  a Kafka dead-letter topic (read from the beginning to its current end)
      --sink KEY     replay only the dead letters of this sink instance; the others are
                     written back to the dead-letter queue unchanged
  -h, --help         show this help

Without --from/--topic, the configured dead-letter queue is read: every *.jsonl file of
sluice.deadLetter.dir, or <instance><topicSuffix> for each canalAdapters instance. A topic is
read from where the last successful replay stopped (consumer group sluice-dlq-replay.<topic>).
Exit code 0 when every dead letter applied, 1 when some failed again (they are back in the
dead-letter queue) or the replay could not run.
`;

/** `sluice dlq replay …`. */
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
      sink: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    true,
  );
  if (values.help) {
    io.stdout(dlqHelp);
    return 0;
  }
  if (positionals[0] !== 'replay' || positionals.length > 1)
    throw new UsageError('sluice dlq: expected "sluice dlq replay [options]"');
  if (values.from !== undefined && values.topic !== undefined)
    throw new UsageError('sluice dlq replay: give --from or --topic, not both');

  const { result, registry } = await checkConfiguration(values.config, { requirePlugins: true });
  if (result.problems.length > 0) io.stderr(formatReport(result.problems));
  const config = result.config;
  if (!result.ok || config === undefined) {
    io.stderr(`sluice dlq replay: the configuration in "${values.config}" has errors.\n`);
    return 1;
  }
  const logger = createLogger({ write: (line) => io.stderr(line + '\n') });

  const records: DeadLetterRecord[] = [];
  const asideFiles: string[] = [];
  const topicReads: { commit(): Promise<void> }[] = [];
  const readTopic = async (topic: string) => {
    const read = await readDeadLetterTopic(kafkaBrokersOf(config), topic, signal);
    records.push(...read.records);
    topicReads.push(read);
  };
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const readFileAside = async (file: string) => {
    // Move the file aside first: records that fail again are appended to a fresh file.
    const aside = `${file}.replayed-${stamp}`;
    await rename(file, aside);
    asideFiles.push(aside);
    records.push(...(await readDeadLetterFile(aside)).records);
    io.stderr(`Read ${file} (kept as ${aside}).\n`);
  };
  if (values.from !== undefined) {
    await readFileAside(values.from);
  } else if (values.topic !== undefined) {
    await readTopic(values.topic);
  } else if (config.sluice.deadLetter.type === 'kafka') {
    for (const adapter of config.canal.canalAdapters) {
      await readTopic(deadLetterTopic(adapter.instance, config.sluice.deadLetter.topicSuffix));
    }
  } else {
    const dir = config.sluice.deadLetter.dir;
    const files = (await readdir(dir).catch(() => [] as string[]))
      .filter((f) => f.endsWith('.jsonl'))
      .sort();
    for (const f of files) await readFileAside(join(dir, f));
  }

  const deadLetter = deadLetterQueueOf(config);
  try {
    let summary;
    try {
      summary = await replayDeadLetters({
        config,
        registry,
        logger,
        records,
        sinkKey: values.sink,
        deadLetter,
        signal,
      });
    } catch (error) {
      // Nothing is lost: the files read stay where they were moved, and a topic's replay
      // progress is not committed.
      const retry = asideFiles.map(
        (f) => `sluice dlq replay --config ${values.config} --from ${f}`,
      );
      io.stderr(
        `sluice dlq replay: the replay stopped: ${(error as Error).message}\n` +
          (retry.length > 0
            ? `The dead letters read are kept; to retry:\n  ${retry.join('\n  ')}\n`
            : '') +
          (topicReads.length > 0
            ? 'The topic progress was not committed: the next replay reads the same records again.\n'
            : ''),
      );
      return 1;
    }
    for (const read of topicReads) await read.commit();
    io.stdout(
      `Replayed ${summary.replayed} dead letter(s)` +
        (summary.skipped > 0 ? `, wrote ${summary.skipped} of other sinks back unchanged` : '') +
        `; ${summary.deadLetteredAgain} failed again and went back to ${deadLetter.location}.\n`,
    );
    return summary.deadLetteredAgain > 0 ? 1 : 0;
  } finally {
    await deadLetter.close(AbortSignal.timeout(10_000));
  }
}
