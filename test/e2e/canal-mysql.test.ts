/**
 * Issue 16, true end to end: SQL on MariaDB → the testbed canal-server (Kafka mode, flat and
 * protobuf) → `sluice start` with the rdb sink (a mirrorDb mapping) → a MariaDB target. The SQL is
 * the real-canal fixtures' workload: every MySQL type of the fixtures, inserts, updates (NULLs,
 * binary, no-op), primary-key changes, deletes, a transaction over two tables, and DDL (ALTER ADD
 * COLUMN, CREATE, TRUNCATE, RENAME) followed by DML. The target tables must equal the source
 * tables byte for byte (HEX of every column) — the source is the oracle, not a model.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CanalPipeline,
  mysqlTableDump,
  mysqlTablesDiff,
  type CanalFormat,
} from './support/canalPipeline.js';

const WORKLOAD = readFileSync(
  new URL('../../packages/canal-protocol/test/fixtures/real-canal/workload.sql', import.meta.url),
  'utf8',
);
/** The workload's tables that end up with a primary key (no_pk's rows cannot be written by key). */
const TABLES = ['all_types', 'composite_pk', 'orders', 'ledger', 'renamed_table'];

describe.each<CanalFormat>(['flat', 'protobuf'])(
  'MariaDB → canal (Kafka, %s) → sluice rdb → MariaDB',
  (format) => {
    let p: CanalPipeline;

    beforeAll(async () => {
      p = await CanalPipeline.create({
        format,
        target: 'mysql',
        mappings: ({ source, target, topic, groupId }) => ({
          'mirror.yml': `dataSourceKey: defaultDS
destination: ${topic}
groupId: ${groupId}
outerAdapterKey: tgt
dbMapping:
  mirrorDb: true
  database: ${source}
  targetDb: ${target}
`,
        }),
      });
      await p.startSluice();
    }, 120_000);

    afterAll(async () => {
      await p?.close();
    });

    it('the target tables equal the source tables after the whole workload, DDL included', async () => {
      await p.runSql(WORKLOAD.replace(/\bcanalfx\./g, '@SRC.'));
      await p.until(() => mysqlTablesDiff(p.mysql, p.source, p.target, TABLES));

      // Not vacuous: the source has the rows the workload leaves.
      const types = await mysqlTableDump(p.mysql, p.source, 'all_types');
      expect(types.rows).toHaveLength(5); // ids 1, 2, 3, 2^53+1 and 100 (was 5)
      expect(types.columns).toHaveLength(27);
      // The DDL went through: ALTER added `note` with its default, RENAME left no created_later.
      const [note] = await p.mysql.query(
        `SELECT COLUMN_DEFAULT AS d FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = 'orders' AND COLUMN_NAME = 'note'`,
        [p.target],
      );
      expect(note).toEqual([{ d: "'n/a'" }]);
      const [tables] = await p.mysql.query(
        'SELECT TABLE_NAME AS t FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? ORDER BY 1',
        [p.target],
      );
      expect((tables as { t: string }[]).map((r) => r.t)).toEqual([
        'all_types',
        'composite_pk',
        'ledger',
        'no_pk',
        'orders',
        'renamed_table',
      ]);
      // no_pk has no primary key: its rows are dead-lettered with the reason, never skipped.
      const dead = await p.deadLetters();
      expect(dead).toMatch(/no_pk/);
    }, 90_000);

    it('then streams further changes: a transaction over two tables and a primary-key change', async () => {
      await p.runSql(`
        BEGIN;
        INSERT INTO @SRC.orders (customer, amount, note) VALUES ('dave', 1.10, 'later');
        UPDATE @SRC.ledger SET id = 7, delta = -0.01 WHERE id = 1;
        UPDATE @SRC.composite_pk SET tenant = 't9', seq = 9 WHERE tenant = 't2';
        DELETE FROM @SRC.renamed_table;
        COMMIT;`);
      await p.until(() => mysqlTablesDiff(p.mysql, p.source, p.target, TABLES));
      const ledger = await mysqlTableDump(p.mysql, p.target, 'ledger');
      expect(ledger.rows.some((r) => r.startsWith('7|'))).toBe(true); // HEX(7) of a BIGINT is '7'
    }, 60_000);
  },
);
