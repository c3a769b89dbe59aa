import { randomUUID } from 'node:crypto';
import type { EtlResult } from '@sluice/plugin-api';
import type { AdminRuntime, EtlLockLease } from './adminRuntime.js';

/** Where an ETL job is. */
export type EtlJobState = 'running' | 'succeeded' | 'failed' | 'cancelled';

/** What `GET /etl/jobs/{id}` reports. */
export interface EtlJobStatus {
  readonly id: string;
  readonly type: string;
  readonly key: string;
  readonly task: string;
  readonly destination: string;
  readonly state: EtlJobState;
  /** ISO 8601 start time. */
  readonly startedAt: string;
  /** ISO 8601 end time, once ended. */
  readonly endedAt?: string;
  /** Rows written so far (the final count once ended). */
  readonly rows: number;
  /** Average rows per second since the start. */
  readonly rowsPerSecond: number;
  /** One line per row or chunk that could not be written, and the failure, if any. */
  readonly errors: readonly string[];
}

/**
 * Why a job could not start. `busy` carries canal's answer for a held lock
 * (`CommonRest.java`: `<task> 有其他进程正在导入中, 请稍后再试`); `unavailable` says why the
 * distributed lock could not be asked for.
 */
export type StartRefusal =
  | { readonly refused: 'not-found'; readonly message: string }
  | { readonly refused: 'busy'; readonly message: string }
  | { readonly refused: 'unavailable'; readonly message: string };

/** canal-adapter's answer when the ETL lock is held (`CommonRest.java`, `etl(...)`). */
export const etlBusyMessage = (task: string): string => `${task} 有其他进程正在导入中, 请稍后再试`;

interface Job {
  readonly id: string;
  readonly type: string;
  readonly key: string;
  readonly task: string;
  readonly destination: string;
  readonly startedAt: number;
  endedAt: number | undefined;
  state: EtlJobState;
  rows: number;
  errors: string[];
  readonly controller: AbortController;
  done: Promise<EtlResult | undefined>;
}

/** How many ended jobs are kept for `GET /etl/jobs/{id}`. */
const KEEP_ENDED = 50;

/**
 * Runs full syncs (canal's `POST /etl/…`) one per (type, destination) at a time, as canal's
 * `/sync-etl/<type>-<destination>` lock does. While a job runs, its destination's incremental
 * sync is switched off and switched back on afterwards (also on failure or cancellation) if it
 * was on before — canal-adapter's behaviour (behaviour reference §6.2): the stream cannot then
 * overwrite rows the ETL reads with older images, and the ETL's upserts are followed by the
 * stream's newer events once it resumes.
 */
export class EtlJobs {
  readonly #runtime: AdminRuntime;
  readonly #now: () => number;
  readonly #jobs = new Map<string, Job>();
  readonly #locks = new Map<string, string>();

  constructor(runtime: AdminRuntime, now: () => number = Date.now) {
    this.#runtime = runtime;
    this.#now = now;
  }

