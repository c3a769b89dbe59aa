import { pluginSchemasFromMap, type PluginSchemaSource, type SinkSchemas } from '@sluice/core';
import { esSink } from '@sluice/sink-es';
import { rdbSink } from '@sluice/sink-rdb';
import { redisSink } from '@sluice/sink-redis';

/**
 * The schemas of the plugins these tests configure, like the cli's built-in registry: the
 * Elasticsearch sink (es8, es7, es6) owns the esMapping format; logger has no properties; the
 * redis sink owns the redisMapping format; the rdb sink owns the dbMapping format; the kafka, file
 * and tcp sources exist.
 */
export function builtinSchemas(
  extra: ReadonlyMap<string, SinkSchemas> = new Map(),
): PluginSchemaSource {
  return pluginSchemasFromMap(
    new Map<string, SinkSchemas>([
      ['logger', { propertiesSchema: { type: 'object', properties: {} } }],
      ['es8', esSink],
      ['es7', esSink],
      ['es6', esSink],
      ['redis', redisSink],
      ['rdb', rdbSink],
      ...extra,
    ]),
    ['kafka', 'file', 'tcp'],
  );
}
