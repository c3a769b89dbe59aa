import type { MappingSpec, ObjectSchema } from '@sluice/plugin-api';

/** Which source tables a bound mapping file covers (the plugin API's `MappingSpec.tables`). */
export type MappingTables = MappingSpec['tables'];

/** Checks beyond the schema (the plugin API's `MappingSpec.check`). */
export type MappingCheck = NonNullable<MappingSpec['check']>;

/**
 * What the configuration loader needs to know about a sink: the schemas of its `properties` and
 * mapping files, and how to read the tables a mapping covers. A registered plugin supplies the
 * first two through its definition; the built-in catalogue below supplies all of them for
 * canal's adapters until (and, for the hooks, unless) their plugins do.
 */
export interface SinkSchemas {
  readonly propertiesSchema?: ObjectSchema;
  readonly mappings?: MappingSpec;
}

/** One adapter name canal-adapter (or Sluice) knows. */
export interface KnownAdapter extends SinkSchemas {
  readonly name: string;
  /** True when Sluice provides (or will provide) this sink; false for canal-only adapters (hbase, kudu, …). */
  readonly sluice: boolean;
}

const passthrough = (description: string): ObjectSchema => ({
  type: 'object',
  description,
  properties: {},
});

/** canal-adapter's adapter names (plus Sluice's `redis`), with their schemas. */
export const KNOWN_ADAPTERS: readonly KnownAdapter[] = [
  { name: 'logger', sluice: true, propertiesSchema: passthrough('No properties.') },
  // rdb: the plugin @sluice/sink-rdb owns its properties and mapping format.
  { name: 'rdb', sluice: true },
  // Elasticsearch: the sink-es plugin (built in) owns the schemas and the esMapping format.
  ...['es6', 'es7', 'es8'].map((name): KnownAdapter => ({ name, sluice: true })),
  // The redis sink (plugins/sink-redis, built into the CLI) owns its properties and mapping format.
  { name: 'redis', sluice: true },
  ...['hbase', 'tablestore', 'clickhouse', 'phoenix', 'kudu'].map((name): KnownAdapter => ({
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
