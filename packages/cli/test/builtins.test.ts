import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { formatReport, validateConfigDir } from '@sluice/core';
import {
  createBuiltinRegistry,
  registerRemainingBuiltins,
  registersAll,
  usedPluginNames,
} from '../src/builtins.js';
import { checkConfiguration } from '../src/commands/validate.js';

const cli = fileURLToPath(new URL('..', import.meta.url));
const repo = fileURLToPath(new URL('../../..', import.meta.url));

const SINKS = ['es6', 'es7', 'es8', 'logger', 'rdb', 'redis'];
const SOURCES = ['file', 'kafka', 'rabbitmq', 'rocketmq', 'tcp'];

async function configDir(yaml: string, subdirs: readonly string[] = []): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-builtins-'));
  await writeFile(join(dir, 'application.yml'), yaml);
  for (const d of subdirs) await mkdir(join(dir, d));
  return dir;
}

/** An application.yml of the Kafka source (unreachable broker) and one adapter, then `more`. */
const kafkaConfig = (adapter: string, more = '') => `canal.conf:
  mode: kafka
  consumerProperties:
    kafka.bootstrap.servers: 127.0.0.1:1
  canalAdapters:
  - instance: t
    groups:
    - groupId: g
      outerAdapters:
      - name: ${adapter}
${more}`;

