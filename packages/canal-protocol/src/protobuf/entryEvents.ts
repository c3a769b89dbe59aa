/**
 * The events of one ROWDATA entry, from a decoded `RowChange` (see canalMessagesToChangeEvents
 * for the mapping). The fast path (fastDecode.ts) builds the same events without the decoded
 * objects and uses this for the entries it leaves to the checked decoder (DDL, …).
 */
import type {
  ChangeEvent,
  ColumnMeta,
  ColumnValue,
  DdlChangeEvent,
  RowChangeEvent,
  RowEventType,
  RowImage,
} from '@sluice/plugin-api';
import { NO_COLUMNS, NO_NAMES, positionOf, type MessageOrigin } from '../messageOrigin.js';
import { unquoteName } from '../names.js';
import { noticeStatementDml, type DecodeNotice } from '../notices.js';
import { setOwn } from '../ownProperty.js';
import {
  EventType,
  eventTypeName,
  type CanalColumn,
  type CanalRowChange,
} from './entryProtocol.js';

const ROW_EVENT: Readonly<Record<number, RowEventType>> = {
  [EventType.INSERT]: 'INSERT',
  [EventType.UPDATE]: 'UPDATE',
  [EventType.DELETE]: 'DELETE',
};

function imageOf(columns: readonly CanalColumn[]): RowImage {
  const image: Record<string, ColumnValue> = {};
  for (const c of columns) {
    if (c.name === '__proto__') setOwn(image, c.name, c.isNull ? null : c.value);
    else image[c.name] = c.isNull ? null : c.value;
  }
  return image;
}

function keysOf(columns: readonly CanalColumn[]): string[] {
  const keys: string[] = [];
  for (const c of columns) if (c.isKey) keys.push(c.name);
  return keys;
}

/** True when `columns` describes exactly the column types already in `meta`. */
function sameMeta(
  meta: Readonly<Record<string, ColumnMeta>>,
  count: number,
  columns: readonly CanalColumn[],
  extra: readonly CanalColumn[],
): boolean {
  if (count !== columns.length + extra.length) return false;
  for (const list of [columns, extra]) {
    for (const c of list) {
      const m = Object.prototype.hasOwnProperty.call(meta, c.name) ? meta[c.name] : undefined;
      if (m === undefined || m.mysqlType !== c.mysqlType || m.sqlType !== c.sqlType) return false;
    }
  }
  return true;
}

const NO_EXTRA: readonly CanalColumn[] = Object.freeze([]);

/** Before-image columns missing from the after image (MINIMAL/NOBLOB images); usually none. */
function beforeOnly(
  after: readonly CanalColumn[],
  before: readonly CanalColumn[],
): readonly CanalColumn[] {
  if (after.length === before.length) {
    let same = true;
    for (let i = 0; i < after.length; i++) {
      if (after[i]!.name !== before[i]!.name) {
        same = false;
        break;
      }
    }
    if (same) return NO_EXTRA;
  }
  const names = new Set(after.map((c) => c.name));
  return before.filter((c) => !names.has(c.name));
}

function sameNames(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Appends the events of one ROWDATA entry (header fields given, `executedAt` as a number) to
 * `events`, and a notice to `notices` for statement-format DML (a row event type without rows).
 * Also used by the fast path for the entries it does not handle itself (DDL, …). `database` and
 * `table` lose MySQL identifier quotes (see names.ts).
 */
export function appendEntryEvents(
  events: ChangeEvent[],
  schemaName: string,
  tableName: string,
  executedAt: number,
  gtid: string,
  rowChange: CanalRowChange,
  origin: MessageOrigin,
  notices?: DecodeNotice[],
): void {
  const database = unquoteName(schemaName);
  const table = unquoteName(tableName);
  const destination = origin.destination;
  const producedAt = origin.producedAt ?? executedAt;
  if (rowChange.isDdl) {
    const event: DdlChangeEvent = {
      kind: 'ddl',
      type: eventTypeName(rowChange.eventType),
      destination,
      database,
      table,
      pkNames: NO_NAMES,
      columns: NO_COLUMNS,
      executedAt,
      producedAt,
      ...(gtid ? { gtid } : {}),
      sql: rowChange.sql,
      position: positionOf(origin, events.length),
    };
    events.push(event);
    return;
  }
  const type = ROW_EVENT[rowChange.eventType];
  if (type === undefined) return;
  if (rowChange.rowDatas.length === 0) {
    noticeStatementDml(notices, database, table, type, rowChange.sql);
    return;
  }

  let columns: Readonly<Record<string, ColumnMeta>> = NO_COLUMNS;
  let metaCount = 0;
  let pkNames: readonly string[] = NO_NAMES;
  for (const row of rowChange.rowDatas) {
    const main = type === 'DELETE' ? row.beforeColumns : row.afterColumns;
    const other = type === 'UPDATE' ? beforeOnly(row.afterColumns, row.beforeColumns) : NO_EXTRA;
    if (!sameMeta(columns, metaCount, main, other)) {
      const next: Record<string, ColumnMeta> = {};
      for (const c of other)
        setOwn(next, c.name, Object.freeze({ mysqlType: c.mysqlType, sqlType: c.sqlType }));
      for (const c of main)
        setOwn(next, c.name, Object.freeze({ mysqlType: c.mysqlType, sqlType: c.sqlType }));
      columns = Object.freeze(next);
      metaCount = Object.keys(next).length;
    }
    let keys = keysOf(main);
    if (keys.length === 0 && type === 'UPDATE') keys = keysOf(row.beforeColumns);
    if (!sameNames(pkNames, keys)) pkNames = keys.length === 0 ? NO_NAMES : Object.freeze(keys);

    const position = positionOf(origin, events.length);
    let event: RowChangeEvent;
    if (type === 'INSERT') {
      event = {
        kind: 'row',
        type,
        destination,
        database,
        table,
        pkNames,
        columns,
        executedAt,
        producedAt,
        position,
        after: imageOf(row.afterColumns),
        changed: NO_NAMES,
      };
    } else if (type === 'DELETE') {
      event = {
        kind: 'row',
        type,
        destination,
        database,
        table,
        pkNames,
        columns,
        executedAt,
        producedAt,
        position,
        before: imageOf(row.beforeColumns),
        changed: NO_NAMES,
      };
    } else {
      let changed: string[] | undefined;
      for (const c of row.afterColumns) {
        if (c.updated) (changed ??= []).push(c.name);
      }
      const before = imageOf(row.beforeColumns);
      const after = imageOf(row.afterColumns);
      event = {
        kind: 'row',
        type,
        destination,
        database,
        table,
        pkNames,
        columns,
        executedAt,
        producedAt,
        position,
        before,
        after,
        changed: changed ?? NO_NAMES,
      };
    }
    if (gtid) (event as { gtid?: string }).gtid = gtid;
    events.push(event);
  }
}
