/**
 * Issue 16, true end to end into PostgreSQL: SQL on MariaDB → the testbed canal-server (Kafka,
 * flat and protobuf) → `sluice start` with the rdb sink (one mapping per table, mapAll) → a
 * PostgreSQL schema. Every MySQL type of the real-canal fixtures (integers signed and unsigned
 * at their limits, DECIMAL, FLOAT/DOUBLE, DATE/DATETIME/TIMESTAMP/TIME/YEAR, CHAR/VARCHAR/TEXT,
 * BLOB/BINARY/VARBINARY, JSON, BIT, ENUM, SET). Inserts (extreme values, NULLs, empty strings, binary, unicode), updates,
 * primary-key changes (single and composite keys), deletes and a transaction over two tables.
 * Every row of the target equals the source, compared column by column as canonical text
 * rendered by each database itself (HEX/encode for bytes, to_char for times).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CanalPipeline, type CanalFormat } from './support/canalPipeline.js';

/** column → [MariaDB expression, PostgreSQL expression] giving the same text for the same value. */
const TYPED: Record<string, [string, string]> = {
  id: ['CAST(id AS CHAR)', 'id::text'],
  c_tinyint: ['CAST(c_tinyint AS CHAR)', 'c_tinyint::text'],
  c_int: ['CAST(c_int AS CHAR)', 'c_int::text'],
  c_ubigint: ['CAST(c_ubigint AS CHAR)', 'c_ubigint::text'],
  c_decimal: ['CAST(c_decimal AS CHAR)', 'c_decimal::text'],
  // both print the shortest round-trip digits; PostgreSQL writes the exponent as e+308
  c_double: ['CAST(c_double AS CHAR)', "replace(c_double::text, 'e+', 'e')"],
  c_date: ["DATE_FORMAT(c_date, '%Y-%m-%d')", "to_char(c_date, 'YYYY-MM-DD')"],
  c_datetime: [
    "DATE_FORMAT(c_datetime, '%Y-%m-%d %H:%i:%s.%f')",
    "to_char(c_datetime, 'YYYY-MM-DD HH24:MI:SS.US')",
  ],
  c_time: ['CAST(c_time AS CHAR)', 'c_time::text'],
  c_char: ['c_char', 'rtrim(c_char)'],
  c_varchar: ['c_varchar', 'c_varchar'],
  c_text: ['c_text', 'c_text'],
  c_blob: ['HEX(c_blob)', "upper(encode(c_blob, 'hex'))"],
  c_utinyint: ['CAST(c_utinyint AS CHAR)', 'c_utinyint::text'],
  c_smallint: ['CAST(c_smallint AS CHAR)', 'c_smallint::text'],
  c_mediumint: ['CAST(c_mediumint AS CHAR)', 'c_mediumint::text'],
  c_uint: ['CAST(c_uint AS CHAR)', 'c_uint::text'],
  c_bigint: ['CAST(c_bigint AS CHAR)', 'c_bigint::text'],
  c_float: ['CAST(c_float AS CHAR)', 'c_float::text'],
  c_year: ['CAST(c_year AS CHAR)', 'c_year::text'],
  // TIMESTAMP: an instant; the session and canal's JVM are UTC, PostgreSQL shows it in UTC here
  c_ts: [
    "DATE_FORMAT(c_ts, '%Y-%m-%d %H:%i:%s.%f')",
    "to_char(c_ts AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US')",
  ],
  c_varbinary: ['HEX(c_varbinary)', "upper(encode(c_varbinary, 'hex'))"],
  c_binary: ['HEX(c_binary)', "upper(encode(c_binary, 'hex'))"],
  c_json: ['c_json', 'c_json::text'],
  c_bit: ['LPAD(BIN(c_bit), 8, 0)', 'c_bit::text'],
  c_enum: ['CAST(c_enum AS CHAR)', 'c_enum'],
  c_set: ['CAST(c_set AS CHAR)', 'c_set'],
};
const PAIRS: Record<string, [string, string]> = {
  tenant: ['tenant', 'tenant'],
  seq: ['CAST(seq AS CHAR)', 'seq::text'],
  payload: ['payload', 'payload'],
};

