/*
 * What every plugin definition carries, so the registry recognises it across package copies.
 *
 * A plugin package exports the value returned by `defineSink()` / `defineSource()`. The core
 * recognises it by the string brand in `$$type` and by `apiVersion`, never by class identity or
 * `instanceof`, so a plugin compiled against another copy of `@sluice/plugin-api` still loads.
 */

/**
 * The plugin API version this package implements. A plugin built for another version is refused
 * at load time with `SLUICE_ERR_PLUGIN_VERSION_MISMATCH`, naming the plugin and both versions.
 */
export const PLUGIN_API_VERSION = 1 as const;

/** Brand of sink definitions (a string, not a class: works across duplicate package copies). */
export const SINK_BRAND = '@sluice/plugin-api:sink' as const;

/** Brand of source definitions. */
export const SOURCE_BRAND = '@sluice/plugin-api:source' as const;

/** The two kinds of plugin. */
export type PluginKind = 'sink' | 'source';

/** Fields shared by sink and source definitions. */
export interface PluginMeta {
  /**
   * The name used in configuration: canal's `outerAdapters[].name` for a sink, `canal.conf.mode`
   * for a source. Lower case, unique among the plugins of one kind; used in every error and log
   * line about the plugin.
   */
  readonly name: string;
  /** Other names that select this plugin (e.g. `es7` and `es8` for one Elasticsearch sink). */
  readonly aliases?: readonly string[];
  /** One sentence for `sluice --help` and error messages. */
  readonly description?: string;
}

/**
 * The kind of a branded definition, or `undefined` when `value` is not one. Checks the brand
 * only (not the version), so it recognises definitions from any copy of this package.
 */
export function pluginKindOf(value: unknown): PluginKind | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const brand = (value as { $$type?: unknown }).$$type;
  if (brand === SINK_BRAND) return 'sink';
  if (brand === SOURCE_BRAND) return 'source';
  return undefined;
}
