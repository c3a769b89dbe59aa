/**
 * One adapter name canal-adapter (or Sluice) knows, so a configuration naming it without the
 * plugin loaded gets "known adapter, plugin not loaded" instead of "unknown adapter". The sinks
 * own everything else about themselves (properties and mapping format) through their plugin
 * definitions.
 */
export interface KnownAdapter {
  readonly name: string;
  /** True when Sluice provides (or will provide) this sink; false for canal-only adapters (hbase, kudu, …). */
  readonly sluice: boolean;
}

/**
 * canal-adapter's adapter names (canal-adapter-behaviour.md §0, SPI names) plus Sluice's
 * `redis`. logger, rdb, es6/es7/es8 and redis ship as built-in plugins of the cli.
 */
export const KNOWN_ADAPTERS: readonly KnownAdapter[] = [
  ...['logger', 'rdb', 'es6', 'es7', 'es8', 'redis'].map((name) => ({ name, sluice: true })),
  ...['hbase', 'tablestore', 'clickhouse', 'phoenix', 'kudu'].map((name) => ({
    name,
    sluice: false,
  })),
];

/** Hints for names canal users get wrong (`es` was the old name of es6/es7/es8). */
export const ADAPTER_NAME_HINTS: Readonly<Record<string, readonly string[]>> = {
  es: ['es7', 'es8'],
  elasticsearch: ['es7', 'es8'],
  mysql: ['rdb'],
  postgresql: ['rdb'],
  postgres: ['rdb'],
  jdbc: ['rdb'],
};
