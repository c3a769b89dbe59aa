import type { Logger } from '@sluice/plugin-api';
import { describe, expect, it } from 'vitest';
import { decodeMessage } from './decodeMessage.js';

/** A logger that records its warnings. */
function recordingLogger(): Logger & { warnings: { message: string; fields: unknown }[] } {
  const warnings: { message: string; fields: unknown }[] = [];
  const logger = {
    warnings,
    debug: () => {},
    info: () => {},
    warn: (message: string, fields?: Record<string, unknown>) => {
      warnings.push({ message, fields });
    },
    error: () => {},
    child: () => logger,
  };
  return logger;
}

/** A FlatMessage as canal writes statement-format DML: a row type, `data: null`, the SQL. */
const statement = (database: string, table: string, type = 'INSERT') =>
  JSON.stringify({
    data: null,
    database,
    es: 1,
    gtid: '',
    id: 1,
    isDdl: false,
    mysqlType: null,
    old: null,
    pkNames: null,
    sql: `${type} INTO ${table} VALUES (1)\n-- and more`,
    sqlType: null,
    table,
    ts: 2,
    type,
  });

const origin = { destination: 'd', partition: '0', offset: '0' };

describe('decodeMessage: statement-format DML', () => {
  it('warns once per table that the binlog is not in ROW format, and yields no event', () => {
    const logger = recordingLogger();
    for (const [db, table, type] of [
      ['shop', 'orders', 'INSERT'],
      ['shop', 'orders', 'UPDATE'],
      ['shop', 'items', 'DELETE'],
      ['shop', 'orders', 'INSERT'],
    ] as const)
      expect(decodeMessage(statement(db, table, type), 'flat', origin, logger)).toEqual([]);
    expect(logger.warnings.map((w) => w.message)).toEqual([
      expect.stringMatching(
        /^Statement-format INSERT on "shop\.orders" skipped: the source binlog is not in ROW format/,
      ),
      expect.stringMatching(/^Statement-format DELETE on "shop\.items" skipped/),
    ]);
    expect(logger.warnings[0]!.fields).toEqual({
      database: 'shop',
      table: 'orders',
      type: 'INSERT',
      sql: String.raw`"INSERT INTO orders VALUES (1)\n-- and more"`,
    });
    // Another pipeline (logger) hears about it too.
    const other = recordingLogger();
    decodeMessage(statement('shop', 'orders'), 'flat', origin, other);
    expect(other.warnings).toHaveLength(1);
  });

  it('stays quiet for system schemas and heartbeat tables, and without a logger', () => {
    const logger = recordingLogger();
    for (const [db, table] of [
      ['mysql', 'ha_health_check'],
      ['information_schema', 't'],
      ['performance_schema', 't'],
      ['sys', 't'],
      ['test', 'heartbeat'],
    ])
      decodeMessage(statement(db!, table!), 'flat', origin, logger);
    expect(logger.warnings).toEqual([]);
    expect(decodeMessage(statement('shop', 'orders'), 'flat', origin)).toEqual([]);
  });
});