  /**
   * Starts a job, or says why it cannot start. Never rejects. The in-process lock of
   * (type, destination) is taken first, then canal's distributed lock when the runtime has one
   * ({@link AdminRuntime.tryEtlLock}: with `zookeeperHosts`, waits up to 500 ms as canal does).
   * Both are released when the job ends, however it ends.
   */
  async start(
    type: string,
    key: string | undefined,
    task: string,
    params: readonly string[],
  ): Promise<{ readonly id: string } | StartRefusal> {
    const found = this.#runtime.findTask(type, key, task);
    if (!found.found) return { refused: 'not-found', message: found.reason };
    const lock = `${type}-${found.destination}`;
    if (this.#locks.has(lock)) return { refused: 'busy', message: etlBusyMessage(task) };
    const id = randomUUID();
    this.#locks.set(lock, id);
    let lease: EtlLockLease | undefined;
    try {
      lease = this.#runtime.tryEtlLock
        ? await this.#runtime.tryEtlLock(type, found.destination)
        : { release: () => Promise.resolve() };
    } catch (error) {
      this.#locks.delete(lock);
      return {
        refused: 'unavailable',
        message: `${task}: the distributed ETL lock of ${type} for destination ${found.destination} could not be taken: ${(error as Error).message}`,
      };
    }
    if (!lease) {
      this.#locks.delete(lock);
      return { refused: 'busy', message: etlBusyMessage(task) };
    }
    const controller = new AbortController();
    const job: Job = {
      id,
      type,
      key: found.key,
      task,
      destination: found.destination,
      startedAt: this.#now(),
      endedAt: undefined,
      state: 'running',
      rows: 0,
      errors: [],
      controller,
      done: Promise.resolve(undefined),
    };
    job.done = this.#run(job, lock, lease, params);
    this.#jobs.set(id, job);
    this.#prune();
    return { id };
  }

  /**
   * Runs the job to its end. The end state (and `endedAt`) is published only after the sync
   * switch is back and both locks are released: a client that sees `succeeded` can start the
   * same ETL here or in another process at once.
   */
  async #run(
    j: Job,
    lock: string,
    lease: EtlLockLease,
    params: readonly string[],
  ): Promise<EtlResult | undefined> {
    const { destination, type, key, task } = j;
    const signal = j.controller.signal;
    const wasOn = this.#runtime.syncSwitch(destination) === 'on';
    let state: EtlJobState;
    let result: EtlResult | undefined;
    try {
      if (wasOn) await this.#runtime.setSyncSwitch(destination, 'off');
      result = await this.#runtime.etl({
        type,
        key,
        task,
        params,
        signal,
        onProgress: (rows) => {
          j.rows = rows;
        },
      });
      j.rows = result.rows;
      j.errors.push(...result.errors);
      state = signal.aborted ? 'cancelled' : result.errors.length > 0 ? 'failed' : 'succeeded';
    } catch (error) {
      state = signal.aborted ? 'cancelled' : 'failed';
      j.errors.push((error as Error).message);
    }
    if (wasOn) await this.#runtime.setSyncSwitch(destination, 'on').catch(() => undefined);
    // canal switches back on inside the lock, then unlocks (CommonRest.java).
    await lease.release();
    this.#locks.delete(lock);
    j.endedAt = this.#now();
    j.state = state;
    return result;
  }

  /** Waits for a job to end; undefined for an unknown id. */
  async wait(id: string): Promise<EtlJobStatus | undefined> {
    await this.#jobs.get(id)?.done;
    return this.status(id);
  }

  /** A job's status, or undefined for an unknown (or long-ended) id. */
  status(id: string): EtlJobStatus | undefined {
    const j = this.#jobs.get(id);
    if (!j) return undefined;
    const end = j.endedAt ?? this.#now();
    const seconds = Math.max(0.001, (end - j.startedAt) / 1000);
    return {
      id: j.id,
      type: j.type,
      key: j.key,
      task: j.task,
      destination: j.destination,
      state: j.state,
      startedAt: new Date(j.startedAt).toISOString(),
      ...(j.endedAt !== undefined ? { endedAt: new Date(j.endedAt).toISOString() } : {}),
      rows: j.rows,
      rowsPerSecond: Math.round(j.rows / seconds),
      errors: [...j.errors],
    };
  }

  /** Every known job, newest first. */
  list(): EtlJobStatus[] {
    return [...this.#jobs.keys()].reverse().map((id) => this.status(id)!);
  }

  /** Asks a running job to stop; false when the id is unknown or the job already ended. */
  cancel(id: string): boolean {
    const j = this.#jobs.get(id);
    if (!j || j.state !== 'running') return false;
    j.controller.abort(new Error('The ETL was cancelled.'));
    return true;
  }

  /** Cancels every running job and waits for them (shutdown). */
  async close(): Promise<void> {
    for (const j of this.#jobs.values()) if (j.state === 'running') j.controller.abort();
    await Promise.all([...this.#jobs.values()].map((j) => j.done));
  }

  #prune(): void {
    const ended = [...this.#jobs.values()].filter((j) => j.state !== 'running');
    for (const j of ended.slice(0, Math.max(0, ended.length - KEEP_ENDED))) this.#jobs.delete(j.id);
  }
}
