import 'reflect-metadata';
import { container as rootContainer, type DependencyContainer } from 'tsyringe';
import {
  ErrorCodes,
  SluiceError,
  coreServices,
  type Clock,
  type DataSources,
  type Logger,
  type Metrics,
  type PluginKind,
  type ServiceDeps,
} from '@sluice/plugin-api';

/**
 * The tsyringe side of plugin wiring. tsyringe stays inside core: plugins only ever see typed
 * `ServiceRef`s, and services are registered and resolved with explicit string tokens (the refs'
 * ids), never through decorator metadata (esbuild/oxc/vitest emit none).
 */

/** The ids of the services the core provides, e.g. `core.logger`. */
export const CORE_SERVICE_IDS: readonly string[] = Object.freeze(
  Object.values(coreServices).map((ref) => ref.id),
);

/** The instances behind {@link coreServices}, for one run. */
export interface CoreServiceInstances {
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly clock: Clock;
  readonly dataSources: DataSources;
}

/**
 * A fresh container for one runtime: a child of tsyringe's root container, so nothing is ever
 * registered globally and two runtimes in one process never see each other's plugins or services.
 */
export function createPluginContainer(
  parent: DependencyContainer = rootContainer,
): DependencyContainer {
  return parent.createChildContainer();
}

/** Registers the core services in `container` under their refs' ids. */
export function registerCoreServices(
  container: DependencyContainer,
  services: CoreServiceInstances,
): void {
  container.register(coreServices.logger.id, { useValue: services.logger });
  container.register(coreServices.metrics.id, { useValue: services.metrics });
  container.register(coreServices.clock.id, { useValue: services.clock });
  container.register(coreServices.dataSources.id, { useValue: services.dataSources });
}

/** Who is asking for services, for error messages. */
export interface DependentPlugin {
  readonly kind: PluginKind;
  readonly name: string;
  readonly origin: string;
}

/** Property reads that tooling performs on any object; never treated as a missing service. */
const INTROSPECTION = new Set([
  'then',
  'toJSON',
  'constructor',
  'asymmetricMatch',
  '$$typeof',
  'nodeType',
  'inspect',
]);

/**
 * Resolves a plugin's declared `deps` from `container`, by each ref's id. The result is frozen,
 * and reading a key that was not declared throws, so a plain-JavaScript plugin that forgot to
 * declare a service fails with a message naming the plugin and the service instead of
 * `undefined is not a function`.
 *
 * @throws SluiceError `SLUICE_ERR_PLUGIN_DEPENDENCY_MISSING` when a declared service is not
 *   registered, or an undeclared one is read.
 */
export function resolveDeps(
  container: DependencyContainer,
  plugin: DependentPlugin,
  deps: ServiceDeps,
): Readonly<Record<string, unknown>> {
  const resolved: Record<string, unknown> = {};
  for (const [key, ref] of Object.entries(deps)) {
    if (!container.isRegistered(ref.id, true)) {
      throw missingService(
        plugin,
        ref.id,
        `declares deps.${key}, but this runtime provides no such service; available: ${registeredServices(container).join(', ')}`,
      );
    }
    resolved[key] = container.resolve(ref.id);
  }
  const frozen = Object.freeze(resolved);
  return new Proxy(frozen, {
    get(target, property, receiver) {
      if (typeof property === 'symbol' || property in target || INTROSPECTION.has(property)) {
        return Reflect.get(target, property, receiver) as unknown;
      }
      throw missingService(
        plugin,
        property,
        `reads deps.${property} without declaring it; add it to the definition's deps (e.g. deps: { ${property}: coreServices.${property} })`,
      );
    },
  });
}

function registeredServices(container: DependencyContainer): string[] {
  return CORE_SERVICE_IDS.filter((id) => container.isRegistered(id, true));
}

function missingService(plugin: DependentPlugin, service: string, detail: string): SluiceError {
  return new SluiceError(
    ErrorCodes.pluginDependency,
    `The ${plugin.kind} plugin "${plugin.name}" (from ${plugin.origin}) ${detail}. Service: "${service}".`,
  );
}
