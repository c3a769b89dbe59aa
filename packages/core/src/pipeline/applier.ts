import {
  FatalError,
  classifyError,
  type Logger,
  type SinkRecord,
  type WriteResult,
} from '@sluice/plugin-api';
import type { MessageTicket } from './ackTracker.js';
import { backoffDelay, maxAttempts, sleep } from './backoff.js';
import { coalesce, type CoalesceItem, type CoalescedWrite } from './coalesce.js';
import { hashString } from './conflictKeys.js';
import type { PipelineSettings } from './settings.js';
import type { SinkHandle } from './sinkHandle.js';

/** The source message a record came from (what goes to the dead-letter queue). */
export interface SourceOrigin {
  /** Partition and offset of the original message (for a replay: where it first came from). */
  readonly partition: string;
  readonly offset: string;
  readonly payload: Uint8Array | string;
}

/** One record queued in an applier. */
export interface ApplierEntry extends CoalesceItem {
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

/** What an applier reports to its engine. */
export interface ApplierHooks {
  /** These entries were applied (or cancelled out by coalescing). */
  applied(entries: readonly ApplierEntry[]): void;
  /**
   * These entries go to the dead-letter queue. Resolves true once written (the engine then
   * completes them), false when the write was abandoned (signal aborted): never completes them.
   */
  deadLetter(
    entries: readonly ApplierEntry[],
    reason: string,
    attempts: number,
    signal: AbortSignal,
  ): Promise<boolean>;
  /** Nothing can go on: stop the pipeline without committing unfinished work. */
  fail(error: FatalError): void;
  /** One `write` call finished (for the batch latency histogram). */
  observeWrite(seconds: number, records: number): void;
}

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

interface Lane {
  readonly index: number;
  readonly queue: ApplierEntry[];
  head: number;
  running: boolean;
}

interface Owner {
  lane: number;
  count: number;
}

class ContractViolation extends Error {}

/**
 * Applies the records of one sink instance and one partition through N lanes (DESIGN.md §3).
 *
 * Records enter in source order. Each goes to the lane already holding one of its keys (a row
 * key, both keys of a primary-key change; a DDL conflicts with every key of its table), or to a
 * hashed lane when none does. When its keys sit in two lanes, intake waits until those drain:
 * records of one key are therefore applied in source order, one batch at a time. Each lane
 * writes batches (size, bytes, linger), retries with backoff and reports outcomes.
 */
export class Applier {
  readonly #o: ApplierOptions;
  readonly #lanes: Lane[];
  readonly #intake: ApplierEntry[] = [];
  #intakeHead = 0;
  readonly #keyOwner = new Map<string, Owner>();
  readonly #barrierOwner = new Map<string, Owner>();
  readonly #tableHolders = new Map<string, Map<number, number>>();
  #pending = 0;
  #idleWaiters: (() => void)[] = [];
  readonly #limit: number;

