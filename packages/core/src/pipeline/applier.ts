import type { Logger } from '@sluice/plugin-api';
import { coreErrors } from '../errors.js';
import type { MessageTicket } from './ackTracker.js';
import { BatchWriter, type BatchWriterHooks } from './batchWriter.js';
import type { CoalesceItem } from './coalesce.js';
import type { SinkHandle } from './connection.js';
import { LaneScheduler, type LaneItem } from './laneScheduler.js';
import { sleep } from './retry.js';
import type { PipelineSettings } from './settings.js';

/** The source message a record came from (what goes to the dead-letter queue). */
export interface SourceOrigin {
  /** Partition and offset of the original message (for a replay: where it first came from). */
  readonly partition: string;
  readonly offset: string;
  readonly payload: Uint8Array | string;
}

/** One record queued in an applier. */
export interface ApplierEntry extends CoalesceItem, LaneItem {
  /** `database.table` of the event. */
  readonly table: string;
  /** True for a DDL: a barrier for its table. */
  readonly barrier: boolean;
  /** Approximate size, for `batchBytes`. */
  readonly bytes: number;
  /** The message this record belongs to. */
  readonly ticket: MessageTicket;
  readonly origin: SourceOrigin;
}

/**
 * What an applier reports to its engine: the batch writer's hooks over the applier's entries
 * (the applier hands them to its {@link BatchWriter} unchanged).
 */
export type ApplierHooks = BatchWriterHooks<ApplierEntry>;

/** Tuning an applier uses. */
export type ApplierSettings = Pick<
  PipelineSettings,
  | 'lanes'
  | 'batchSize'
  | 'batchBytes'
  | 'lingerMs'
  | 'retries'
  | 'terminateOnException'
  | 'retryBaseMs'
  | 'retryMaxMs'
>;

/** Options of an {@link Applier}. */
export interface ApplierOptions {
  readonly sink: SinkHandle;
  readonly settings: ApplierSettings;
  /** Coalesce per key within a batch (the sink declared it safe). */
  readonly coalescing: boolean;
  /** Aborted when the work must be abandoned (fatal error, shutdown deadline, revocation). */
  readonly signal: AbortSignal;
  readonly hooks: ApplierHooks;
  readonly logger: Logger;
}

const isDdl = (entry: ApplierEntry): boolean => entry.event.kind === 'ddl';

/**
 * Applies the records of one sink instance and one partition through N lanes (DESIGN.md §3): a
 * {@link LaneScheduler} decides which lane takes each record (per-key order, barriers), and a
 * {@link BatchWriter} writes each lane's batches (size, bytes, linger) with the failure policy.
 * This class only runs the lanes: one async loop per lane with work.
 */
export class Applier {
  readonly #o: ApplierOptions;
  readonly #scheduler: LaneScheduler<ApplierEntry>;
  readonly #writer: BatchWriter<ApplierEntry>;
  readonly #running: boolean[];
  #idleWaiters: (() => void)[] = [];

  constructor(options: ApplierOptions) {
    this.#o = options;
    this.#scheduler = new LaneScheduler<ApplierEntry>(
      options.settings.lanes,
      (lane) => this.#wake(lane),
      isDdl,
    );
    this.#running = new Array<boolean>(this.#scheduler.lanes).fill(false);
    this.#writer = new BatchWriter<ApplierEntry>({
      sink: options.sink,
      settings: options.settings,
      coalescing: options.coalescing,
      signal: options.signal,
      hooks: options.hooks,
      logger: options.logger,
    });
    options.signal.addEventListener('abort', () => this.#wakeIdle(), { once: true });
  }

  /** Records queued or being written. */
  get pending(): number {
    return this.#scheduler.pending;
  }

  /** Queues one record (in source order). */
  push(entry: ApplierEntry): void {
    this.#scheduler.push(entry);
  }

  /** Resolves once every pushed record finished, or the applier's signal aborted. */
  whenIdle(): Promise<void> {
    if (this.#scheduler.pending === 0 || this.#o.signal.aborted) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  #wakeIdle(): void {
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const w of waiters) w();
  }

  #wake(lane: number): void {
    if (this.#running[lane]) return;
    this.#running[lane] = true;
    void this.#runLane(lane);
  }

  async #runLane(lane: number): Promise<void> {
    const s = this.#o.settings;
    const scheduler = this.#scheduler;
    const signal = this.#o.signal;
    try {
      // Let the caller finish queueing what it delivered together: it becomes one batch.
      await Promise.resolve();
      while (scheduler.queued(lane) > 0 && !signal.aborted) {
        if (s.lingerMs > 0 && scheduler.queued(lane) < s.batchSize) {
          await sleep(s.lingerMs, signal).catch(() => undefined);
          if (signal.aborted) break;
        }
        const batch = scheduler.take(lane, s.batchSize, s.batchBytes);
        await this.#writer.write(batch);
        scheduler.release(lane, batch);
        if (scheduler.pending === 0) this.#wakeIdle();
      }
    } catch (error) {
      this.#o.hooks.fail(coreErrors.applierCrashed(this.#o.sink.key, error));
    } finally {
      this.#running[lane] = false;
    }
  }
}
