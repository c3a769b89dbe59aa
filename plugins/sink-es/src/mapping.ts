import type {
  Infer,
  MappedTable,
  MappingCheckProblem,
  MappingTablesContext,
  ObjectSchema,
} from '@sluice/plugin-api';
import { sqlTables } from './esSqlTables.js';
import { planMapping } from './plan.js';

/**
 * Schema of one `es6/*.yml`, `es7/*.yml` or `es8/*.yml` mapping file: canal's `ESSyncConfig`
 * (canal-adapter-behaviour.md §5.1; samples `CA/es7x/src/main/resources/es7/*.yml`). Keys bind
 * with Spring's relaxed rules, so `_index`/`index` and `_id`/`id` are the same key.
 *
 * canal's es6 adapter also requires `_type`; Sluice writes through the typeless REST API of
 * Elasticsearch 7/8, so `_type` is accepted and ignored for every version.
 */
export const esMappingSchema = {
  type: 'object',
  required: ['dataSourceKey', 'esMapping'],
  properties: {
    dataSourceKey: {
      type: 'string',
      description: 'Key of srcDataSources (ETL, back-queries, default database of the SQL).',
    },
    destination: {
      type: 'string',
      description: 'canalAdapters[].instance this mapping listens to.',
    },
    groupId: {
      type: 'string',
      description: 'groups[].groupId (ignored for selection in tcp mode).',
    },
    outerAdapterKey: {
      type: 'string',
      description:
        'Key of the owning outerAdapters entry; without it the file attaches to auto-keyed adapters.',
    },
    esMapping: {
      type: 'object',
      required: ['_index', 'sql'],
      properties: {
        _index: { type: 'string', description: 'Target index (or alias).' },
        _type: { type: 'string', description: 'Document type (es6 only); ignored by Sluice.' },
        _id: { type: 'string', description: 'Select field whose value is the document _id.' },
        pk: {
          type: 'string',
          description: 'Select field locating documents when there is no _id.',
        },
        upsert: { type: 'boolean', default: false },
        sql: { type: 'string', description: 'SELECT … FROM t a [LEFT JOIN u b ON …]' },
        objFields: {
          type: 'map',
          values: { type: 'string' },
          description: 'field → array:<separator> | object.',
        },
        skips: { type: 'array', items: { type: 'string' }, default: [] },
        relations: {
          type: 'map',
          values: {
            type: 'object',
            properties: {
              name: { type: 'string', description: 'Relation name.' },
              parent: { type: 'string', description: 'Select field holding the parent id.' },
            },
          },
        },
        etlCondition: { type: 'string', description: 'ETL WHERE fragment with {} placeholders.' },
        commitBatch: { type: 'integer', minimum: 1, default: 1000 },
        syncByTimestamp: { type: 'boolean', default: false },
        syncInterval: { type: 'any', description: 'Unused by canal-adapter.' },
      },
    },
    esVersion: { type: 'any', description: 'Set by canal-adapter’s loader; ignored.' },
  },
} as const satisfies ObjectSchema;

/** One validated es mapping file. */
export type EsMapping = Infer<typeof esMappingSchema>;

const text = (v: string | undefined): string | undefined =>
  v !== undefined && v !== '' ? v : undefined;

/**
 * The source tables an es mapping reads: every table of its SQL (main, joined and sub-queried,
 * canal-adapter-behaviour.md §3.4), qualified by the SQL's schema or else by the database of
 * `srcDataSources.<dataSourceKey>`'s JDBC URL, as canal does.
 */
export function esTables(mapping: EsMapping, context: MappingTablesContext): MappedTable[] {
  const sql = text(mapping.esMapping.sql);
  if (!sql) return [];
  const fallback = context.defaultDatabase(text(mapping.dataSourceKey));
  return sqlTables(sql).map((t) => ({ database: t.database ?? fallback, table: t.table }));
}

/**
 * Checks beyond the schema: `_id` or `pk`, SQL that names a table, and what this version cannot
 * apply (SQL shapes, keys and relations it cannot address, syncByTimestamp; see
 * {@link planMapping}).
 */
export function checkEs(mapping: EsMapping): MappingCheckProblem[] {
  const es = mapping.esMapping;
  const out: MappingCheckProblem[] = [];
  if (!text(es._id) && !text(es.pk))
    out.push({
      severity: 'error',
      path: ['esMapping', '_id'],
      message: 'one of _id or pk is required',
    });
  const sql = text(es.sql);
  if (sql && sqlTables(sql).length === 0) {
    out.push({
      severity: 'error',
      path: ['esMapping', 'sql'],
      message: 'names no table (expected SELECT … FROM table alias …)',
    });
    return out;
  }
  if (out.length > 0) return out;
  const plan = planMapping(mapping);
  return Array.isArray(plan) ? plan : [];
}
