import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';
import { ErrorCodes, SluiceError } from '@sluice/plugin-api';
import type { ResolvedConfig } from '../config/types.js';
import type { PluginRegistry } from '../registry.js';
import { loadPlugins, type LoadedPlugin } from './loader.js';

/**
 * The entries of `sluice.plugins`: from the resolved configuration when its loader provides
 * them, otherwise read from `<config.dir>/application.yml` directly.
 *
 * @throws SluiceError `SLUICE_ERR_CONFIG_INVALID` when `sluice.plugins` is not a list of text.
 */
export async function configuredPluginSpecs(config: ResolvedConfig): Promise<readonly string[]> {
  const provided = (config.sluice as { readonly plugins?: unknown }).plugins;
  if (provided !== undefined) return checkSpecs(provided, 'sluice.plugins');
  const file = join(config.dir, 'application.yml');
  const text = await readFile(file, 'utf8').catch(() => undefined);
  if (text === undefined) return [];
  const doc = parse(text) as unknown;
  const sluice = isRecord(doc) ? doc['sluice'] : undefined;
  const plugins = isRecord(sluice) ? sluice['plugins'] : undefined;
  return plugins === undefined || plugins === null ? [] : checkSpecs(plugins, `sluice.plugins in "${file}"`);
}

/**
 * Loads the plugins listed under `sluice.plugins` into `registry`, resolving relative paths and
 * package names from the configuration directory. See {@link loadPlugins} for the errors.
 */
export async function loadConfiguredPlugins(registry: PluginRegistry, config: ResolvedConfig): Promise<LoadedPlugin[]> {
  return loadPlugins(registry, await configuredPluginSpecs(config), { baseDir: config.dir });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function checkSpecs(value: unknown, where: string): readonly string[] {
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string' || v.trim() === '')) {
    throw new SluiceError(ErrorCodes.config, `${where} must be a list of npm package names or paths, got ${JSON.stringify(value)}.`);
  }
  return value as string[];
}
