import { isAbsolute, resolve } from 'node:path';
import type { DataSources, Logger } from '@sluice/plugin-api';
import type { ResolvedConfig } from './config/types.js';
import { FileDeadLetterQueue } from './deadLetter.js';
import { MetricsRegistry } from './metrics.js';
import { SequentialPipeline, type PipelineSink } from './pipeline/sequentialPipeline.js';
import type { PluginRegistry } from './registry.js';

export interface RunOptions {
  readonly config: ResolvedConfig;
  readonly registry: PluginRegistry;
  readonly logger: Logger;
  /** Drain what is available, then return. */
  readonly once: boolean;
  /** Aborted on SIGINT/SIGTERM: stop intake, finish the batch in hand, close. */
  readonly signal: AbortSignal;
  readonly metrics?: MetricsRegistry;
}

const noDataSources: DataSources = { get: () => undefined, keys: () => [] };

/** Runs every `canalAdapters[].groups[]` of the configuration until `once` drains or `signal` aborts. */
export async function runSluice(options: RunOptions): Promise<void> {
  const { config, registry, logger, signal } = options;
  const metrics = options.metrics ?? new MetricsRegistry();
  // Core services live in a child container of the registry's (resolved by the refs' ids).
  const plugins = registry.scope({ logger, metrics, clock: { now: () => Date.now() }, dataSources: noDataSources });
  const dlqDir = isAbsolute(config.sluice.deadLetter.dir) ? config.sluice.deadLetter.dir : resolve(process.cwd(), config.sluice.deadLetter.dir);
  const deadLetter = new FileDeadLetterQueue(dlqDir);
  registry.source(config.canal.mode, 'canal.conf.mode'); // fail before anything starts

  const runs = config.canal.canalAdapters.flatMap((adapter) =>
    adapter.groups.map(async (group) => {
      const sinks: PipelineSink[] = group.outerAdapters.map((outer) => {
        const instance = plugins.createSink(
          outer.name,
          { key: outer.key, name: outer.name, hosts: outer.hosts, properties: outer.properties, configDir: config.dir },
          `outerAdapters "${outer.key}"`,
        );
        return { key: outer.key, name: outer.name, instance };
      });
      const source = plugins.createSource(
        config.canal.mode,
        { instance: adapter.instance, groupId: group.groupId, properties: config.canal.consumerProperties, configDir: config.dir },
        'canal.conf.mode',
      );
      try {
        for (const sink of sinks) await sink.instance.connect(signal);
        await source.connect(signal);
        const pipeline = new SequentialPipeline({
          destination: adapter.instance,
          groupId: group.groupId,
          format: config.canal.flatMessage ? 'flat' : 'protobuf',
          source,
          sinks,
          deadLetter,
          logger: logger.child({ destination: adapter.instance, groupId: group.groupId }),
          metrics,
          batchSize: config.canal.syncBatchSize,
          retries: config.canal.retries,
          signal,
        });
        logger.info('Started.', { destination: adapter.instance, groupId: group.groupId, sinks: sinks.map((s) => s.key) });
        await source.run(pipeline, { once: options.once, signal });
        for (const sink of sinks) await sink.instance.flush(signal);
      } finally {
        await source.close();
        for (const sink of sinks) await sink.instance.close();
      }
    }),
  );
  const results = await Promise.allSettled(runs);
  await deadLetter.close();
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed && !signal.aborted) throw failed.reason;
}
