import type { ResolvedConfig } from '../config/application/types.js';
import type { PluginRegistry } from '../registry.js';
import { loadPlugins, type LoadedPlugin } from './loader.js';

/**
 * Loads the plugins listed under `sluice.plugins` into `registry`, resolving relative paths and
 * package names from the configuration directory. Called once per runtime, after the built-ins
 * were registered and before the configuration is checked against the registered plugins. See
 * {@link loadPlugins} for the errors.
 */
export async function loadConfiguredPlugins(
  registry: PluginRegistry,
  config: Pick<ResolvedConfig, 'dir' | 'sluice'>,
): Promise<LoadedPlugin[]> {
  return loadPlugins(registry, config.sluice.plugins, { baseDir: config.dir });
}
