import { readFile, stat } from 'node:fs/promises';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ErrorCodes, SluiceError, pluginKindOf, type PluginKind } from '@sluice/plugin-api';
import type { PluginRegistry } from '../registry.js';

/** One plugin registered from `sluice.plugins`. */
export interface LoadedPlugin {
  /** The entry of `sluice.plugins` it came from, as written. */
  readonly spec: string;
  /** The module file that was imported. */
  readonly file: string;
  readonly kind: PluginKind;
  readonly name: string;
}

/** Options of {@link loadPlugins}. */
export interface LoadPluginsOptions {
  /** Relative paths and package names resolve from here: the configuration directory. */
  readonly baseDir: string;
  /**
   * Imports a module by URL. Default: dynamic `import()`. Tests replace it to count imports or
   * to simulate a broken module.
   */
  readonly importModule?: (url: string) => Promise<unknown>;
}

const isPathSpec = (spec: string): boolean =>
  spec === '.' ||
  spec === '..' ||
  spec.startsWith('./') ||
  spec.startsWith('../') ||
  isAbsolute(spec);

/**
 * Loads every entry of `sluice.plugins` and registers the branded definitions it exports.
 *
 * An entry is a path (relative to `baseDir`, or absolute) to a module file or to a package
 * directory, or an npm package name looked up in `node_modules` from `baseDir` upwards, then
 * from Sluice's own installation. The module may export definitions as its default export (one,
 * or an array) and/or as named exports; each distinct definition is registered once, with the
 * origin `sluice.plugins "<entry>" (<file>)`. Entries load in order, one at a time.
 *
 * @throws SluiceError `SLUICE_ERR_PLUGIN_LOAD` when an entry cannot be found or its module throws
 *   while loading; `SLUICE_ERR_PLUGIN_INVALID` when it exports no branded definition; and any
 *   error of {@link PluginRegistry.register} (duplicate, version mismatch, unknown service).
 */
export async function loadPlugins(
  registry: PluginRegistry,
  specs: readonly string[],
  options: LoadPluginsOptions,
): Promise<LoadedPlugin[]> {
  const importModule = options.importModule ?? ((url: string) => import(url) as Promise<unknown>);
  const loaded: LoadedPlugin[] = [];
  for (const spec of specs) {
    if (typeof spec !== 'string' || spec.trim() === '') {
      throw new SluiceError(
        ErrorCodes.config,
        `sluice.plugins holds an empty or non-text entry (${JSON.stringify(spec)}): list package names or paths.`,
      );
    }
    const file = await resolvePluginSpec(spec, options.baseDir);
    const origin = `sluice.plugins "${spec}" (${file ?? 'installed with Sluice'})`;
    let namespace: unknown;
    try {
      namespace = await importModule(file ? pathToFileURL(file).href : spec);
    } catch (error) {
      const missing = !file && (error as { code?: unknown }).code === 'ERR_MODULE_NOT_FOUND';
      throw new SluiceError(
        ErrorCodes.pluginLoad,
        missing
          ? `The plugin package "${spec}" listed in sluice.plugins is not installed: looked in node_modules from "${options.baseDir}" upwards and next to Sluice.`
          : `The plugin ${origin} failed to load: ${(error as Error).message}`,
        { cause: error },
      );
    }
    const definitions = pluginExports(namespace);
    if (definitions.length === 0) {
      throw new SluiceError(
        ErrorCodes.pluginInvalid,
        `The module of ${origin} exports no Sluice plugin: export the result of defineSink() or defineSource() (as the default export or a named one).`,
      );
    }
    for (const definition of definitions) {
      registry.register(definition, origin);
      const kind = pluginKindOf(definition)!;
      loaded.push({ spec, file: file ?? spec, kind, name: (definition as { name: string }).name });
    }
  }
  return loaded;
}

/**
 * The distinct branded definitions a module namespace exports: the default export (a definition
 * or an array of them) first, then named exports in order. Other exports are ignored.
 */
export function pluginExports(namespace: unknown): unknown[] {
  if (typeof namespace !== 'object' || namespace === null) return [];
  const found: unknown[] = [];
  const add = (value: unknown) => {
    if (pluginKindOf(value) && !found.includes(value)) found.push(value);
  };
  const ns = namespace as Record<string, unknown>;
  const fallback = ns['default'];
  if (Array.isArray(fallback)) fallback.forEach(add);
  else add(fallback);
  for (const [name, value] of Object.entries(ns)) if (name !== 'default') add(value);
  return found;
}

