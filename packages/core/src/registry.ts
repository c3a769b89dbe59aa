import {
  ErrorCodes,
  PLUGIN_API_VERSION,
  SINK_BRAND,
  SOURCE_BRAND,
  SluiceError,
  type SinkDefinition,
  type SourceDefinition,
} from '@sluice/plugin-api';

/** Any sink definition, whatever its property, mapping and dependency types. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnySinkDefinition = SinkDefinition<any, any, any>;
/** Any source definition. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnySourceDefinition = SourceDefinition<any>;

/** Where a plugin came from, for error messages ("built-in", a package name or a path). */
export type PluginOrigin = string;

interface Entry<T> {
  readonly definition: T;
  readonly origin: PluginOrigin;
}

/**
 * The plugins one runtime knows: built-ins plus those listed under `sluice.plugins`. Plugins are
 * recognised by brand and `apiVersion`, not by class identity. One registry per runtime.
 */
export class PluginRegistry {
  readonly #sinks = new Map<string, Entry<AnySinkDefinition>>();
  readonly #sources = new Map<string, Entry<AnySourceDefinition>>();

  /** Registers a sink or source definition; throws on a duplicate name or an incompatible version. */
  register(definition: unknown, origin: PluginOrigin): void {
    const brand = (definition as { $$type?: unknown } | null)?.$$type;
    if (brand !== SINK_BRAND && brand !== SOURCE_BRAND) {
      throw new SluiceError(
        ErrorCodes.pluginInvalid,
        `The plugin from "${origin}" is not a Sluice plugin: export the result of defineSink() or defineSource().`,
      );
    }
    const def = definition as AnySinkDefinition | AnySourceDefinition;
    if (def.apiVersion !== PLUGIN_API_VERSION) {
      throw new SluiceError(
        ErrorCodes.pluginVersion,
        `The plugin "${def.name}" from "${origin}" was built for plugin API ${String(def.apiVersion)}, but this Sluice implements ${PLUGIN_API_VERSION}.`,
      );
    }
    const table: Map<string, Entry<AnySinkDefinition | AnySourceDefinition>> =
      brand === SINK_BRAND ? this.#sinks : this.#sources;
    for (const name of [def.name, ...(def.aliases ?? [])]) {
      const existing = table.get(name);
      if (existing) {
        throw new SluiceError(
          ErrorCodes.pluginDuplicate,
          `The ${brand === SINK_BRAND ? 'sink' : 'source'} name "${name}" is registered twice: by "${existing.origin}" and by "${origin}".`,
        );
      }
      table.set(name, { definition: def, origin });
    }
  }

  sink(name: string): AnySinkDefinition {
    const entry = this.#sinks.get(name);
    if (!entry) throw this.#notFound('sink', name, [...this.#sinks.keys()]);
    return entry.definition;
  }

  source(name: string): AnySourceDefinition {
    const entry = this.#sources.get(name);
    if (!entry) throw this.#notFound('source', name, [...this.#sources.keys()]);
    return entry.definition;
  }

  sinkNames(): string[] {
    return [...this.#sinks.keys()].sort();
  }

  sourceNames(): string[] {
    return [...this.#sources.keys()].sort();
  }

  #notFound(kind: string, name: string, known: string[]): SluiceError {
    return new SluiceError(
      ErrorCodes.pluginNotFound,
      `No ${kind} plugin is named "${name}"; known: ${known.sort().join(', ') || 'none'}.`,
    );
  }
}
