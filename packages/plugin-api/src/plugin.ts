/** What every plugin definition carries, so the registry recognises it across package copies. */

/** The plugin API version this package implements. A plugin built for another major is refused. */
export const PLUGIN_API_VERSION = 1 as const;

/** Brand of sink definitions (a string, not a class: works across duplicate package copies). */
export const SINK_BRAND = '@sluice/plugin-api:sink' as const;

/** Brand of source definitions. */
export const SOURCE_BRAND = '@sluice/plugin-api:source' as const;

/** Fields shared by sink and source definitions. */
export interface PluginMeta {
  /** The name used in configuration: canal's `outerAdapters[].name` or `canal.conf.mode`. */
  readonly name: string;
  /** Other names that select this plugin (e.g. `es7` and `es8` for one Elasticsearch sink). */
  readonly aliases?: readonly string[];
  /** One sentence for `sluice --help` and error messages. */
  readonly description?: string;
}
