import type {
  ChangeEvent,
  ColumnMeta,
  DdlChangeEvent,
  DdlEventType,
  EventPosition,
  RowChangeEvent,
  RowImage,
} from '@sluice/plugin-api';

/** Defaults every event of an {@link EventBuilder} shares. */
export interface EventBuilderOptions {
  /** canal destination. Default `test`. */
  readonly destination?: string;
  /** Source database. Default `testdb`. */
  readonly database?: string;
  /** Primary-key columns. Default `['id']`. */
  readonly pkNames?: readonly string[];
  /** `position.source`. Default the destination. */
  readonly source?: string;
  /** `position.partition`. Default `0`. */
  readonly partition?: string;
  /** Offset of the first event. Default 1; each event takes the next one. */
  readonly firstOffset?: number | bigint;
  /** Column types; columns not listed are `varchar(255)` (sqlType 12). */
  readonly columns?: Readonly<Record<string, ColumnMeta>>;
  /** `executedAt` of the first event (ms); each event is 1 ms later. Default 1_700_000_000_000. */
  readonly startTime?: number;
}

/** Per-event overrides. */
export interface EventOverrides {
  /** Use this offset instead of the next one (the builder's counter does not move). */
  readonly offset?: number | bigint | string;
  /** Row index within the message. Default 0. */
  readonly index?: number;
  /** Primary-key columns of this event. */
  readonly pkNames?: readonly string[];
  /** Database of this event. */
  readonly database?: string;
}

const DEFAULT_COLUMN: ColumnMeta = Object.freeze({ mysqlType: 'varchar(255)', sqlType: 12 });

/**
 * Builds `ChangeEvent`s with positions that increase like a real partition's: each call takes the
 * next offset (index 0), so a sequence of calls is a valid, ordered partition.
 *
 * ```ts
 * const ev = new EventBuilder({ database: 'shop' });
 * const batch = [ev.insert('items', { id: '1', name: 'a' }), ev.delete('items', { id: '1' })];
 * ```
 */
export class EventBuilder {
  readonly #o: Required<Omit<EventBuilderOptions, 'firstOffset' | 'columns' | 'source'>> & {
    source: string;
  };
  readonly #columns: Readonly<Record<string, ColumnMeta>>;
  #next: bigint;
  #time: number;

  constructor(options: EventBuilderOptions = {}) {
    const destination = options.destination ?? 'test';
    this.#o = {
      destination,
      database: options.database ?? 'testdb',
      pkNames: options.pkNames ?? ['id'],
      source: options.source ?? destination,
      partition: options.partition ?? '0',
      startTime: options.startTime ?? 1_700_000_000_000,
    };
    this.#columns = options.columns ?? {};
    this.#next = BigInt(options.firstOffset ?? 1);
    this.#time = this.#o.startTime;
  }

  /** The offset the next event will get. */
  get nextOffset(): string {
    return this.#next.toString();
  }

  /** An INSERT of `row` into `table`. */
  insert(table: string, row: RowImage, overrides: EventOverrides = {}): RowChangeEvent {
    return this.#row(table, 'INSERT', undefined, row, [], overrides);
  }

  /**
   * An UPDATE from `before` to `after` (full images). `changed` lists the columns whose values
   * differ, like canal's `old` keys. Changing a primary-key column makes a PK-changing update.
   */
  update(
    table: string,
    before: RowImage,
    after: RowImage,
    overrides: EventOverrides = {},
  ): RowChangeEvent {
    const changed = [...new Set([...Object.keys(before), ...Object.keys(after)])].filter(
      (k) => before[k] !== after[k],
    );
    return this.#row(table, 'UPDATE', before, after, changed, overrides);
  }

  /** A DELETE of `row` (the before image). */
  delete(table: string, row: RowImage, overrides: EventOverrides = {}): RowChangeEvent {
    return this.#row(table, 'DELETE', row, undefined, [], overrides);
  }

  /** A DDL statement on `table` (type defaults to `ALTER`). */
  ddl(
    table: string,
    sql: string,
    type: DdlEventType = 'ALTER',
    overrides: EventOverrides = {},
  ): DdlChangeEvent {
    return Object.freeze({
      ...this.#base(table, overrides),
      kind: 'ddl',
      type,
      sql,
      pkNames: [],
      columns: {},
    });
  }

  #position(overrides: EventOverrides): EventPosition {
    let offset: string;
    if (overrides.offset !== undefined) offset = String(overrides.offset);
    else {
      offset = this.#next.toString();
      this.#next += 1n;
    }
    return Object.freeze({
      source: this.#o.source,
      partition: this.#o.partition,
      offset,
      index: overrides.index ?? 0,
    });
  }

  #base(table: string, overrides: EventOverrides) {
    const at = this.#time++;
    return {
      destination: this.#o.destination,
      database: overrides.database ?? this.#o.database,
      table,
      executedAt: at,
      producedAt: at + 5,
      position: this.#position(overrides),
    };
  }

  #row(
    table: string,
    type: RowChangeEvent['type'],
    before: RowImage | undefined,
    after: RowImage | undefined,
    changed: readonly string[],
    overrides: EventOverrides,
  ): RowChangeEvent {
    const names = Object.keys(after ?? before ?? {});
    const columns = Object.fromEntries(names.map((n) => [n, this.#columns[n] ?? DEFAULT_COLUMN]));
    return Object.freeze({
      ...this.#base(table, overrides),
      kind: 'row' as const,
      type,
      pkNames: overrides.pkNames ?? this.#o.pkNames,
      columns,
      changed,
      ...(before ? { before: Object.freeze({ ...before }) } : {}),
      ...(after ? { after: Object.freeze({ ...after }) } : {}),
    });
  }
}

/**
 * The canal FlatMessage JSON of one event, for feeding a source (e.g. the in-memory source or a
 * JSONL file) with events built by {@link EventBuilder}.
 */
export function toFlatMessage(event: ChangeEvent, id = 1): string {
  const base = {
    database: event.database,
    table: event.table,
    es: event.executedAt,
    ts: event.producedAt,
    gtid: event.gtid ?? '',
    id,
    type: event.type,
  };
  if (event.kind === 'ddl') {
    return JSON.stringify({
      ...base,
      data: null,
      old: null,
      isDdl: true,
      pkNames: null,
      sql: event.sql,
      mysqlType: null,
      sqlType: null,
    });
  }
  const image = event.type === 'DELETE' ? event.before : event.after;
  const old =
    event.type === 'UPDATE'
      ? [Object.fromEntries(event.changed.map((k) => [k, event.before?.[k] ?? null]))]
      : null;
  return JSON.stringify({
    ...base,
    data: [image ?? {}],
    old,
    isDdl: false,
    pkNames: event.pkNames,
    sql: '',
    mysqlType: Object.fromEntries(Object.entries(event.columns).map(([k, c]) => [k, c.mysqlType])),
    sqlType: Object.fromEntries(Object.entries(event.columns).map(([k, c]) => [k, c.sqlType])),
  });
}
