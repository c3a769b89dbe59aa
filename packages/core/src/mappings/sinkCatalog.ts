import type { MappingSpec, ObjectSchema } from '@sluice/plugin-api';
import { KNOWN_ADAPTERS } from '../config/application/knownAdapters.js';
import type { CoreServiceInstances } from '../plugins/container.js';
import type { PluginScope } from '../registry.js';

/**
 * What the configuration loader needs to know about a sink plugin: the schemas of its
 * `properties` and its mapping format (a sink definition has both fields).
 */
export interface SinkSchemas {
  readonly propertiesSchema?: ObjectSchema | undefined;
  readonly mappings?: MappingSpec | undefined;
}

/**
 * Where the loader gets plugin schemas from: the plugin registry (its sink definitions carry
 * `propertiesSchema` and `mappings`) or anything shaped like it.
 */
export interface PluginSchemaSource {
  sinkNames(): readonly string[];
  sink(name: string): SinkSchemas;
  sourceNames?(): readonly string[];
  /** The source registered under `name`: the schema of the `consumerProperties` it reads. */
  source?(name: string): { readonly propertiesSchema?: ObjectSchema | undefined };
  /**
   * Builds plugin instances with core services (the registry does): when present, validation
   * creates every configured sink and source once, without I/O, so the checks each plugin's
   * `create` makes are reported like the others (what `sluice start` would meet).
   */
  scope?(services: CoreServiceInstances): PluginScope;
}

/** A {@link PluginSchemaSource} from a plain map of sink name → schemas. */
export function pluginSchemasFromMap(
  sinks: ReadonlyMap<string, SinkSchemas>,
  sources: readonly string[] = [],
): PluginSchemaSource {
  return {
    sinkNames: () => [...sinks.keys()],
    sink: (name) => {
      const found = sinks.get(name);
      if (!found) throw new Error(`No sink named "${name}".`);
      return found;
    },
    sourceNames: () => sources,
  };
}

/** What the loader knows about one adapter name. */
export interface SinkCatalogEntry {
  readonly name: string;
  /** A plugin with this name is registered. */
  readonly registered: boolean;
  /** canal-adapter (or Sluice's catalogue) knows the name. */
  readonly known: boolean;
  /** Sluice provides or plans a sink with this name (false for canal-only adapters such as hbase). */
  readonly sluice: boolean;
  readonly propertiesSchema: ObjectSchema | undefined;
  /** The sink's mapping format (directories, schema, tables, checks), when it has mapping files. */
  readonly mappings: MappingSpec | undefined;
}

/**
 * canal's known adapters overlaid with the registered plugins: a registered plugin's schemas and
 * mapping format win whole.
 */
export class SinkCatalog {
  readonly #entries = new Map<string, SinkCatalogEntry>();

  constructor(plugins?: PluginSchemaSource) {
    for (const known of KNOWN_ADAPTERS) {
      this.#entries.set(known.name, {
        name: known.name,
        registered: false,
        known: true,
        sluice: known.sluice,
        propertiesSchema: undefined,
        mappings: undefined,
      });
    }
    for (const name of plugins?.sinkNames() ?? []) {
      const def = plugins?.sink(name);
      if (!def) continue;
      const known = this.#entries.get(name);
      this.#entries.set(name, {
        name,
        registered: true,
        known: known !== undefined,
        sluice: true,
        propertiesSchema: def.propertiesSchema,
        mappings: def.mappings,
      });
    }
  }

  /** The entry for an adapter name (exact, like canal's SPI lookup), or undefined. */
  get(name: string): SinkCatalogEntry | undefined {
    return this.#entries.get(name);
  }

  /** Every adapter name known or registered. */
  names(): string[] {
    return [...this.#entries.keys()];
  }

  /** Names a configuration can use today: registered plugins and Sluice's planned sinks. */
  usableNames(): string[] {
    return [...this.#entries.values()].filter((e) => e.registered || e.sluice).map((e) => e.name);
  }

  /**
   * Mapping directory → adapter name. A sink whose definition lists several directories uses the
   * one named after the configured name (es7 → `es7/`).
   */
  mappingDirectories(): Map<string, string> {
    const out = new Map<string, string>();
    for (const entry of this.#entries.values()) {
      const dirs = entry.mappings?.directories ?? [];
      const dir = dirs.includes(entry.name) ? entry.name : dirs.length === 1 ? dirs[0] : undefined;
      if (dir !== undefined && !out.has(dir)) out.set(dir, entry.name);
    }
    return out;
  }
}
