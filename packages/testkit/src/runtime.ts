/**
 * `startTestRuntime`: a whole Sluice runtime wired by the core, as `sluice start` wires it
 * (configuration loading and validation, plugin registry, mapping routing, pipeline engine,
 * dead-letter queue), but fed by an in-memory source and writing to the sinks you register.
 *
 * A separate entry point (`@sluice/testkit/runtime`) because it needs `@sluice/core` (an optional
 * peer dependency), which the rest of the testkit, and plugin authors' tests, do not.
 *
 * @packageDocumentation
 */
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type {
  DeadLetterRecord,
  Logger,
  ServiceDeps,
  SinkDefinition,
  SourceDefinition,
} from '@sluice/plugin-api';
import { MemorySource, createMemorySourcePlugin } from './memorySource.js';

/**
 * The part of `@sluice/core` this module uses. The core is loaded at run time (an optional peer
 * dependency), not compiled against: the testkit builds before the core, whose tests use the
 * testkit's doubles.
 */
interface CoreModule {
  PluginRegistry: new () => { register(definition: unknown, origin: string): void };
  createLogger(output: { write(line: string): void }): Logger;
  loadConfig(dir: string, options: { plugins: unknown }): Promise<unknown>;
  runSluice(options: {
    config: unknown;
    registry: unknown;
    logger: Logger;
    once: boolean;
    signal: AbortSignal;
  }): Promise<void>;
}

const CORE = '@sluice/core';

async function loadCore(): Promise<CoreModule> {
  try {
    return (await import(CORE)) as CoreModule;
  } catch (error) {
    throw new Error(
      `startTestRuntime needs @sluice/core next to @sluice/testkit (install it as a dev dependency): ${(error as Error).message}`,
      { cause: error },
    );
  }
}

/** Options of {@link startTestRuntime}. */
export interface TestRuntimeOptions {
  /**
   * Sink plugins to register (e.g. `createMemorySinkPlugin().definition`). The default
   * configuration attaches one adapter per sink, named after it, in this order.
   */
  readonly sinks: readonly SinkDefinition<never, never, ServiceDeps>[];
  /** Extra source plugins to register (the in-memory source is always there, named `memory`). */
  readonly sources?: readonly SourceDefinition<ServiceDeps>[];
  /** The source the runtime reads (default a new {@link MemorySource}). */
  readonly source?: MemorySource;
  /**
   * The whole `application.yml`, when the default one does not fit. It should keep
   * `canal.conf.mode: memory` to read {@link TestRuntime.source}; `${deadLetterDir}` is replaced
   * by the runtime's dead-letter directory.
   */
  readonly applicationYml?: string;
  /** Mapping files by path relative to the configuration directory (`rdb/user.yml` → text). */
  readonly files?: Readonly<Record<string, string>>;
  /** `canalAdapters[].instance` of the default configuration. Default `test`. */
  readonly instance?: string;
  /** `groups[].groupId` of the default configuration. Default `g1`. */
  readonly groupId?: string;
  /** Lines under `sluice:` of the default configuration (e.g. `['pipeline:', '  lanes: 2']`). */
  readonly sluiceSettings?: readonly string[];
  /** Run like `sluice start --once`: deliver what the source holds, then stop. Default false. */
  readonly once?: boolean;
}

/** A running test runtime. */
export interface TestRuntime {
  /** The configuration directory (a temporary directory, removed by `stop`). */
  readonly configDir: string;
  /** The in-memory source it reads: `push` messages to feed it. */
  readonly source: MemorySource;
  /** Every log line the runtime wrote, as text. */
  readonly logs: readonly string[];
  /** Settles when the runtime stops by itself (`once` drained, or a fatal error). */
  readonly done: Promise<void>;
  /** The dead letters written so far (the runtime's file dead-letter queue, parsed). */
  deadLetters(): Promise<DeadLetterRecord[]>;
  /** Resolves when `condition()` holds (polled every 10 ms); rejects after `ms` (default 10 s). */
  waitFor(condition: () => boolean | Promise<boolean>, ms?: number): Promise<void>;
  /** Stops the runtime (like SIGTERM), waits for it, removes the configuration directory. */
  stop(): Promise<void>;
}

