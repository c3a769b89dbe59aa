import { describe, expect, it } from 'vitest';
import {
  ErrorCodes,
  SINK_BRAND,
  SluiceError,
  allApplied,
  coreServices,
  defineSink,
  defineSource,
  type Clock,
  type Logger,
  type SinkInstance,
  type SourceInstance,
} from '@sluice/plugin-api';
import { createLogger } from './logger.js';
import { MetricsRegistry } from './metrics.js';
import { PluginRegistry } from './registry.js';

const sinkInstance = (): SinkInstance => ({
  connect: async () => {},
  write: async (batch) => allApplied(batch),
  flush: async () => {},
  close: async () => {},
});
const sourceInstance = (): SourceInstance => ({
  connect: async () => {},
  run: async () => {},
  commit: async () => {},
  close: async () => {},
});

const services = () => ({
  logger: createLogger({ write: () => {} }),
  metrics: new MetricsRegistry(),
  clock: { now: () => 42 },
  dataSources: { get: () => undefined, keys: () => [] },
});

/** The SluiceError `fn` throws (fails the test when it does not throw one). */
function caught(fn: () => unknown): SluiceError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(SluiceError);
    return error as SluiceError;
  }
  throw new Error('expected an error');
}

describe('PluginRegistry.register', () => {
  it('finds sinks by name and alias, and sources by name', () => {
    const registry = new PluginRegistry();
    const es = defineSink({ name: 'es', aliases: ['es7', 'es8'], create: sinkInstance });
    registry.register(es, 'built-in es');
    registry.register(defineSource({ name: 'file', create: sourceInstance }), 'built-in file');
    expect(registry.sink('es')).toBe(es);
    expect(registry.sink('es8')).toBe(es);
    expect(registry.sinkNames()).toEqual(['es', 'es7', 'es8']);
    expect(registry.sourceNames()).toEqual(['file']);
    expect(registry.origin('sink', 'es7')).toBe('built-in es');
  });

  it('recognises a definition by its brand, not its class (another copy of the API)', () => {
    const registry = new PluginRegistry();
    const foreign = Object.freeze({
      $$type: SINK_BRAND,
      apiVersion: 1,
      name: 'foreign',
      deps: {},
      coalescing: false,
      create: sinkInstance,
    });
    registry.register(foreign, '/elsewhere/index.js');
    expect(registry.sink('foreign')).toBe(foreign);
  });

  it('keeps sink and source names apart', () => {
    const registry = new PluginRegistry();
    registry.register(defineSink({ name: 'kafka', create: sinkInstance }), 'a');
    registry.register(defineSource({ name: 'kafka', create: sourceInstance }), 'b');
    expect(registry.sink('kafka').name).toBe('kafka');
    expect(registry.source('kafka').name).toBe('kafka');
  });

  it('refuses an unknown name, naming it, where it was used and the known plugins', () => {
    const registry = new PluginRegistry();
    registry.register(defineSink({ name: 'logger', create: sinkInstance }), 'built-in logger');
    const error = caught(() => registry.sink('elasticsearch', 'outerAdapters "es-1"'));
    expect(error.code).toBe(ErrorCodes.pluginNotFound);
    expect(error.message).toContain('"elasticsearch"');
    expect(error.message).toContain('outerAdapters "es-1"');
    expect(error.message).toContain('known sinks: logger');
    expect(caught(() => registry.source('kafka')).message).toContain('known sources: none');
  });

  it('refuses a duplicate name, naming both plugins and both origins', () => {
    const registry = new PluginRegistry();
    registry.register(
      defineSink({ name: 'logger', create: sinkInstance }),
      'built-in @sluice/sink-logger',
    );
    const error = caught(() =>
      registry.register(
        defineSink({ name: 'logger', create: sinkInstance }),
        'sluice.plugins "./my-logger.js" (/cfg/my-logger.js)',
      ),
    );
    expect(error.code).toBe(ErrorCodes.pluginDuplicate);
    expect(error.message).toContain('built-in @sluice/sink-logger');
    expect(error.message).toContain('sluice.plugins "./my-logger.js"');
    expect(error.message).toMatch(/sink name "logger"/);
  });

  it('refuses an alias that collides with another plugin, and registers nothing of the loser', () => {
    const registry = new PluginRegistry();
    registry.register(defineSink({ name: 'es7', create: sinkInstance }), 'first');
    const error = caught(() =>
      registry.register(
        defineSink({ name: 'es', aliases: ['es8', 'es7'], create: sinkInstance }),
        'second',
      ),
    );
    expect(error.code).toBe(ErrorCodes.pluginDuplicate);
    expect(error.message).toContain('sink alias "es7"');
    expect(error.message).toContain('"first"');
    expect(error.message).toContain('"second"');
    expect(registry.sinkNames()).toEqual(['es7']);
  });

  it('refuses an incompatible apiVersion, naming the plugin and both versions', () => {
    const registry = new PluginRegistry();
    const future = {
      $$type: SINK_BRAND,
      apiVersion: 2,
      name: 'future',
      deps: {},
      create: sinkInstance,
    };
    const error = caught(() => registry.register(future, '/plugins/future.js'));
    expect(error.code).toBe(ErrorCodes.pluginVersion);
    expect(error.message).toContain('"future"');
    expect(error.message).toContain('/plugins/future.js');
    expect(error.message).toContain('plugin API 2');
    expect(error.message).toContain('plugin API 1');
    expect(() => registry.sink('future')).toThrow(/No sink plugin/);
    const missing = { $$type: SINK_BRAND, name: 'old', deps: {}, create: sinkInstance };
    expect(caught(() => registry.register(missing, 'x')).message).toContain('plugin API undefined');
  });

  it.each([
    ['a plain object', { name: 'x', create: sinkInstance }],
    ['a class instance', new (class Sink {})()],
    ['null', null],
    ['a string', '@sluice/plugin-api:sink'],
  ])('refuses %s that is not a branded definition', (_what, value) => {
    const error = caught(() =>
      new PluginRegistry().register(value, 'sluice.plugins "./bad.js" (/cfg/bad.js)'),
    );
    expect(error.code).toBe(ErrorCodes.pluginInvalid);
    expect(error.message).toContain('./bad.js');
  });

  it.each([
    ['no name', { name: '' }],
    ['a non-text alias', { aliases: [3] }],
    ['no create', { create: undefined }],
    ['a dep that is not a ref', { deps: { logger: 'core.logger' } }],
  ])('refuses a branded definition with %s', (_what, patch) => {
    const def = {
      $$type: SINK_BRAND,
      apiVersion: 1,
      name: 'broken',
      deps: {},
      create: sinkInstance,
      ...patch,
    };
    expect(caught(() => new PluginRegistry().register(def, 'origin')).code).toBe(
      ErrorCodes.pluginInvalid,
    );
  });

  it('refuses a dependency on a service the core does not provide, naming plugin and service', () => {
    const def = defineSink({
      name: 'needy',
      deps: { kafka: { id: 'acme.kafka' } },
      create: sinkInstance,
    });
    const error = caught(() => new PluginRegistry().register(def, '/p/needy.js'));
    expect(error.code).toBe(ErrorCodes.pluginDependency);
    expect(error.message).toContain('"needy"');
    expect(error.message).toContain('"acme.kafka"');
    expect(error.message).toContain('core.logger');
  });

  it('keeps registries apart: one per runtime', () => {
    const a = new PluginRegistry();
    const b = new PluginRegistry();
    a.register(defineSink({ name: 'only-a', create: sinkInstance }), 'a');
    expect(() => b.sink('only-a')).toThrow(/No sink plugin/);
    b.register(defineSink({ name: 'only-a', create: sinkInstance }), 'b');
  });
});

