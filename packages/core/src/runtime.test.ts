import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  allApplied,
  coreServices,
  defineSink,
  defineSource,
  type SinkRecord,
  type SourceBatch,
  type SourceHandler,
  type SourceRunOptions,
} from '@sluice/plugin-api';
import { quietLogger } from '../test/support/pipeline.js';
import { loadConfig } from './config/application/loadConfig.js';
import { PluginRegistry } from './registry.js';
import { SluiceRuntime } from './runtime.js';
import { createLogger } from './observability/logger.js';

const message = (id: number) =>
  JSON.stringify({
    data: [{ id: String(id) }],
    database: 'db',
    es: 1_700_000_000_000,
    id,
    isDdl: false,
    mysqlType: { id: 'int' },
    old: null,
    pkNames: ['id'],
    sql: '',
    sqlType: { id: 4 },
    table: 't',
    ts: 1_700_000_000_001,
    type: 'INSERT',
  });

/** A source the test feeds batch by batch; runs until its signal aborts. */
function gateSource() {
  const queue: SourceBatch[] = [];
  let wake: (() => void) | undefined;
  const delivered: number[] = [];
  let offset = 0;
  const push = (id: number) => {
    queue.push({ partition: '0', messages: [{ offset: String(offset++), payload: message(id) }] });
    wake?.();
  };
  const definition = defineSource({
    name: 'file',
    create: () => ({
      connect: async () => {},
      async run(handler: SourceHandler, options: SourceRunOptions) {
        while (!options.signal.aborted) {
          const batch = queue.shift();
          if (!batch) {
            await new Promise<void>((resolve) => {
              wake = resolve;
              options.signal.addEventListener('abort', () => resolve(), { once: true });
            });
            continue;
          }
          await handler.deliver(batch);
          delivered.push(Number(batch.messages[0]!.offset));
        }
      },
      commit: async () => {},
      close: async () => {},
    }),
  });
  return { definition, push, delivered };
}

function recordingSink(withMappings = false) {
  const written: SinkRecord[] = [];
  const mappings = {
    directories: ['recording'],
    schema: {
      type: 'object' as const,
      required: ['database', 'table'],
      properties: {
        destination: { type: 'string' as const },
        groupId: { type: 'string' as const },
        outerAdapterKey: { type: 'string' as const },
        database: { type: 'string' as const },
        table: { type: 'string' as const },
      },
    },
    tables: (m: Readonly<Record<string, unknown>>) => [
      { database: String(m['database']), table: String(m['table']) },
    ],
  };
  const definition = defineSink({
    name: 'recording',
    ...(withMappings ? { mappings } : {}),
    create: () => ({
      connect: async () => {},
      write: async (batch) => {
        written.push(...batch);
        return allApplied(batch);
      },
      flush: async () => {},
      close: async () => {},
    }),
  });
  return { definition, written };
}

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !condition(); i++) await new Promise((r) => setTimeout(r, 5));
  expect(condition()).toBe(true);
}

async function setup(
  options: { mapping?: boolean; logger?: ReturnType<typeof createLogger>; plugins?: boolean } = {},
) {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-runtime-'));
  if (options.mapping) {
    await mkdir(join(dir, 'recording'));
    await writeFile(
      join(dir, 'recording', 't.yml'),
      'destination: example\ngroupId: g1\nouterAdapterKey: rec\ndatabase: db\ntable: t\n',
    );
  }
  await writeFile(
    join(dir, 'application.yml'),
    [
      'canal.conf:',
      '  mode: file',
      '  consumerProperties:',
      '    file.path: in.jsonl',
      '  canalAdapters:',
      '  - instance: example',
      '    groups:',
      '    - groupId: g1',
      '      outerAdapters:',
      '      - name: recording',
      '        key: rec',
      'sluice:',
      '  deadLetter:',
      `    dir: ${join(dir, 'dlq')}`,
      '',
    ].join('\n'),
  );
  const source = gateSource();
  const sink = recordingSink(options.mapping);
  const registry = new PluginRegistry();
  registry.register(source.definition, 'test');
  registry.register(sink.definition, 'test');
  const config = await loadConfig(dir, { plugins: registry });
  const runtime = new SluiceRuntime({
    config,
    registry,
    logger: options.logger ?? quietLogger(),
    once: false,
  });
  return { source, sink, runtime, dir };
}