const SOURCE_DDL = `
CREATE TABLE @SRC.typed (
  id BIGINT NOT NULL PRIMARY KEY, c_tinyint TINYINT, c_int INT, c_ubigint BIGINT UNSIGNED,
  c_decimal DECIMAL(20,6), c_double DOUBLE, c_date DATE, c_datetime DATETIME(6), c_time TIME,
  c_char CHAR(10), c_varchar VARCHAR(64), c_text TEXT, c_blob BLOB,
  c_utinyint TINYINT UNSIGNED, c_smallint SMALLINT, c_mediumint MEDIUMINT, c_uint INT UNSIGNED,
  c_bigint BIGINT, c_float FLOAT, c_year YEAR, c_ts TIMESTAMP(6) NULL DEFAULT NULL,
  c_varbinary VARBINARY(16), c_binary BINARY(4), c_json JSON, c_bit BIT(8),
  c_enum ENUM('small','medium','large'), c_set SET('a','b','c','d')
) DEFAULT CHARSET=utf8mb4;
CREATE TABLE @SRC.pairs (
  tenant VARCHAR(16) NOT NULL, seq INT NOT NULL, payload VARCHAR(100), PRIMARY KEY (tenant, seq)
) DEFAULT CHARSET=utf8mb4;`;

const TARGET_DDL = (s: string) => `
CREATE TABLE "${s}".typed (
  id bigint PRIMARY KEY, c_tinyint smallint, c_int integer, c_ubigint numeric(20),
  c_decimal numeric(20,6), c_double double precision, c_date date, c_datetime timestamp(6),
  c_time time, c_char char(10), c_varchar varchar(64), c_text text, c_blob bytea,
  c_utinyint smallint, c_smallint smallint, c_mediumint integer, c_uint bigint, c_bigint bigint,
  c_float real, c_year smallint, c_ts timestamptz(6), c_varbinary bytea, c_binary bytea,
  c_json json, c_bit bit(8), c_enum text, c_set text
);
CREATE TABLE "${s}".pairs (tenant varchar(16), seq integer, payload varchar(100), PRIMARY KEY (tenant, seq));`;

const WORKLOAD = `
INSERT INTO @SRC.typed VALUES
  (1, -128, -2147483648, 18446744073709551615, -12345678901234.123456, 2.718281828459045,
   '2024-02-29', '2024-02-29 13:14:15.123456', '23:59:59', 'abc', '中文字符 😀', 'long text 长文本 🚀', X'00FF7F80C3',
   255, -32768, -8388608, 4294967295, -9223372036854775808, 3.14159, 2024, '2024-02-29 13:14:15.654321',
   X'DEADBEEF00', X'01020304', '{"k": "v", "n": 1, "arr": [1, 2.5, null, true], "u": "中"}', b'10100101',
   'medium', 'a,c'),
  (2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
   NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
  (3, 0, 0, 0, 0.000001, -0.0001, '1000-01-01', '1970-01-01 00:00:00', '00:00:00', '', '', '', X'',
   0, 0, 0, 0, 0, -0.0001, 1901, '1970-01-01 00:00:01', X'', X'00000000', '{}', b'00000000', 'small', ''),
  (9007199254740993, 127, 2147483647, 9007199254740993, 99999999999999.999999, 1e308,
   '9999-12-31', '9999-12-31 23:59:59.999999', '12:30:00', 'x', 'pk above 2^53', 't', X'80',
   1, 32767, 8388607, 1, 9223372036854775807, 1234.5, 2155, '2038-01-19 03:14:07.999999',
   X'FF', X'80FF', '[]', b'11111111', 'large', 'a,b,c,d');
INSERT INTO @SRC.pairs VALUES ('t1', 1, 'one'), ('t1', 2, 'two'), ('t2', 1, '租户二');
UPDATE @SRC.typed SET c_varchar = 'updated 更新', c_int = 42, c_blob = X'0001FEFF' WHERE id = 1;
UPDATE @SRC.typed SET c_varchar = 'was null', c_tinyint = 7 WHERE id = 2;
UPDATE @SRC.typed SET c_varchar = NULL, c_text = NULL WHERE id = 3;
UPDATE @SRC.typed SET id = 100 WHERE id = 3;
UPDATE @SRC.pairs SET seq = 3 WHERE tenant = 't1' AND seq = 2;
UPDATE @SRC.pairs SET payload = CONCAT(payload, '!') WHERE tenant = 't1';
BEGIN;
INSERT INTO @SRC.typed (id, c_varchar) VALUES (4, 'in a transaction');
UPDATE @SRC.pairs SET tenant = 't9' WHERE tenant = 't2';
DELETE FROM @SRC.typed WHERE id = 2;
COMMIT;
DELETE FROM @SRC.pairs WHERE tenant = 't1' AND seq = 1;`;

