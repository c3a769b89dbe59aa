/**
 * The field cases of /work/shared/field-cases (copied under test/fixtures/field-cases): each
 * case's canal messages go through the sink into a real target, and the target holds the right
 * values (see each case's expected.md).
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type mysql from 'mysql2/promise';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  applyAll,
  createSink,
  credentials,
  eventsOfFile,
  mapping,
  mysqlAdmin,
  mysqlJdbcUrl,
  pgAdmin,
  pgJdbcUrl,
  properties,
  records,
  uniqueName,
} from './helpers.js';

const here = dirname(fileURLToPath(import.meta.url));
const caseDir = (name: string): string => join(here, 'fixtures', 'field-cases', name);
const messages = (name: string): string => join(caseDir(name), 'messages.jsonl');

/** target.sql with the case's `<db>_copy.` schema replaced by ours. */
function targetSql(name: string, schema: string): string {
  return readFileSync(join(caseDir(name), 'target.sql'), 'utf8')
    .replace(/\b[a-z0-9]+_copy\./g, `\`${schema}\`.`)
    .replace(/^SET SESSION sql_mode = '';.*$/m, '');
}

describe('field cases on MariaDB', () => {
  let admin: mysql.Connection;
  const db = uniqueName('rdb_fc');
  beforeAll(async () => {
    admin = await mysqlAdmin();
    await admin.query(`CREATE DATABASE \`${db}\` DEFAULT CHARACTER SET utf8mb4`);
  });
  afterAll(async () => {
    await admin.query(`DROP DATABASE IF EXISTS \`${db}\``);
    await admin.end();
  });
  const sink = () =>
    createSink(properties({ 'jdbc.url': mysqlJdbcUrl(db), ...credentials('mysql') }));
  const all = (table: string) =>
    mapping(table, {
      database: '',
      table,
      targetTable: table,
      targetPk: { id: 'id' },
      mapAll: true,
    });
  const rows = async (sql: string) => (await admin.query(sql))[0] as Record<string, unknown>[];

  it('01 tinyint(1) holding 5, -3, 127 stays that integer (not a boolean)', async () => {
    await admin.query(targetSql('01-tinyint1-not-boolean', db));
    const m = mapping('tb_tinyint', {
      database: 'shop',
      table: 'tb_tinyint',
      targetTable: 'tb_tinyint',
      targetPk: { id: 'id' },
      mapAll: true,
    });
    const events = eventsOfFile(messages('01-tinyint1-not-boolean'));
    const [result] = await applyAll(sink(), [records(events, m)]);
    expect(result!.every((o) => o.status === 'applied')).toBe(true);
    expect(await rows(`SELECT id, flag FROM \`${db}\`.tb_tinyint ORDER BY id`)).toEqual([
      { id: 1, flag: 2 },
      { id: 2, flag: 5 },
      { id: 3, flag: -3 },
      { id: 4, flag: 127 },
      { id: 5, flag: null },
    ]);
  });

  it('03 zero dates and timestamps stay verbatim, also with TZ=Asia/Shanghai', async () => {
    const tz = process.env['TZ'];
    process.env['TZ'] = 'Asia/Shanghai';
    try {
      await admin.query(`SET SESSION sql_mode = ''`);
      await admin.query(targetSql('03-zero-date-timestamp', db));
      const events = eventsOfFile(messages('03-zero-date-timestamp'));
      const [result] = await applyAll(sink(), [records(events, all('test'))]);
      expect(result!.map((o) => o.status)).toEqual(['applied']);
      expect(
        await rows(
          `SELECT CAST(on_time AS CHAR) AS on_time, CAST(d AS CHAR) AS d, CAST(dt AS CHAR) AS dt, CAST(dt3 AS CHAR) AS dt3 FROM \`${db}\`.test`,
        ),
      ).toEqual([
        {
          on_time: '0000-00-00 00:00:00',
          d: '0000-00-00',
          dt: '0000-00-00 00:45:37',
          dt3: '2024-10-30 15:38:14.500',
        },
      ]);
    } finally {
      if (tz === undefined) delete process.env['TZ'];
      else process.env['TZ'] = tz;
    }
  });

  it('04 TIME 24:00:00, 838:59:59 and -12:30:00.5 are written as intervals', async () => {
    await admin.query(targetSql('04-time-24h-and-beyond', db));
    const events = eventsOfFile(messages('04-time-24h-and-beyond'));
    const [result] = await applyAll(sink(), [records(events, all('tb_basis_info_public'))]);
    expect(result!.every((o) => o.status === 'applied')).toBe(true);
    expect(
      await rows(
        `SELECT id, CAST(time_part AS CHAR) AS t FROM \`${db}\`.tb_basis_info_public ORDER BY id`,
      ),
    ).toEqual([
      { id: '1', t: '24:00:00.0' },
      { id: '2', t: '838:59:59.0' },
      { id: '3', t: '-12:30:00.5' },
      { id: '4', t: '00:00:00.0' },
    ]);
  });

  it('06 unsigned values beyond the signed range are exact', async () => {
    await admin.query(targetSql('06-unsigned-beyond-signed-range', db));
    const events = eventsOfFile(messages('06-unsigned-beyond-signed-range'));
    const [result] = await applyAll(sink(), [records(events, all('unsigned_types'))]);
    expect(result!.every((o) => o.status === 'applied')).toBe(true);
    expect(
      await rows(
        `SELECT id, CAST(t_tinyint_unsigned AS CHAR) a, CAST(t_smallint_unsigned AS CHAR) b, CAST(t_mediumint_unsigned AS CHAR) c, CAST(t_int_unsigned AS CHAR) d, CAST(t_bigint_unsigned AS CHAR) e FROM \`${db}\`.unsigned_types ORDER BY id`,
      ),
    ).toEqual([
      { id: 1, a: '255', b: '65535', c: '16777215', d: '4294967295', e: '18446744073709551615' },
      { id: 2, a: '1', b: '1', c: '1', d: '2147483648', e: '9223372036854775808' },
    ]);
  });

  it('13 emoji and CJK text are byte-exact (utf8mb4 connection)', async () => {
    await admin.query(targetSql('13-emoji-utf8mb4-text', db));
    const events = eventsOfFile(messages('13-emoji-utf8mb4-text'));
    const [result] = await applyAll(sink(), [records(events, all('order_snapshot'))]);
    expect(result!.every((o) => o.status === 'applied')).toBe(true);
    const source = '{"note": "💋🎉 gift", "city": "上海"}';
    expect(await rows(`SELECT HEX(order_json) AS j, remark FROM \`${db}\`.order_snapshot`)).toEqual(
      [{ j: Buffer.from(source, 'utf8').toString('hex').toUpperCase(), remark: 'ok 👍' }],
    );
  });
});

