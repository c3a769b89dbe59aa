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

const BUILTINS: readonly BuiltinPlugin[] = [
  {
    kind: 'source',
    names: ['file'],
    origin: 'built-in @sluice/source-file',
    load: async () => (await import('@sluice/source-file')).fileSource,
  },
  {
    kind: 'sink',
    names: ['logger'],
    origin: 'built-in @sluice/sink-logger',
    load: async () => (await import('@sluice/sink-logger')).loggerSink,
  },
  {
    kind: 'sink',
    names: ['es8', 'es7', 'es6'],
    origin: 'built-in @sluice/sink-es',
    load: async () => (await import('@sluice/sink-es')).esSink,
  },
  {
    kind: 'sink',
    names: ['rdb'],
    origin: 'built-in @sluice/sink-rdb',
    load: async () => (await import('@sluice/sink-rdb')).rdbSink,
  },
  {
    kind: 'sink',
    names: ['redis'],
    origin: 'built-in @sluice/sink-redis',
    load: async () => (await import('@sluice/sink-redis')).redisSink,
  },
  {
    kind: 'source',
    names: ['kafka'],
    origin: 'built-in @sluice/source-kafka',
    load: async () => (await import('@sluice/source-kafka')).kafkaSource,
  },
  {
    kind: 'source',
    names: ['rabbitmq'],
    origin: 'built-in @sluice/source-rabbitmq',
    load: async () => (await import('@sluice/source-rabbitmq')).rabbitmqSource,
  },
  {
    kind: 'source',
    names: ['rocketmq'],
    origin: 'built-in @sluice/source-rocketmq',
    load: async () => (await import('@sluice/source-rocketmq')).rocketmqSource,
  },
  {
    kind: 'source',
    names: ['tcp'],
    origin: 'built-in @sluice/source-tcp',
    load: async () => (await import('@sluice/source-tcp')).tcpSource,
  },
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