describe('SluiceRuntime', () => {
  it('gives each group’s source and sinks a logger carrying its destination and group', async () => {
    const lines: Record<string, unknown>[] = [];
    const logger = createLogger({ write: (l) => lines.push(JSON.parse(l)), level: 'warn' });
    const dir = await mkdtemp(join(tmpdir(), 'sluice-runtime-log-'));
    await writeFile(
      join(dir, 'application.yml'),
      [
        'canal.conf:',
        '  mode: chatty',
        '  canalAdapters:',
        '  - instance: orders',
        '    groups:',
        '    - groupId: g1',
        '      outerAdapters:',
        '      - name: noisy',
        '        key: n1',
        'sluice:',
        '  deadLetter:',
        `    dir: ${join(dir, 'dlq')}`,
        '',
      ].join('\n'),
    );
    const registry = new PluginRegistry();
    registry.register(
      defineSource({
        name: 'chatty',
        deps: { logger: coreServices.logger },
        create: (ctx) => {
          // A source that adds its own binding for the group, as the Kafka source does.
          const log = ctx.deps.logger.child({ groupId: 'g1', topic: 'orders' });
          return {
            connect: async () => log.warn('Broker not reachable; retrying.'),
            run: async (_h: SourceHandler, o: SourceRunOptions) =>
              new Promise<void>((r) => o.signal.addEventListener('abort', () => r())),
            commit: async () => {},
            close: async () => {},
          };
        },
      }),
      'test',
    );
    registry.register(
      defineSink({
        name: 'noisy',
        deps: { logger: coreServices.logger },
        create: (ctx) => ({
          connect: async () => ctx.deps.logger.warn('Target not reachable; retrying.'),
          write: async (batch) => allApplied(batch),
          flush: async () => {},
          close: async () => {},
        }),
      }),
      'test',
    );
    const config = await loadConfig(dir, { plugins: registry });
    const runtime = new SluiceRuntime({ config, registry, logger, once: false });
    await runtime.start();
    await until(() => lines.length >= 2);
    await runtime.stop(AbortSignal.timeout(5000));
    const source = lines.find((l) => l['msg'] === 'Broker not reachable; retrying.');
    const sink = lines.find((l) => l['msg'] === 'Target not reachable; retrying.');
    expect(source).toMatchObject({ destination: 'orders', groupId: 'g1', topic: 'orders' });
    expect(sink).toMatchObject({ destination: 'orders', groupId: 'g1' });
    // The file queue's depth is counted (nothing waits).
    expect(runtime.pipelines()[0]!.deadLetterDepth).toBe(0);
  });

  it('untilStopped: runs beforeStop, then stops with the signal’s reason, and resolves once closed', async () => {
    const { source, sink, runtime } = await setup();
    await runtime.start();
    source.push(1);
    await until(() => sink.written.length === 1);
    const order: string[] = [];
    const controller = new AbortController();
    const waiting = runtime.untilStopped(controller.signal, async () => {
      order.push(`beforeStop, stopping=${runtime.stopping}`);
      throw new Error('ignored');
    });
    let settled = false;
    void waiting.finally(() => (settled = true));
    await new Promise((r) => setTimeout(r, 20));
    expect(settled).toBe(false); // runs until the signal aborts
    controller.abort(new Error('SIGTERM'));
    await waiting;
    order.push(`done, stopped=${runtime.pipelines()[0]!.stopped}`);
    expect(order).toEqual(['beforeStop, stopping=false', 'done, stopped=true']);
    expect(runtime.summary()).toMatchObject({ applied: 1 });
  });

  it('untilStopped: stops at once on a signal already aborted, and rethrows a failure only when not aborted', async () => {
    const first = await setup();
    await first.runtime.start();
    await first.runtime.untilStopped(AbortSignal.abort());
    expect(first.runtime.pipelines()[0]!.stopped).toBe(true);

    const second = await setup();
    await expect(second.runtime.untilStopped(new AbortController().signal)).rejects.toThrow(
      'SluiceRuntime was not started.',
    );
    await expect(second.runtime.untilStopped(AbortSignal.abort())).resolves.toBeUndefined();
  });

  it('shows its pipelines and health, pauses a destination with its sync switch, and stops', async () => {
    const { source, sink, runtime } = await setup();
    expect(runtime.destinations()).toEqual(['example']);
    expect(runtime.pipelines()[0]).toMatchObject({
      destination: 'example',
      groupId: 'g1',
      sourceConnected: false,
      stopped: false,
    });
    await runtime.start();
    source.push(1);
    await until(() => sink.written.length === 1);
    expect(runtime.health().every((c) => c.ok)).toBe(true);
    const [pipeline] = runtime.pipelines();
    expect(pipeline).toMatchObject({
      sourceConnected: true,
      sinks: [{ key: 'rec', connected: true, applied: 1, deadLettered: 0 }],
      partitions: [{ partition: '0', inFlight: 0 }],
      paused: false,
    });
    expect(pipeline!.latestExecutedAt).toBe(1_700_000_000_000);

    await runtime.setSyncSwitch('example', 'off');
    expect(runtime.syncSwitch('example')).toBe('off');
    expect(runtime.syncSwitch('nope')).toBe('off');
    source.push(2);
    await new Promise((r) => setTimeout(r, 50));
    expect(sink.written).toHaveLength(1); // held while the switch is off
    expect(runtime.pipelines()[0]!.paused).toBe(true);
    await runtime.setSyncSwitch('example', 'on');
    await until(() => sink.written.length === 2);

    // A stop while the switch is off still ends (a paused deliver gives way to shutdown).
    await runtime.setSyncSwitch('example', 'off');
    source.push(3);
    await runtime.stop(AbortSignal.timeout(5000));
    await runtime.finished;
    expect(runtime.pipelines()[0]!.stopped).toBe(true);
    expect(runtime.health().find((c) => c.name.startsWith('pipeline'))).toMatchObject({
      ok: false,
    });
    expect(runtime.summary()).toMatchObject({ applied: 2, deadLettered: 0 });
  });

  it('keeps the plugin sinks’ mappings in force when the watcher reloads (a file event in the configuration directory)', async () => {
    const { source, sink, runtime, dir } = await setup({ mapping: true });
    await runtime.start();
    expect(runtime.mappings().map((m) => m.file)).toEqual(['recording/t.yml']);
    source.push(1);
    await until(() => sink.written.length === 1);
    // Anything written into the configuration directory wakes the watcher (the dead-letter
    // directory lives there by default); the reload must find the plugin's mapping files again.
    await writeFile(join(dir, 'unrelated.txt'), 'x');
    await writeFile(
      join(dir, 'recording', 't.yml'),
      'destination: example\ngroupId: g1\nouterAdapterKey: rec\ndatabase: db\ntable: t\n# touched\n',
    );
    for (let i = 0; i < 200 && !runtime.mappings()[0]?.digest.length; i++)
      await new Promise((r) => setTimeout(r, 10));
    const digest = runtime.mappings()[0]!.digest;
    await until(() => runtime.mappings()[0]?.digest !== digest);
    expect(runtime.mappings().map((m) => m.file)).toEqual(['recording/t.yml']);
    source.push(2);
    await until(() => sink.written.length === 2);
    expect(
      sink.written.map((r) => (r.event.kind === 'row' ? r.event.after?.['id'] : undefined)),
    ).toEqual(['1', '2']);
    await runtime.stop();
  });
});
