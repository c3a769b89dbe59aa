import type { MappingFile } from '@sluice/plugin-api';
import type { ConfiguredMapping, ResolvedConfig, SinkRef } from '../config/application/types.js';

/** What an event offers to the mapping lookup. */
export interface MappingLookupKey {
  readonly destination: string;
  readonly groupId: string;
  readonly database: string;
  readonly table: string;
}

/**
 * canal's lookup key (§3.4): `<destination>_<database>-<table>` in tcp mode, otherwise
 * `<destination>-<groupId>_<database>-<table>` (an absent groupId counts as "").
 */
export function mappingKey(
  scheme: 'tcp' | 'mq',
  destination: string,
  groupId: string | undefined,
  database: string,
  table: string,
): string {
  return scheme === 'tcp'
    ? `${destination}_${database}-${table}`
    : `${destination}-${groupId ?? ''}_${database}-${table}`;
}

/** One (mapping, source table) pair, in the shape the router consumes. */
export interface MappingRouteSpec {
  readonly mapping: MappingFile<Readonly<Record<string, unknown>>>;
  readonly destination: string;
  readonly groupId: string | undefined;
  readonly database: string;
  /** Undefined for a whole-schema mapping (rdb `mirrorDb`). */
  readonly table: string | undefined;
}

/** The {@link MappingFile} a sink receives for a configured mapping. */
export function toMappingFile(
  mapping: ConfiguredMapping,
): MappingFile<Readonly<Record<string, unknown>>> {
  return { file: mapping.file, name: mapping.name, config: mapping.config };
}

const sinkId = (sink: SinkRef) => `${sink.name}\u0000${sink.key}`;

/**
 * Which mappings apply to an event, per sink instance: canal's `key → {file → mapping}` maps
 * (§3.4), exact and case-sensitive, several mappings per table allowed, plus whole-schema
 * (`mirrorDb`) mappings.
 */
export class MappingIndex {
  readonly #scheme: 'tcp' | 'mq';
  readonly #bySink = new Map<string, ConfiguredMapping[]>();
  readonly #byKey = new Map<string, Map<string, ConfiguredMapping[]>>();
  readonly #mirror = new Map<string, Map<string, ConfiguredMapping[]>>();

  constructor(mappings: readonly ConfiguredMapping[], scheme: 'tcp' | 'mq') {
    this.#scheme = scheme;
    for (const mapping of mappings) {
      for (const owner of mapping.owners) {
        const id = sinkId(owner);
        const own = this.#bySink.get(id) ?? [];
        own.push(mapping);
        this.#bySink.set(id, own);
        if (mapping.destination === undefined) continue;
        for (const t of mapping.tables) {
          if (t.database === undefined) continue;
          const [table, key]: [Map<string, Map<string, ConfiguredMapping[]>>, string] =
            t.table === '*'
              ? [this.#mirror, `${mapping.destination}.${t.database}`]
              : [
                  this.#byKey,
                  mappingKey(scheme, mapping.destination, mapping.groupId, t.database, t.table),
                ];
          const perSink: Map<string, ConfiguredMapping[]> =
            table.get(id) ?? new Map<string, ConfiguredMapping[]>();
          const list: ConfiguredMapping[] = perSink.get(key) ?? [];
          if (!list.includes(mapping)) list.push(mapping);
          perSink.set(key, list);
          table.set(id, perSink);
        }
      }
    }
  }

  /** The index of a resolved configuration. */
  static of(config: ResolvedConfig): MappingIndex {
    return new MappingIndex(config.mappings, config.canal.mappingKeyScheme);
  }

  /** Every mapping the sink instance owns, in file order. */
  forSink(sink: SinkRef): readonly ConfiguredMapping[] {
    return this.#bySink.get(sinkId(sink)) ?? [];
  }

  /** The sink instance's mappings that apply to an event (table mappings first, then mirrorDb ones). */
  lookup(sink: SinkRef, event: MappingLookupKey): readonly ConfiguredMapping[] {
    const id = sinkId(sink);
    const exact =
      this.#byKey
        .get(id)
        ?.get(
          mappingKey(this.#scheme, event.destination, event.groupId, event.database, event.table),
        ) ?? [];
    const mirror = (
      this.#mirror.get(id)?.get(`${event.destination}.${event.database}`) ?? []
    ).filter((m) => m.groupId === undefined || event.groupId === '' || m.groupId === event.groupId);
    return mirror.length === 0 ? exact : [...exact, ...mirror.filter((m) => !exact.includes(m))];
  }

  /** The sink instance's mappings as (mapping, table) routes, for the router. */
  routes(sink: SinkRef): MappingRouteSpec[] {
    return this.forSink(sink).flatMap((m) =>
      m.destination === undefined
        ? []
        : m.tables.flatMap((t) =>
            t.database === undefined
              ? []
              : [
                  {
                    mapping: toMappingFile(m),
                    destination: m.destination as string,
                    groupId: m.groupId,
                    database: t.database,
                    table: t.table === '*' ? undefined : t.table,
                  },
                ],
          ),
    );
  }
}