describe('PluginRegistry.scope', () => {
  it('hands create exactly the declared services, resolved by ref id', () => {
    const registry = new PluginRegistry();
    let seen: { logger: Logger; clock: Clock } | undefined;
    registry.register(
      defineSink({
        name: 'deps',
        deps: { logger: coreServices.logger, clock: coreServices.clock },
        create(ctx) {
          seen = ctx.deps;
          expect(ctx.configDir).toBe('/cfg');
          return sinkInstance();
        },
      }),
      'test',
    );
    const s = services();
    registry.scope(s).createSink('deps', {
      key: 'k',
      name: 'deps',
      hosts: undefined,
      properties: {},
      configDir: '/cfg',
    });
    expect(seen?.logger).toBe(s.logger);
    expect(seen?.clock.now()).toBe(42);
    expect(Object.keys(seen ?? {})).toEqual(['logger', 'clock']);
  });

  it('throws, naming plugin and service, when a plugin reads a service it did not declare', () => {
    const registry = new PluginRegistry();
    registry.register(
      defineSource({
        name: 'sneaky',
        deps: { logger: coreServices.logger },
        create(ctx) {
          void (ctx.deps as unknown as Record<string, unknown>)['metrics'];
          return sourceInstance();
        },
      }),
      '/p/sneaky.js',
    );
    const error = caught(() =>
      registry
        .scope(services())
        .createSource('sneaky', { instance: 'i', groupId: 'g', properties: {}, configDir: '/cfg' }),
    );
    expect(error.code).toBe(ErrorCodes.pluginDependency);
    expect(error.message).toContain('source plugin "sneaky"');
    expect(error.message).toContain('deps.metrics');
  });

  it('throws, naming plugin and service, when a declared service is not registered in the scope', () => {
    const registry = new PluginRegistry({ serviceIds: ['core.logger', 'acme.cache'] });
    registry.register(
      defineSink({ name: 'cached', deps: { cache: { id: 'acme.cache' } }, create: sinkInstance }),
      '/p/cached.js',
    );
    const error = caught(() =>
      registry.scope(services()).createSink('cached', {
        key: 'k',
        name: 'cached',
        hosts: undefined,
        properties: {},
        configDir: '/',
      }),
    );
    expect(error.code).toBe(ErrorCodes.pluginDependency);
    expect(error.message).toContain('"cached"');
    expect(error.message).toContain('"acme.cache"');
  });

  it('gives each scope its own services', () => {
    const registry = new PluginRegistry();
    const clocks: number[] = [];
    registry.register(
      defineSink({
        name: 't',
        deps: { clock: coreServices.clock },
        create: (ctx) => (clocks.push(ctx.deps.clock.now()), sinkInstance()),
      }),
      'test',
    );
    const ctx = { key: 'k', name: 't', hosts: undefined, properties: {}, configDir: '/' };
    registry.scope({ ...services(), clock: { now: () => 1 } }).createSink('t', ctx);
    registry.scope({ ...services(), clock: { now: () => 2 } }).createSink('t', ctx);
    expect(clocks).toEqual([1, 2]);
  });

  it('refuses an unknown plugin name in a scope', () => {
    expect(() =>
      new PluginRegistry()
        .scope(services())
        .createSink(
          'nope',
          { key: 'k', name: 'nope', hosts: undefined, properties: {}, configDir: '/' },
          'outerAdapters "k"',
        ),
    ).toThrow(/No sink plugin is named "nope" \(used by outerAdapters "k"\)/);
  });
});
