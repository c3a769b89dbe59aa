import type { ChangeEvent } from '@sluice/plugin-api';
import { DecodeError, withPathPrefix } from '../decodeError.js';
import { preview } from '../preview.js';
import { looksLikeText, startsLikeJson } from '../sniff.js';
import type { MessageOrigin } from '../messageOrigin.js';
import type { DecodeNotice } from '../notices.js';
import { decodeCanalMessages, type CanalMessages } from './canalProtocol.js';
import { appendEntryEvents } from './entryEvents.js';
import { EntryType, decodeRowChange, type CanalRowChange } from './entryProtocol.js';
import { fastProtobufEvents } from './fastDecode.js';

/**
 * Turns the entries of one protobuf MQ message into ChangeEvents, in entry order.
 *
 * - TRANSACTIONBEGIN/END (and HEARTBEAT/GTIDLOG) entries are skipped.
 * - A RowChange with `isDdl` becomes one DDL event (type = the EventType name, `sql`,
 *   database/table from the entry header), like FlatMessage.
 * - INSERT/UPDATE/DELETE RowChanges give one event per RowData: `before` = beforeColumns
 *   (DELETE, UPDATE), `after` = afterColumns (INSERT, UPDATE), values `null` when `isNull`;
 *   `changed` = UPDATE after-columns with `updated` (empty for INSERT/DELETE, as in FlatMessage);
 *   `pkNames` = the `isKey` columns of the row (after image, else before image); `columns` from
 *   each Column's `mysqlType`/`sqlType`, per row (the same frozen object for rows, and with
 *   decodeProtobufMessage also for entries of a table, while identical).
 * - Events are not frozen (see flatMessageToChangeEvents); column maps and pkNames are.
 * - Everything else (QUERY/rows-query noise, statement-format DML without rows, XA, GTID,
 *   MHEARTBEAT, unknown types that are not DDL) yields nothing; statement-format DML is reported
 *   in `notices` (when given), outside system tables.
 * - `database`/`table` lose MySQL identifier quotes (`` `mytest` `` → `mytest`).
 *
 * Positions: one MQ message (one Kafka record, i.e. one Packet/Messages with many entries)
 * has one offset, `origin.offset`; `index` is a running count of the events produced across
 * all entries of the message (0, 1, 2, …), so positions stay unique and monotonic.
 * `executedAt` = header.executeTime; `producedAt` = `origin.producedAt` when given (protobuf
 * carries no produce time), else executedAt. `gtid` = header.gtid when non-empty.
 */
export function canalMessagesToChangeEvents(
  messages: CanalMessages,
  origin: MessageOrigin,
  notices?: DecodeNotice[],
): ChangeEvent[] {
  const events: ChangeEvent[] = [];
  const entries = messages.entries;
  for (let i = 0; i < entries.length; i++) {
    const entry = entries[i]!;
    if (entry.entryType !== EntryType.ROWDATA) continue;
    let rowChange: CanalRowChange;
    try {
      rowChange = decodeRowChange(entry.storeValue);
    } catch (error) {
      throw withPathPrefix(error, `messages[${i}].storeValue`);
    }
    const header = entry.header;
    appendEntryEvents(
      events,
      header.schemaName,
      header.tableName,
      Number(header.executeTime),
      header.gtid,
      rowChange,
      origin,
      notices,
    );
  }
  return events;
}

/**
 * Decodes one non-flat MQ payload (`Packet{MESSAGES}` bytes, as canal writes a Kafka record
 * value) straight into ChangeEvents. Throws {@link DecodeError} with the path of the bad field.
 */
export function decodeProtobufMessage(
  bytes: Uint8Array,
  origin: MessageOrigin,
  notices?: DecodeNotice[],
): ChangeEvent[] {
  const found: DecodeNotice[] | undefined = notices === undefined ? undefined : [];
  try {
    const events = fastProtobufEvents(bytes, origin, found);
    if (found !== undefined) notices!.push(...found);
    return events;
  } catch {
    if (found !== undefined) found.length = 0;
    // The fast path does not say why; the checked decoder does (a DecodeError with the path).
  }
  try {
    const events = canalMessagesToChangeEvents(decodeCanalMessages(bytes), origin, found);
    if (notices !== undefined) notices.push(...found!);
    return events;
  } catch (error) {
    throw notProtobufHint(bytes) ?? error;
  }
}

/**
 * A clearer error than the protobuf wire error for a payload that is not protobuf at all:
 * FlatMessage JSON (canal's `flatMessage` setting and Sluice's disagree) or other text.
 * Undefined when the payload does not look like either.
 */
function notProtobufHint(bytes: Uint8Array): DecodeError | undefined {
  if (startsLikeJson(bytes))
    return new DecodeError(
      `not a canal protobuf Packet: it is JSON text, like FlatMessage JSON (is canal.conf.flatMessage set right?): ${preview(bytes)}`,
    );
  if (looksLikeText(bytes))
    return new DecodeError(
      `neither FlatMessage JSON nor canal protobuf: the payload is plain text: ${preview(bytes)}`,
    );
  return undefined;
}
