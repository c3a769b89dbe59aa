import { isAbsolute, resolve } from 'node:path';
import { coreServices, defineSink } from '@sluice/plugin-api';
import { JsonlSink } from './JsonlSink.js';

/** `outerAdapters[].properties` of the jsonl sink. */
export interface JsonlSinkProperties {
  /** Directory of the table files, relative to the configuration directory. Default `jsonl`. */
  readonly dir?: string;
}

/**
 * The `jsonl` sink: one JSON-lines file per table under `properties.dir`, kept equal to the
 * source table (upsert and delete by primary key).
 *
 * ```yaml
 * outerAdapters:
 * - name: jsonl
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
        default: 'jsonl',
        description: 'Directory of the table files, relative to the configuration directory.',
      },
    },
  },
  // The final image per key is all that is stored, so the core may coalesce per key.
  coalescing: true,
  deps: { logger: coreServices.logger },
  create(ctx) {
    const properties: JsonlSinkProperties = ctx.properties;
    const dir = properties.dir || 'jsonl';
    return new JsonlSink(
      isAbsolute(dir) ? dir : resolve(ctx.configDir, dir),
      ctx.deps.logger.child({ sink: ctx.key }),
    );
  },
});
