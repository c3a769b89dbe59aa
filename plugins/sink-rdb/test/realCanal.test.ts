/**
 * Real canal 1.1.8 output (test/fixtures/real-canal, captured from the testbed MariaDB running
 * workload.sql) applied through a mirrorDb mapping to a MariaDB target: the DDL creates, alters,
 * truncates and renames the target tables, the rows land with every type exact, and the target
 * equals the source that workload.sql builds in a scratch database (row dumps and CHECKSUM TABLE).
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  applyAll,
  createSink,
  credentials,
  eventsOfFile,
  mapping,
  mysqlAdmin,
  mysqlJdbcUrl,
  properties,
  records,
  uniqueName,
} from './helpers.js';

const fixtures = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'real-canal');
const TABLES = ['all_types', 'composite_pk', 'orders', 'ledger', 'renamed_table'];

describe('real canal output into a MariaDB target (mirrorDb)', () => {
  const source = uniqueName('rdb_src');
  const target = uniqueName('rdb_tgt');
  let admin: mysql.Connection;
  beforeAll(async () => {
    admin = await mysqlAdmin();
    await admin.query(`SET time_zone = '+00:00'`);
    await admin.query(`CREATE DATABASE \`${source}\` DEFAULT CHARACTER SET utf8mb4`);
    await admin.query(`CREATE DATABASE \`${target}\` DEFAULT CHARACTER SET utf8mb4`);
    const workload = readFileSync(join(fixtures, 'workload.sql'), 'utf8').replace(
      /\bcanalfx\./g,
      `\`${source}\`.`,
    );
    await admin.query(workload);
    await admin.query(`SET time_zone = '+00:00'`);
  });
  afterAll(async () => {
    await admin.query(`DROP DATABASE IF EXISTS \`${source}\``);
    await admin.query(`DROP DATABASE IF EXISTS \`${target}\``);
    await admin.end();
  });

  /** Every row of a table, ordered, with every column as hex text (exact bytes). */
  async function dump(db: string, table: string): Promise<string[]> {
    const [cols] = await admin.query(
      'SELECT COLUMN_NAME AS c FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION',
      [db, table],
    );
    const list = (cols as { c: string }[]).map((r) => `HEX(\`${r.c}\`)`).join(", '|', ");
    const [rows] = await admin.query(
      `SELECT CONCAT_WS('', ${list}) AS r FROM \`${db}\`.\`${table}\` ORDER BY 1`,
    );
    return (rows as { r: string }[]).map((r) => r.r);
  }

  it('applies the captured messages so the target equals the source', async () => {
    const events = eventsOfFile(join(fixtures, 'flat.jsonl'), 'canalfx');
    const m = mapping('canalfx_mirror', { database: 'canalfx', mirrorDb: true, targetDb: target });
    const all = records(events, m);
    const batches = [];
    for (let i = 0; i < all.length; i += 7) batches.push(all.slice(i, i + 7));
    const results = await applyAll(
      createSink(properties({ 'jdbc.url': mysqlJdbcUrl(target), ...credentials('mysql') })),
      batches,
    );
    const outcomes = results.flat();
    const failedTables = new Set(
      outcomes.flatMap((o, i) =>
        o.status === 'failed' ? [`${all[i]!.event.table}: ${o.error.message}`] : [],
      ),
    );
    // no_pk has no primary key: its rows cannot be written by key and are dead-lettered.
    expect(
      [...failedTables].every((t) => t.startsWith('no_pk: ')),
      [...failedTables].join('\n'),
    ).toBe(true);
    expect(failedTables.size).toBeGreaterThan(0);

    for (const table of TABLES) {
      expect(await dump(target, table), table).toEqual(await dump(source, table));
    }
    const [sums] = await admin.query(
      `CHECKSUM TABLE ${TABLES.map((t) => `\`${source}\`.\`${t}\`, \`${target}\`.\`${t}\``).join(', ')}`,
    );
    const checksums = (sums as { Table: string; Checksum: string }[]).map((r) => r.Checksum);
    for (let i = 0; i < checksums.length; i += 2) expect(checksums[i + 1]).toBe(checksums[i]);
    // The ALTER was mirrored (the column exists in the target with its default).
    const [note] = await admin.query(
      `SELECT COLUMN_DEFAULT AS d FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = 'orders' AND COLUMN_NAME = 'note'`,
      [target],
    );
    expect(note).toEqual([{ d: "'n/a'" }]);
  });
});