/**
 * The module file an entry of `sluice.plugins` designates, or `undefined` for a package name not
 * found under `baseDir` (the caller then imports it by name, from Sluice's own installation).
 *
 * @throws SluiceError `SLUICE_ERR_PLUGIN_LOAD` for a path that does not exist or a package
 *   directory without a usable entry point.
 */
export async function resolvePluginSpec(
  spec: string,
  baseDir: string,
): Promise<string | undefined> {
  if (isPathSpec(spec)) {
    const path = resolve(baseDir, spec);
    const info = await stat(path).catch(() => undefined);
    if (!info) {
      throw new SluiceError(
        ErrorCodes.pluginLoad,
        `The plugin path "${spec}" listed in sluice.plugins does not exist (resolved against "${baseDir}" to "${path}").`,
      );
    }
    return info.isDirectory() ? packageEntry(path, spec) : path;
  }
  const { packageName, subpath } = splitPackageSpec(spec);
  for (let dir = resolve(baseDir); ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', packageName);
    if (await stat(join(candidate, 'package.json')).catch(() => undefined)) {
      return packageEntry(candidate, spec, subpath);
    }
    if (dirname(dir) === dir) return undefined;
  }
}

function splitPackageSpec(spec: string): { packageName: string; subpath: string } {
  const parts = spec.split('/');
  const count = spec.startsWith('@') ? 2 : 1;
  const rest = parts.slice(count).join('/');
  return { packageName: parts.slice(0, count).join('/'), subpath: rest ? `./${rest}` : '.' };
}

type ExportsField =
  string | null | readonly ExportsField[] | { readonly [key: string]: ExportsField };

/** Picks the ESM target of an `exports` value: conditions `import`, `node`, `default`, in that order. */
function exportTarget(value: ExportsField | undefined): string | undefined {
  if (typeof value === 'string') return value;
  if (value === null || value === undefined) return undefined;
  if (Array.isArray(value)) {
    for (const v of value as readonly ExportsField[]) {
      const t = exportTarget(v);
      if (t) return t;
    }
    return undefined;
  }
  const map = value as { readonly [key: string]: ExportsField };
  for (const condition of ['import', 'node', 'default']) {
    const t = exportTarget(map[condition]);
    if (t) return t;
  }
  return undefined;
}

/** The entry file of the package in `dir` for `subpath` (`.` for the main entry). */
async function packageEntry(dir: string, spec: string, subpath = '.'): Promise<string> {
  const text = await readFile(join(dir, 'package.json'), 'utf8').catch(() => undefined);
  let pkg: { exports?: ExportsField; module?: unknown; main?: unknown } = {};
  if (text !== undefined) {
    try {
      pkg = JSON.parse(text) as typeof pkg;
    } catch (error) {
      throw new SluiceError(
        ErrorCodes.pluginLoad,
        `The package.json of the plugin "${spec}" (${dir}) is not valid JSON: ${(error as Error).message}`,
      );
    }
  }
  let target: string | undefined;
  if (pkg.exports !== undefined) {
    const exp = pkg.exports;
    const isSubpathMap =
      typeof exp === 'object' &&
      exp !== null &&
      !Array.isArray(exp) &&
      Object.keys(exp).some((k) => k.startsWith('.'));
    target = exportTarget(
      isSubpathMap
        ? (exp as { readonly [key: string]: ExportsField })[subpath]
        : subpath === '.'
          ? exp
          : undefined,
    );
    if (!target) {
      throw new SluiceError(
        ErrorCodes.pluginLoad,
        `The plugin package "${spec}" (${dir}) exports no "${subpath}" entry for import.`,
      );
    }
  } else if (subpath !== '.') {
    target = subpath;
  } else {
    target =
      typeof pkg.module === 'string'
        ? pkg.module
        : typeof pkg.main === 'string'
          ? pkg.main
          : 'index.js';
  }
  const file = resolve(dir, target);
  if (!(await stat(file).catch(() => undefined))) {
    throw new SluiceError(
      ErrorCodes.pluginLoad,
      `The entry point "${target}" of the plugin "${spec}" (${dir}) does not exist${target.includes('dist') ? ': build the plugin first' : ''}.`,
    );
  }
  return file;
}
