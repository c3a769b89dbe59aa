import type { DependencyContainer } from 'tsyringe';
import {
  ErrorCodes,
  PLUGIN_API_VERSION,
  SluiceError,
  pluginKindOf,
  type PluginKind,
  type ServiceDeps,
  type SinkContext,
  type SinkDefinition,
  type SinkInstance,
  type SourceContext,
  type SourceDefinition,
  type SourceInstance,
} from '@sluice/plugin-api';
import {
  CORE_SERVICE_IDS,
  createPluginContainer,
  registerCoreServices,
  resolveDeps,
  type CoreServiceInstances,
} from './plugins/container.js';

/** Any sink definition, whatever its property, mapping and dependency types. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnySinkDefinition = SinkDefinition<any, any, any>;
/** Any source definition. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnySourceDefinition = SourceDefinition<any>;

/**
 * Where a plugin came from, for error messages: `built-in @sluice/sink-logger`, or
 * `sluice.plugins "../dist/index.js" (/abs/path/dist/index.js)`.
 */
export type PluginOrigin = string;

/** Options of {@link PluginRegistry}. */
export interface PluginRegistryOptions {
  /**
   * The container to register definitions in. Default: a fresh child of tsyringe's root
   * container (never the root itself).
   */
  readonly container?: DependencyContainer;
  /** Service ids plugins may declare in `deps`. Default: the ids of `coreServices`. */
  readonly serviceIds?: readonly string[];
}

/** What {@link PluginScope.createSink} needs besides the resolved deps. */
export type SinkCreateContext = Omit<SinkContext<unknown, ServiceDeps>, 'deps'>;
/** What {@link PluginScope.createSource} needs besides the resolved deps. */
export type SourceCreateContext = Omit<SourceContext<ServiceDeps>, 'deps'>;

/**
 * The registry's plugins with one run's core services: builds instances with their declared
 * services resolved from a child container.
 */
export interface PluginScope {
  /**
   * Creates an instance of the sink named `name` (a name or alias). Throws
   * `SLUICE_ERR_PLUGIN_NOT_FOUND` for an unknown name, `SLUICE_ERR_PLUGIN_DEPENDENCY_MISSING` for a
   * service that cannot be resolved, and whatever the plugin's `create` throws.
   */
  createSink(name: string, context: SinkCreateContext, usedBy?: string): SinkInstance;
  /** Creates an instance of the source named `name`; throws like {@link PluginScope.createSink}. */
  createSource(name: string, context: SourceCreateContext, usedBy?: string): SourceInstance;
}

interface Entry<T> {
  readonly definition: T;
  readonly origin: PluginOrigin;
}

const tokenOf = (kind: PluginKind, name: string): string => `sluice.plugin.${kind}:${name}`;

/**
 * The plugins one runtime knows: built-ins plus those listed under `sluice.plugins`. Backed by a
 * tsyringe child container: each definition is registered under `sluice.plugin.<kind>:<name>`
 * for its name and every alias, and core services under their refs' ids. Plugins are recognised
 * by brand and `apiVersion`, never by class identity. One registry per runtime; never global.
 */
export class PluginRegistry {
  readonly #container: DependencyContainer;
  readonly #serviceIds: ReadonlySet<string>;
  readonly #origins = new Map<string, Entry<AnySinkDefinition | AnySourceDefinition>>();

  constructor(options: PluginRegistryOptions = {}) {
    this.#container = options.container ?? createPluginContainer();
    this.#serviceIds = new Set(options.serviceIds ?? CORE_SERVICE_IDS);
  }

