import type { ChangeEvent, ColumnMeta, RowChangeEvent, RowImage } from '@sluice/plugin-api';
import { DecodeError } from './decodeError.js';
import type { FlatMessage } from './flatMessage.js';

/** Where a decoded message came from. */
export interface MessageOrigin {
  /** canal destination: topic, canal instance or queue. */
  readonly destination: string;
  /** Source name recorded in each event's position (defaults to the destination). */
  readonly source?: string;
  readonly partition: string;
  readonly offset: string;
}

const ROW_TYPES = new Set(['INSERT', 'UPDATE', 'DELETE']);

/**
 * Turns one FlatMessage into ChangeEvents: one per row for INSERT/UPDATE/DELETE, one for a DDL.
 * Rows-query noise (`QUERY` with `isDdl: false`, MariaDB annotate events), statement-format DML
 * without rows, and XA markers carry no row data and yield no event.
 */
export function flatMessageToChangeEvents(message: FlatMessage, origin: MessageOrigin): ChangeEvent[] {
  const base = {
    destination: origin.destination,
    database: message.database,
    table: message.table,
    pkNames: message.pkNames ?? [],
    executedAt: message.es,
    producedAt: message.ts,
    ...(message.gtid ? { gtid: message.gtid } : {}),
  };
  const source = origin.source ?? origin.destination;
  const position = (index: number) => ({ source, partition: origin.partition, offset: origin.offset, index });

  if (message.isDdl) {
    return [{ ...base, kind: 'ddl', type: message.type, sql: message.sql, columns: {}, position: position(0) }];
  }
  if (!ROW_TYPES.has(message.type) || message.data === null) return [];

  const type = message.type as RowChangeEvent['type'];
  const columns: Record<string, ColumnMeta> = {};
  for (const [name, mysqlType] of Object.entries(message.mysqlType ?? {})) {
    columns[name] = { mysqlType, sqlType: message.sqlType?.[name] ?? 1111 };
  }
  return message.data.map((row, index): RowChangeEvent => {
    const image: RowImage = Object.freeze({ ...row });
    if (type === 'INSERT') {
      return { ...base, kind: 'row', type, after: image, changed: [], columns, position: position(index) };
    }
    if (type === 'DELETE') {
      return { ...base, kind: 'row', type, before: image, changed: [], columns, position: position(index) };
    }
    const old = message.old?.[index];
    if (message.old !== null && old === undefined) {
      throw new DecodeError('UPDATE row has no matching old row', { path: `old[${index}]` });
    }
    const changed = Object.keys(old ?? {});
    for (const column of changed) {
      if (!(column in row)) {
        throw new DecodeError(`column "${column}" is not in the row image`, { path: `old[${index}].${column}` });
      }
    }
    const before: RowImage = Object.freeze({ ...row, ...old });
    return { ...base, kind: 'row', type, before, after: image, changed, columns, position: position(index) };
  });
}
