import type { SinkInstance, SourceInstance } from '@sluice/plugin-api';
import { bindFlatProperties, formatPath } from '../../binding/bind.js';
import { createLogger } from '../../../logger.js';
import { MetricsRegistry } from '../../../metrics.js';
import { sourcePropertiesOf } from '../canalSchemas.js';
import { CONF_PATH, originIn, stringRecord, type ValidationState } from './state.js';

/** How long closing the instances built for the check may take, ms (they never connected). */
const CLOSE_TIMEOUT_MS = 2000;

/**
 * Pass 9 (with a plugin registry): creates every configured source and sink instance once
 * through its plugin, as `sluice start` does, and reports what a plugin's `create` refuses
 * (`kafka.bootstrap.servers` missing, the es sink not applying yet, …) at the entry that
 * configured it. Entries whose properties already have errors are not tried. `create` does no
 * I/O (plugin API contract); the instances are closed right away.
 */
export async function checkInstances(state: ValidationState): Promise<void> {
  const scope = state.options.plugins?.scope;
  if (scope === undefined) return;
  const plugins = scope.call(state.options.plugins, {
    logger: createLogger({ write: () => {} }),
    metrics: new MetricsRegistry(),
    clock: { now: () => Date.now() },
    dataSources: {
      get: (key) => state.srcDataSources[key],
      keys: () => Object.keys(state.srcDataSources),
    },
  });
  const created: (SinkInstance | SourceInstance)[] = [];
  const consumerProperties = sourcePropertiesOf(
    state.mode,
    state.conf,
    stringRecord(state.conf['consumerProperties']),
  );
  for (const adapter of state.canalAdapters) {
    for (const group of adapter.groups) {
      if (state.modeUsable && !state.sourcePropertiesInvalid) {
        try {
          created.push(
            plugins.createSource(state.mode, {
              instance: adapter.instance,
              groupId: group.groupId,
              properties: consumerProperties,
              configDir: state.dir,
            }),
          );
        } catch (error) {
          state.problems.add({
            severity: 'error',
            code: 'plugin-rejected',
            ...originIn(state, [...CONF_PATH, 'consumerProperties']),
            path: formatPath([...CONF_PATH, 'consumerProperties']),
            message: `the "${state.mode}" source refuses instance "${adapter.instance}", group "${group.groupId}": ${(error as Error).message}`,
          });
        }
      }
      for (const outer of group.outerAdapters) {
        const id = `${outer.name}\u0000${outer.key}`;
        const entry = state.catalog.get(outer.name);
        if (!entry?.registered || state.adaptersWithErrors.has(id)) continue;
        const where = state.adapterOrigins.get(id);
        try {
          created.push(
            plugins.createSink(outer.name, {
              key: outer.key,
              name: outer.name,
              hosts: outer.hosts,
              properties: entry.propertiesSchema
                ? bindFlatProperties(entry.propertiesSchema, outer.properties, state.dir)
                : outer.properties,
              configDir: state.dir,
            }),
          );
        } catch (error) {
          state.problems.add({
            severity: 'error',
            code: 'plugin-rejected',
            ...(where?.origin ?? { file: state.file, line: 0 }),
            path: where ? formatPath(where.path) : '',
            message: `the "${outer.name}" sink refuses this entry: ${(error as Error).message}`,
          });
        }
      }
    }
  }
  const signal = AbortSignal.timeout(CLOSE_TIMEOUT_MS);
  const gaveUp = new Promise<void>((resolve) =>
    signal.addEventListener('abort', () => resolve(), { once: true }),
  );
  // A close that ignores the deadline must not hold validation up.
  await Promise.race([
    Promise.allSettled(created.map((instance) => instance.close(signal))),
    gaveUp,
  ]);
}