describe('field cases on PostgreSQL', () => {
  let admin: pg.Client;
  const schema = uniqueName('rdb_fc');
  beforeAll(async () => {
    admin = await pgAdmin();
    await admin.query(`CREATE SCHEMA "${schema}"`);
  });
  afterAll(async () => {
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await admin.end();
  });
  const sink = () => createSink(properties({ 'jdbc.url': pgJdbcUrl(), ...credentials('pg') }));

  it('11 upper-case source columns and a primary-key change move the row', async () => {
    await admin.query(
      `CREATE TABLE "${schema}".xdual (id integer PRIMARY KEY, x timestamp NOT NULL)`,
    );
    const m = mapping(
      'xdual',
      {
        database: 'test',
        table: 'xdual',
        targetDb: schema,
        targetTable: 'xdual',
        targetPk: { id: 'ID' },
        targetColumns: { id: 'ID', x: 'X' },
      },
      { concurrent: true },
    );
    const events = eventsOfFile(messages('11-uppercase-columns-pk-update'));
    // Once in one batch, once event by event: both must end with the row moved.
    const [together] = await applyAll(sink(), [records(events, m)]);
    expect(together!.every((o) => o.status === 'applied')).toBe(true);
    const read = async () =>
      (await admin.query(`SELECT id, x::text AS x FROM "${schema}".xdual ORDER BY id`)).rows;
    expect(await read()).toEqual([{ id: 1001, x: '2019-01-15 06:13:59' }]);
    await admin.query(`TRUNCATE "${schema}".xdual`);
    await applyAll(
      sink(),
      records(events, m).map((r) => [r]),
    );
    expect(await read()).toEqual([{ id: 1001, x: '2019-01-15 06:13:59' }]);
  });

  it('03 on PostgreSQL: a zero date cannot be held and is dead-lettered with the database error', async () => {
    await admin.query(
      `CREATE TABLE "${schema}".test (id int PRIMARY KEY, on_time timestamptz, d date, dt timestamp, dt3 timestamp(3))`,
    );
    const m = mapping('test', {
      database: 'test02',
      table: 'test',
      targetDb: schema,
      targetTable: 'test',
      targetPk: { id: 'id' },
      mapAll: true,
    });
    const events = eventsOfFile(messages('03-zero-date-timestamp'));
    const [result] = await applyAll(sink(), [records(events, m)]);
    expect(result![0]!.status).toBe('failed');
    expect(result![0]!.status === 'failed' && result![0]!.error.message).toMatch(
      /refused the row.*(out of range|invalid|0000)/i,
    );
    expect((await admin.query(`SELECT count(*)::int AS n FROM "${schema}".test`)).rows).toEqual([
      { n: 0 },
    ]);
  });
});
