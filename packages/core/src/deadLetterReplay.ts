import { resolvePipelineSettings } from './pipeline/settings.js';
import { Kafka, logLevel } from 'kafkajs';
import type { Logger, SourceHandler, SourceInstance, SourceRunOptions } from '@sluice/plugin-api';
import { dataSourcesOf } from './config/application/dataSources.js';
import { MappingIndex } from './mappings/mappingIndex.js';
import type { ResolvedConfig } from './config/application/types.js';
import type { DeadLetterQueue } from './deadLetter/queue.js';
import { parseDeadLetters, type DeadLetterRecord } from './deadLetter/record.js';
import { MetricsRegistry } from './metrics.js';
import { createGroupSinks } from './groupSinks.js';
import { PipelineEngine, type MessageOverride } from './pipeline/engine.js';
import { pipelineSettingsOf } from './pipeline/fromConfig.js';
import type { PluginRegistry } from './registry.js';

/** Dead letters read from a topic, and how to mark them replayed. */
export interface DeadLetterTopicRead {
  readonly records: DeadLetterRecord[];
  /**
   * Records the read records as replayed (commits the replay group's offsets), so the next
   * replay starts after them. Call only once they were replayed or written back.
   */
  commit(): Promise<void>;
}

/** The consumer group that keeps the replay progress of a dead-letter topic. */
export function deadLetterReplayGroup(topic: string): string {
  return `sluice-dlq-replay.${topic}`;
}

/**
 * Reads the records of a dead-letter topic that were not replayed yet: from the replay group's
 * committed offsets (the beginning, the first time) to the end the topic had when called.
 */
export async function readDeadLetterTopic(
  brokers: readonly string[],
  topic: string,
  signal: AbortSignal,
): Promise<DeadLetterTopicRead> {
  const kafka = new Kafka({
    clientId: 'sluice-dlq-replay',
    brokers: [...brokers],
    logLevel: logLevel.NOTHING,
  });
  const groupId = deadLetterReplayGroup(topic);
  const admin = kafka.admin();
  await admin.connect();
  const ends = new Map<number, bigint>();
  const done = new Map<number, string>();
  try {
    const committed = new Map<number, bigint>();
    for (const t of await admin.fetchOffsets({ groupId, topics: [topic] })) {
      for (const p of t.partitions)
        if (BigInt(p.offset) >= 0n) committed.set(p.partition, BigInt(p.offset));
    }
    for (const p of await admin.fetchTopicOffsets(topic)) {
      const from = committed.get(p.partition) ?? BigInt(p.low);
      if (BigInt(p.high) > from) ends.set(p.partition, BigInt(p.high));
      done.set(p.partition, p.high);
    }
  } finally {
    await admin.disconnect();
  }
  const commit = async (): Promise<void> => {
    const setter = kafka.admin();
    await setter.connect();
    try {
      await setter.setOffsets({
        groupId,
        topic,
        partitions: [...done].map(([partition, offset]) => ({ partition, offset })),
      });
    } finally {
      await setter.disconnect();
    }
  };
  if (ends.size === 0) return { records: [], commit };
  const consumer = kafka.consumer({ groupId });
  const out: DeadLetterRecord[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const onAbort = () => reject(signal.reason as Error);
      signal.addEventListener('abort', onAbort, { once: true });
      consumer
        .run({
          autoCommit: false,
          eachMessage: async ({ partition, message }) => {
            const end = ends.get(partition);
            if (end === undefined || BigInt(message.offset) >= end) return;
            const value = message.value?.toString('utf8') ?? '';
            out.push(...parseDeadLetters(value, `${topic}[${partition}]@${message.offset}`));
            if (BigInt(message.offset) + 1n >= end) ends.delete(partition);
            if (ends.size === 0) {
              signal.removeEventListener('abort', onAbort);
              resolve();
            }
          },
        })
        .catch(reject);
    });
  } finally {
    await consumer.disconnect();
  }
  return { records: out, commit };
}

/** Dead letters as a source: one partition, offsets = positions in the list. */
class ReplaySource implements SourceInstance {
  readonly #records: readonly DeadLetterRecord[];
  /** How many records (from the first) were applied or dead-lettered again, flushed. */
  done = 0;
  constructor(records: readonly DeadLetterRecord[]) {
    this.#records = records;
  }
  async connect(): Promise<void> {}
  async run(handler: SourceHandler, options: SourceRunOptions): Promise<void> {
    await handler.assigned?.(['replay']);
    for (let i = 0; i < this.#records.length; i += 100) {
      if (options.signal.aborted) return;
      const messages = this.#records.slice(i, i + 100).map((r, j) => ({
        offset: String(i + j),
        // Bytes either way: the decoder reads flat JSON from UTF-8 bytes, protobuf from raw bytes.
        payload: new Uint8Array(
          Buffer.from(r.payload, r.payloadEncoding === 'base64' ? 'base64' : 'utf8'),
        ),
      }));
      await handler.deliver({ partition: 'replay', messages });
    }
  }
  async commit(_partition: string, nextOffset: string): Promise<void> {
    this.done = Math.max(this.done, Number(nextOffset));
  }
  async close(): Promise<void> {}
  locate(_partition: string, offset: string): string {
    const r = this.#records[Number(offset)];
    return r
      ? `dead letter of partition ${r.partition} offset ${r.offset}`
      : `dead letter ${offset}`;
  }
}

