import { PluginRegistry } from '@sluice/core';
import { loggerSink } from '@sluice/sink-logger';
import { fileSource } from '@sluice/source-file';

/** A registry holding the plugins that ship with Sluice. */
export function createBuiltinRegistry(): PluginRegistry {
  const registry = new PluginRegistry();
  registry.register(fileSource, 'built-in @sluice/source-file');
  registry.register(loggerSink, 'built-in @sluice/sink-logger');
  return registry;
}
