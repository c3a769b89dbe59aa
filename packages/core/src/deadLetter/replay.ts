import type { Logger, SourceHandler, SourceInstance, SourceRunOptions } from '@sluice/plugin-api';
import { dataSourcesOf } from '../config/application/dataSources.js';
import type { ResolvedConfig } from '../config/application/types.js';
import { createGroupSinks } from '../groupSinks.js';
import { MappingIndex } from '../mappings/mappingIndex.js';
import { MetricsRegistry } from '../metrics.js';
import { PipelineEngine } from '../pipeline/engine.js';
import { payloadFormatOf, pipelineSettingsOf } from '../pipeline/fromConfig.js';
import { resolvePipelineSettings } from '../pipeline/settings.js';
import type { PluginRegistry } from '../registry.js';
import type { MessageOverride } from '../router/routeFilter.js';
import type { DeadLetterQueue } from './queue.js';
import { decodePayload, type DeadLetterRecord } from './record.js';
import { coreErrors } from '../errors.js';

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
        payload: decodePayload(r),
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
  /**
   * Replay only the records this accepts (besides `sinkKey`); the others are written back to the
   * dead-letter queue unchanged.
   */
  readonly select?: ((record: DeadLetterRecord) => boolean) | undefined;
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
  /** The destinations whose dead letters failed again. */
  readonly deadLetteredAgainIn: readonly string[];
}

type Identity = Pick<
  DeadLetterRecord,
  'destination' | 'groupId' | 'partition' | 'offset' | 'sink' | 'index' | 'mapping'
>;
/** The original message of a record. */
const messageOf = (r: Identity) => [r.destination, r.groupId, r.partition, r.offset].join('\u0000');
/** The item (message, sink, row, mapping) a record stands for. */
const identity = (r: Identity) =>
  [messageOf(r), r.sink ?? '', r.index ?? '', r.mapping ?? ''].join('\u0000');

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
  const chosen = (r: DeadLetterRecord) =>
    (sinkKey === undefined || r.sink === sinkKey) && (options.select?.(r) ?? true);
  const records = options.records.filter(chosen);
  const kept = options.records.filter((r) => !chosen(r));
  for (const r of kept) await options.deadLetter.write(r, signal);
  // A record dead-lettered again counts one more attempt than the one it came from.
  const previous = new Map<string, number>();
  const previousOfMessage = new Map<string, number>();
  for (const r of records) {
    previous.set(identity(r), Math.max(previous.get(identity(r)) ?? 0, r.attempts));
    const message = messageOf(r);
    previousOfMessage.set(message, Math.max(previousOfMessage.get(message) ?? 0, r.attempts));
  }
  let again = 0;
  const againIn = new Set<string>();
  const counting: DeadLetterQueue = {
    location: options.deadLetter.location,
    write: async (record, sig) => {
      const before =
        previous.get(identity(record)) ?? previousOfMessage.get(messageOf(record)) ?? 0;
      await options.deadLetter.write({ ...record, attempts: before + 1 }, sig);
      again += 1;
      againIn.add(record.destination);
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
      throw coreErrors.replay(
        `Dead letters of destination "${destination}" group "${groupId}" have no such group in the configuration.`,
      );
    const outers = group.outerAdapters.filter((o) => sinkKey === undefined || o.key === sinkKey);
    if (outers.length === 0)
      throw coreErrors.replay(
        `Group "${groupId}" of "${destination}" has no sink instance "${sinkKey}".`,
      );
    const sinks = createGroupSinks(
      config,
      registry,
      plugins,
      index,
      { destination, groupId },
      outers,
    );
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
      format: payloadFormatOf(config),
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
      throw coreErrors.replay(
        `The replay stopped before every dead letter was applied or dead-lettered again (${source.done} of ${list.length} of destination "${destination}" group "${groupId}").`,
      );
  }
  return {
    replayed: records.length,
    skipped: kept.length,
    deadLetteredAgain: again,
    deadLetteredAgainIn: [...againIn],
  };
}
