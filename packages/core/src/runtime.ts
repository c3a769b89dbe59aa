import { resolvePipelineSettings } from './pipeline/settings.js';
import type { Logger } from '@sluice/plugin-api';
import { dataSourcesOf } from './config/application/dataSources.js';
import type { ResolvedConfig } from './config/application/types.js';
import { MappingIndex } from './mappings/mappingIndex.js';
import { MappingWatcher } from './mappings/mappingWatcher.js';
import { deadLetterQueueOf } from './deadLetter/transport.js';
import { MetricsRegistry } from './metrics.js';
import { createGroupSinks } from './groupSinks.js';
import { PipelineEngine } from './pipeline/engine.js';
import { SourceHandle } from './pipeline/connection.js';
import { maxAttempts } from './pipeline/retry.js';
import { pipelineSettingsOf } from './pipeline/fromConfig.js';
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

/** Runs every `canalAdapters[].groups[]` of the configuration until `once` drains or `signal` aborts. */
export async function runSluice(options: RunOptions): Promise<void> {
  const { config, registry, logger, signal } = options;
  const metrics =
    options.metrics ??
    new MetricsRegistry({ prefix: config.sluice.metrics.prefix, processMetrics: true });
  // Core services live in a child container of the registry's (resolved by the refs' ids).
  const plugins = registry.scope({
    logger,
    metrics,
    clock: { now: () => Date.now() },
    dataSources: dataSourcesOf(config),
  });
  const deadLetter = deadLetterQueueOf(config, registry);
  registry.source(config.canal.mode, 'canal.conf.mode'); // fail before anything starts

  // A fatal error in one group stops the others cleanly too.
  const stopAll = new AbortController();
  const onAbort = () => stopAll.abort(signal.reason);
  if (signal.aborted) onAbort();
  else signal.addEventListener('abort', onAbort, { once: true });
  const index = MappingIndex.of(config);
  const engines: { engine: PipelineEngine; sinks: readonly { name: string; key: string }[] }[] = [];
  const watcher = options.once
    ? undefined
    : new MappingWatcher(config, {
        onReload: (reload) => {
          const next = new MappingIndex(reload.mappings, config.canal.mappingKeyScheme);
          for (const change of reload.changes) {
            for (const { engine, sinks } of engines) {
              if (sinks.some((s) => s.key === change.sink.key && s.name === change.sink.name)) {
                engine.replaceMappings(change.sink.key, next.routes(change.sink));
              }
            }
          }
          for (const problem of reload.problems)
            logger.warn('Mapping file problem; the previous version stays in force.', { problem });
        },
        onError: (error) =>
          logger.warn('Reloading the mapping files failed.', { error: (error as Error).message }),
      });

  const runs = config.canal.canalAdapters.flatMap((adapter) =>
    adapter.groups.map(async (group) => {
      const sinks = createGroupSinks(config, registry, plugins, index, group.outerAdapters);
      const source = plugins.createSource(
        config.canal.mode,
        {
          instance: adapter.instance,
          groupId: group.groupId,
          properties: config.canal.consumerProperties,
          configDir: config.dir,
        },
        'canal.conf.mode',
      );
      const groupLogger = logger.child({ destination: adapter.instance, groupId: group.groupId });
      const settings = resolvePipelineSettings(pipelineSettingsOf(config));
      const sourceHandle = new SourceHandle(
        `"${config.canal.mode}" (destination "${adapter.instance}", group "${group.groupId}")`,
        source,
        {
          logger: groupLogger,
          backoff: { baseMs: settings.retryBaseMs, maxMs: settings.retryMaxMs },
          maxAttempts: maxAttempts(settings.retries),
        },
      );
      try {
        await sourceHandle.connect(stopAll.signal);
        const engine = new PipelineEngine({
          destination: adapter.instance,
          groupId: group.groupId,
          format: config.canal.flatMessage ? 'flat' : 'protobuf',
          source,
          sinks,
          deadLetter,
          logger: groupLogger,
          metrics,
          tcpMode: config.canal.mappingKeyScheme === 'tcp',
          settings: pipelineSettingsOf(config),
        });
        engines.push({ engine, sinks: group.outerAdapters });
        logger.info('Started.', {
          destination: adapter.instance,
          groupId: group.groupId,
          sinks: sinks.map((s) => s.key),
        });
        await engine.run({ once: options.once, signal: stopAll.signal });
      } catch (error) {
        stopAll.abort(error);
        throw error;
      } finally {
        // Bounded, parallel teardown: a sink or source stuck closing cannot hold the others up.
        const deadline = AbortSignal.timeout(settings.shutdownTimeoutMs);
        const gaveUp = new Promise<void>((resolve) =>
          deadline.addEventListener('abort', () => resolve(), { once: true }),
        );
        const closing = Promise.all([
          source
            .close(deadline)
            .catch((error: unknown) =>
              groupLogger.warn('Closing the source failed.', { error: (error as Error).message }),
            ),
          ...sinks.map((sink) =>
            sink.instance.close(deadline).catch((error: unknown) =>
              groupLogger.warn(`Closing sink "${sink.key}" failed.`, {
                error: (error as Error).message,
              }),
            ),
          ),
        ]);
        await Promise.race([closing, gaveUp]);
        if (deadline.aborted) groupLogger.warn('Closing took longer than the shutdown timeout.');
      }
    }),
  );
  watcher?.start();
  const results = await Promise.allSettled(runs);
  watcher?.close();
  signal.removeEventListener('abort', onAbort);
  await deadLetter.close(
    AbortSignal.timeout(resolvePipelineSettings(pipelineSettingsOf(config)).shutdownTimeoutMs),
  );
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed && !signal.aborted) throw failed.reason;
}
