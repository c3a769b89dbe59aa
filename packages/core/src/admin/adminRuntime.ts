import type { EtlResult, TargetCount } from '@sluice/plugin-api';

/** A held ETL lock (see {@link AdminRuntime.tryEtlLock}). */
export interface EtlLockLease {
  /** Releases the lock; idempotent, never rejects. */
  release(): Promise<void>;
}

/** The state of one destination's sync switch (canal's `SyncSwitch`). */
export type SwitchState = 'on' | 'off';

/** Readiness of one part of the runtime, for `GET /health/ready`. */
export interface HealthCheck {
  /** What was checked: `source example/g1`, `sink rdb1`, `pipeline example/g1`. */
  readonly name: string;
  readonly ok: boolean;
  /** Why not, when `ok` is false. */
  readonly reason?: string;
}

/** One full-sync request addressed the way canal's REST API addresses it. */
export interface AdminEtlRequest {
  /** The adapter type (`rdb`, `es8`, `redis`): `outerAdapters[].name`. */
  readonly type: string;
  /** The sink instance key (`outerAdapters[].key`), or undefined to find it from the task. */
  readonly key: string | undefined;
  /** The mapping file name (`mytest_user.yml`). */
  readonly task: string;
  /** canal's `params`, split on `;`. */
  readonly params: readonly string[];
  /** Rows done so far; called from the sink's flow, never concurrently. */
  readonly onProgress: (rowsDone: number) => void;
  readonly signal: AbortSignal;
}

/** Which destination a task belongs to, so an ETL can pause it, or why it cannot run. */
export type TaskLookup =
  | { readonly found: true; readonly destination: string; readonly key: string }
  | { readonly found: false; readonly reason: string };

/**
 * What the admin API needs from a running Sluice. Implemented by the runtime; every method may be
 * called concurrently from HTTP requests while pipelines run.
 */
export interface AdminRuntime {
  /** Every configured destination (`canalAdapters[].instance`), in configuration order. */
  destinations(): readonly string[];
  /** The switch of a destination; `off` for an unknown one (as canal answers). */
  syncSwitch(destination: string): SwitchState;
  /**
   * Turns a destination's intake on or off (every group of it). Off: the batches in hand finish,
   * then no new message is taken until it is on again. Resolves once the state is in force.
   */
  setSyncSwitch(destination: string, state: SwitchState): Promise<void>;
  /** Readiness checks: sources and sinks connected, no pipeline stopped. */
  health(): readonly HealthCheck[];
  /** Prometheus text of every metric, and its content type. */
  readonly metrics: { exposition(): Promise<string>; readonly contentType: string };
  /** Finds the sink instance and destination of a task (for locks and pausing). */
  findTask(type: string, key: string | undefined, task: string): TaskLookup;
  /**
   * canal's distributed ETL lock of (adapter type, destination), taken before an ETL starts
   * (`/canal-adapter/sync-etl/<type>-<destination>` with `zookeeperHosts`; behaviour reference
   * §6.2). Resolves with a lease to release when the ETL ends, or undefined when another process
   * holds the lock; rejects when the lock cannot be asked for (ZooKeeper unreachable). Absent:
   * only the in-process lock applies.
   */
  tryEtlLock?(type: string, destination: string): Promise<EtlLockLease | undefined>;
  /** Runs a sink's full sync of one mapping. Rejects when the sink has no `etl`. */
  etl(request: AdminEtlRequest): Promise<EtlResult>;
  /**
   * Rows/documents in the mapping's target, with the sink's canal-compatible answer fields
   * (a sink answering a plain number gets none). Rejects when the sink has no `count`.
   */
  count(
    type: string,
    key: string | undefined,
    task: string,
    signal: AbortSignal,
  ): Promise<TargetCount>;
  /** What `GET /status` (and `sluice status`) reports. Cheap; no I/O. */
  status(): RuntimeStatus;
  /** Brings what {@link status} reports from elsewhere up to date (the dead-letter depth). */
  refreshStatus?(): Promise<void>;
}

/** One sink instance in {@link PipelineStatus}. */
export interface SinkStatus {
  /** `outerAdapters[].key`. */
  readonly key: string;
  readonly connected: boolean;
  /** Events applied since the process started. */
  readonly applied: number;
  /** Events dead-lettered since the process started. */
  readonly deadLettered: number;
}

/** One partition in {@link PipelineStatus}. */
export interface PartitionStatus {
  readonly partition: string;
  /** Events taken from it and not yet applied or dead-lettered. */
  readonly inFlight: number;
  /** The next offset to read, as last committed; absent before the first commit. */
  readonly committed?: string;
}

/** One pipeline (`canalAdapters[].groups[]` entry) in {@link RuntimeStatus}. */
export interface PipelineStatus {
  readonly destination: string;
  readonly groupId: string;
  /** The destination's sync switch. */
  readonly syncSwitch: SwitchState;
  readonly sourceConnected: boolean;
  readonly stopped: boolean;
  /** Why the pipeline stopped, when it failed. */
  readonly error?: string;
  readonly inFlight: number;
  /**
   * Seconds between now and the binlog time (canal's `es`) of the newest applied event; `null`
   * before the first one.
   */
  readonly lagSeconds: number | null;
  /**
   * Dead letters of the destination waiting in the queue (written, not yet replayed or
   * dropped); null when the dead-letter transport cannot count them (`file` and `kafka` can).
   */
  readonly deadLetterDepth: number | null;
  readonly partitions: readonly PartitionStatus[];
  readonly sinks: readonly SinkStatus[];
}

/** Which running Sluice answers: `sluice status --config DIR` checks it is the one of DIR. */
export interface InstanceIdentity {
  /** The configuration directory it runs (absolute). */
  readonly configDir: string;
  readonly pid: number;
  readonly hostname: string;
}

/** The state of a running Sluice: `GET /status`. */
export interface RuntimeStatus {
  /** Sluice's version. */
  readonly version: string;
  /** Which process answers (absent from a Sluice older than this field). */
  readonly instance?: InstanceIdentity;
  /** ISO 8601 start time of the process's runtime. */
  readonly startedAt: string;
  readonly uptimeSeconds: number;
  /** Where dead letters go (`file /var/lib/sluice/dlq`, `topic orders.dlq on …`), no secrets. */
  readonly deadLetterQueue: string;
  readonly pipelines: readonly PipelineStatus[];
}
