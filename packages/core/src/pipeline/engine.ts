import { setImmediate as nextTurn } from 'node:timers/promises';
import type {
  FatalError,
  ChangeEvent,
  Clock,
  Logger,
  MetricLabels,
  SinkInstance,
  SourceBatch,
  SourceHandler,
  SourceInstance,
} from '@sluice/plugin-api';
import type { DeadLetterQueue } from '../deadLetter/queue.js';
import { DeadLetterWriter } from '../deadLetter/writer.js';
import type { CoreMetrics } from '../observability/metrics.js';
import { Router, type MappingRoute } from '../router/router.js';
import { filterEvents, unroutedDeadLetter, type MessageOverride } from '../router/routeFilter.js';
import { AckTracker, type MessageTicket } from './ackTracker.js';
import { Applier, type ApplierEntry, type SourceOrigin } from './applier.js';
import { CommitCoordinator, SinkFlusher } from './commitCoordinator.js';
import type { MessageFormat } from './decodeMessage.js';
import { Ingest, payloadSize, type IngestCounts, type RoutedEntry } from './ingest.js';
import { resolvePipelineSettings, type OrderingMode, type PipelineSettings } from './settings.js';
import { SinkHandle } from './connection.js';

/**
 * Payload bytes `deliver` decodes before it lets the lanes run (one turn of the event loop). A
 * sink that keeps up then holds this much decoded (about 3× in objects: ~1.5 MiB, a few thousand
 * rows) instead of `maxInFlight` events, so rows die young and scavenges copy little; measured
 * with test/bench/engine.bench.mjs (BENCHMARKS.md, session 14). Bytes, not events: a table of
 * large rows yields sooner.
 */
export const YIELD_BYTES = 512 * 1024;

/** A sink instance of the group. */
export interface EngineSink {
  /** The instance key (`outerAdapters[].key`). */
  readonly key: string;
  readonly instance: SinkInstance;
  /** The sink definition declared coalescing safe. Used only with `per-key` ordering. */
  readonly coalescing?: boolean;
  /** Ordering of this instance; default the pipeline's. */
  readonly ordering?: OrderingMode;
  /** Mapping routes; `undefined` for a sink without mapping files (it gets every event). */
  readonly routes?: readonly MappingRoute[] | undefined;
}

/** Options of a {@link PipelineEngine}. */
export interface PipelineEngineOptions {
  /** `canalAdapters[].instance`. */
  readonly destination: string;
  /** `groups[].groupId`. */
  readonly groupId: string;
  readonly format: MessageFormat;
  readonly source: SourceInstance & { locate?(partition: string, offset: string): string };
  readonly sinks: readonly EngineSink[];
  readonly deadLetter: DeadLetterQueue;
  readonly logger: Logger;
  readonly metrics: CoreMetrics;
  readonly settings?: Partial<PipelineSettings>;
  /** canal tcp mode: mapping keys without the group id. */
  readonly tcpMode?: boolean;
  readonly clock?: Clock;
  /** Replay hook, see {@link MessageOverride}. */
  readonly messageOverride?: (partition: string, offset: string) => MessageOverride | undefined;
}

/** One partition a pipeline holds (see {@link PipelineEngine.partitions}). */
export interface PartitionView {
  readonly partition: string;
  /** Events decoded and not yet applied or dead-lettered by every sink. */
  readonly inFlight: number;
  /** The last offset committed for it (the next offset to read), when any. */
  readonly committed?: string;
}

/** One sink instance of a pipeline (see {@link PipelineEngine.sinks}). */
export interface SinkView {
  readonly key: string;
  readonly connected: boolean;
  /** Events applied since start (coalesced-away events count as applied). */
  readonly applied: number;
  /** Events sent to the dead-letter queue since start. */
  readonly deadLettered: number;
}

/** Options of {@link PipelineEngine.run}. */
export interface EngineRunOptions {
  /** Apply what the source has now, then return. */
  readonly once: boolean;
  /** Aborted at shutdown: stop intake, drain (bounded by `shutdownTimeoutMs`), commit, return. */
  readonly signal: AbortSignal;
  /** Connect the sinks first (default true). */
  readonly connectSinks?: boolean;
}

