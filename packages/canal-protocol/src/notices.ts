/**
 * Things a decoder noticed in a message that are not errors but that an operator must hear
 * about, because data is missing for a reason the message cannot fix.
 */

/**
 * A DML statement that reached Sluice as its SQL text, without rows: canal reports an
 * INSERT/UPDATE/DELETE (`data: null` in a FlatMessage, no `rowDatas` in protobuf) when the
 * binlog holds the statement instead of row images, i.e. the source's `binlog_format` is
 * STATEMENT or MIXED for it (reference §1.4, §6 "binlog_format=ROW is needed for row data").
 * Nothing can be applied from it.
 */
export interface StatementDmlNotice {
  readonly kind: 'statement-dml';
  /** As canal reports them (identifier quotes removed); either may be `""` when canal could not tell. */
  readonly database: string;
  readonly table: string;
  /** `INSERT`, `UPDATE` or `DELETE`. */
  readonly type: string;
  /** The statement text canal sent (unbounded: preview it before logging). */
  readonly sql: string;
}

/** What a decoder can notice; see each kind. */
export type DecodeNotice = StatementDmlNotice;

/** Schemas whose statement-format writes are the server's own business, never replicated data. */
const SYSTEM_SCHEMAS: ReadonlySet<string> = new Set([
  'mysql',
  'information_schema',
  'performance_schema',
  'sys',
]);

/**
 * True for tables whose statement-format DML is expected and harmless, so it is not reported:
 *
 * - the system schemas `mysql` (also where Aliyun RDS writes its `ha_health_check` heartbeat,
 *   which canal itself special-cases: LogEventConvert.isRDSHeartBeat), `information_schema`,
 *   `performance_schema`, `sys`;
 * - `test.heartbeat`, AliSQL's heartbeat table (canal: LogEventConvert.isAliSQLHeartBeat);
 * - any table named `heartbeat`: pt-heartbeat's default table, which it updates with
 *   statement-based replication on purpose (so the timestamp is evaluated on each replica).
 *
 * Names compare case-insensitively, as MySQL schema names do on common setups.
 */
export function isSystemTable(database: string, table: string): boolean {
  return SYSTEM_SCHEMAS.has(database.toLowerCase()) || table.toLowerCase() === 'heartbeat';
}

/**
 * Adds a {@link StatementDmlNotice} to `notices` (when given) unless the table is a system or
 * heartbeat table ({@link isSystemTable}).
 */
export function noticeStatementDml(
  notices: DecodeNotice[] | undefined,
  database: string,
  table: string,
  type: string,
  sql: string,
): void {
  if (notices === undefined || isSystemTable(database, table)) return;
  notices.push({ kind: 'statement-dml', database, table, type, sql });
}
