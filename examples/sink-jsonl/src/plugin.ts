import { isAbsolute, resolve } from 'node:path';
import { coreServices, defineSink } from '@sluice/plugin-api';
import { JsonlSink } from './JsonlSink.js';
import { jsonlMappings } from './mapping.js';

/** `outerAdapters[].properties` of the jsonl sink. */
export interface JsonlSinkProperties {
  /** Directory of the table files, relative to the configuration directory. Default `jsonl-data`. */
  readonly dir?: string;
}

/**
 * The `jsonl` sink: JSON-lines files under `properties.dir`, each kept equal to one source table
 * (upsert and delete by primary key). Which tables go to which file is declared in the sink's own
 * mapping files, `jsonl/*.yml` (see {@link jsonlMappings}); only tables with a mapping are
 * written.
 *
 * ```yaml
 * outerAdapters:
 * - name: jsonl
 *   key: jsonl-out
 *   properties:
 *     dir: ../out
 * ```
 */
export const jsonlSink = defineSink({
  name: 'jsonl',
  description: 'Keeps one JSON-lines file per table, upserting and deleting rows by primary key.',
  propertiesSchema: {
    type: 'object',
    properties: {
      dir: {
        type: 'string',
        default: 'jsonl-data',
        description: 'Directory of the table files, relative to the configuration directory.',
      },
    },
  },
  // The sink owns its mapping format: directory, schema, routed tables and checks.
  mappings: jsonlMappings,
  // The final image per key is all that is stored, so the core may coalesce per key.
  coalescing: true,
  deps: { logger: coreServices.logger },
  create(ctx) {
    const properties: JsonlSinkProperties = ctx.properties;
    const dir = properties.dir || 'jsonl-data';
    return new JsonlSink(
      isAbsolute(dir) ? dir : resolve(ctx.configDir, dir),
      ctx.deps.logger.child({ sink: ctx.key }),
    );
  },
});