describe('built-in plugins', () => {
  it('registers every built-in name and alias when nothing says which are used', async () => {
    const all = await createBuiltinRegistry();
    expect(all.sinkNames()).toEqual(SINKS);
    expect(all.sourceNames()).toEqual(SOURCES);
  });

  it('imports, for each name, the plugin that registers it, and only that one', async () => {
    for (const name of SINKS) {
      const registry = await createBuiltinRegistry({ sinks: [name], sources: [] });
      expect(registry.sink(name).name, name).toBe(name.startsWith('es') ? 'es8' : name);
      expect(registry.sourceNames(), name).toEqual([]);
      expect(registry.sinkNames(), name).toEqual(
        name.startsWith('es') ? ['es6', 'es7', 'es8'] : [name],
      );
    }
    for (const name of SOURCES) {
      const registry = await createBuiltinRegistry({ sinks: [], sources: [name] });
      expect(registry.source(name).name, name).toBe(name);
      expect(registry.sourceNames(), name).toEqual([name]);
      expect(registry.sinkNames(), name).toEqual([]);
    }
  });

  it('adds the remaining built-ins on request, and tells whether every used name is registered', async () => {
    const used = { sinks: ['rdb', 'es9'], sources: ['kafka'] };
    const registry = await createBuiltinRegistry(used);
    expect(registry.sinkNames()).toEqual(['rdb']);
    expect(registry.sourceNames()).toEqual(['kafka']);
    expect(registersAll(registry, used)).toBe(false);
    expect(registersAll(registry, { sinks: ['rdb'], sources: ['kafka'] })).toBe(true);
    expect(registersAll(registry, { sinks: ['rdb'], sources: ['kafka', 'tcp'] })).toBe(false);
    // Only the clashing ones: none here, so nothing is added.
    expect(await registerRemainingBuiltins(registry, false)).toEqual([]);
    expect(registry.sinkNames()).toEqual(['rdb']);
    // All: the rest, without registering rdb or kafka twice.
    expect(await registerRemainingBuiltins(registry, true)).toEqual([]);
    expect(registry.sinkNames()).toEqual(SINKS);
    expect(registry.sourceNames()).toEqual(SOURCES);
  });

  it('reports an unknown adapter name against every built-in name, as before the lazy import', async () => {
    const dir = await configDir(kafkaConfig('es9'));
    const { result, registry } = await checkConfiguration(dir);
    expect(result.ok).toBe(false);
    expect(formatReport(result.problems)).toContain(
      'unknown adapter "es9" (expected one of logger, rdb, es6, es7, es8, redis)',
    );
    expect(registry.sinkNames()).toEqual(SINKS);
  });

  it('reads the used names from the adapters, the mode, the dead-letter type and the mapping directories', async () => {
    const dir = await configDir(
      `canal.conf:
  mode: rabbitMQ
  canalAdapters:
  - instance: q1
    groups:
    - groupId: g
      outerAdapters:
      - name: rdb
        key: r1
      - name: logger
  - instance: q2
    groups:
    - groupId: g
      outerAdapters:
      - name: rdb
        key: r2
sluice:
  deadLetter:
    type: kafka
`,
      ['es7', 'redis', 'notes', 'rdb'],
    );
    await writeFile(join(dir, 'hbase'), 'a file, not a directory');
    // A mapping directory may be a symbolic link to one kept elsewhere.
    const elsewhere = await mkdtemp(join(tmpdir(), 'sluice-builtins-es8-'));
    await symlink(elsewhere, join(dir, 'es8'));
    const { config } = await validateConfigDir(dir, { requirePlugins: false });
    const used = await usedPluginNames(config!, dir);
    expect([...used.sinks].sort()).toEqual(['es7', 'es8', 'logger', 'rdb', 'redis']);
    expect([...used.sources].sort()).toEqual(['kafka', 'rabbitmq']);
    // The file dead-letter queue is core's own: no source plugin for it.
    const fileDlq = await configDir(
      `canal.conf:
  mode: kafka
  canalAdapters:
  - instance: t
    groups:
    - groupId: g
      outerAdapters:
      - name: logger
sluice:
  deadLetter:
    type: file
`,
    );
    const second = await validateConfigDir(fileDlq, { requirePlugins: false });
    expect(await usedPluginNames(second.config!, fileDlq)).toEqual({
      sinks: ['logger'],
      sources: ['kafka'],
    });
  });

  it('refuses a configured plugin that takes the name of a built-in one, used or not', async () => {
    const api = join(repo, 'packages/plugin-api/dist/index.js');
    const plugin = (name: string, aliases: readonly string[] = []) =>
      `import { allApplied, defineSink } from ${JSON.stringify(api)};
export default defineSink({
  name: ${JSON.stringify(name)},
  aliases: ${JSON.stringify(aliases)},
  description: 'a test sink',
  create: () => ({ async connect() {}, async write(b) { return allApplied(b); }, async flush() {}, async close() {} }),
});
`;
    for (const [name, aliases, taken] of [
      ['rdb', [], 'sink name "rdb"'],
      ['es7', [], 'sink alias "es7"'],
      ['mysink', ['redis'], 'sink name "redis"'],
    ] as const) {
      const dir = await configDir(kafkaConfig('logger', 'sluice:\n  plugins:\n  - ./custom.mjs\n'));
      await writeFile(join(dir, 'custom.mjs'), plugin(name, aliases));
      const { result } = await checkConfiguration(dir);
      expect(result.ok, name).toBe(false);
      expect(formatReport(result.problems), name).toMatch(
        new RegExp(`${taken} is registered twice: .*Remove one of them from sluice.plugins`),
      );
    }
  });

  /** What `checkConfiguration` of `dir` registers and which clients it loads, in a fresh process. */
  async function checkInFreshProcess(dir: string): Promise<Record<string, unknown>> {
    // A fresh process, so that the module cache holds only what this check imported.
    const script = `
import { createRequire } from 'node:module';
const { checkConfiguration } = await import('./dist/commands/validate.js');
const { result, registry } = await checkConfiguration(${JSON.stringify(dir)});
const loaded = Object.keys(createRequire(import.meta.url).cache);
console.log(JSON.stringify({
  ok: result.ok,
  sinks: registry.sinkNames(),
  sources: registry.sourceNames(),
  clients: ['@elastic/elasticsearch', 'mysql2', 'ioredis', 'kafkajs', 'amqplib', 'node_modules/pg/']
    .filter((c) => loaded.some((k) => k.includes(c))),
  modules: loaded.length,
}));`;
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--input-type=module', '-e', script],
      { cwd: cli },
    );
    return JSON.parse(stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
  }

  it('`sluice start` and `validate` import only the built-in plugins a configuration uses', async () => {
    const loggerOnly = await configDir(`canal.conf:
  mode: file
  canalAdapters:
  - instance: ${JSON.stringify(join(tmpdir(), 'sluice-builtins-none.jsonl'))}
    groups:
    - groupId: g
      outerAdapters:
      - name: logger
`);
    const seen = await checkInFreshProcess(loggerOnly);
    expect(seen).toMatchObject({ sinks: ['logger'], sources: ['file'], clients: [] });
    expect(seen['modules']).toBeGreaterThan(0); // the check can see loaded modules at all
    // A third-party sink from sluice.plugins beside the Kafka source: the plugin and kafka only.
    const plugin = join(repo, 'test/bench/kafka-noop-sink.mjs');
    const withPlugin = await configDir(
      kafkaConfig('noop', `sluice:\n  plugins:\n  - ${JSON.stringify(plugin)}\n`),
    );
    expect(await checkInFreshProcess(withPlugin)).toMatchObject({
      ok: true,
      sinks: ['noop'],
      sources: ['kafka'],
      clients: ['kafkajs'],
    });
  });
});
