import { join } from 'node:path';
import { coreServices, defineSink, type SinkInstance } from '@sluice/plugin-api';
import { EsSink } from './esSinkInstance.js';
import { checkEs, esMappingSchema, esTables, type EsMapping } from './mapping.js';
import { esPropertiesSchema } from './properties.js';

/**
 * canal-adapter's Elasticsearch adapters `es8`, `es7` and `es6` (one definition, three names):
 * owns the `esMapping` file format of `es8/`, `es7/` and `es6/` and applies single-table mappings
 * (plain columns of one table, canal-adapter-behaviour.md §5.3 Case A) from the event, and
 * LEFT JOIN / expression / `group_concat` sub-query / computed-`_id` mappings (Case B) by
 * re-querying `srcDataSources`, with parent/child `relations` routed by the parent id and values
 * converted by the index's field types, with the `_bulk` API of Elasticsearch 8 or OpenSearch
 * (REST; also the typeless API of 7). What it cannot apply (top-level WHERE/GROUP BY, a
 * computed `_id` over joined tables, `syncByTimestamp`, …) is reported by `check` (so
 * `validate` and `start` refuse it with file and line) instead of being mis-applied. Also full sync
 * (`sluice etl es8 …`, etl.ts) and `count`.
 */
export const esSink = defineSink({
  name: 'es8',
  aliases: ['es7', 'es6'],
  description:
    'Elasticsearch (canal es6/es7/es8 adapters): single-table esMapping files applied with _bulk and external versions; LEFT JOIN, group_concat sub-query and computed-_id mappings by re-querying the source; parent/child relations; values converted by the index field types.',
  propertiesSchema: esPropertiesSchema,
  mappings: {
    directories: ['es8', 'es7', 'es6'],
    schema: esMappingSchema,
    tables: esTables,
    check: checkEs,
  },
  deps: { dataSources: coreServices.dataSources },
  create(ctx): SinkInstance<EsMapping> {
    return new EsSink({
      key: ctx.key,
      name: ctx.name,
      hosts: ctx.hosts,
      properties: ctx.properties,
      configDir: ctx.configDir,
      dataSources: ctx.deps.dataSources,
      etlStateDir: join(ctx.configDir, '.sluice', 'etl'),
    });
  },
});
