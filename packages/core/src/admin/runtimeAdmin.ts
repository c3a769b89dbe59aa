import { hostname } from 'node:os';
import type { EtlResult, TargetCount } from '@sluice/plugin-api';
import type { ConfiguredMapping } from '../config/application/types.js';
import { toMappingFile } from '../mappings/mappingIndex.js';
import type { SinkInstanceInfo, SluiceRuntime } from '../runtime.js';
import type {
  AdminEtlRequest,
  AdminRuntime,
  EtlLockLease,
  HealthCheck,
  RuntimeStatus,
  SwitchState,
  TaskLookup,
} from './adminRuntime.js';

/** Options of {@link RuntimeAdmin}. */
export interface RuntimeAdminOptions {
  /** Sluice's version, for `GET /status`. */
  readonly version: string;
  /** Clock (ms since the epoch); injectable for tests. */
  readonly now?: () => number;
}

const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

/**
 * The admin API's view of a running {@link SluiceRuntime}: canal's REST endpoints (`/etl`,
 * `/count`, `/destinations`, `/syncSwitch`) resolved against the runtime's pipelines, sink
 * instances and the mapping files in force (reloads included).
 *
 * Tasks are addressed as canal addresses them (behaviour reference §6.1): `type` is the adapter
 * name (`rdb`, `es7`), `task` the mapping file name, `key` the `outerAdapters[].key` (matched
 * case-insensitively, as `sluice etl` does; optional when one instance owns the file). An ETL or
 * count runs on the pipeline's own sink instance, concurrently with the stream; the ETL job
 * runner switches the destination off while it runs.
 */
export class RuntimeAdmin implements AdminRuntime {
  readonly #runtime: SluiceRuntime;
  readonly #version: string;
  readonly #now: () => number;

  constructor(runtime: SluiceRuntime, options: RuntimeAdminOptions) {
    this.#runtime = runtime;
    this.#version = options.version;
    this.#now = options.now ?? Date.now;
  }

  get metrics(): AdminRuntime['metrics'] {
    const registry = this.#runtime.metrics;
    return { exposition: () => registry.exposition(), contentType: registry.contentType };
  }

  destinations(): readonly string[] {
    return this.#runtime.destinations();
  }

  syncSwitch(destination: string): SwitchState {
    return this.#runtime.syncSwitch(destination);
  }

  setSyncSwitch(destination: string, state: SwitchState): Promise<void> {
    return this.#runtime.setSyncSwitch(destination, state);
  }

  health(): readonly HealthCheck[] {
    return this.#runtime.health();
  }

  findTask(type: string, key: string | undefined, task: string): TaskLookup {
    const found = this.#resolve(type, key, task);
    return 'reason' in found
      ? { found: false, reason: found.reason }
      : { found: true, destination: found.sink.destination, key: found.sink.key };
  }

  tryEtlLock(type: string, destination: string): Promise<EtlLockLease | undefined> {
    return this.#runtime.tryEtlLock(type, destination);
  }

  async etl(request: AdminEtlRequest): Promise<EtlResult> {
    const found = this.#resolve(request.type, request.key, request.task);
    if ('reason' in found) throw new Error(found.reason);
    const { sink, mapping } = found;
    if (!sink.instance.etl)
      throw new Error(`The ${request.type} sink "${sink.key}" does not support ETL.`);
    return sink.instance.etl(
      { mapping: toMappingFile(mapping), params: request.params, onProgress: request.onProgress },
      request.signal,
    );
  }

  async count(
    type: string,
    key: string | undefined,
    task: string,
    signal: AbortSignal,
  ): Promise<TargetCount> {
    const found = this.#resolve(type, key, task);
    if ('reason' in found) throw new Error(found.reason);
    const { sink, mapping } = found;
    if (!sink.instance.count)
      throw new Error(`The ${type} sink "${sink.key}" does not support count.`);
    const answer = await sink.instance.count(toMappingFile(mapping), signal);
    return typeof answer === 'number' ? { count: answer } : answer;
  }

  refreshStatus(): Promise<void> {
    return this.#runtime.refreshDeadLetterDepth();
  }

  status(): RuntimeStatus {
    const now = this.#now();
    const r = this.#runtime;
    return {
      version: this.#version,
      instance: { configDir: r.config.dir, pid: process.pid, hostname: hostname() },
      startedAt: new Date(r.startedAt).toISOString(),
      uptimeSeconds: Math.max(0, Math.round((now - r.startedAt) / 1000)),
      deadLetterQueue: r.deadLetterLocation,
      pipelines: r.pipelines().map((p) => ({
        destination: p.destination,
        groupId: p.groupId,
        syncSwitch: r.syncSwitch(p.destination),
        sourceConnected: p.sourceConnected,
        stopped: p.stopped,
        ...(p.error !== undefined ? { error: p.error } : {}),
        inFlight: p.inFlight,
        lagSeconds: p.lagSeconds === null ? null : Math.round(p.lagSeconds * 10) / 10,
        deadLetterDepth: p.deadLetterDepth,
        partitions: p.partitions.map((part) => ({
          partition: part.partition,
          inFlight: part.inFlight,
          ...(part.committed !== undefined ? { committed: part.committed } : {}),
        })),
        sinks: p.sinks.map((s) => ({
          key: s.key,
          connected: s.connected,
          applied: s.applied,
          deadLettered: s.deadLettered,
        })),
      })),
    };
  }

  /** The mapping file and the one sink instance a task names, or why there is none. */
  #resolve(
    type: string,
    key: string | undefined,
    task: string,
  ):
    | { readonly sink: SinkInstanceInfo; readonly mapping: ConfiguredMapping }
    | { readonly reason: string } {
    const mappings = this.#runtime.mappings().filter((m) => m.name === task && same(m.type, type));
    if (mappings.length === 0) return { reason: `No ${type} mapping file named "${task}".` };
    const candidates = this.#runtime
      .sinkInstances()
      .filter(
        (s) =>
          same(s.name, type) &&
          (key === undefined || same(s.key, key)) &&
          mappings.some((m) => m.owners.some((o) => o.name === s.name && o.key === s.key)),
      );
    if (candidates.length === 0)
      return {
        reason: `No running ${type} sink instance${key ? ` with key "${key}"` : ''} owns "${task}".`,
      };
    if (candidates.length > 1)
      return {
        reason: `"${task}" is owned by ${candidates.length} ${type} sink instances (${candidates
          .map((c) => c.key)
          .join(', ')}); name one as the key.`,
      };
    const sink = candidates[0]!;
    const mapping = mappings.find((m) =>
      m.owners.some((o) => o.name === sink.name && o.key === sink.key),
    )!;
    return { sink, mapping };
  }
}
