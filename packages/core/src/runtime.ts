import { isAbsolute, resolve } from 'node:path';
import { coreServices, type DataSources, type Logger, type ServiceDeps } from '@sluice/plugin-api';
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

function resolveDeps(deps: ServiceDeps, services: Map<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, ref] of Object.entries(deps)) {
    if (!services.has(ref.id)) throw new Error(`The core service "${ref.id}" is not available.`);
    out[name] = services.get(ref.id);
  }
  return out;
}

/** Runs every `canalAdapters[].groups[]` of the configuration until `once` drains or `signal` aborts. */
export async function runSluice(options: RunOptions): Promise<void> {
  const { config, registry, logger, signal } = options;
  const metrics = options.metrics ?? new MetricsRegistry();
  const services = new Map<string, unknown>([
    [coreServices.logger.id, logger],
    [coreServices.metrics.id, metrics],
    [coreServices.clock.id, { now: () => Date.now() }],
    [coreServices.dataSources.id, noDataSources],
  ]);
  const dlqDir = isAbsolute(config.sluice.deadLetter.dir) ? config.sluice.deadLetter.dir : resolve(process.cwd(), config.sluice.deadLetter.dir);
  const deadLetter = new FileDeadLetterQueue(dlqDir);
  const sourceDef = registry.source(config.canal.mode);

  const runs = config.canal.canalAdapters.flatMap((adapter) =>
    adapter.groups.map(async (group) => {
      const sinks: PipelineSink[] = group.outerAdapters.map((outer) => {
        const def = registry.sink(outer.name);
        const instance = def.create({
          key: outer.key,
          name: outer.name,
          hosts: outer.hosts,
          properties: outer.properties,
          deps: resolveDeps(def.deps, services),
        });
        return { key: outer.key, name: outer.name, instance };
      });
      const source = sourceDef.create({
        instance: adapter.instance,
        groupId: group.groupId,
        properties: config.canal.consumerProperties,
        configDir: config.dir,
        deps: resolveDeps(sourceDef.deps, services),
      });
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
