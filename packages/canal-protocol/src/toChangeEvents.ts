import type {
  ChangeEvent,
  ColumnMeta,
  ColumnValue,
  DdlChangeEvent,
  RowChangeEvent,
  RowEventType,
  RowImage,
} from '@sluice/plugin-api';
import type { FlatMessage } from './flatMessage.js';
import {
  NO_COLUMNS,
  NO_NAMES,
  ROW_TYPES,
  positionOf,
  type MessageOrigin,
} from './messageOrigin.js';
import { setOwn } from './ownProperty.js';

export type { MessageOrigin } from './messageOrigin.js';

/** SQL type code canal uses for "unknown" (java.sql.Types.OTHER). */
const SQL_TYPE_OTHER = 1111;

function columnsOf(message: FlatMessage): Readonly<Record<string, ColumnMeta>> {
  const columns: Record<string, ColumnMeta> = {};
  const mysqlTypes = message.mysqlType ?? {};
  const sqlTypes = message.sqlType ?? {};
  for (const name in mysqlTypes) {
    setOwn(
      columns,
      name,
      Object.freeze({
        mysqlType: mysqlTypes[name]!,
        sqlType: Object.prototype.hasOwnProperty.call(sqlTypes, name)
          ? sqlTypes[name]!
          : SQL_TYPE_OTHER,
      }),
    );
  }
  for (const name in sqlTypes) {
    if (!Object.prototype.hasOwnProperty.call(columns, name))
      setOwn(columns, name, Object.freeze({ mysqlType: '', sqlType: sqlTypes[name]! }));
  }
  return Object.freeze(columns);
}

/**
 * Turns one FlatMessage into ChangeEvents: one per row for INSERT/UPDATE/DELETE, one for a DDL
 * (`isDdl: true`, including QUERY statements such as CREATE DATABASE). Rows-query noise
 * (`QUERY` with `isDdl: false`: MySQL rows-query and MariaDB annotate events), statement-format
 * DML without rows, and XA markers carry no row data and yield no event.
 *
 * UPDATE: `before` is the row with canal's `old` laid over it; `changed` lists the columns of
 * `old` whose value differs from the row's. canal accumulates `old`'s columns across the rows
 * of one event (reference §1.6), so a column can sit in `old[i]` with its unchanged value; such
 * a column is not reported as changed. `position.index` counts events within the message.
 *
 * Row images are copies of the message's rows. Events are not frozen (freezing costs more than
 * the whole decode); treat them as read-only, as their types say. The column map and `pkNames`
 * are shared by the events of one message and are frozen.
 */
export function flatMessageToChangeEvents(
  message: FlatMessage,
  origin: MessageOrigin,
): ChangeEvent[] {
  return convert(message, origin, false);
}

/**
 * Like {@link flatMessageToChangeEvents}, but the events take the message's row objects as
 * their images instead of copying them. Only for messages nobody else holds (fresh from
 * {@link decodeFlatMessage}).
 */
export function adoptFlatMessageRows(message: FlatMessage, origin: MessageOrigin): ChangeEvent[] {
  return convert(message, origin, true);
}

function convert(message: FlatMessage, origin: MessageOrigin, adopt: boolean): ChangeEvent[] {
  const pkNames = message.pkNames ? Object.freeze([...message.pkNames]) : NO_NAMES;
  const destination = origin.destination;
  const { database, table, es: executedAt, ts: producedAt } = message;
  const gtid = message.gtid;

  if (message.isDdl) {
    const event: DdlChangeEvent = {
      kind: 'ddl',
      type: message.type,
      destination,
      database,
      table,
      pkNames,
      columns: NO_COLUMNS,
      executedAt,
      producedAt,
      ...(gtid ? { gtid } : {}),
      sql: message.sql,
      position: positionOf(origin, 0),
    };
    return [event];
  }
  const data = message.data;
  if (!ROW_TYPES.has(message.type) || data === null) return [];

  const type = message.type as RowEventType;
  const columns = columnsOf(message);
  const old = message.old;
  const events: ChangeEvent[] = new Array<ChangeEvent>(data.length);
  for (let index = 0; index < data.length; index++) {
    const row = data[index]!;
    const image: RowImage = adopt ? row : { ...row };
    const position = positionOf(origin, index);
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
        after: image,
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
        before: image,
        changed: NO_NAMES,
      };
    } else {
      const oldRow = old?.[index];
      let before: RowImage;
      let changed: readonly string[] = NO_NAMES;
      if (oldRow === undefined) {
        before = adopt ? { ...row } : image;
      } else {
        const b: Record<string, ColumnValue> = { ...row };
        const names: string[] = [];
        for (const column in oldRow) {
          const value = oldRow[column]!;
          if (value !== row[column]) names.push(column);
          setOwn(b, column, value);
        }
        before = b;
        if (names.length > 0) changed = names;
      }
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
        after: image,
        changed,
      };
    }
    if (gtid) (event as { gtid?: string }).gtid = gtid;
    events[index] = event;
  }
  return events;
}
