import type {
  ChangeEvent,
  ColumnValue,
  DdlChangeEvent,
  EventPosition,
  RowChangeEvent,
  RowImage,
} from '@sluice/plugin-api';
import type { FlatMessage } from './flatMessage.js';
import { NO_COLUMNS, NO_NAMES, positionOf, type MessageOrigin } from './messageOrigin.js';
import { unquoteName } from './names.js';
import { noticeStatementDml, type DecodeNotice } from './notices.js';
import { setOwn } from './ownProperty.js';
import { pkNamesOf, shapeOf } from './tableShapes.js';

export type { MessageOrigin } from './messageOrigin.js';

/**
 * Turns one FlatMessage into ChangeEvents: one per row for INSERT/UPDATE/DELETE, one for a DDL
 * (`isDdl: true`, including QUERY statements such as CREATE DATABASE). Rows-query noise
 * (`QUERY` with `isDdl: false`: MySQL rows-query and MariaDB annotate events), statement-format
 * DML without rows, and XA markers carry no row data and yield no event; statement-format DML
 * is reported in `notices` (when given) as a {@link DecodeNotice}, outside system tables.
 *
 * `database` and `table` lose MySQL identifier quotes canal sometimes leaves on DDL names
 * (`` `mytest` `` → `mytest`; see names.ts). Column values stay exactly as canal sent them.
 *
 * UPDATE: `before` is the row with canal's `old` laid over it; `changed` lists the columns of
 * `old` whose value differs from the row's. canal accumulates `old`'s columns across the rows
 * of one event (reference §1.6), so a column can sit in `old[i]` with its unchanged value; such
 * a column is not reported as changed. `position.index` counts events within the message.
 *
 * Row images are copies of the message's rows. Events are not frozen (freezing costs more than
 * the whole decode); treat them as read-only, as their types say. The column map and `pkNames`
 * are frozen and shared by the events of one message, and of later messages of the table while
 * its column types and key stay the same (they are remembered per table).
 */
export function flatMessageToChangeEvents(
  message: FlatMessage,
  origin: MessageOrigin,
  notices?: DecodeNotice[],
): ChangeEvent[] {
  return convert(message, origin, false, notices);
}

/**
 * Like {@link flatMessageToChangeEvents}, but the events take the message's row objects as
 * their images instead of copying them. Only for messages nobody else holds (fresh from
 * {@link decodeFlatMessage}).
 */
export function adoptFlatMessageRows(
  message: FlatMessage,
  origin: MessageOrigin,
  notices?: DecodeNotice[],
): ChangeEvent[] {
  return convert(message, origin, true, notices);
}

function convert(
  message: FlatMessage,
  origin: MessageOrigin,
  adopt: boolean,
  notices: DecodeNotice[] | undefined,
): ChangeEvent[] {
  const destination = origin.destination;
  const { es: executedAt, ts: producedAt } = message;
  const database = unquoteName(message.database);
  const table = unquoteName(message.table);
  const gtid = message.gtid;

  if (message.isDdl) {
    const event: DdlChangeEvent = {
      kind: 'ddl',
      type: message.type,
      destination,
      database,
      table,
      pkNames: message.pkNames ? Object.freeze([...message.pkNames]) : NO_NAMES,
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
  const type = message.type;
  if (type !== 'INSERT' && type !== 'UPDATE' && type !== 'DELETE') return [];
  if (data === null) {
    noticeStatementDml(notices, database, table, type, message.sql);
    return [];
  }

  const shape = shapeOf(database, table, message.mysqlType, message.sqlType);
  const columns = shape.columns;
  const pkNames = message.pkNames ? pkNamesOf(shape, message.pkNames) : NO_NAMES;
  const source = origin.source ?? destination;
  const partition = origin.partition;
  const offset = origin.offset;
  const n = data.length;
  const events: ChangeEvent[] = new Array<ChangeEvent>(n);
  if (type === 'INSERT' || type === 'DELETE') {
    const isInsert = type === 'INSERT';
    for (let index = 0; index < n; index++) {
      const row = data[index]!;
      const image: RowImage = adopt ? row : { ...row };
      const position: EventPosition = { source, partition, offset, index };
      const event: RowChangeEvent = isInsert
        ? {
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
          }
        : {
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
      if (gtid) (event as { gtid?: string }).gtid = gtid;
      events[index] = event;
    }
    return events;
  }
  const old = message.old;
  for (let index = 0; index < n; index++) {
    const row = data[index]!;
    const after: RowImage = adopt ? row : { ...row };
    const oldRow = old === null ? undefined : old[index];
    let before: RowImage;
    let changed: readonly string[] = NO_NAMES;
    if (oldRow === undefined) {
      before = adopt ? { ...row } : after;
    } else {
      const b: Record<string, ColumnValue> = { ...row };
      let names: string[] | undefined;
      for (const column in oldRow) {
        const value = oldRow[column]!;
        if (value !== row[column]) (names ??= []).push(column);
        setOwn(b, column, value);
      }
      before = b;
      if (names !== undefined) changed = names;
    }
    const event: RowChangeEvent = {
      kind: 'row',
      type,
      destination,
      database,
      table,
      pkNames,
      columns,
      executedAt,
      producedAt,
      position: { source, partition, offset, index },
      before,
      after,
      changed,
    };
    if (gtid) (event as { gtid?: string }).gtid = gtid;
    events[index] = event;
  }
  return events;
}
