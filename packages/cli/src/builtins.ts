import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { PluginRegistry, type ResolvedConfig } from '@sluice/core';

/**
 * A plugin that ships with Sluice: the names (and aliases) it registers, and how to import its
 * definition. Imported only when a configuration uses one of its names: the Elasticsearch client
 * alone takes ~0.6 s to load and, with the other sinks' clients, ~80 MiB of resident memory that a
 * Kafka → rdb process never uses.
 */
interface BuiltinPlugin {
  readonly kind: 'sink' | 'source';
  /** Its name and aliases, as its definition declares them (checked by the tests). */
  readonly names: readonly string[];
  readonly origin: string;
  readonly load: () => Promise<unknown>;
}

/** A built-in plugin: the definition `exportName` of package `pkg`, imported when first needed. */
const builtin = (
  kind: BuiltinPlugin['kind'],
  names: readonly string[],
  pkg: string,
  exportName: string,
): BuiltinPlugin => ({
  kind,
  names,
  origin: `built-in ${pkg}`,
  load: async () => ((await import(pkg)) as Record<string, unknown>)[exportName],
});

const BUILTINS: readonly BuiltinPlugin[] = [
  builtin('source', ['file'], '@sluice/source-file', 'fileSource'),
  builtin('sink', ['logger'], '@sluice/sink-logger', 'loggerSink'),
  builtin('sink', ['es8', 'es7', 'es6'], '@sluice/sink-es', 'esSink'),
  builtin('sink', ['rdb'], '@sluice/sink-rdb', 'rdbSink'),
  builtin('sink', ['redis'], '@sluice/sink-redis', 'redisSink'),
  builtin('source', ['kafka'], '@sluice/source-kafka', 'kafkaSource'),
  builtin('source', ['rabbitmq'], '@sluice/source-rabbitmq', 'rabbitmqSource'),
  builtin('source', ['rocketmq'], '@sluice/source-rocketmq', 'rocketmqSource'),
  builtin('source', ['tcp'], '@sluice/source-tcp', 'tcpSource'),
];

/** The plugin names a configuration uses, by kind (see {@link usedPluginNames}). */
export interface UsedPluginNames {
  readonly sinks: readonly string[];
  readonly sources: readonly string[];
}

/**
 * The names of the built-in plugins to load for a configuration: its sinks (every
 * `outerAdapters[].name`, and every subdirectory of the configuration directory named like a
 * built-in sink: its mapping files are validated even when no adapter uses them, as when every
 * plugin was loaded), its source (`canal.conf.mode`) and its dead-letter transport
 * (`sluice.deadLetter.type`, a source plugin unless `file`).
 */
export async function usedPluginNames(
  config: ResolvedConfig,
  dir: string,
): Promise<UsedPluginNames> {
  const sinks = new Set(
    config.canal.canalAdapters.flatMap((a) =>
      a.groups.flatMap((g) => g.outerAdapters.map((o) => o.name)),
    ),
  );
  // stat follows symbolic links: a mapping directory may be a link to one kept elsewhere.
  const sinkNames = BUILTINS.filter((b) => b.kind === 'sink').flatMap((b) => b.names);
  const present = await Promise.all(
    sinkNames.map((name) =>
      stat(join(dir, name)).then(
        (s) => s.isDirectory(),
        () => false,
      ),
    ),
  );
  sinkNames.forEach((name, i) => {
    if (present[i]) sinks.add(name);
  });
  const sources = new Set([config.canal.mode]);
  if (config.sluice.deadLetter.type !== 'file') sources.add(config.sluice.deadLetter.type);
  return { sinks: [...sinks], sources: [...sources] };
}

/**
 * Registers the built-in plugins not registered yet, after the configuration's own plugins:
 * with `all`, every one (a used name nothing provides is then reported against every built-in
 * name); otherwise only those a configured plugin took a name of. Either way a configured
 * plugin that takes a built-in name is refused as when every built-in was registered first,
 * whether or not the configuration uses that built-in.
 *
 * @returns one error per clash (`SLUICE_ERR_PLUGIN_DUPLICATE`, naming both plugins); the
 *   clashing built-in is left out.
 * @throws Error when a built-in plugin's package cannot be imported (a broken installation).
 */
export async function registerRemainingBuiltins(
  registry: PluginRegistry,
  all: boolean,
): Promise<Error[]> {
  const wanted = BUILTINS.filter(
    (b) =>
      !b.names.some((n) => registry.origin(b.kind, n) === b.origin) &&
      (all || b.names.some((n) => registry.origin(b.kind, n) !== undefined)),
  );
  return register(registry, wanted);
}

/** True when every name of `used` is registered in `registry`. */
export function registersAll(registry: PluginRegistry, used: UsedPluginNames): boolean {
  return (
    used.sinks.every((n) => registry.origin('sink', n) !== undefined) &&
    used.sources.every((n) => registry.origin('source', n) !== undefined)
  );
}

/**
 * A new registry holding the plugins that ship with Sluice, each imported on first use: with
 * `used`, those that register one of its names; without, all of them. Each call returns a fresh
 * registry with its own container; plugins from `sluice.plugins` are added to it by
 * `loadConfiguredPlugins`, then {@link registerRemainingBuiltins}.
 *
 * @throws Error when a built-in plugin's package cannot be imported (a broken installation).
 */
export async function createBuiltinRegistry(used?: UsedPluginNames): Promise<PluginRegistry> {
  const wanted = BUILTINS.filter(
    (b) =>
      used === undefined ||
      b.names.some((n) => (b.kind === 'sink' ? used.sinks : used.sources).includes(n)),
  );
  const registry = new PluginRegistry();
  const [refused] = await register(registry, wanted);
  if (refused) throw refused;
  return registry;
}

/**
 * Imports `plugins` (all at once) and registers each in `registry`, in table order.
 *
 * @returns the error of each registration {@link PluginRegistry.register} refused.
 */
async function register(
  registry: PluginRegistry,
  plugins: readonly BuiltinPlugin[],
): Promise<Error[]> {
  const definitions = await Promise.all(plugins.map((b) => b.load()));
  const refused: Error[] = [];
  plugins.forEach((b, i) => {
    try {
      registry.register(definitions[i], b.origin);
    } catch (error) {
      refused.push(error as Error);
    }
  });
  return refused;
}