const mapping = (
  p: { source: string; target: string; topic: string; groupId: string },
  table: string,
  pk: string[],
) => `dataSourceKey: defaultDS
destination: ${p.topic}
groupId: ${p.groupId}
outerAdapterKey: tgt
dbMapping:
  database: ${p.source}
  table: ${table}
  targetDb: ${p.target}
  targetTable: ${table}
  targetPk:
${pk.map((k) => `    ${k}: ${k}`).join('\n')}
  mapAll: true
`;

describe.each<CanalFormat>(['flat', 'protobuf'])(
  'MariaDB → canal (Kafka, %s) → sluice rdb → PostgreSQL',
  (format) => {
    let p: CanalPipeline;

    async function sourceRows(table: string, cols: Record<string, [string, string]>) {
      const list = Object.values(cols)
        .map(([m]) => `IFNULL(${m}, 'NULL')`)
        .join(", '|', ");
      const [rows] = await p.mysql.query(
        `SELECT CONCAT(${list}) AS r FROM \`${p.source}\`.\`${table}\` ORDER BY 1`,
      );
      return (rows as { r: string }[]).map((r) => r.r);
    }
    async function targetRows(table: string, cols: Record<string, [string, string]>) {
      const list = Object.values(cols)
        .map(([, g]) => `coalesce(${g}, 'NULL')`)
        .join(", '|', ");
      const res = await p.pg!.query<{ r: string }>(
        `SELECT concat(${list}) AS r FROM "${p.target}"."${table}"`,
      );
      return res.rows.map((r) => r.r);
    }
    const diff = async () => {
      for (const [t, cols] of [
        ['typed', TYPED],
        ['pairs', PAIRS],
      ] as const) {
        const a = (await sourceRows(t, cols)).sort();
        const b = (await targetRows(t, cols)).sort();
        if (JSON.stringify(a) !== JSON.stringify(b))
          return `${t}: source ${JSON.stringify(a)} target ${JSON.stringify(b)}`;
      }
      return undefined;
    };

    beforeAll(async () => {
      p = await CanalPipeline.create({
        format,
        target: 'pg',
        mappings: (names) => ({
          'typed.yml': mapping(names, 'typed', ['id']),
          'pairs.yml': mapping(names, 'pairs', ['tenant', 'seq']),
        }),
      });
      await p.pg!.query(TARGET_DDL(p.target));
      await p.runSql(SOURCE_DDL);
      await p.startSluice();
    }, 120_000);

    afterAll(async () => {
      await p?.close();
    });

    it('the target tables equal the source tables', async () => {
      await p.runSql(WORKLOAD);
      await p.until(diff);
      expect(await sourceRows('typed', TYPED)).toHaveLength(4); // 1, 4, 100, 2^53+1
      expect((await targetRows('pairs', PAIRS)).sort()).toEqual(['t1|3|two!', 't9|1|租户二']);
      expect(await p.deadLetters()).toBe('');
    }, 90_000);
  },
);
