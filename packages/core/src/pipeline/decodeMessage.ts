import type { ChangeEvent, Logger } from '@sluice/plugin-api';
import {
  decodeCanalPayload,
  preview,
  type DecodeNotice,
  type MessageOrigin,
} from '@sluice/canal-protocol';

/**
 * How the payloads of a source are encoded: `flat` (FlatMessage JSON, `canal.conf.flatMessage:
 * true`), `protobuf` (canal's non-flat `Packet{MESSAGES}` bytes), or `auto` (decided per
 * message by its first byte: `{` is JSON, anything else protobuf).
 */
export type MessageFormat = 'flat' | 'protobuf' | 'auto';

/**
 * Decodes one raw canal message (one Kafka record value, one file line, …) into ChangeEvents.
 * Throws {@link DecodeError} (from `@sluice/canal-protocol`) on bad input, naming the field.
 * For protobuf, one message holds many entries: every event gets the message's offset and a
 * running `index` across those entries.
 *
 * With a `logger`, what the decoder notices is logged there: statement-format DML (canal sent
 * an INSERT/UPDATE/DELETE as SQL text without rows because the source binlog is not in ROW
 * format; system and heartbeat tables excepted) is warned about once per table and logger, since
 * its changes cannot be applied.
 */
export function decodeMessage(
  payload: Uint8Array | string,
  format: MessageFormat,
  origin: MessageOrigin,
  logger?: Logger,
): ChangeEvent[] {
  if (logger === undefined) return decodeCanalPayload(payload, format, origin);
  const notices: DecodeNotice[] = [];
  const events = decodeCanalPayload(payload, format, origin, notices);
  for (const notice of notices) logNotice(logger, notice);
  return events;
}

/** Tables already warned about, per logger (one logger per pipeline). */
const warned = new WeakMap<Logger, Set<string>>();
/** Bound on the tables remembered per logger; past it the set starts again (warnings repeat). */
const MAX_WARNED_TABLES = 10_000;

function logNotice(logger: Logger, notice: DecodeNotice): void {
  let tables = warned.get(logger);
  if (tables === undefined) warned.set(logger, (tables = new Set()));
  const key = `${notice.database}\u0000${notice.table}`;
  if (tables.has(key)) return;
  if (tables.size >= MAX_WARNED_TABLES) tables.clear();
  tables.add(key);
  const table =
    notice.table === ''
      ? notice.database || '(unknown table)'
      : `${notice.database}.${notice.table}`;
  logger.warn(
    `Statement-format ${notice.type} on ${preview(table, 200)} skipped: the source binlog is not in ROW format, so canal sent the SQL text without rows and nothing can be applied. Set binlog_format=ROW on the source (binlog_row_image=FULL); further statements on this table are skipped without this warning.`,
    {
      database: notice.database,
      table: notice.table,
      type: notice.type,
      sql: preview(notice.sql, 200),
    },
  );
}
