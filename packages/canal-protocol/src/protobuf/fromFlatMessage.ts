/**
 * Builds the protobuf `Entry` canal would have written for the binlog event a FlatMessage
 * describes: the reverse of canal's `MQMessageUtils.messageConverter`. For tests, benchmarks
 * and tools that need the same changes in both MQ formats.
 */
import { DecodeError } from '../decodeError.js';
import { preview } from '../preview.js';
import type { FlatMessage, FlatRow } from '../flatMessage.js';
import {
  EntryType,
  EventType,
  SourceType,
  encodeRowChange,
  type CanalColumn,
  type CanalEntry,
  type CanalRowData,
} from './entryProtocol.js';

const NO_PAIRS = Object.freeze([]);

/** Optional header fields of {@link flatMessageToEntry}. */
export interface EntryHeaderOptions {
  readonly logfileName?: string;
  readonly logfileOffset?: bigint;
  readonly serverId?: bigint;
  readonly tableId?: bigint;
}

function columnsOf(
  row: Readonly<FlatRow>,
  order: readonly string[],
  message: FlatMessage,
  pk: ReadonlySet<string>,
  updated: (name: string) => boolean,
): CanalColumn[] {
  const names = [
    ...order.filter((n) => Object.prototype.hasOwnProperty.call(row, n)),
    ...Object.keys(row).filter((n) => !order.includes(n)),
  ];
  return names.map((name) => {
    const value = row[name] ?? null;
    const index = order.indexOf(name);
    return {
      index: index < 0 ? order.length : index,
      sqlType: message.sqlType?.[name] ?? 1111,
      name,
      isKey: pk.has(name),
      updated: updated(name),
      isNull: value === null,
      props: NO_PAIRS,
      value: value ?? '',
      length: 0,
      mysqlType: message.mysqlType?.[name] ?? '',
    };
  });
}

/**
 * Converts one FlatMessage into the ROWDATA `Entry` canal would have produced: INSERT rows as
 * after-columns (all `updated`), DELETE rows as before-columns, UPDATE rows as both (before =
 * the row with `old` laid over it; `updated` where the values differ). Column order follows
 * `mysqlType`. Throws {@link DecodeError} for an event type canal's protobuf has no value for.
 */
export function flatMessageToEntry(
  message: FlatMessage,
  options: EntryHeaderOptions = {},
): CanalEntry {
  const eventType = (EventType as Record<string, number>)[message.type];
  if (eventType === undefined)
    throw new DecodeError(`event type ${preview(message.type)} has no protobuf EventType`, {
      path: 'type',
    });
  const order = Object.keys(message.mysqlType ?? message.sqlType ?? {});
  const pk = new Set(message.pkNames ?? []);
  const rowDatas: CanalRowData[] = (message.data ?? []).map((row, i) => {
    if (message.type === 'INSERT') {
      return {
        beforeColumns: [],
        afterColumns: columnsOf(row, order, message, pk, () => true),
        props: NO_PAIRS,
      };
    }
    if (message.type === 'DELETE') {
      return {
        beforeColumns: columnsOf(row, order, message, pk, () => false),
        afterColumns: [],
        props: NO_PAIRS,
      };
    }
    const before: FlatRow = { ...row, ...(message.old?.[i] ?? {}) };
    return {
      beforeColumns: columnsOf(before, order, message, pk, () => false),
      afterColumns: columnsOf(row, order, message, pk, (name) => before[name] !== row[name]),
      props: NO_PAIRS,
    };
  });
  const isRows = !message.isDdl && message.data !== null;
  return {
    header: {
      version: 1,
      logfileName: options.logfileName ?? 'mysql-bin.000001',
      logfileOffset: options.logfileOffset ?? 4n,
      serverId: options.serverId ?? 1n,
      serverenCode: 'UTF-8',
      executeTime: BigInt(Math.trunc(message.es)),
      sourceType: SourceType.MYSQL,
      schemaName: message.database,
      tableName: message.table,
      eventLength: 0n,
      eventType,
      props: isRows ? [{ key: 'rowsCount', value: String(rowDatas.length) }] : NO_PAIRS,
      gtid: message.gtid ?? '',
    },
    entryType: EntryType.ROWDATA,
    storeValue: encodeRowChange({
      tableId: isRows ? (options.tableId ?? 100n) : 0n,
      eventType,
      isDdl: message.isDdl,
      sql: message.sql,
      rowDatas,
      props: NO_PAIRS,
      ddlSchemaName: message.isDdl ? message.database : '',
    }),
  };
}
