import type { ChangeEvent, ColumnMeta, ColumnValue, DdlChangeEvent, RowChangeEvent, RowImage } from '@sluice/plugin-api';
import type { FlatMessage } from './flatMessage.js';
import { NO_COLUMNS, NO_NAMES, ROW_TYPES, positionOf, type MessageOrigin } from './messageOrigin.js';
import { setOwn } from './ownProperty.js';

export type { MessageOrigin } from './messageOrigin.js';

/** SQL type code canal uses for "unknown" (java.sql.Types.OTHER). */
const SQL_TYPE_OTHER = 1111;

function columnsOf(message: FlatMessage): Readonly<Record<string, ColumnMeta>> {
  const columns: Record<string, ColumnMeta> = {};
  const mysqlTypes = message.mysqlType ?? {};
  const sqlTypes = message.sqlType ?? {};
  for (const name in mysqlTypes) {
    setOwn(columns, name, Object.freeze({ mysqlType: mysqlTypes[name]!, sqlType: Object.prototype.hasOwnProperty.call(sqlTypes, name) ? sqlTypes[name]! : SQL_TYPE_OTHER }));
  }
  for (const name in sqlTypes) {
    if (!Object.prototype.hasOwnProperty.call(columns, name)) setOwn(columns, name, Object.freeze({ mysqlType: '', sqlType: sqlTypes[name]! }));
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
 * Row images and the column map are frozen; the column map and `pkNames` are shared by the
 * events of one message.
 */
export function flatMessageToChangeEvents(message: FlatMessage, origin: MessageOrigin): ChangeEvent[] {
  const pkNames = message.pkNames ? Object.freeze([...message.pkNames]) : NO_NAMES;
  const base = {
    destination: origin.destination,
    database: message.database,
    table: message.table,
    pkNames,
    executedAt: message.es,
    producedAt: message.ts,
    ...(message.gtid ? { gtid: message.gtid } : {}),
  };

  if (message.isDdl) {
    const event: DdlChangeEvent = { ...base, kind: 'ddl', type: message.type, sql: message.sql, columns: NO_COLUMNS, position: positionOf(origin, 0) };
    return [event];
  }
  const data = message.data;
  if (!ROW_TYPES.has(message.type) || data === null) return [];

  const type = message.type as RowChangeEvent['type'];
  const columns = columnsOf(message);
  const events: ChangeEvent[] = new Array<ChangeEvent>(data.length);
  for (let index = 0; index < data.length; index++) {
    const row = data[index]!;
    const image: RowImage = Object.freeze({ ...row });
    const position = positionOf(origin, index);
    if (type === 'INSERT') {
      events[index] = { ...base, kind: 'row', type, after: image, changed: NO_NAMES, columns, position };
    } else if (type === 'DELETE') {
      events[index] = { ...base, kind: 'row', type, before: image, changed: NO_NAMES, columns, position };
    } else {
      const old = message.old?.[index];
      let before: RowImage = image;
      let changed: readonly string[] = NO_NAMES;
      if (old !== undefined) {
        const names: string[] = [];
        for (const column in old) {
          const value: ColumnValue | undefined = old[column];
          if (value !== row[column]) names.push(column);
        }
        before = Object.freeze({ ...row, ...old });
        changed = Object.freeze(names);
      }
      events[index] = { ...base, kind: 'row', type, before, after: image, changed, columns, position };
    }
  }
  return events;
}
