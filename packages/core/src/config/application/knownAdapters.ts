import type { MappingCheckProblem, MappingSpec, ObjectSchema, Schema } from '@sluice/plugin-api';

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

type Bag = Readonly<Record<string, unknown>>;
const bag = (v: unknown): Bag =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Bag) : {};
const text = (v: unknown): string | undefined =>
  typeof v === 'string' && v !== '' ? v : undefined;

const s = (
  description?: string,
  extra: Partial<{
    secret: boolean;
    default: string;
    enum: readonly string[];
    caseInsensitive: boolean;
  }> = {},
): Schema => ({
  type: 'string',
  ...(description ? { description } : {}),
  ...extra,
});

/** The keys every canal mapping file starts with. */
const mappingHeader: Record<string, Schema> = {
  dataSourceKey: s('Key of srcDataSources (ETL and back-queries).'),
  destination: s('canalAdapters[].instance this mapping listens to.'),
  groupId: s('groups[].groupId (ignored for selection in tcp mode).'),
  outerAdapterKey: s(
    'Key of the owning outerAdapters entry; without it the file attaches to auto-keyed adapters.',
  ),
};

const stringMap: Schema = { type: 'map', values: { type: 'string' } };

/** `rdb/*.yml` (canal's MappingConfig). */
export const rdbMappingSchema: ObjectSchema = {
  type: 'object',
  properties: {
    ...mappingHeader,
    concurrent: { type: 'boolean', default: false },
    dbMapping: {
      type: 'object',
      required: ['database'],
      properties: {
        database: s('Source schema.'),
        table: s('Source table (required unless mirrorDb).'),
        targetTable: s('Target table (required unless mirrorDb).'),
        targetDb: s('Target schema.'),
        targetPk: { ...stringMap, description: 'target column → source column.' },
        mapAll: { type: 'boolean', default: false },
        targetColumns: {
          ...stringMap,
          description: 'target column → source column (empty = same name).',
        },
        caseInsensitive: { type: 'boolean', default: false },
        etlCondition: s('ETL WHERE fragment with {} placeholders.'),
        commitBatch: { type: 'integer', minimum: 1, default: 5000 },
        readBatch: { type: 'integer', minimum: 1, default: 5000 },
        mirrorDb: { type: 'boolean', default: false },
        allMapColumns: { type: 'any', description: 'Internal cache; do not set.' },
      },
    },
  },
};

const rdbTables: MappingTables = (mapping) => {
  const db = bag(mapping['dbMapping']);
  const database = text(db['database']);
  if (db['mirrorDb'] === true) return [{ database, table: '*' }];
  const table = text(db['table']);
  return table ? [{ database, table }] : [];
};

const checkRdb: MappingCheck = (mapping) => {
  const db = bag(mapping['dbMapping']);
  if (Object.keys(db).length === 0) return [];
  const out: MappingCheckProblem[] = [];
  if (db['mirrorDb'] !== true) {
    for (const key of ['table', 'targetTable']) {
      if (!text(db[key]))
        out.push({
          severity: 'error',
          path: ['dbMapping', key],
          message: 'missing (required unless mirrorDb: true)',
        });
    }
    if (db['mapAll'] !== true && Object.keys(bag(db['targetColumns'])).length === 0) {
      out.push({
        severity: 'error',
        path: ['dbMapping', 'targetColumns'],
        message: 'no columns are mapped: set targetColumns or mapAll: true',
      });
    }
    if (Object.keys(bag(db['targetPk'])).length === 0) {
      out.push({
        severity: 'warning',
        path: ['dbMapping', 'targetPk'],
        message: 'empty: updates and deletes cannot find the target row',
      });
    }
    const target = text(db['targetTable']);
    if (target?.includes('.') && !text(db['targetDb'])) {
      const [schema, table] = [
        target.slice(0, target.indexOf('.')),
        target.slice(target.indexOf('.') + 1),
      ];
      out.push({
        severity: 'warning',
        path: ['dbMapping', 'targetTable'],
        message: `canal-adapter quotes "${target}" as one identifier (issue #3834)`,
        suggestion: `use targetDb: ${schema} and targetTable: ${table}`,
      });
    }
  }
  return out;
};

const passthrough = (description: string): ObjectSchema => ({
  type: 'object',
  description,
  properties: {},
});

/** canal-adapter's adapter names (plus Sluice's `redis`), with their schemas. */
export const KNOWN_ADAPTERS: readonly KnownAdapter[] = [
  { name: 'logger', sluice: true, propertiesSchema: passthrough('No properties.') },
  {
    name: 'rdb',
    sluice: true,
    propertiesSchema: {
      type: 'object',
      required: ['jdbc.url'],
      properties: {
        'jdbc.driverClassName': s('JDBC driver class; the URL decides in Sluice.'),
        'jdbc.url': s('Target JDBC URL.'),
        'jdbc.username': s(),
        'jdbc.password': s(undefined, { secret: true }),
        threads: { type: 'integer', minimum: 1, default: 3 },
        skipDupException: { type: 'boolean', default: true },
        'druid.stat.enable': { type: 'boolean', default: true },
        'druid.stat.slowSqlMillis': { type: 'integer', minimum: 0, default: 1000 },
        commitSize: { type: 'any', description: 'In canal samples but never read.' },
      },
    },
    mappings: {
      directories: ['rdb'],
      schema: rdbMappingSchema,
      tables: rdbTables,
      check: checkRdb,
    },
  },
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
