import { resolvePipelineSettings, type PipelineSettings } from './pipeline/settings.js';
import {
  FatalError,
  type Logger,
  type SinkInstance,
  type SourceInstance,
} from '@sluice/plugin-api';
import { dataSourcesOf } from './config/application/dataSources.js';
import type { ConfiguredMapping, ResolvedConfig } from './config/application/types.js';
import { MappingIndex } from './mappings/mappingIndex.js';
import { MappingWatcher } from './mappings/mappingWatcher.js';
import {
  deadLetterDir,
  deadLetterQueueOf,
  deadLetterTransportOf,
  type RoutingDeadLetterQueue,
} from './deadLetter/transport.js';
import { ReaderDeadLetterDepth } from './deadLetter/readerDepth.js';
import { deadLetterFileName } from './deadLetter/fileQueue.js';
import { FileDeadLetterDepth } from './deadLetter/fileDepth.js';
import { join } from 'node:path';
import { MetricsRegistry } from './metrics.js';
import { createGroupSinks } from './groupSinks.js';
import {
  PipelineEngine,
  type EngineSink,
  type PartitionView,
  type SinkView,
} from './pipeline/engine.js';
import { SourceHandle } from './pipeline/connection.js';
import { maxAttempts } from './pipeline/retry.js';
import type { EtlLockLease, HealthCheck, SwitchState } from './admin/adminRuntime.js';
import { payloadFormatOf, pipelineSettingsOf } from './pipeline/fromConfig.js';
import { ZooKeeperSyncSwitch } from './admin/zooKeeperSyncSwitch.js';
import { ZooKeeperEtlLock, etlLockPath } from './admin/zooKeeperEtlLock.js';
import type { PluginRegistry } from './registry.js';

/** Options of {@link runSluice} (and, without `signal`, of {@link SluiceRuntime}). */
export interface RunOptions {
  readonly config: ResolvedConfig;
  readonly registry: PluginRegistry;
  readonly logger: Logger;
  /** Drain what is available, then return. */
  readonly once: boolean;
  /** Aborted on SIGINT/SIGTERM: stop intake, finish the batch in hand, close. */
  readonly signal: AbortSignal;
  readonly metrics?: MetricsRegistry;
}

/** Options of a {@link SluiceRuntime}. */
export type SluiceRuntimeOptions = Omit<RunOptions, 'signal'>;

/** One pipeline (`canalAdapters[].groups[]` entry) of a running {@link SluiceRuntime}. */
export interface PipelineInfo {
  /** `canalAdapters[].instance`. */
  readonly destination: string;
  readonly groupId: string;
  /** The source plugin connected (its connect succeeded). */
  readonly sourceConnected: boolean;
  readonly sinks: readonly SinkView[];
  /** Partitions held now, with events in flight and committed offsets. */
  readonly partitions: readonly PartitionView[];
  /** Events in flight over every partition. */
  readonly inFlight: number;
  /** `executedAt` (ms) of the newest event applied; 0 before the first. */
  readonly latestExecutedAt: number;
  /**
   * Seconds behind the binlog now: the largest partition lag (grows while events wait, stays at
   * the last applied event's lag when idle); null before the first applied event.
   */
  readonly lagSeconds: number | null;
  /**
   * Dead letters of the destination waiting in the queue (not replayed or dropped), as last
   * counted (`file`: every scrape and every 5 s; `kafka`: every 30 s); null when the transport
   * cannot count them, or before its first count.
   */
  readonly deadLetterDepth: number | null;
  /** Intake paused by the destination's sync switch. */
  readonly paused: boolean;
  /** The pipeline ended (drained with `--once`, stopped, or failed). */
  readonly stopped: boolean;
  /** Why it failed, when it did. */
  readonly error?: string;
}

/** What `sluice start --once` prints at the end: per sink instance, events applied and dead-lettered. */
export interface RunSummary {
  /** Events applied, over every sink instance. */
  readonly applied: number;
  /** Dead letters written: events sinks rejected plus messages that could not be decoded. */
  readonly deadLettered: number;
  /** Source messages that were not canal messages (dead-lettered once per group). */
  readonly undecodable: number;
  /**
   * A pipeline stopped with events still in flight (the shutdown deadline passed): they were not
   * committed and are applied again by the next run.
   */
  readonly unfinished: boolean;
  readonly sinks: readonly {
    readonly destination: string;
    readonly groupId: string;
    readonly key: string;
    readonly applied: number;
    readonly deadLettered: number;
  }[];
}

