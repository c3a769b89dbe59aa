import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ErrorCodes, SluiceError, defineSink } from '@sluice/plugin-api';
import type { ResolvedConfig } from '../config/application/types.js';
import { PluginRegistry } from '../registry.js';
import { loadPlugins, pluginExports } from './loader.js';
import { loadConfiguredPlugins } from './specs.js';

/** A plugin module written as plain JavaScript: branded by string, like a separately built package. */
const sinkModule = (name: string, extra = '') => `
const create = () => ({ connect: async () => {}, write: async (b) => b.map(() => ({ status: 'applied' })), flush: async () => {}, close: async () => {} });
export const ${name.replace(/\W/g, '_')}Sink = Object.freeze({ $$type: '@sluice/plugin-api:sink', apiVersion: 1, name: '${name}', deps: {}, coalescing: false, create });
${extra}
`;

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sluice-loader-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function failure(promise: Promise<unknown>): Promise<SluiceError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(SluiceError);
  return error as SluiceError;
}

describe('loadPlugins', () => {
  it('loads a module by a path relative to the config dir (named export)', async () => {
    await mkdir(join(dir, 'conf'));
    await writeFile(join(dir, 'one.mjs'), sinkModule('one'));
    const registry = new PluginRegistry();
    const loaded = await loadPlugins(registry, ['../one.mjs'], { baseDir: join(dir, 'conf') });
    expect(loaded).toEqual([
      { spec: '../one.mjs', file: join(dir, 'one.mjs'), kind: 'sink', name: 'one' },
    ]);
    expect(registry.sink('one').name).toBe('one');
    expect(registry.origin('sink', 'one')).toBe(
      `sluice.plugins "../one.mjs" (${join(dir, 'one.mjs')})`,
    );
  });

  it('registers a default export once even when it is also a named export', async () => {
    await writeFile(join(dir, 'both.mjs'), sinkModule('both', 'export default bothSink;'));
    const registry = new PluginRegistry();
    expect(await loadPlugins(registry, ['./both.mjs'], { baseDir: dir })).toHaveLength(1);
  });

  it('accepts a default export that is an array of definitions', async () => {
    await writeFile(
      join(dir, 'many.mjs'),
      `${sinkModule('a')}\nconst b = { ...aSink, name: 'b' };\nexport default [aSink, b];\nexport const notAPlugin = 3;`,
    );
    const registry = new PluginRegistry();
    await loadPlugins(registry, ['./many.mjs'], { baseDir: dir });
    expect(registry.sinkNames()).toEqual(['a', 'b']);
  });

  it('loads a package directory through its package.json exports', async () => {
    const pkg = join(dir, 'my-sink');
    await mkdir(join(pkg, 'dist'), { recursive: true });
    await writeFile(
      join(pkg, 'package.json'),
      JSON.stringify({
        name: 'my-sink',
        type: 'module',
        exports: { '.': { types: './dist/index.d.ts', import: './dist/index.js' } },
      }),
    );
    await writeFile(join(pkg, 'dist', 'index.js'), sinkModule('mine'));
    const registry = new PluginRegistry();
    const [loaded] = await loadPlugins(registry, ['./my-sink'], { baseDir: dir });
    expect(loaded?.file).toBe(join(pkg, 'dist', 'index.js'));
  });

  it('finds an npm package name in node_modules above the config dir', async () => {
    const pkg = join(dir, 'node_modules', '@acme', 'sluice-sink-x');
    await mkdir(pkg, { recursive: true });
    await mkdir(join(dir, 'app', 'conf'), { recursive: true });
    await writeFile(
      join(pkg, 'package.json'),
      JSON.stringify({ name: '@acme/sluice-sink-x', type: 'module', main: 'main.js' }),
    );
    await writeFile(join(pkg, 'main.js'), sinkModule('acme'));
    const registry = new PluginRegistry();
    await loadPlugins(registry, ['@acme/sluice-sink-x'], { baseDir: join(dir, 'app', 'conf') });
    expect(registry.sink('acme').name).toBe('acme');
  });

  it('refuses a package that is not installed, naming it and where it looked', async () => {
    const error = await failure(
      loadPlugins(new PluginRegistry(), ['sluice-sink-does-not-exist'], { baseDir: dir }),
    );
    expect(error.code).toBe(ErrorCodes.pluginLoad);
    expect(error.message).toContain('"sluice-sink-does-not-exist"');
    expect(error.message).toContain(dir);
  });

  it('refuses a path that does not exist', async () => {
    const error = await failure(
      loadPlugins(new PluginRegistry(), ['./nowhere.js'], { baseDir: dir }),
    );
    expect(error.code).toBe(ErrorCodes.pluginLoad);
    expect(error.message).toContain('"./nowhere.js"');
    expect(error.message).toContain(join(dir, 'nowhere.js'));
  });

  it('refuses a package directory whose entry point is missing (not built)', async () => {
    await mkdir(join(dir, 'unbuilt'));
    await writeFile(
      join(dir, 'unbuilt', 'package.json'),
      JSON.stringify({ exports: './dist/index.js' }),
    );
    const error = await failure(loadPlugins(new PluginRegistry(), ['./unbuilt'], { baseDir: dir }));
    expect(error.code).toBe(ErrorCodes.pluginLoad);
    expect(error.message).toContain('build the plugin first');
  });

  it('wraps an error thrown while the module loads', async () => {
    await writeFile(join(dir, 'throws.mjs'), `throw new Error('boom at load');`);
    const error = await failure(
      loadPlugins(new PluginRegistry(), ['./throws.mjs'], { baseDir: dir }),
    );
    expect(error.code).toBe(ErrorCodes.pluginLoad);
    expect(error.message).toContain('boom at load');
    expect(error.message).toContain('./throws.mjs');
  });

  it('refuses a module that exports no branded definition', async () => {
    await writeFile(
      join(dir, 'empty.mjs'),
      `export const sink = { name: 'x', create() {} }; export default 42;`,
    );
    const error = await failure(
      loadPlugins(new PluginRegistry(), ['./empty.mjs'], { baseDir: dir }),
    );
    expect(error.code).toBe(ErrorCodes.pluginInvalid);
    expect(error.message).toContain('./empty.mjs');
  });

  it('refuses a plugin that duplicates a built-in, naming both', async () => {
    await writeFile(join(dir, 'logger.mjs'), sinkModule('logger'));
    const registry = new PluginRegistry();
    registry.register(
      defineSink({ name: 'logger', create: () => ({}) as never }),
      'built-in @sluice/sink-logger',
    );
    const error = await failure(loadPlugins(registry, ['./logger.mjs'], { baseDir: dir }));
    expect(error.code).toBe(ErrorCodes.pluginDuplicate);
    expect(error.message).toContain('built-in @sluice/sink-logger');
    expect(error.message).toContain('./logger.mjs');
  });

  it('refuses a plugin built for another API version', async () => {
    await writeFile(
      join(dir, 'v2.mjs'),
      sinkModule('v2').replace('apiVersion: 1', 'apiVersion: 2'),
    );
    const error = await failure(loadPlugins(new PluginRegistry(), ['./v2.mjs'], { baseDir: dir }));
    expect(error.code).toBe(ErrorCodes.pluginVersion);
    expect(error.message).toContain('"v2"');
  });

  it.each([[''], ['  ']])('refuses an empty entry %j', async (spec) => {
    expect((await failure(loadPlugins(new PluginRegistry(), [spec], { baseDir: dir }))).code).toBe(
      ErrorCodes.config,
    );
  });
});

describe('pluginExports', () => {
  it('ignores non-objects and unbranded values', () => {
    expect(pluginExports(undefined)).toEqual([]);
    expect(pluginExports({ default: { $$type: 'other' }, x: 1 })).toEqual([]);
  });
});

describe('loadConfiguredPlugins', () => {
  it('loads sluice.plugins relative to the configuration directory', async () => {
    await mkdir(join(dir, 'conf'));
    await writeFile(join(dir, 'p.mjs'), sinkModule('configured'));
    const registry = new PluginRegistry();
    const config = {
      dir: join(dir, 'conf'),
      sluice: { plugins: ['../p.mjs'] },
    } as unknown as ResolvedConfig;
    await loadConfiguredPlugins(registry, config);
    expect(registry.sink('configured').name).toBe('configured');
  });

  it('loads nothing when sluice.plugins is empty', async () => {
    const registry = new PluginRegistry();
    const config = { dir, sluice: { plugins: [] } } as unknown as ResolvedConfig;
    expect(await loadConfiguredPlugins(registry, config)).toEqual([]);
    expect(registry.sinkNames()).toEqual([]);
  });
});
