import type { ChangeEvent, MappingFile } from '@sluice/plugin-api';
import type { OrderingMode } from '../pipeline/settings.js';
import { coreErrors } from '../errors.js';

/**
 * One source table a mapping file applies to. A mapping that reads several tables (an
 * Elasticsearch mapping with joins) gives one route per table.
 */
export interface MappingRoute<M = unknown> {
  readonly mapping: MappingFile<M>;
  /** The mapping's `destination`. */
  readonly destination: string;
  /** The mapping's `groupId`; absent counts as `""` (canal's `trimToEmpty`). */
  readonly groupId?: string | undefined;
  /** Source database (schema). */
  readonly database: string;
  /**
   * Source table. Absent for an rdb `mirrorDb` mapping, which applies to every table of
   * `database` (and, when both sides have a group id, only to the same group).
   */
  readonly table?: string | undefined;
  /** Ordering this mapping asks for, overriding the sink instance's. */
  readonly ordering?: OrderingMode | undefined;
}

/** A sink instance of a group, as the router sees it. */
export interface RouterSink {
  readonly key: string;
  /**
   * The sink's mapping routes, or `undefined` for a sink without mapping files (`logger`),
   * which receives every event with `mapping: undefined`.
   */
  readonly routes: readonly MappingRoute[] | undefined;
}

/** Where canal-adapter's router runs. */
export interface RouterOptions {
  /** The `canalAdapters[].instance` of the pipeline. */
  readonly destination: string;
  /** The `groups[].groupId` of the pipeline. */
  readonly groupId: string;
  /**
   * canal's tcp mode (`canal.conf.mode: tcp`): mapping keys leave out the group id. Every
   * other mode (incl. a missing `mode`) keys on destination, group id, database and table.
   */
  readonly tcpMode?: boolean;
  readonly sinks: readonly RouterSink[];
}

/** The mappings of one sink that match one event: `[undefined]` for a sink without mappings. */
export type RouteResult = readonly (MappingRoute | undefined)[];

const NO_MAPPING: RouteResult = Object.freeze([undefined]);
const NOTHING: RouteResult = Object.freeze([]);

interface SinkIndex {
  readonly exact: Map<string, MappingRoute[]>;
  readonly mirror: Map<string, MappingRoute[]>;
  /**
   * The last table routed and its result: consecutive events of one table (the rows of a
   * message) are routed once, without building the mapping key again.
   */
  last: { destination: string; database: string; table: string; result: RouteResult } | undefined;
}

const trim = (s: string | undefined) => (s ?? '').trim();

/**
 * canal-adapter's routing (behaviour reference §3.4): the sink instances of a group each get
 * every event; a sink with mapping files applies every mapping whose key
 * `<destination>-<groupId>_<database>-<table>` (tcp mode: `<destination>_<database>-<table>`)
 * equals the event's, exactly and case-sensitively. An event that matches no mapping of a
 * mapping-based sink is skipped for that sink (canal semantics, not an error).
 */
export class Router {
  readonly #o: RouterOptions;
  readonly #indexes: (SinkIndex | undefined)[];
  readonly #keys: string[];

  constructor(options: RouterOptions) {
    this.#o = options;
    this.#keys = options.sinks.map((s) => s.key);
    this.#indexes = options.sinks.map((s) => this.#index(s.routes));
  }

  /** The sink keys, in configuration order (the index used by {@link route}). */
  get sinkKeys(): readonly string[] {
    return this.#keys;
  }

  /** The matching mappings of sink number `sink` for `event` (see {@link RouteResult}). */
  route(sink: number, event: ChangeEvent): RouteResult {
    const index = this.#indexes[sink];
    if (index === undefined) return NO_MAPPING;
    const last = index.last;
    if (
      last !== undefined &&
      last.table === event.table &&
      last.database === event.database &&
      last.destination === event.destination
    )
      return last.result;
    const result = this.#match(index, event);
    index.last = {
      destination: event.destination,
      database: event.database,
      table: event.table,
      result,
    };
    return result;
  }

  #match(index: SinkIndex, event: ChangeEvent): RouteResult {
    const exact = index.exact.get(this.#eventKey(event.destination, event.database, event.table));
    const mirror = index.mirror.get(`${event.destination}.${event.database}`);
    if (!mirror) return exact ?? NOTHING;
    const mirrors = mirror.filter(
      (r) => this.#o.tcpMode || !trim(r.groupId) || trim(r.groupId) === this.#o.groupId,
    );
    if (!exact) return mirrors;
    return [...exact, ...mirrors];
  }

  /**
   * Replaces the mapping routes of one sink instance (mapping hot reload). Takes effect for
   * events routed from the next delivered batch on; events already routed keep their mapping.
   */
  replaceRoutes(sinkKey: string, routes: readonly MappingRoute[] | undefined): void {
    const i = this.#keys.indexOf(sinkKey);
    if (i < 0)
      throw coreErrors.config(
        `No sink instance "${sinkKey}" in group "${this.#o.groupId}" of "${this.#o.destination}".`,
      );
    this.#indexes[i] = this.#index(routes);
  }

  #eventKey(destination: string, database: string, table: string): string {
    return this.#o.tcpMode
      ? `${destination}_${database}-${table}`
      : `${destination}-${this.#o.groupId}_${database}-${table}`;
  }

  #index(routes: readonly MappingRoute[] | undefined): SinkIndex | undefined {
    if (routes === undefined) return undefined;
    const exact = new Map<string, MappingRoute[]>();
    const mirror = new Map<string, MappingRoute[]>();
    for (const r of routes) {
      if (r.table === undefined) {
        const key = `${trim(r.destination)}.${r.database}`;
        mirror.set(key, [...(mirror.get(key) ?? []), r]);
        continue;
      }
      const key = this.#o.tcpMode
        ? `${trim(r.destination)}_${r.database}-${r.table}`
        : `${trim(r.destination)}-${trim(r.groupId)}_${r.database}-${r.table}`;
      const list = exact.get(key) ?? [];
      // One mapping file reading the same table twice (a self-join) still applies once.
      if (!list.some((x) => x.mapping.file === r.mapping.file)) list.push(r);
      exact.set(key, list);
    }
    return { exact, mirror, last: undefined };
  }
}