  constructor(options: ApplierOptions) {
    this.#o = options;
    this.#lanes = Array.from({ length: options.settings.lanes }, (_, index) => ({
      index,
      queue: [],
      head: 0,
      running: false,
    }));
    this.#limit = maxAttempts(options.settings.retries);
    options.signal.addEventListener('abort', () => this.#wakeIdle(), { once: true });
  }

  /** Records queued or being written. */
  get pending(): number {
    return this.#pending;
  }

  /** Queues one record (in source order). */
  push(entry: ApplierEntry): void {
    this.#pending += 1;
    this.#intake.push(entry);
    this.#pump();
  }

  /** Resolves once every pushed record finished, or the applier's signal aborted. */
  whenIdle(): Promise<void> {
    if (this.#pending === 0 || this.#o.signal.aborted) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  #wakeIdle(): void {
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const w of waiters) w();
  }

  /** Moves intake records to lanes until one is blocked by a conflict across lanes. */
  #pump(): void {
    while (this.#intakeHead < this.#intake.length) {
      const entry = this.#intake[this.#intakeHead]!;
      const lane = this.#pick(entry);
      if (lane === undefined) return; // woken again when a lane releases keys
      this.#intakeHead += 1;
      this.#hold(entry, lane);
      const l = this.#lanes[lane]!;
      l.queue.push(entry);
      if (!l.running) {
        l.running = true;
        void this.#runLane(l);
      }
    }
    this.#intake.length = 0;
    this.#intakeHead = 0;
  }

  #pick(entry: ApplierEntry): number | undefined {
    let found: number | undefined;
    const consider = (lane: number | undefined): boolean => {
      if (lane === undefined || lane === found) return true;
      if (found !== undefined) return false;
      found = lane;
      return true;
    };
    if (entry.barrier) {
      const holders = this.#tableHolders.get(entry.table);
      if (holders) for (const lane of holders.keys()) if (!consider(lane)) return undefined;
      return found ?? hashString(entry.table) % this.#lanes.length;
    }
    for (const key of entry.keys) if (!consider(this.#keyOwner.get(key)?.lane)) return undefined;
    if (!consider(this.#barrierOwner.get(entry.table)?.lane)) return undefined;
    return found ?? hashString(entry.keys[0] ?? entry.table) % this.#lanes.length;
  }

  #hold(entry: ApplierEntry, lane: number): void {
    const own = (map: Map<string, Owner>, key: string) => {
      const o = map.get(key);
      if (o) o.count += 1;
      else map.set(key, { lane, count: 1 });
    };
    if (entry.barrier) own(this.#barrierOwner, entry.table);
    for (const key of entry.keys) own(this.#keyOwner, key);
    let holders = this.#tableHolders.get(entry.table);
    if (!holders) this.#tableHolders.set(entry.table, (holders = new Map()));
    holders.set(lane, (holders.get(lane) ?? 0) + 1);
  }

  #release(entry: ApplierEntry, lane: number): void {
    const drop = (map: Map<string, Owner>, key: string) => {
      const o = map.get(key);
      if (o && --o.count === 0) map.delete(key);
    };
    if (entry.barrier) drop(this.#barrierOwner, entry.table);
    for (const key of entry.keys) drop(this.#keyOwner, key);
    const holders = this.#tableHolders.get(entry.table);
    if (holders) {
      const n = (holders.get(lane) ?? 1) - 1;
      if (n === 0) holders.delete(lane);
      else holders.set(lane, n);
      if (holders.size === 0) this.#tableHolders.delete(entry.table);
    }
  }

  async #runLane(lane: Lane): Promise<void> {
    const s = this.#o.settings;
    try {
      // Let the caller finish queueing what it delivered together: it becomes one batch.
      await Promise.resolve();
      while (lane.head < lane.queue.length && !this.#o.signal.aborted) {
        if (s.lingerMs > 0 && lane.queue.length - lane.head < s.batchSize) {
          await sleep(s.lingerMs, this.#o.signal).catch(() => undefined);
          if (this.#o.signal.aborted) break;
        }
        const batch = this.#take(lane);
        await this.#apply(batch);
        for (const entry of batch) this.#release(entry, lane.index);
        this.#pending -= batch.length;
        if (lane.head > 1024 && lane.head * 2 > lane.queue.length) {
          lane.queue.splice(0, lane.head);
          lane.head = 0;
        }
        this.#pump();
        if (this.#pending === 0) this.#wakeIdle();
      }
    } catch (error) {
      this.#o.hooks.fail(
        new FatalError(
          `Applier of sink "${this.#o.sink.key}" crashed: ${(error as Error).message}`,
          { cause: error },
        ),
      );
    } finally {
      lane.running = false;
    }
  }

  /** Takes the next batch: up to batchSize records and batchBytes; a DDL is always alone. */
  #take(lane: Lane): ApplierEntry[] {
    const s = this.#o.settings;
    const first = lane.queue[lane.head]!;
    if (first.barrier || first.record.event.kind === 'ddl') {
      lane.head += 1;
      return [first];
    }
    const batch: ApplierEntry[] = [];
    let bytes = 0;
    while (lane.head < lane.queue.length && batch.length < s.batchSize) {
      const next = lane.queue[lane.head]!;
      if (next.barrier || next.record.event.kind === 'ddl') break;
      if (batch.length > 0 && bytes + next.bytes > s.batchBytes) break;
      bytes += next.bytes;
      batch.push(next);
      lane.head += 1;
    }
    if (lane.head === lane.queue.length) {
      lane.queue.length = 0;
      lane.head = 0;
    }
    return batch;
  }

  /** Writes one batch with retries; reports every entry as applied or dead-lettered, or abandons. */
  async #apply(batch: readonly ApplierEntry[]): Promise<void> {
    const { hooks } = this.#o;
    const writes: CoalescedWrite<ApplierEntry>[] = this.#o.coalescing
      ? coalesce(batch)
      : batch.map((e) => ({ record: e.record, members: [e] }));
    const cancelled = writes.filter((w) => w.record === undefined).flatMap((w) => w.members);
    if (cancelled.length > 0) hooks.applied(cancelled);
    const live = writes.filter(
      (w): w is CoalescedWrite<ApplierEntry> & { record: SinkRecord } => w.record !== undefined,
    );
    if (live.length > 0) await this.#write(live);
  }

  /**
   * Writes coalesced records with retries; reports every member as applied or dead-lettered, or
   * abandons. A {@link PermanentEventError} thrown for the whole batch is not retried: the batch
   * is split in two halves written one after the other (per-key order holds: the batch held its
   * keys exclusively), down to the one record that goes to the dead-letter queue.
   */
  async #write(
    live: readonly (CoalescedWrite<ApplierEntry> & { record: SinkRecord })[],
  ): Promise<void> {
    const { hooks, signal, sink } = this.#o;
    const s = this.#o.settings;
    const records = live.map((w) => w.record);
    for (let attempt = 1; ; attempt++) {
      if (signal.aborted) return;
      let result: WriteResult;
      const started = performance.now();
      try {
        result = await sink.instance.write(records, signal);
        if (result.length !== records.length) {
          throw new ContractViolation(
            `Sink "${sink.key}" returned ${result.length} outcomes for a batch of ${records.length} records.`,
          );
        }
        hooks.observeWrite((performance.now() - started) / 1000, records.length);
      } catch (error) {
        if (signal.aborted) return;
        const message = (error as Error).message;
        const kind = error instanceof ContractViolation ? 'contract' : classifyError(error);
        if (kind === 'fatal') {
          hooks.fail(new FatalError(`Sink "${sink.key}" failed: ${message}`, { cause: error }));
          return;
        }
        if (kind === 'permanent') {
          if (live.length === 1) {
            await hooks.deadLetter(live[0]!.members, message, attempt, signal);
            return;
          }
          const mid = Math.ceil(live.length / 2);
          this.#o.logger.warn(
            `Sink "${sink.key}" rejected a batch as a whole; splitting it to find the record.`,
            {
              records: live.length,
              error: message,
            },
          );
          await this.#write(live.slice(0, mid));
          await this.#write(live.slice(mid));
          return;
        }
        if (attempt >= this.#limit) {
          if (kind === 'contract') {
            hooks.fail(
              new FatalError(`${message} (a plugin bug; stopped after ${attempt} attempt(s))`, {
                cause: error,
              }),
            );
          } else if (s.terminateOnException) {
            hooks.fail(
              new FatalError(
                `Sink "${sink.key}" failed after ${attempt} attempt(s) and terminateOnException is true; stopped without committing the failed batch: ${message}`,
                { cause: error },
              ),
            );
          } else {
            this.#o.logger.error(
              `Sink "${sink.key}" failed after ${attempt} attempt(s); the batch goes to the dead-letter queue.`,
              {
                records: records.length,
                error: message,
              },
            );
            const members = live.flatMap((w) => w.members);
            await hooks.deadLetter(
              members,
              `write failed after ${attempt} attempt(s): ${message}`,
              attempt,
              signal,
            );
          }
          return;
        }
        this.#o.logger.warn(`Sink "${sink.key}" write failed; retrying.`, {
          attempt,
          records: records.length,
          error: message,
        });
        const waitMs = Math.max(
          backoffDelay(attempt, s.retryBaseMs, s.retryMaxMs),
          (error as { waitMs?: number }).waitMs ?? 0,
        );
        try {
          await sleep(waitMs, signal);
          if (kind === 'notConnected') await sink.connect(signal);
        } catch (e) {
          if (!signal.aborted)
            hooks.fail(
              e instanceof FatalError ? e : new FatalError((e as Error).message, { cause: e }),
            );
          return;
        }
        continue;
      }
      const ok: ApplierEntry[] = [];
      const rejected = new Map<string, ApplierEntry[]>();
      for (let i = 0; i < live.length; i++) {
        const outcome = result[i]!;
        if (outcome.status === 'applied') ok.push(...live[i]!.members);
        else {
          const reason = outcome.error?.message ?? 'rejected by the sink';
          rejected.set(reason, [...(rejected.get(reason) ?? []), ...live[i]!.members]);
        }
      }
      if (ok.length > 0) hooks.applied(ok);
      for (const [reason, entries] of rejected) {
        if (!(await hooks.deadLetter(entries, reason, attempt, signal))) return;
      }
      return;
    }
  }
}
