import { describe, expectTypeOf, test } from 'vitest';
import {
  coreServices,
  defineSink,
  defineSource,
  type PLUGIN_API_VERSION,
  type SINK_BRAND,
  type Clock,
  type Logger,
  type SinkDefinition,
  type SinkInstance,
  type SourceInstance,
  type WriteResult,
} from '../src/index.js';

const instance: SinkInstance = {
  connect: async () => {},
  write: async (batch) => batch.map(() => ({ status: 'applied' as const })),
  flush: async () => {},
  close: async () => {},
};

describe('defineSink', () => {
  test('returns a branded definition typed by its inputs', () => {
    const sink = defineSink({ name: 'ok', create: () => instance });
    expectTypeOf(sink.$$type).toEqualTypeOf<typeof SINK_BRAND>();
    expectTypeOf(sink.apiVersion).toEqualTypeOf<typeof PLUGIN_API_VERSION>();
    expectTypeOf(sink).toMatchTypeOf<SinkDefinition>();
  });

  test('hands create the declared services under their keys, typed', () => {
    defineSink({
      name: 'deps',
      deps: { logger: coreServices.logger, clock: coreServices.clock },
      create(ctx) {
        expectTypeOf(ctx.deps.logger).toEqualTypeOf<Logger>();
        expectTypeOf(ctx.deps.clock).toEqualTypeOf<Clock>();
        // @ts-expect-error metrics was not declared
        void ctx.deps.metrics;
        expectTypeOf(ctx.configDir).toEqualTypeOf<string>();
        return instance;
      },
    });
  });

  test('rejects a sink without write', () => {
    defineSink({
      name: 'no-write',
      // @ts-expect-error `write` is required
      create: () => ({ connect: async () => {}, flush: async () => {}, close: async () => {} }),
    });
  });

  test('rejects a sink without flush or close', () => {
    defineSink({
      name: 'no-flush',
      // @ts-expect-error `flush` is required
      create: () => ({ connect: async () => {}, write: async () => [], close: async () => {} }),
    });
    defineSink({
      name: 'no-close',
      // @ts-expect-error `close` is required
      create: () => ({ connect: async () => {}, write: async () => [], flush: async () => {} }),
    });
  });

  test('rejects a write that does not return outcomes', () => {
    defineSink({
      name: 'bad-result',
      create: () => ({
        connect: async () => {},
        // @ts-expect-error write must resolve with a WriteResult (one outcome per record)
        write: async () => true,
        flush: async () => {},
        close: async () => {},
      }),
    });
    expectTypeOf<WriteResult>().toEqualTypeOf<
      readonly (
        { readonly status: 'applied' } | { readonly status: 'failed'; readonly error: Error }
      )[]
    >();
  });

  test('rejects a wrong apiVersion', () => {
    // @ts-expect-error this package implements plugin API 1
    defineSink({ name: 'future', apiVersion: 2, create: () => instance });
    defineSink({ name: 'current', apiVersion: 1, create: () => instance });
  });

  test('rejects a definition without a name', () => {
    // @ts-expect-error `name` is required
    defineSink({ create: () => instance });
  });

  test('rejects deps that are not service refs', () => {
    // @ts-expect-error deps values must be ServiceRefs
    defineSink({ name: 'bad-deps', deps: { logger: 'core.logger' }, create: () => instance });
  });
});

describe('defineSource', () => {
  const source: SourceInstance = {
    connect: async () => {},
    run: async () => {},
    commit: async () => {},
    close: async () => {},
  };

  test('rejects a source without commit and a wrong apiVersion', () => {
    defineSource({ name: 'ok', create: () => source });
    defineSource({
      name: 'no-commit',
      // @ts-expect-error `commit` is required
      create: () => ({ connect: async () => {}, run: async () => {}, close: async () => {} }),
    });
    // @ts-expect-error this package implements plugin API 1
    defineSource({ name: 'future', apiVersion: 3, create: () => source });
  });
});

describe('schemas are the types (Infer)', () => {
  test('properties are typed from propertiesSchema: enums, defaults, required, optional', () => {
    defineSink({
      name: 'typed',
      propertiesSchema: {
        type: 'object',
        required: ['url'],
        properties: {
          output: { type: 'string', enum: ['stdout', 'stderr'], default: 'stdout' },
          url: { type: 'string' },
          batch: { type: 'integer', default: 100 },
          tls: { type: 'boolean' },
          tags: { type: 'map', values: { type: 'string' } },
        },
      },
      create(ctx) {
        expectTypeOf(ctx.properties.output).toEqualTypeOf<'stdout' | 'stderr'>();
        expectTypeOf(ctx.properties.url).toEqualTypeOf<string>();
        expectTypeOf(ctx.properties.batch).toEqualTypeOf<number>();
        expectTypeOf(ctx.properties.tls).toEqualTypeOf<boolean | undefined>();
        expectTypeOf(ctx.properties.tags).toEqualTypeOf<
          Readonly<Record<string, string>> | undefined
        >();
        // @ts-expect-error not declared in the schema
        void ctx.properties.nope;
        return instance;
      },
    });
  });

  test('mapping content is typed from mappings.schema, in tables and check', () => {
    defineSink({
      name: 'mapped',
      mappings: {
        directories: ['mapped'],
        schema: {
          type: 'object',
          properties: {
            database: { type: 'string' },
            table: { type: 'string', default: '*' },
            keys: { type: 'array', items: { type: 'string' } },
          },
        },
        tables(mapping) {
          expectTypeOf(mapping.database).toEqualTypeOf<string | undefined>();
          expectTypeOf(mapping.table).toEqualTypeOf<string>();
          expectTypeOf(mapping.keys).toEqualTypeOf<readonly string[] | undefined>();
          return [{ database: mapping.database, table: mapping.table }];
        },
        check: (mapping) =>
          mapping.keys?.length === 0
            ? [{ severity: 'error', path: ['keys'], message: 'At least one key.' }]
            : [],
      },
      create: () => instance,
    });
  });

  test('a sink without a schema gets text properties', () => {
    defineSink({
      name: 'untyped',
      create(ctx) {
        expectTypeOf(ctx.properties).toEqualTypeOf<Readonly<Record<string, string>>>();
        return instance;
      },
    });
  });
});
