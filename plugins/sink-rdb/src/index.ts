import { join } from 'node:path';
import { coreServices, defineSink, type SinkInstance } from '@sluice/plugin-api';
import { runEtl } from './etl.js';
import { RdbSink } from './rdbSink.js';
import {
  checkRdb,
  rdbMappingSchema,
  rdbPropertiesSchema,
  rdbTables,
  type RdbMapping,
} from './schemas.js';

/**
 * canal-adapter's `rdb` adapter: applies the rows of mapped tables to MySQL/MariaDB or PostgreSQL
 * as upserts and deletes by key, many rows per statement, one transaction per batch; reads the
 * same `rdb/*.yml` mapping files (README "rdb"). Also full sync (`sluice etl rdb …`) and count.
 */
export const rdbSink = defineSink({
  name: 'rdb',
  description: 'Applies rows to MySQL/MariaDB or PostgreSQL tables (canal-adapter rdb mappings).',
  // Final image wins per key within a batch: the sink coalesces itself (plan.ts), the core need not.
  coalescing: false,
  ordering: 'per-key',
  propertiesSchema: rdbPropertiesSchema,
  mappings: {
    directories: ['rdb'],
    schema: rdbMappingSchema,
    tables: rdbTables,
    check: checkRdb,
  },
  deps: { logger: coreServices.logger, dataSources: coreServices.dataSources },
  create(ctx): SinkInstance<RdbMapping> {
    const sink = new RdbSink({ key: ctx.key, properties: ctx.properties, logger: ctx.deps.logger });
    const stateDir = join(ctx.configDir, '.sluice', 'etl');
    return {
      connect: (signal) => sink.connect(signal),
      write: (batch, signal) => sink.write(batch, signal),
      flush: () => sink.flush(),
      close: (signal) => sink.close(signal),
      healthcheck: () => sink.healthcheck(),
      count: (mapping) => sink.count(mapping),
      etl: (request, signal) => runEtl(sink, ctx.deps.dataSources, request, stateDir, signal),
    };
  },
});

export { RdbSink, planRow, rewriteSchema } from './rdbSink.js';
export type { RdbSinkOptions } from './rdbSink.js';
export { runEtl, checkpointFile } from './etl.js';
export { checkRdb, rdbMappingSchema, rdbPropertiesSchema, rdbTables } from './schemas.js';
export type { RdbMapping, RdbProperties } from './schemas.js';
export { toParam, ValueError } from './convert.js';
export type { ConvertOptions } from './convert.js';
export { wallClockToUtc, isValidTimeZone } from './timeZone.js';
export { groupOperations } from './plan.js';
export type { Operation, Group } from './plan.js';
