import { readdir } from 'node:fs/promises';
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
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const entry of entries)
    if (
      entry.isDirectory() &&
      BUILTINS.some((b) => b.kind === 'sink' && b.names.includes(entry.name))
    )
      sinks.add(entry.name);
  const sources = new Set([config.canal.mode]);
  if (config.sluice.deadLetter.type !== 'file') sources.add(config.sluice.deadLetter.type);
  return { sinks: [...sinks], sources: [...sources] };
}

/**
 * Registers built-in plugins in `registry`, each imported on first use: with `used`, those that
 * register one of its names; without, every one not registered yet (so that a name nothing
 * provides is reported against every built-in name). Called once or twice per runtime, before
 * the configuration's own plugins are looked up.
 *
 * @throws Error when a built-in plugin's package cannot be imported (a broken installation);
 *   `SluiceError` from {@link PluginRegistry.register} when a name is taken.
 */
export async function registerBuiltins(
  registry: PluginRegistry,
  used?: UsedPluginNames,
): Promise<void> {
  const wanted = BUILTINS.filter((b) =>
    used === undefined
      ? registry.origin(b.kind, b.names[0]!) === undefined
      : b.names.some((n) => (b.kind === 'sink' ? used.sinks : used.sources).includes(n)),
  );
  const definitions = await Promise.all(wanted.map((b) => b.load()));
  wanted.forEach((b, i) => registry.register(definitions[i], b.origin));
}

/** True when every name of `used` is registered in `registry`. */
export function registersAll(registry: PluginRegistry, used: UsedPluginNames): boolean {
  return (
    used.sinks.every((n) => registry.origin('sink', n) !== undefined) &&
    used.sources.every((n) => registry.origin('source', n) !== undefined)
  );
}

/**
 * A new registry holding the plugins that ship with Sluice ({@link registerBuiltins}): with
 * `used`, only those of its names; without, all of them. Each call returns a fresh registry with
 * its own container; plugins from `sluice.plugins` are added to it by `loadConfiguredPlugins`.
 */
export async function createBuiltinRegistry(used?: UsedPluginNames): Promise<PluginRegistry> {
  const registry = new PluginRegistry();
  await registerBuiltins(registry, used);
  return registry;
}