/** One sink instance of a running {@link SluiceRuntime} (see {@link SluiceRuntime.sinkInstances}). */
export interface SinkInstanceInfo {
  readonly destination: string;
  readonly groupId: string;
  /** `outerAdapters[].name`: the adapter type (`rdb`, `es8`, `redis`, a plugin's name). */
  readonly name: string;
  /** `outerAdapters[].key`. */
  readonly key: string;
  readonly instance: SinkInstance;
}

interface Group {
  readonly destination: string;
  readonly groupId: string;
  readonly outers: readonly { readonly name: string; readonly key: string }[];
  readonly sinks: readonly EngineSink[];
  readonly source: SourceInstance;
  readonly sourceHandle: SourceHandle;
  readonly engine: PipelineEngine;
  readonly logger: Logger;
  error?: unknown;
  done: boolean;
}

/**
 * The running Sluice of one configuration directory: every `canalAdapters[].groups[]` entry as a
 * pipeline (source → engine → sinks), the mapping watcher and the dead-letter queue. What
 * `sluice start`, `dlq replay` and the admin API use; the read methods may be called at any time,
 * concurrently with the pipelines.
 *
 * Lifecycle: construct (plugins created, no I/O) → {@link start} (sources connect with backoff
 * and canal's `retries`, sinks connect in parallel, pipelines run) → {@link finished} settles when
 * every pipeline ended (`once` drained, {@link stop} called, or a fatal error in one group, which
 * stops the others cleanly) → sources, sinks and the dead-letter queue are closed, in parallel,
 * bounded by `shutdownTimeoutMs`.
 */
export class SluiceRuntime {
  /** The metrics registry every pipeline and plugin reports to. */
  readonly metrics: MetricsRegistry;
  readonly #o: SluiceRuntimeOptions;
  readonly #settings: PipelineSettings;
  readonly #stopAll = new AbortController();
  readonly #groups: Group[] = [];
  readonly #deadLetter: RoutingDeadLetterQueue;
  /** Counts the `file` queue's waiting records; undefined for other transports. */
  readonly #deadLetterDepth: FileDeadLetterDepth | undefined;
  /** Counts another transport's waiting records when its reader can (Kafka); else undefined. */
  readonly #transportDepth: ReaderDeadLetterDepth | undefined;
  #depthTimer: NodeJS.Timeout | undefined;
  readonly #switches = new Map<string, SwitchState>();
  readonly #startedAt = Date.now();
  #mappings: readonly ConfiguredMapping[];
  /** canal's distributed sync switch, when `canal.conf.zookeeperHosts` is set. */
  readonly #shared: ZooKeeperSyncSwitch | undefined;
  /** canal's distributed ETL lock, when `canal.conf.zookeeperHosts` is set. */
  readonly #etlLock: ZooKeeperEtlLock | undefined;
  /** Settles once the shared switch was read (at once without one); pipelines wait for it. */
  #switchReady: Promise<void> = Promise.resolve();
  #watcher: MappingWatcher | undefined;
  #finished: Promise<void> | undefined;
  #stopRequested = false;