interface PartitionState {
  readonly name: string;
  readonly tracker: AckTracker;
  readonly appliers: Applier[];
  readonly abort: AbortController;
  readonly signal: AbortSignal;
  accepting: boolean;
  /** Offset commits of the partition. */
  readonly commits: CommitCoordinator;
  readonly labels: Readonly<Record<string, string>>;
  /** Labels of the apply-lag histogram (destination, group). */
  readonly lagLabels: Readonly<Record<string, string>>;
  /** `executedAt` of the newest event applied from this partition; 0 before the first. */
  latestExecutedAt: number;
  /** Lag when that event was applied (ms). */
  lagMs: number;
}

/**
 * The pipeline of one `canalAdapters[].groups[]` entry (DESIGN.md §1, §3). The engine keeps
 * intake (source delivery, back-pressure, pause), the partitions (assignment, revocation, their
 * appliers and ack trackers) and shutdown; it hands each delivered message to the pure
 * {@link Ingest} step (decode, route, conflict keys), pushes the records into per-sink,
 * per-partition {@link Applier}s, and lets each partition's {@link CommitCoordinator} commit its
 * low watermark.
 *
 * Guarantees: per-key order within a partition; a source offset is committed only when every
 * record of every earlier message was applied or dead-lettered; `deliver` resolves only below
 * `maxInFlight` events in flight for the partition (back-pressure); a fatal error stops intake,
 * abandons in-flight work without committing it and makes {@link run} reject.
 */
export class PipelineEngine implements SourceHandler {
  readonly #o: PipelineEngineOptions;
  readonly #settings: PipelineSettings;
  readonly #router: Router;
  readonly #ingest: Ingest;
  readonly #handles: SinkHandle[];
  readonly #flusher: SinkFlusher;
  readonly #deadLetters: DeadLetterWriter;
  readonly #partitions = new Map<string, PartitionState>();
  readonly #clock: Clock;
  readonly #hard = new AbortController();
  #abandoned = false;
  readonly #intake = new AbortController();
  #fatal: FatalError | undefined;
  #stopping = false;
  /** Set while intake is paused (sync switch off); resolved by {@link resume}. */
  #paused: { promise: Promise<void>; resume: () => void } | undefined;
  #finished = false;
  /** Per sink instance key: events applied and dead-lettered since start. */
  readonly #counts = new Map<string, { applied: number; deadLettered: number }>();
  /** Frozen metric labels per sink instance and table (see {@link #tableLabels}). */
  readonly #labels = new Map<string, Map<string, MetricLabels>>();
  /** Largest `executedAt` applied so far (ms), for lag. */

  #latestExecutedAt = 0;

