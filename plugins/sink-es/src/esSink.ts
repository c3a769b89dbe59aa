import { FatalError, defineSink, type SinkInstance } from '@sluice/plugin-api';
import { checkEs, esMappingSchema, esTables } from './mapping.js';

/**
 * `outerAdapters[].properties` of canal's es adapters (canal-adapter-behaviour.md §1.5): es6/es7
 * read `mode` and `cluster.name` (transport client), all read `security.auth`, es8 reads
 * `security.ca.path`. The addresses are the entry's `hosts`.
 */
export const esPropertiesSchema = {
  type: 'object',
  properties: {
    'security.auth': {
      type: 'string',
      secret: true,
      description: 'user:password for HTTP basic authentication.',
    },
    'security.ca.path': {
      type: 'string',
      path: 'existing',
      description: 'PEM CA file for TLS (es8), relative to the configuration directory.',
    },
    mode: {
      type: 'string',
      enum: ['transport', 'rest', 'http'],
      caseInsensitive: true,
      description: 'es6/es7 client: Sluice always uses REST; transport is canal-only.',
    },
    'cluster.name': { type: 'string', description: 'Cluster name (es6/es7 transport mode).' },
  },
} as const;

/**
 * canal-adapter's Elasticsearch adapters `es8`, `es7` and `es6` (one definition, three names):
 * owns the `esMapping` file format of `es8/`, `es7/` and `es6/` so `sluice validate` and
 * `sluice start` check those files with file and line. Writing to Elasticsearch is not built
 * yet: `create` refuses with a {@link FatalError} that says what to use meanwhile, so a
 * configuration with an es adapter fails at validation instead of silently not syncing.
 */
export const esSink = defineSink({
  name: 'es8',
  aliases: ['es7', 'es6'],
  description:
    'Elasticsearch (canal es6/es7/es8 adapters): esMapping files are validated; applying changes is not built yet.',
  propertiesSchema: esPropertiesSchema,
  mappings: {
    directories: ['es8', 'es7', 'es6'],
    schema: esMappingSchema,
    tables: esTables,
    check: checkEs,
  },
  create(ctx): SinkInstance {
    throw new FatalError(
      `outerAdapters "${ctx.key}" (${ctx.name}): this version of Sluice validates the es6/es7/es8 adapters and their esMapping files but does not apply changes to Elasticsearch yet. Meanwhile keep canal-adapter's ${ctx.name} adapter for these mappings (on its own consumer group) and remove the ${ctx.name} entry from this configuration.`,
    );
  },
});