  /** Builds every pipeline (no I/O). Throws a coded error on a configuration problem. */
  constructor(options: SluiceRuntimeOptions) {
    this.#o = options;
    const { config, registry, logger } = options;
    this.#mappings = config.mappings;
    this.metrics =
      options.metrics ??
      new MetricsRegistry({ prefix: config.sluice.metrics.prefix, processMetrics: true });
    this.#settings = resolvePipelineSettings(pipelineSettingsOf(config));
    // Core services live in a child container of the registry's (resolved by the refs' ids):
    // one scope per group, so that every log line of its source and sinks (connection failures,
    // retries) carries the destination and group.
    const dataSources = dataSourcesOf(config);
    const scopeOf = (groupLogger: Logger) =>
      registry.scope({
        logger: groupLogger,
        metrics: this.metrics,
        clock: { now: () => Date.now() },
        dataSources,
      });
    registry.source(config.canal.mode, 'canal.conf.mode'); // fail before anything starts
    this.#deadLetter = deadLetterQueueOf(config, registry);
    if (config.sluice.deadLetter.type === 'file') {
      const dir = deadLetterDir(config);
      this.#deadLetterDepth = new FileDeadLetterDepth(
        new Map(
          config.canal.canalAdapters.map((a) => [
            a.instance,
            join(dir, deadLetterFileName(a.instance)),
          ]),
        ),
      );
      this.metrics.beforeCollect(() => this.refreshDeadLetterDepth());
    } else {
      const transport = deadLetterTransportOf(config, registry);
      const readers = new Map(
        config.canal.canalAdapters.map((a) => [a.instance, transport.reader(a.instance)] as const),
      );
      if ([...readers.values()].every((r) => typeof r.depth === 'function')) {
        this.#transportDepth = new ReaderDeadLetterDepth(readers);
        // A scrape sets the gauge from the last count and asks for a new one when it is older
        // than 10 s, without waiting for the broker.
        this.metrics.beforeCollect(() => {
          if (Date.now() - this.#transportDepth!.countedAt > 10_000)
            void this.refreshDeadLetterDepth();
          this.#setTransportDepth();
        });
      }
    }
    this.#shared =
      config.canal.zookeeperHosts.trim() === ''
        ? undefined
        : new ZooKeeperSyncSwitch({
            hosts: config.canal.zookeeperHosts.trim(),
            logger: logger.child({ component: 'syncSwitch' }),
            sessionTimeoutMs: config.sluice.zookeeper.sessionTimeoutMs,
          });
    this.#etlLock =
      config.canal.zookeeperHosts.trim() === ''
        ? undefined
        : new ZooKeeperEtlLock({
            hosts: config.canal.zookeeperHosts.trim(),
            logger: logger.child({ component: 'etlLock' }),
            sessionTimeoutMs: config.sluice.zookeeper.sessionTimeoutMs,
          });
    const index = MappingIndex.of(config);
    const s = this.#settings;
    for (const adapter of config.canal.canalAdapters) {
      this.#switches.set(adapter.instance, 'on');
      for (const group of adapter.groups) {
        const groupLogger = logger.child({ destination: adapter.instance, groupId: group.groupId });
        const plugins = scopeOf(groupLogger);
        const sinks = createGroupSinks(
          config,
          registry,
          plugins,
          index,
          { destination: adapter.instance, groupId: group.groupId },
          group.outerAdapters,
        );
        const source = plugins.createSource(
          config.canal.mode,
          {
            instance: adapter.instance,
            groupId: group.groupId,
            properties: config.canal.consumerProperties,
            configDir: config.dir,
          },
          'canal.conf.mode',
        );
        const sourceHandle = new SourceHandle(
          `"${config.canal.mode}" (destination "${adapter.instance}", group "${group.groupId}")`,
          source,
          {
            logger: groupLogger,
            backoff: { baseMs: s.retryBaseMs, maxMs: s.retryMaxMs },
            maxAttempts: maxAttempts(s.retries),
          },
        );
        const engine = new PipelineEngine({
          destination: adapter.instance,
          groupId: group.groupId,
          format: payloadFormatOf(config),
          source,
          sinks,
          deadLetter: this.#deadLetter,
          logger: groupLogger,
          metrics: this.metrics,
          tcpMode: config.canal.mappingKeyScheme === 'tcp',
          settings: pipelineSettingsOf(config),
        });
        this.metrics.beforeCollect(() => engine.refreshLag());
        this.#groups.push({
          destination: adapter.instance,
          groupId: group.groupId,
          outers: group.outerAdapters,
          sinks,
          source,
          sourceHandle,
          engine,
          logger: groupLogger,
          done: false,
        });
      }
    }
  }

  /**
   * Starts every pipeline and the mapping watcher (not with `once`). Resolves at once; the
   * pipelines connect and run in the background ({@link finished}). Call once.
   */
  start(): Promise<void> {
    if (this.#finished) throw new Error('SluiceRuntime.start was called twice.');
    const { config, logger } = this.#o;
    logger.info(`Dead letters go to ${this.#deadLetter.location}.`, {
      deadLetterType: config.sluice.deadLetter.type,
    });
    if (!this.#o.once) {
      // The registry tells the watcher each plugin's mapping directories and schemas; without
      // it a reload finds no mapping file and would take every mapping out of force.
      this.#watcher = new MappingWatcher(config, {
        plugins: this.#o.registry,
        onReload: (reload) => {
          this.#mappings = reload.mappings;
          const next = new MappingIndex(reload.mappings, config.canal.mappingKeyScheme);
          for (const change of reload.changes) {
            for (const g of this.#groups) {
              if (g.outers.some((s) => s.key === change.sink.key && s.name === change.sink.name))
                g.engine.replaceMappings(change.sink.key, next.routes(change.sink));
            }
          }
          for (const problem of reload.problems)
            logger.warn('Mapping file problem; the previous version stays in force.', { problem });
        },
        onError: (error) =>
          logger.warn('Reloading the mapping files failed.', { error: (error as Error).message }),
      });
    }
    const shared = this.#shared;
    if (shared) {
      this.#switchReady = shared
        .start(this.destinations(), (destination, state) => this.#applySwitch(destination, state))
        .then((states) => {
          for (const [destination, state] of states) this.#applySwitch(destination, state);
          logger.info('Shared sync switch read from ZooKeeper.', {
            zookeeperHosts: config.canal.zookeeperHosts,
            switches: Object.fromEntries(states),
          });
        });
      this.#switchReady.catch(() => undefined);
    }
    if (this.#deadLetterDepth || this.#transportDepth) {
      void this.refreshDeadLetterDepth();
      // File: a stat per file, every 5 s; a broker (two admin requests per destination): 30 s.
      const every = this.#deadLetterDepth ? 5_000 : 30_000;
      this.#depthTimer = setInterval(() => void this.refreshDeadLetterDepth(), every);
      this.#depthTimer.unref();
    }
    const runs = this.#groups.map((g) => this.#run(g));
    this.#watcher?.start();
    this.#finished = this.#finish(runs);
    this.#finished.catch(() => undefined);
    return Promise.resolve();
  }

  /**
   * Settles once every pipeline ended and everything was closed; rejects with the first failure
   * (unless {@link stop} was called first).
   */
  get finished(): Promise<void> {
    if (!this.#finished) return Promise.reject(new Error('SluiceRuntime was not started.'));
    return this.#finished;
  }

  /**
   * Stops intake everywhere, drains (bounded by `shutdownTimeoutMs`), commits and closes; resolves
   * once done, or when `signal` aborts first (the shutdown goes on in the background).
   */
  async stop(signal?: AbortSignal, reason: unknown = new Error('Stopped.')): Promise<void> {
    if (!this.#stopAll.signal.aborted) this.#stopRequested = true;
    this.#stopAll.abort(reason);
    if (!this.#finished) return;
    const done = this.#finished.catch(() => undefined);
    if (!signal) return done;
    await Promise.race([
      done,
      new Promise<void>((resolve) =>
        signal.addEventListener('abort', () => resolve(), { once: true }),
      ),
    ]);
  }

  /**
   * Waits for a started runtime to end, stopping it when `signal` aborts (at once when it already
   * has): `beforeStop` runs first (its failure is ignored), then {@link stop} with the signal's
   * reason. Resolves when {@link finished} settles; rejects with the runtime's failure unless
   * `signal` aborted. What `runSluice` and `sluice start` do after {@link start}.
   */
  async untilStopped(signal: AbortSignal, beforeStop?: () => Promise<void>): Promise<void> {
    const onAbort = () =>
      void (async () => {
        await beforeStop?.().catch(() => undefined);
        await this.stop(undefined, signal.reason);
      })();
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
    try {
      await this.finished;
    } catch (error) {
      if (!signal.aborted) throw error;
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }

  /** True once {@link stop} was called (or a fatal error stopped every pipeline). */
  get stopping(): boolean {
    return this.#stopAll.signal.aborted;
  }

  /** Every configured destination (`canalAdapters[].instance`), in configuration order. */
  destinations(): string[] {
    return [...this.#switches.keys()];
  }

  /** The configuration this runtime runs. */
  get config(): ResolvedConfig {
    return this.#o.config;
  }

  /** Where dead letters go, for status lines (no secrets). */
  get deadLetterLocation(): string {
    return this.#deadLetter.location;
  }

  /** When the runtime was built (ms since the epoch). */
  get startedAt(): number {
    return this.#startedAt;
  }

  /** The valid mapping files in force now (as reloaded by the mapping watcher). */
  mappings(): readonly ConfiguredMapping[] {
    return this.#mappings;
  }

  /**
   * Every sink instance of every pipeline: its adapter name, key, destination and group, and the
   * instance itself (for the admin API's `etl`/`count`, which run beside the stream).
   */
  sinkInstances(): SinkInstanceInfo[] {
    return this.#groups.flatMap((g) =>
      g.outers.flatMap((outer) => {
        const sink = g.sinks.find((s) => s.key === outer.key);
        return sink
          ? [
              {
                destination: g.destination,
                groupId: g.groupId,
                name: outer.name,
                key: outer.key,
                instance: sink.instance,
              },
            ]
          : [];
      }),
    );
  }

  /**
   * Counts the dead letters waiting per destination again (`file` queue: one `stat` per file and
   * the bytes appended since; see {@link FileDeadLetterDepth}) and sets the `dead_letter_depth`
   * gauge. Runs at every scrape and every 5 s; never rejects.
   */
  async refreshDeadLetterDepth(): Promise<void> {
    if (this.#transportDepth) {
      await this.#transportDepth.refresh();
      this.#setTransportDepth();
    }
    if (!this.#deadLetterDepth) return;
    const depths = await this.#deadLetterDepth.refresh();
    for (const [destination, n] of depths)
      this.metrics.gauge('dead_letter_depth', n, { destination, type: 'file' });
  }

  #setTransportDepth(): void {
    const type = this.#o.config.sluice.deadLetter.type;
    for (const [destination, n] of this.#transportDepth?.current() ?? [])
      this.metrics.gauge('dead_letter_depth', n, { destination, type });
  }

  /** The pipelines, in configuration order. */
  pipelines(): PipelineInfo[] {
    const depths = this.#deadLetterDepth?.current() ?? this.#transportDepth?.current();
    return this.#groups.map((g) => {
      const partitions = g.engine.partitions();
      return {
        destination: g.destination,
        groupId: g.groupId,
        sourceConnected: g.sourceHandle.connected,
        sinks: g.engine.sinks(),
        partitions,
        inFlight: partitions.reduce((n, p) => n + p.inFlight, 0),
        latestExecutedAt: g.engine.latestExecutedAt,
        lagSeconds: g.engine.lagSeconds(),
        deadLetterDepth: this.#deadLetterDepth
          ? (depths?.get(g.destination) ?? 0)
          : (depths?.get(g.destination) ?? null),
        paused: g.engine.paused,
        stopped: g.done || g.engine.stopped,
        ...(g.error !== undefined ? { error: (g.error as Error).message ?? String(g.error) } : {}),
      };
    });
  }

  /** Readiness: every source and sink connected, no pipeline stopped. */
  health(): HealthCheck[] {
    const checks: HealthCheck[] = [];
    for (const p of this.pipelines()) {
      const name = `${p.destination}/${p.groupId}`;
      checks.push(
        p.sourceConnected
          ? { name: `source ${name}`, ok: true }
          : { name: `source ${name}`, ok: false, reason: 'not connected' },
      );
      for (const s of p.sinks)
        checks.push(
          s.connected
            ? { name: `sink ${s.key} (${name})`, ok: true }
            : { name: `sink ${s.key} (${name})`, ok: false, reason: 'not connected' },
        );
      checks.push(
        p.stopped
          ? { name: `pipeline ${name}`, ok: false, reason: p.error ?? 'stopped' }
          : { name: `pipeline ${name}`, ok: true },
      );
    }
    return checks;
  }

  /** The sync switch of a destination; `off` for an unknown one (as canal answers). */
  syncSwitch(destination: string): SwitchState {
    return this.#switches.get(destination) ?? 'off';
  }

  /**
   * Turns a destination's intake on or off (every group of it): off lets the batches in hand
   * finish, then takes no new message until on again (canal's `syncSwitch`). Unknown
   * destinations are ignored.
   */
  async setSyncSwitch(destination: string, state: SwitchState): Promise<void> {
    if (!this.#switches.has(destination)) return;
    // Shared (canal.conf.zookeeperHosts): the node is written first, so every process sharing
    // the ZooKeeper follows; a failed write leaves this process unchanged and rejects.
    if (this.#shared) await this.#shared.set(destination, state);
    this.#applySwitch(destination, state);
  }

  /**
   * Takes canal's distributed ETL lock of (adapter type, destination) —
   * `/canal-adapter/sync-etl/<type>-<destination>` in the ZooKeeper of `canal.conf.zookeeperHosts`,
   * waiting at most 500 ms as canal does (`EtlLock.tryLock`). Without `zookeeperHosts` there is
   * no distributed lock: resolves with a lease that does nothing (the admin API's in-process lock
   * still allows one ETL per (type, destination) in this process).
   *
   * @returns the lease, or undefined when another process holds the lock.
   * @throws Error when ZooKeeper cannot be reached.
   */
  async tryEtlLock(type: string, destination: string): Promise<EtlLockLease | undefined> {
    if (!this.#etlLock) return { release: () => Promise.resolve() };
    return this.#etlLock.tryAcquire(etlLockPath(type, destination));
  }

  #applySwitch(destination: string, state: SwitchState): void {
    if (!this.#switches.has(destination)) return;
    this.#switches.set(destination, state);
    for (const g of this.#groups)
      if (g.destination === destination) {
        if (state === 'off') g.engine.pause();
        else g.engine.resume();
      }
  }

  /** Events applied and dead-lettered so far, per sink instance (what `--once` prints at the end). */
  summary(): RunSummary {
    const sinks = this.#groups.flatMap((g) =>
      g.engine.sinks().map((s) => ({
        destination: g.destination,
        groupId: g.groupId,
        key: s.key,
        applied: s.applied,
        deadLettered: s.deadLettered,
      })),
    );
    const undecodable = [...new Set(this.#groups.map((g) => g.destination))].reduce(
      (n, destination) => n + this.metrics.value('messages_undecodable_total', { destination }),
      0,
    );
    return {
      applied: sinks.reduce((n, s) => n + s.applied, 0),
      deadLettered: sinks.reduce((n, s) => n + s.deadLettered, 0) + undecodable,
      undecodable,
      unfinished: this.#groups.some((g) => g.engine.abandoned),
      sinks,
    };
  }

  async #run(g: Group): Promise<void> {
    const stopAll = this.#stopAll;
    try {
      await this.#switchReady;
      await g.sourceHandle.connect(stopAll.signal);
      await this.#prepareDeadLetters(g, stopAll.signal);
      this.#o.logger.info('Started.', {
        destination: g.destination,
        groupId: g.groupId,
        sinks: g.sinks.map((s) => s.key),
      });
      await g.engine.run({ once: this.#o.once, signal: stopAll.signal });
    } catch (error) {
      if (!stopAll.signal.aborted || g.engine.fatal !== undefined) g.error = error;
      stopAll.abort(error);
      throw error;
    } finally {
      g.done = true;
      await this.#close(g);
    }
  }

  /**
   * Checks the group's dead-letter queue before anything is consumed (a RabbitMQ queue is
   * declared): a `FatalError` (no permission) fails the start with its message; anything else
   * (the broker is away now) is logged, and writes retry later.
   */
  async #prepareDeadLetters(g: Group, signal: AbortSignal): Promise<void> {
    try {
      await this.#deadLetter.prepareFor(g.destination, signal);
    } catch (error) {
      if (error instanceof FatalError) throw error;
      g.logger.warn('Could not check the dead-letter queue at start; writes to it are retried.', {
        deadLetter: this.#deadLetter.queueFor(g.destination).location,
        error: (error as Error).message,
      });
    }
  }

  /** Bounded, parallel teardown: a sink or source stuck closing cannot hold the others up. */
  async #close(g: Group): Promise<void> {
    const deadline = AbortSignal.timeout(this.#settings.shutdownTimeoutMs);
    const gaveUp = new Promise<void>((resolve) =>
      deadline.addEventListener('abort', () => resolve(), { once: true }),
    );
    const closing = Promise.all([
      g.source
        .close(deadline)
        .catch((error: unknown) =>
          g.logger.warn('Closing the source failed.', { error: (error as Error).message }),
        ),
      ...g.sinks.map((sink) =>
        sink.instance.close(deadline).catch((error: unknown) =>
          g.logger.warn(`Closing sink "${sink.key}" failed.`, {
            error: (error as Error).message,
          }),
        ),
      ),
    ]);
    await Promise.race([closing, gaveUp]);
    if (deadline.aborted) g.logger.warn('Closing took longer than the shutdown timeout.');
  }

  async #finish(runs: readonly Promise<void>[]): Promise<void> {
    const results = await Promise.allSettled(runs);
    this.#watcher?.close();
    clearInterval(this.#depthTimer);
    await this.#transportDepth?.close(AbortSignal.timeout(5_000));
    this.#shared?.close();
    this.#etlLock?.close();
    await this.#deadLetter.close(AbortSignal.timeout(this.#settings.shutdownTimeoutMs));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed && !this.#stopRequested) throw failed.reason;
  }
}

/**
 * Runs every `canalAdapters[].groups[]` of the configuration until `once` drains or `signal`
 * aborts: a {@link SluiceRuntime} started and awaited. Rejects with the first failure (not after
 * `signal` aborted). Returns the runtime for its {@link SluiceRuntime.summary}.
 */
export async function runSluice(options: RunOptions): Promise<SluiceRuntime> {
  const { signal, ...rest } = options;
  const runtime = new SluiceRuntime(rest);
  await runtime.start();
  await runtime.untilStopped(signal);
  return runtime;
}