  /**
   * Registers a branded sink or source definition under its name and aliases.
   *
   * @throws SluiceError `SLUICE_ERR_PLUGIN_INVALID` when `definition` is not a branded definition
   *   (or is malformed: no name, no `create`, deps that are not service refs);
   *   `SLUICE_ERR_PLUGIN_VERSION_MISMATCH` when it was built for another plugin API version;
   *   `SLUICE_ERR_PLUGIN_DEPENDENCY_MISSING` when it declares a service no runtime provides;
   *   `SLUICE_ERR_PLUGIN_DUPLICATE` when a name or alias is taken (naming both origins).
   *   Nothing is registered when it throws.
   */
  register(definition: unknown, origin: PluginOrigin): void {
    const kind = pluginKindOf(definition);
    if (!kind) {
      throw new SluiceError(
        ErrorCodes.pluginInvalid,
        `The plugin from ${quote(origin)} is not a Sluice plugin: export the result of defineSink() or defineSource().`,
      );
    }
    const def = definition as AnySinkDefinition | AnySourceDefinition;
    const label =
      typeof def.name === 'string' && def.name !== ''
        ? `${kind} plugin "${def.name}"`
        : `${kind} plugin`;
    if (def.apiVersion !== PLUGIN_API_VERSION) {
      throw new SluiceError(
        ErrorCodes.pluginVersion,
        `The ${label} from ${quote(origin)} was built for plugin API ${String(def.apiVersion)}, but this Sluice implements plugin API ${PLUGIN_API_VERSION}: rebuild it against a compatible @sluice/plugin-api.`,
      );
    }
    const names = [def.name, ...(Array.isArray(def.aliases) ? (def.aliases as unknown[]) : [])];
    if (
      names.some((n) => typeof n !== 'string' || n.trim() === '') ||
      (def.aliases !== undefined && !Array.isArray(def.aliases))
    ) {
      throw new SluiceError(
        ErrorCodes.pluginInvalid,
        `The ${label} from ${quote(origin)} needs a non-empty name, and aliases must be non-empty strings.`,
      );
    }
    if (typeof def.create !== 'function') {
      throw new SluiceError(
        ErrorCodes.pluginInvalid,
        `The ${label} from ${quote(origin)} has no create() function.`,
      );
    }
    for (const [key, ref] of Object.entries((def.deps ?? {}) as Record<string, unknown>)) {
      const id = (ref as { id?: unknown } | null)?.id;
      if (typeof id !== 'string') {
        throw new SluiceError(
          ErrorCodes.pluginInvalid,
          `The ${label} from ${quote(origin)} declares deps.${key}, which is not a service ref: use coreServices.<name>.`,
        );
      }
      if (!this.#serviceIds.has(id)) {
        throw new SluiceError(
          ErrorCodes.pluginDependency,
          `The ${label} from ${quote(origin)} depends on the service "${id}" (deps.${key}), which Sluice does not provide; known services: ${[...this.#serviceIds].join(', ')}.`,
        );
      }
    }
    const unique = [...new Set(names as string[])];
    for (const name of unique) {
      const existing = this.#origins.get(tokenOf(kind, name));
      if (existing) {
        const what = name === def.name ? 'name' : 'alias';
        throw new SluiceError(
          ErrorCodes.pluginDuplicate,
          `The ${kind} ${what} "${name}" is registered twice: by the ${kind} plugin "${existing.definition.name}" from ${quote(existing.origin)} and by the ${kind} plugin "${def.name}" from ${quote(origin)}. Remove one of them from sluice.plugins.`,
        );
      }
    }
    for (const name of unique) {
      this.#origins.set(tokenOf(kind, name), { definition: def, origin });
      this.#container.register(tokenOf(kind, name), { useValue: def });
    }
  }

  /**
   * The sink definition registered under `name` (a name or alias).
   *
   * @param usedBy where the name was configured, for the error message (e.g. `outerAdapters "k1"`).
   * @throws SluiceError `SLUICE_ERR_PLUGIN_NOT_FOUND` naming the requested name and the known ones.
   */
  sink(name: string, usedBy?: string): AnySinkDefinition {
    return this.#lookup('sink', name, usedBy) as AnySinkDefinition;
  }

  /** The source definition registered under `name`; throws like {@link PluginRegistry.sink}. */
  source(name: string, usedBy?: string): AnySourceDefinition {
    return this.#lookup('source', name, usedBy) as AnySourceDefinition;
  }

  /** Where the plugin registered under `name` came from, or `undefined`. */
  origin(kind: PluginKind, name: string): PluginOrigin | undefined {
    return this.#origins.get(tokenOf(kind, name))?.origin;
  }

  /** Every sink name and alias, sorted. */
  sinkNames(): string[] {
    return this.#names('sink');
  }

  /** Every source name and alias, sorted. */
  sourceNames(): string[] {
    return this.#names('source');
  }

  /**
   * A scope for one run: a child container holding `services` under the refs' ids, used to
   * resolve each plugin's declared deps when creating instances.
   */
  scope(services: CoreServiceInstances): PluginScope {
    const container = this.#container.createChildContainer();
    registerCoreServices(container, services);
    const build = <C extends object>(
      kind: PluginKind,
      name: string,
      context: C,
      usedBy: string | undefined,
    ): unknown => {
      const def = this.#lookup(kind, name, usedBy);
      const origin = this.origin(kind, name) ?? 'unknown';
      const deps = resolveDeps(container, { kind, name: def.name, origin }, def.deps ?? {});
      return (def.create as (ctx: unknown) => unknown)({ ...context, deps });
    };
    return {
      createSink: (name, context, usedBy) => build('sink', name, context, usedBy) as SinkInstance,
      createSource: (name, context, usedBy) =>
        build('source', name, context, usedBy) as SourceInstance,
    };
  }

  #lookup(
    kind: PluginKind,
    name: string,
    usedBy: string | undefined,
  ): AnySinkDefinition | AnySourceDefinition {
    const token = tokenOf(kind, name);
    if (!this.#container.isRegistered(token)) {
      const known = this.#names(kind);
      throw new SluiceError(
        ErrorCodes.pluginNotFound,
        `No ${kind} plugin is named "${name}"${usedBy ? ` (used by ${usedBy})` : ''}; known ${kind}s: ${known.join(', ') || 'none'}. Add the plugin's package or path to sluice.plugins in application.yml.`,
      );
    }
    return this.#container.resolve<AnySinkDefinition | AnySourceDefinition>(token);
  }

  #names(kind: PluginKind): string[] {
    const prefix = tokenOf(kind, '');
    return [...this.#origins.keys()]
      .filter((t) => t.startsWith(prefix))
      .map((t) => t.slice(prefix.length))
      .sort();
  }
}

function quote(origin: string): string {
  return origin.startsWith('built-in') || origin.startsWith('sluice.plugins')
    ? origin
    : `"${origin}"`;
}