  constructor(options: PipelineEngineOptions) {
    this.#o = options;
    this.#settings = resolvePipelineSettings(options.settings);
    this.#clock = options.clock ?? { now: () => Date.now() };
    this.#router = new Router({
      destination: options.destination,
      groupId: options.groupId,
      tcpMode: options.tcpMode ?? false,
      sinks: options.sinks.map((s) => ({ key: s.key, routes: s.routes })),
    });
    this.#ingest = new Ingest({
      destination: options.destination,
      format: options.format,
      router: this.#router,
      sinks: options.sinks.map((s) => ({
        key: s.key,
        ordering: s.ordering ?? this.#settings.ordering,
      })),
      logger: options.logger,
    });
    const backoff = { baseMs: this.#settings.retryBaseMs, maxMs: this.#settings.retryMaxMs };
    this.#handles = options.sinks.map(
      (s) => new SinkHandle(s.key, s.instance, options.logger, backoff),
    );
    this.#flusher = new SinkFlusher({
      sinks: this.#handles,
      logger: options.logger,
      signal: () => this.#flushSignal(),
    });
    this.#deadLetters = new DeadLetterWriter({
      destination: options.destination,
      groupId: options.groupId,
      queue: options.deadLetter,
      logger: options.logger,
      clock: this.#clock,
      retry: backoff,
    });
  }

  /** The effective settings. */
  get settings(): PipelineSettings {
    return this.#settings;
  }

  /** The fatal error that stopped the pipeline, if any. */
  get fatal(): FatalError | undefined {
    return this.#fatal;
  }

  /**
   * True when the shutdown deadline passed with events still in flight: they were abandoned (not
   * committed, so applied again after a restart). `--once` reports it as an unfinished run.
   */
  get abandoned(): boolean {
    return this.#abandoned;
  }

  /** Events in flight for a partition (0 when unknown). */
  inFlight(partition: string): number {
    return this.#partitions.get(partition)?.tracker.inFlight ?? 0;
  }

  /** The partitions this pipeline holds now, with events in flight and the last committed offset. */
  partitions(): PartitionView[] {
    return [...this.#partitions.values()].map((p) => ({
      partition: p.name,
      inFlight: p.tracker.inFlight,
      ...(p.commits.committed !== undefined ? { committed: p.commits.committed.toString() } : {}),
    }));
  }

  /** The sink instances: connected or not, events applied and dead-lettered since start. */
  sinks(): SinkView[] {
    return this.#handles.map((h) => {
      const c = this.#counts.get(h.key);
      return {
        key: h.key,
        connected: h.connected,
        applied: c?.applied ?? 0,
        deadLettered: c?.deadLettered ?? 0,
      };
    });
  }

  /** `executedAt` (ms since the epoch) of the newest event applied so far; 0 before the first. */
  get latestExecutedAt(): number {
    return this.#latestExecutedAt;
  }

  /**
   * The lag of one partition now (ms): while events wait in it, now minus the binlog time of its
   * newest applied event (so it grows while a sink is down or slow); when nothing waits, the lag
   * its last applied event had (an idle, caught-up pipeline does not look late). Undefined before
   * its first applied event.
   */
  #lagMs(p: PartitionState, now: number): number | undefined {
    if (p.latestExecutedAt === 0) return undefined;
    return p.tracker.inFlight > 0 ? Math.max(0, now - p.latestExecutedAt) : p.lagMs;
  }

  /** The largest partition lag now, in seconds (see `sluice_lag_seconds`); null before any apply. */
  lagSeconds(now: number = this.#clock.now()): number | null {
    let worst: number | undefined;
    for (const p of this.#partitions.values()) {
      const lag = this.#lagMs(p, now);
      if (lag !== undefined && (worst === undefined || lag > worst)) worst = lag;
    }
    return worst === undefined ? null : worst / 1000;
  }

  /**
   * Sets `sluice_lag_seconds` and `sluice_in_flight_events` of every partition to their values
   * now. Called before each metrics scrape, so lag grows while events wait even when nothing gets
   * applied, and in-flight falls back to 0 once everything was applied.
   */
  refreshLag(now: number = this.#clock.now()): void {
    for (const p of this.#partitions.values()) {
      const lag = this.#lagMs(p, now);
      if (lag !== undefined) this.#o.metrics.gauge('sluice_lag_seconds', lag / 1000, p.labels);
      // In-flight falls as events are applied, which sets no gauge on the hot path: read it now.
      this.#o.metrics.gauge('sluice_in_flight_events', p.tracker.inFlight, p.labels);
    }
  }

  /** True once {@link run} returned or failed, or a fatal error stopped the pipeline. */
  get stopped(): boolean {
    return this.#finished || this.#fatal !== undefined;
  }

  /** True while intake is paused. */
  get paused(): boolean {
    return this.#paused !== undefined;
  }

  /**
   * Pauses intake (canal's sync switch off): the batch being delivered is applied, then
   * `deliver` holds the source until {@link resume} (or shutdown). Idempotent.
   */
  pause(): void {
    if (this.#paused) return;
    let resume!: () => void;
    const promise = new Promise<void>((r) => (resume = r));
    this.#paused = { promise, resume };
    this.#o.logger.info('Intake paused (sync switch off).');
  }

  /** Resumes intake paused by {@link pause}. Idempotent. */
  resume(): void {
    const paused = this.#paused;
    if (!paused) return;
    this.#paused = undefined;
    paused.resume();
    this.#o.logger.info('Intake resumed (sync switch on).');
  }

  /** The frozen `{ sink, table }` labels of one sink instance and table (kept per pair). */
  #tableLabels(sinkKey: string, table: string): MetricLabels {
    let bySink = this.#labels.get(sinkKey);
    if (bySink === undefined) this.#labels.set(sinkKey, (bySink = new Map()));
    let labels = bySink.get(table);
    if (labels === undefined) bySink.set(table, (labels = Object.freeze({ sink: sinkKey, table })));
    return labels;
  }

  #count(sinkKey: string): { applied: number; deadLettered: number } {
    let c = this.#counts.get(sinkKey);
    if (!c) this.#counts.set(sinkKey, (c = { applied: 0, deadLettered: 0 }));
    return c;
  }

  /**
   * Replaces the mapping routes of one sink instance (mapping hot reload). Events of batches
   * delivered from now on use the new set; records already queued keep their mapping.
   */
  replaceMappings(sinkKey: string, routes: readonly MappingRoute[] | undefined): void {
    this.#router.replaceRoutes(sinkKey, routes);
    this.#o.logger.info('Mappings replaced.', { sink: sinkKey, mappings: routes?.length ?? 0 });
  }

  /**
   * Runs the source into the pipeline until it drains (`once`) or the signal aborts, then shuts
   * down: stop intake, drain lanes (at most `shutdownTimeoutMs`, then abandon), flush the sinks,
   * commit. Rejects with the fatal error that stopped the pipeline, if any. Does not close the
   * source or the sinks.
   */
  async run(options: EngineRunOptions): Promise<void> {
    const onAbort = () => this.#intake.abort(options.signal.reason);
    if (options.signal.aborted) onAbort();
    else options.signal.addEventListener('abort', onAbort, { once: true });
    let runError: unknown;
    try {
      if (options.connectSinks ?? true) {
        await this.#connectSinks();
      }
      await this.#o.source.run(this, { once: options.once, signal: this.#intake.signal });
      // `--once`: the source delivered everything up to its end. Wait for all of it to be applied
      // or dead-lettered, with no deadline (the shutdown deadline is for a stop: a slow or
      // retrying target must not make `--once` end early with work left undone).
      if (options.once)
        await this.#whenIdle(
          [...this.#partitions.values()],
          AbortSignal.any([this.#intake.signal, this.#hard.signal]),
        );
    } catch (error) {
      if (!this.#intake.signal.aborted || this.#fatal === undefined) runError = error;
    } finally {
      options.signal.removeEventListener('abort', onAbort);
    }
    await this.#shutdown();
    this.#finished = true;
    if (this.#fatal) throw this.#fatal;
    if (runError !== undefined && !options.signal.aborted) throw runError;
  }

  /**
   * Connects every sink in parallel: one sink stuck connecting must not hold the others up
   * (Vector #13514). The first failure stops the other connect loops.
   */
  async #connectSinks(): Promise<void> {
    const connecting = new AbortController();
    const signal = AbortSignal.any([connecting.signal, this.#intake.signal]);
    try {
      await Promise.all(
        this.#handles.map((h) =>
          h.connect(signal).catch((error: unknown) => {
            connecting.abort(error);
            throw error;
          }),
        ),
      );
    } finally {
      connecting.abort(new Error('Sinks connected.'));
    }
  }

  /**
   * Resolves when the partitions are idle (nothing in flight, every applier idle), or when `stop`
   * aborts (whichever comes first).
   */
  async #whenIdle(states: readonly PartitionState[], stop: AbortSignal): Promise<void> {
    if (stop.aborted) return;
    const idle = Promise.all(
      states.map((p) =>
        Promise.all([p.tracker.whenIdle(), ...p.appliers.map((a) => a.whenIdle())]),
      ),
    );
    let onAbort: (() => void) | undefined;
    try {
      await new Promise<void>((resolve) => {
        onAbort = resolve;
        stop.addEventListener('abort', onAbort, { once: true });
        idle.then(
          () => resolve(),
          () => resolve(),
        );
      });
    } finally {
      if (onAbort) stop.removeEventListener('abort', onAbort);
    }
  }

  async #shutdown(): Promise<void> {
    this.#stopping = true;
    const states = [...this.#partitions.values()];
    const drained = await this.#drain(states, this.#hard.signal);
    if (!drained) {
      if (!this.#fatal) {
        this.#o.logger.warn(
          'Shutdown timed out; abandoning unfinished work (it is applied again after a restart).',
          {
            timeoutMs: this.#settings.shutdownTimeoutMs,
          },
        );
      }
      this.#hard.abort(new Error('Pipeline stopped.'));
      this.#abandoned = true;
    }
    // Each commit flushes the sinks first; the last flush also precedes `close`.
    for (const p of states) {
      p.commits.stop();
      await p.commits.commitNow();
    }
    await this.#flusher.flush();
  }

  /**
   * Waits (at most `shutdownTimeoutMs`) until the partitions are idle; false when the deadline
   * passed or their work was abandoned.
   */
  async #drain(states: readonly PartitionState[], abandon: AbortSignal): Promise<boolean> {
    if (abandon.aborted) return false;
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(), this.#settings.shutdownTimeoutMs);
    try {
      await this.#whenIdle(states, AbortSignal.any([abandon, deadline.signal]));
    } finally {
      clearTimeout(timer);
    }
    return (
      !deadline.signal.aborted && !abandon.aborted && states.every((p) => p.tracker.inFlight === 0)
    );
  }

  /**
   * The signal of one flush. At shutdown: the shutdown deadline. While running (a routine flush
   * before a commit): aborted when the pipeline fails or abandons its work (a hung flush must not
   * hold a fatal stop up for `shutdownTimeoutMs`), and after `retryMaxMs` (at least 1 s): a failed
   * flush only defers the commit to the next one.
   */
  #flushSignal(): AbortSignal {
    if (this.#stopping)
      return AbortSignal.timeout(Math.max(1000, this.#settings.shutdownTimeoutMs));
    return AbortSignal.any([
      this.#hard.signal,
      AbortSignal.timeout(Math.max(1000, this.#settings.retryMaxMs)),
    ]);
  }

  /** Stops the pipeline: no more intake, in-flight work abandoned, {@link run} rejects. */
  #fail(error: FatalError): void {
    if (this.#fatal) return;
    this.#fatal = error;
    this.#o.logger.error(`Pipeline stopped: ${error.message}`);
    this.#intake.abort(error);
    this.#hard.abort(error);
    for (const p of this.#partitions.values()) p.tracker.wakeAll();
  }

  async assigned(partitions: readonly string[]): Promise<void> {
    for (const name of partitions) {
      const old = this.#partitions.get(name);
      if (old) this.#abandon(old);
      this.#partitions.set(name, this.#newPartition(name));
    }
  }

  async revoked(partitions: readonly string[]): Promise<void> {
    const states = partitions
      .map((n) => this.#partitions.get(n))
      .filter((p): p is PartitionState => p !== undefined);
    for (const p of states) p.accepting = false;
    const drained = await this.#drain(states, this.#hard.signal);
    if (!drained) {
      this.#o.logger.warn(
        'Revoked partitions did not drain in time; abandoning their unfinished work.',
        { partitions },
      );
      for (const p of states) this.#abandon(p);
    }
    for (const p of states) {
      p.commits.stop();
      await p.commits.commitNow();
      this.#partitions.delete(p.name);
    }
  }

  #abandon(p: PartitionState): void {
    p.accepting = false;
    p.abort.abort(new Error(`Partition ${p.name} abandoned.`));
    p.tracker.wakeAll();
    p.commits.stop();
  }

  #newPartition(name: string): PartitionState {
    const abort = new AbortController();
    const signal = AbortSignal.any([abort.signal, this.#hard.signal]);
    // Frozen: the metrics registry keys a frozen label set once (see MetricsRegistry).
    const labels = Object.freeze({
      destination: this.#o.destination,
      groupId: this.#o.groupId,
      partition: name,
    });
    const tracker: AckTracker = new AckTracker(() => commits.advanced());
    const commits = new CommitCoordinator({
      partition: name,
      committable: () => tracker.committable,
      commitIntervalMs: this.#settings.commitIntervalMs,
      flush: () => this.#flusher.flush(),
      commit: (partition, offset) => this.#o.source.commit(partition, offset),
      logger: this.#o.logger,
      signal: abort.signal,
    });
    const state: PartitionState = {
      name,
      tracker,
      appliers: [],
      abort,
      signal,
      accepting: true,
      commits,
      labels,
      lagLabels: Object.freeze({ destination: this.#o.destination, groupId: this.#o.groupId }),
      latestExecutedAt: 0,
      lagMs: 0,
    };
    const s = this.#settings;
    this.#o.sinks.forEach((sink, i) => {
      const ordering = sink.ordering ?? s.ordering;
      const handle = this.#handles[i]!;
      const sinkLabels = Object.freeze({ sink: sink.key });
      state.appliers.push(
        new Applier({
          sink: handle,
          settings: s,
          coalescing: (sink.coalescing ?? false) && ordering === 'per-key',
          signal,
          logger: this.#o.logger.child({ sink: sink.key, partition: name }),
          hooks: {
            applied: (entries) => this.#applied(state, sink.key, entries),
            // The record counts dead-letterings, not write attempts (the reason says those).
            deadLetter: (entries, reason, _attempts, sig) =>
              this.#deadLetterEntries(state, sink.key, entries, reason, sig),
            fail: (error) => this.#fail(error),
            observeWrite: (seconds, records) => {
              this.#o.metrics.observe('sluice_batch_seconds', seconds, sinkLabels);
              this.#o.metrics.observe('sluice_batch_records', records, sinkLabels);
            },
            observeRetry: () => this.#o.metrics.increment('sluice_write_retries_total', sinkLabels),
          },
        }),
      );
    });
    return state;
  }

  /**
   * {@link SourceHandler.requestCommit}: commits now if the watermark moved past the last commit,
   * else with the next advance (not at the next interval).
   */
  requestCommit(partition: string): void {
    this.#partitions.get(partition)?.commits.request();
  }

  async deliver(batch: SourceBatch): Promise<void> {
    if (this.#fatal) throw this.#fatal;
    while (this.#paused && !this.#stopping && !this.#intake.signal.aborted)
      await this.#whilePaused(this.#paused.promise);
    if (this.#stopping || this.#intake.signal.aborted) return;
    let p = this.#partitions.get(batch.partition);
    if (!p) {
      p = this.#newPartition(batch.partition);
      this.#partitions.set(batch.partition, p);
    }
    if (!p.accepting) {
      this.#o.logger.warn('Ignored a batch of a revoked partition.', {
        partition: batch.partition,
      });
      return;
    }
    const counts: IngestCounts = { consumed: new Map(), skipped: new Map() };
    const max = this.#settings.maxInFlight;
    let sinceYield = 0;
    try {
      for (const message of batch.messages) {
        // maxInFlight holds within a batch too (a source batch may be 20 000 rows): decoded
        // events waiting in memory are what the young generation has to copy at every scavenge.
        // Past YIELD_BYTES, one turn of the event loop lets the lanes write what is queued
        // before more is decoded: a sink that keeps up then holds about that much decoded, not
        // maxInFlight events; a slower one still fills the window.
        if (p.tracker.inFlight >= max || sinceYield >= YIELD_BYTES) {
          if (p.tracker.inFlight < max) await nextTurn();
          if (!(await this.#room(p))) return;
          sinceYield = 0;
        }
        this.#accept(p, message.offset, message.payload, counts);
        sinceYield += payloadSize(message.payload);
      }
    } finally {
      this.#counted(counts);
    }
    this.#o.metrics.gauge('sluice_in_flight_events', p.tracker.inFlight, p.labels);
    await this.#room(p);
    this.#o.metrics.gauge('sluice_in_flight_events', p.tracker.inFlight, p.labels);
    if (this.#fatal) throw this.#fatal;
  }

  /**
   * Waits while `p` holds maxInFlight events or more. True when intake may go on; false when the
   * partition was abandoned or the pipeline is stopping (the rest of the batch is not taken);
   * throws the pipeline's fatal error.
   */
  async #room(p: PartitionState): Promise<boolean> {
    while (p.tracker.inFlight >= this.#settings.maxInFlight && !this.#fatal && !p.signal.aborted)
      await p.tracker.whenProgress();
    if (this.#fatal) throw this.#fatal;
    return !p.signal.aborted && p.accepting && !this.#stopping && !this.#intake.signal.aborted;
  }

  /** The per-batch ingest counters as metrics (once per delivered batch, not per event). */
  #counted(counts: IngestCounts): void {
    for (const [table, n] of counts.consumed) {
      this.#o.metrics.increment(
        'sluice_events_consumed_total',
        { destination: this.#o.destination, groupId: this.#o.groupId, table },
        n,
      );
    }
    for (const [key, n] of counts.skipped) {
      const [sink, table] = key.split('\u0000') as [string, string];
      this.#o.metrics.increment('sluice_events_skipped_total', { sink, table }, n);
    }
  }

  /** Waits until intake is resumed or aborted. */
  async #whilePaused(resumed: Promise<void>): Promise<void> {
    const signal = this.#intake.signal;
    let onAbort: (() => void) | undefined;
    await Promise.race([
      resumed,
      new Promise<void>((resolve) => {
        onAbort = resolve;
        signal.addEventListener('abort', onAbort, { once: true });
      }),
    ]);
    if (onAbort) signal.removeEventListener('abort', onAbort);
  }

  /** Takes one delivered message: decode, route, push its records into the appliers. */
  #accept(
    p: PartitionState,
    offset: string,
    payload: Uint8Array | string,
    counts: IngestCounts,
  ): void {
    if (!p.tracker.accepts(offset)) {
      this.#o.logger.debug('Ignored a message delivered again.', { partition: p.name, offset });
      return;
    }
    const override = this.#o.messageOverride?.(p.name, offset);
    const origin: SourceOrigin =
      override === undefined
        ? { partition: p.name, offset, payload }
        : {
            partition: override.partition ?? p.name,
            offset: override.offset ?? offset,
            payload,
          };
    let events: ChangeEvent[];
    try {
      events = this.#ingest.decode(payload, origin);
    } catch (error) {
      this.#deadLetterUndecodable(p, offset, origin, error);
      return;
    }
    if (override !== undefined) {
      this.#acceptReplay(p, offset, origin, events, counts, override);
      return;
    }
    const ticket = p.tracker.open(offset, events.length);
    this.#push(p, ticket, this.#ingest.route(events, { ticket, origin }, counts));
    p.tracker.release(ticket);
  }

  /** Takes one message under a replay override (`sluice dlq replay`): see {@link MessageOverride}. */
  #acceptReplay(
    p: PartitionState,
    offset: string,
    origin: SourceOrigin,
    decoded: ChangeEvent[],
    counts: IngestCounts,
    override: MessageOverride,
  ): void {
    const events = filterEvents(decoded, override);
    const ticket = p.tracker.open(offset, events.length);
    const routed = this.#ingest.routeReplay(events, { ticket, origin }, counts, override);
    this.#push(p, ticket, routed);
    const unrouted = routed.length === 0 ? unroutedDeadLetter(override) : undefined;
    if (unrouted !== undefined) {
      // A dead letter of one sink instance that reaches it no more (the instance, its mapping or
      // the row is gone): back to the dead-letter queue, never dropped.
      p.tracker.add(ticket, 1);
      this.#o.logger.warn(`${unrouted.reason}; sending it back to the dead-letter queue.`, {
        partition: origin.partition,
        offset: origin.offset,
      });
      void this.#deadLetters
        .write(this.#deadLetters.record(origin, unrouted.reason, unrouted.extra), p.signal)
        .then((ok) => {
          if (ok) p.tracker.complete(ticket);
        });
    }
    p.tracker.release(ticket);
  }

  /** Queues routed records in their sinks' appliers (the ticket holds one pending unit each). */
  #push(p: PartitionState, ticket: MessageTicket, routed: readonly RoutedEntry[]): void {
    if (routed.length === 0) return;
    p.tracker.add(ticket, routed.length);
    const appliers = p.appliers;
    for (const entry of routed) appliers[entry.sink]!.push(entry);
  }

  /** An undecodable message goes to the dead-letter queue; done once its dead letter is durable. */
  #deadLetterUndecodable(
    p: PartitionState,
    offset: string,
    origin: SourceOrigin,
    error: unknown,
  ): void {
    const o = this.#o;
    const ticket = p.tracker.open(offset, 1);
    const reason = `undecodable message: ${(error as Error).message}`;
    const where =
      o.source.locate?.(origin.partition, origin.offset) ??
      `partition ${origin.partition} offset ${origin.offset}`;
    o.metrics.increment('sluice_messages_undecodable_total', { destination: o.destination });
    o.logger.warn(
      `Skipped ${where}: not a canal message (${(error as Error).message}); sending it to the dead-letter queue.`,
      {
        deadLetter: o.deadLetter.location,
      },
    );
    void this.#deadLetters.write(this.#deadLetters.record(origin, reason), p.signal).then((ok) => {
      if (ok) p.tracker.release(ticket);
    });
  }

  #applied(p: PartitionState, sinkKey: string, entries: readonly ApplierEntry[]): void {
    const metrics = this.#o.metrics;
    let latest = 0;
    let oldest = 0;
    const now = this.#clock.now();
    // Runs of one table (a message's rows share it) count as one increment each, and runs of
    // one message (its records sit together in a batch) complete in one call, after the metrics.
    let table: string | undefined;
    let run = 0;
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i]!;
      if (e.table !== table) {
        if (run > 0)
          metrics.increment('sluice_events_applied_total', this.#tableLabels(sinkKey, table!), run);
        table = e.table;
        run = 0;
      }
      run += 1;
      // Read from the event, not copied into every entry: a copy of a time in ms (beyond a small
      // integer) costs one boxed number per record.
      const executedAt = e.event.executedAt;
      if (executedAt > latest) latest = executedAt;
      if (executedAt > 0 && (oldest === 0 || executedAt < oldest)) oldest = executedAt;
    }
    if (run > 0)
      metrics.increment('sluice_events_applied_total', this.#tableLabels(sinkKey, table!), run);
    // One observation per applied write, its oldest event's lag (the write's worst). Per event or
    // per transaction, the histogram cost ~0.25 µs a row: lanes split a message's rows over
    // several writes, so runs of one binlog time are short (BENCHMARKS.md, issue 11).
    if (oldest > 0)
      metrics.observe('sluice_apply_lag_seconds', Math.max(0, now - oldest) / 1000, p.lagLabels);
    this.#count(sinkKey).applied += entries.length;
    if (latest > this.#latestExecutedAt) this.#latestExecutedAt = latest;
    if (latest > p.latestExecutedAt) p.latestExecutedAt = latest;
    if (latest > 0) {
      p.lagMs = Math.max(0, now - latest);
      metrics.gauge('sluice_lag_seconds', p.lagMs / 1000, p.labels);
    }
    let ticket: MessageTicket | undefined;
    let done = 0;
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i]!;
      if (e.ticket !== ticket) {
        if (ticket !== undefined) p.tracker.complete(ticket, done);
        ticket = e.ticket;
        done = 0;
      }
      done += 1;
    }
    if (ticket !== undefined) p.tracker.complete(ticket, done);
  }

  async #deadLetterEntries(
    p: PartitionState,
    sinkKey: string,
    entries: readonly ApplierEntry[],
    reason: string,
    signal: AbortSignal,
  ): Promise<boolean> {
    for (const e of entries) {
      const ok = await this.#deadLetters.write(
        this.#deadLetters.record(e.origin, reason, {
          index: e.event.position.index,
          sink: sinkKey,
          ...(e.mapping ? { mapping: e.mapping.file } : {}),
        }),
        signal,
      );
      if (!ok) return false;
      const table = e.table;
      this.#o.metrics.increment('sluice_events_dead_lettered_total', { sink: sinkKey, table });
      this.#count(sinkKey).deadLettered += 1;
      this.#o.logger.warn(
        `Sink "${sinkKey}" could not apply an event; sent it to the dead-letter queue.`,
        {
          partition: e.origin.partition,
          offset: e.origin.offset,
          index: e.event.position.index,
          table,
          reason,
        },
      );
      p.tracker.complete(e.ticket);
    }
    return true;
  }
}