/** Options of {@link replayDeadLetters}. */
export interface ReplayOptions {
  readonly config: ResolvedConfig;
  readonly registry: PluginRegistry;
  readonly logger: Logger;
  readonly records: readonly DeadLetterRecord[];
  /**
   * Replay only the dead letters of this sink instance. The others (other sinks', and undecodable
   * messages, which belong to no one sink) are written back to the dead-letter queue unchanged.
   */
  readonly sinkKey?: string | undefined;
  /** Where records that fail again go. */
  readonly deadLetter: DeadLetterQueue;
  readonly signal: AbortSignal;
}

/** What a replay did. */
export interface ReplaySummary {
  /** Dead letters fed back. */
  readonly replayed: number;
  /** Dead letters not replayed because of `sinkKey`, written back to the dead-letter queue. */
  readonly skipped: number;
  /** Records that failed again (written to the dead-letter queue again). */
  readonly deadLetteredAgain: number;
}

/**
 * `sluice dlq replay`: feeds dead letters back through the normal decode → route → apply path of
 * their group. A record that names a sink goes only to that sink instance, and only its row
 * (`index`) is applied, through the mapping that failed (`mapping`) when it names one; an
 * undecodable message goes to every sink of its group. With `sinkKey`, only that sink's dead
 * letters are replayed and every other record is written back to `deadLetter` unchanged. Records that fail again go to `deadLetter`, with their original
 * partition and offset.
 */
export async function replayDeadLetters(options: ReplayOptions): Promise<ReplaySummary> {
  const { config, registry, logger, sinkKey, signal } = options;
  const records = sinkKey ? options.records.filter((r) => r.sink === sinkKey) : options.records;
  const kept = sinkKey ? options.records.filter((r) => r.sink !== sinkKey) : [];
  for (const r of kept) await options.deadLetter.write(r, signal);
  let again = 0;
  const counting: DeadLetterQueue = {
    location: options.deadLetter.location,
    write: async (record, sig) => {
      await options.deadLetter.write(record, sig);
      again += 1;
    },
    close: (sig) => options.deadLetter.close(sig),
  };
  const metrics = new MetricsRegistry();
  const plugins = registry.scope({
    logger,
    metrics,
    clock: { now: () => Date.now() },
    dataSources: dataSourcesOf(config),
  });
  const index = MappingIndex.of(config);
  const groups = new Map<string, DeadLetterRecord[]>();
  for (const r of records) {
    const key = `${r.destination}\u0000${r.groupId}`;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  for (const [key, list] of groups) {
    const [destination, groupId] = key.split('\u0000') as [string, string];
    const group = config.canal.canalAdapters
      .find((a) => a.instance === destination)
      ?.groups.find((g) => g.groupId === groupId);
    if (!group)
      throw new Error(
        `Dead letters of destination "${destination}" group "${groupId}" have no such group in the configuration.`,
      );
    const outers = group.outerAdapters.filter((o) => sinkKey === undefined || o.key === sinkKey);
    if (outers.length === 0)
      throw new Error(`Group "${groupId}" of "${destination}" has no sink instance "${sinkKey}".`);
    const sinks = createGroupSinks(config, registry, plugins, index, outers);
    const override = (_partition: string, offset: string): MessageOverride | undefined => {
      const r = list[Number(offset)];
      if (!r) return undefined;
      return {
        partition: r.partition,
        offset: r.offset,
        ...(r.sink !== undefined ? { sinks: [r.sink] } : {}),
        ...(r.sink !== undefined && r.index !== undefined ? { index: r.index } : {}),
        // Only the mapping that failed: the others applied the row, and may have applied newer
        // images of it since.
        ...(r.sink !== undefined && r.mapping !== undefined ? { mapping: r.mapping } : {}),
      };
    };
    const source = new ReplaySource(list);
    const engine = new PipelineEngine({
      destination,
      groupId,
      format: config.canal.flatMessage ? 'flat' : 'protobuf',
      source,
      sinks,
      deadLetter: counting,
      logger: logger.child({ destination, groupId, replay: true }),
      metrics,
      tcpMode: config.canal.mappingKeyScheme === 'tcp',
      settings: { ...pipelineSettingsOf(config), commitIntervalMs: 0 },
      messageOverride: override,
    });
    try {
      await engine.run({ once: true, signal });
    } finally {
      const deadline = AbortSignal.timeout(
        resolvePipelineSettings(pipelineSettingsOf(config)).shutdownTimeoutMs,
      );
      await Promise.all(sinks.map((s) => s.instance.close(deadline).catch(() => undefined)));
    }
    // Stopped (signal, shutdown deadline, a sink that could not flush): the caller must not mark
    // the dead letters replayed, or the ones not applied yet would be lost.
    if (source.done < list.length)
      throw new Error(
        `The replay stopped before every dead letter was applied or dead-lettered again (${source.done} of ${list.length} of destination "${destination}" group "${groupId}").`,
      );
  }
  return { replayed: records.length, skipped: kept.length, deadLetteredAgain: again };
}
