/*
 * The change model every sink receives (DESIGN.md §2).
 *
 * Values stay exactly as canal sent them: a string, or `null` for SQL NULL. Sinks convert them
 * once, at the edge, with the typed accessor of `@sluice/canal-protocol` (by `mysqlType`).
 */

/** A column value as canal renders it: always text, `null` for SQL NULL. */
export type ColumnValue = string | null;

/** One row image: column name → value. Only columns present in the binlog row image appear. */
export type RowImage = Readonly<Record<string, ColumnValue>>;

/** Row change types. */
export type RowEventType = 'INSERT' | 'UPDATE' | 'DELETE';

/**
 * DDL and other statement types canal emits with `isDdl` (CREATE, ALTER, RENAME, CINDEX, DINDEX,
 * ERASE, TRUNCATE, QUERY). Kept open as a string because canal adds types over time.
 */
export type DdlEventType =
  | 'CREATE'
  | 'ALTER'
  | 'RENAME'
  | 'CINDEX'
  | 'DINDEX'
  | 'ERASE'
  | 'TRUNCATE'
  | 'QUERY'
  | (string & {});

/** Type information of one column, as canal reports it. */
export interface ColumnMeta {
  /** Column type text from canal's table meta, e.g. `bigint(20) unsigned`, `decimal(10,2)`. */
  readonly mysqlType: string;
  /** java.sql.Types code, e.g. 4 (INTEGER), 12 (VARCHAR), 93 (TIMESTAMP). */
  readonly sqlType: number;
}

/**
 * Where an event came from. Stable and monotonic within one partition, so it can serve as a
 * version for idempotent writes: compare with {@link comparePositions}.
 */
export interface EventPosition {
  /** Source instance, e.g. the Kafka topic or the file path. */
  readonly source: string;
  /** The unit of order: a Kafka partition, a file, a queue. */
  readonly partition: string;
  /** Offset of the source message within the partition, as a decimal string (may exceed 2^53). */
  readonly offset: string;
  /** Index of this event among the events decoded from that one source message (row index). */
  readonly index: number;
}

/** What row and DDL events share: where the change happened and where it was read. */
export interface ChangeEventBase {
  /** canal destination: the Kafka topic, canal instance or queue name the message came from. */
  readonly destination: string;
  /** Source database (schema). `""` when canal did not know it. */
  readonly database: string;
  /** Source table. `""` for statements without a table. */
  readonly table: string;
  /**
   * Primary-key column names (canal's `pkNames`); empty when the table has none. Frozen, and
   * shared by the events of a table. In per-row code, loop over it by index: on Node 20 a
   * `for…of` over a frozen array allocates an iterator on every call (BENCHMARKS.md, issue 11).
   */
  readonly pkNames: readonly string[];
  /** Per-column type information; empty for DDL. */
  readonly columns: Readonly<Record<string, ColumnMeta>>;
  /** Binlog event time (canal `es`), ms since the epoch. */
  readonly executedAt: number;
  /** Time canal built the message (canal `ts`), ms since the epoch. */
  readonly producedAt: number;
  /** canal `gtid` (executed GTID set), when the producer sent one. */
  readonly gtid?: string;
  /** Where the event came from. */
  readonly position: EventPosition;
}

/** One changed row. */
export interface RowChangeEvent extends ChangeEventBase {
  readonly kind: 'row';
  readonly type: RowEventType;
  /** Row before the change: UPDATE (after image overlaid with canal's `old`) and DELETE. */
  readonly before?: RowImage;
  /** Row after the change: INSERT and UPDATE. */
  readonly after?: RowImage;
  /** Columns an UPDATE changed (keys of canal's `old`); empty otherwise. */
  readonly changed: readonly string[];
}

/** One DDL (or other non-row statement). */
export interface DdlChangeEvent extends ChangeEventBase {
  readonly kind: 'ddl';
  readonly type: DdlEventType;
  /** The statement text as written to the binlog. */
  readonly sql: string;
}

/** What every sink receives: one row change or one DDL. */
export type ChangeEvent = RowChangeEvent | DdlChangeEvent;

/**
 * Orders two positions of the same partition: negative if `a` comes first, 0 if equal,
 * positive if `b` comes first. Offsets are compared as integers (they may exceed 2^53).
 */
export function comparePositions(a: EventPosition, b: EventPosition): number {
  if (a.offset !== b.offset) {
    const diff = BigInt(a.offset) - BigInt(b.offset);
    return diff < 0n ? -1 : 1;
  }
  return a.index - b.index;
}

/** The image that identifies a row event's row now: `after` for INSERT/UPDATE, `before` for DELETE. */
export function currentImage(event: RowChangeEvent): RowImage {
  const image = event.type === 'DELETE' ? event.before : event.after;
  return image ?? {};
}
