import { bindFlatProperties } from './config/binding/bind.js';
import type { OuterAdapterConfig, ResolvedConfig } from './config/application/types.js';
import type { MappingIndex } from './mappings/mappingIndex.js';
import type { EngineSink } from './pipeline/engine.js';
import type { PluginRegistry, PluginScope } from './registry.js';

/**
 * Builds the sink instances of one `groups[]` entry for a {@link PipelineEngine}: each
 * `outerAdapters[]` entry through its plugin, with the sink's declared coalescing and ordering and
 * the mapping routes it owns. No I/O (sinks connect later).
 */
export function createGroupSinks(
  config: ResolvedConfig,
  registry: PluginRegistry,
  plugins: PluginScope,
  index: MappingIndex,
  pipeline: { readonly destination: string; readonly groupId: string },
  outers: readonly OuterAdapterConfig[],
): EngineSink[] {
  const pipelineCount = config.canal.canalAdapters.reduce((n, a) => n + a.groups.length, 0);
  return outers.map((outer) => {
    const usedBy = `outerAdapters "${outer.key}"`;
    const definition = registry.sink(outer.name, usedBy);
    const instance = plugins.createSink(
      outer.name,
      {
        key: outer.key,
        name: outer.name,
        hosts: outer.hosts,
        properties: definition.propertiesSchema
          ? bindFlatProperties(definition.propertiesSchema, outer.properties, config.dir)
          : outer.properties,
        configDir: config.dir,
        destination: pipeline.destination,
        groupId: pipeline.groupId,
        pipelineCount,
      },
      usedBy,
    );
    return {
      key: outer.key,
      instance,
      coalescing: definition.coalescing,
      ...(definition.ordering ? { ordering: definition.ordering } : {}),
      routes: definition.mappings ? index.routes({ name: outer.name, key: outer.key }) : undefined,
    };
  });
}