function defaultApplicationYml(options: TestRuntimeOptions): string {
  const adapters = options.sinks.flatMap((s) => [`      - name: ${s.name}`]);
  return [
    'canal.conf:',
    '  mode: memory',
    '  flatMessage: true',
    '  canalAdapters:',
    `  - instance: ${options.instance ?? 'test'}`,
    '    groups:',
    `    - groupId: ${options.groupId ?? 'g1'}`,
    '      outerAdapters:',
    ...adapters,
    'sluice:',
    '  deadLetter:',
    '    dir: ${deadLetterDir}',
    ...(options.sluiceSettings ?? []).map((l) => `  ${l}`),
    '',
  ].join('\n');
}

/**
 * Starts a Sluice runtime through the core's real wiring (`loadConfig` + `runSluice`) on a
 * temporary configuration directory, reading from an in-memory source and writing to the given
 * sink plugins, with the dead-letter queue in the same directory.
 *
 * ```ts
 * const memory = createMemorySinkPlugin();
 * const rt = await startTestRuntime({ sinks: [memory.definition] });
 * rt.source.push('0', toFlatMessage(new EventBuilder().insert('items', { id: '1' })));
 * await rt.waitFor(() => memory.target.table('testdb', 'items').size === 1);
 * await rt.stop();
 * ```
 *
 * @throws the core's `ConfigError` when the configuration is invalid (nothing is started).
 */
export async function startTestRuntime(options: TestRuntimeOptions): Promise<TestRuntime> {
  const configDir = await mkdtemp(join(tmpdir(), 'sluice-test-runtime-'));
  const deadLetterDir = join(configDir, '.dead-letters');
  const yml = (options.applicationYml ?? defaultApplicationYml(options)).replaceAll(
    '${deadLetterDir}',
    deadLetterDir,
  );
  await writeFile(join(configDir, 'application.yml'), yml);
  for (const [path, text] of Object.entries(options.files ?? {})) {
    await mkdir(dirname(join(configDir, path)), { recursive: true });
    await writeFile(join(configDir, path), text);
  }
  const { PluginRegistry, createLogger, loadConfig, runSluice } = await loadCore();
  const source = options.source ?? new MemorySource();
  const registry = new PluginRegistry();
  registry.register(createMemorySourcePlugin(source), 'testkit startTestRuntime');
  for (const definition of [...(options.sources ?? []), ...options.sinks])
    registry.register(definition, 'testkit startTestRuntime');
  const logs: string[] = [];
  const logger = createLogger({ write: (line: string) => void logs.push(line) });
  let config: unknown;
  try {
    config = await loadConfig(configDir, { plugins: registry });
  } catch (error) {
    await rm(configDir, { recursive: true, force: true });
    throw error;
  }
  const stopping = new AbortController();
  const done = runSluice({
    config,
    registry,
    logger,
    once: options.once ?? false,
    signal: stopping.signal,
  });
  done.catch(() => undefined); // observed through `done` / `stop`
  return {
    configDir,
    source,
    logs,
    done,
    async deadLetters() {
      const names = await readdir(deadLetterDir).catch(() => [] as string[]);
      const records: DeadLetterRecord[] = [];
      for (const name of names.sort()) {
        const text = await readFile(join(deadLetterDir, name), 'utf8');
        for (const line of text.split('\n'))
          if (line.trim() !== '') records.push(JSON.parse(line) as DeadLetterRecord);
      }
      return records;
    },
    async waitFor(condition, ms = 10_000) {
      const until = Date.now() + ms;
      while (!(await condition())) {
        if (Date.now() > until)
          throw new Error(`The condition did not hold within ${ms} ms. Logs:\n${logs.join('')}`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    },
    async stop() {
      stopping.abort();
      try {
        await done;
      } finally {
        await rm(configDir, { recursive: true, force: true });
      }
    },
  };
}
