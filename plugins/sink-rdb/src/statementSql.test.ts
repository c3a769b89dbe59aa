import { describe, expect, it } from 'vitest';
import {
  mysqlDelete,
  mysqlUpsert,
  pgDelete,
  pgUpsert,
  qualified,
  quoteMysql,
  quotePg,
} from './statementSql.js';

describe('quoting', () => {
  it('MySQL/MariaDB: backticks around the name, every inner backtick doubled, nothing else touched', () => {
    expect(quoteMysql('id')).toBe('`id`');
    expect(quoteMysql('order')).toBe('`order`'); // a reserved word is just quoted
    expect(quoteMysql('a`b')).toBe('`a``b`');
    expect(quoteMysql('``')).toBe('``````');
    expect(quoteMysql('`x`y`')).toBe('```x``y```');
    // The other dialect's quote, the string quote, backslash and dots are plain characters here.
    expect(quoteMysql(`a"b'c\\d.e`)).toBe(`\`a"b'c\\d.e\``);
    expect(quoteMysql('名前 🙂')).toBe('`名前 🙂`');
    expect(quoteMysql('')).toBe('``');
  });

  it('PostgreSQL: double quotes around the name, every inner double quote doubled, case kept', () => {
    expect(quotePg('id')).toBe('"id"');
    expect(quotePg('User')).toBe('"User"');
    expect(quotePg('select')).toBe('"select"');
    expect(quotePg('a"b')).toBe('"a""b"');
    expect(quotePg('""')).toBe('""""""');
    expect(quotePg('"x"y"')).toBe('"""x""y"""');
    expect(quotePg("a`b'c\\d.e")).toBe('"a`b\'c\\d.e"');
    expect(quotePg('名前 🙂')).toBe('"名前 🙂"');
    expect(quotePg('')).toBe('""');
  });

  it('qualified: schema.table each part quoted by the dialect; the table alone without a schema', () => {
    expect(qualified({ quote: quoteMysql }, 'db', 't')).toBe('`db`.`t`');
    expect(qualified({ quote: quotePg }, 'my"schema', 'a.b')).toBe('"my""schema"."a.b"');
    expect(qualified({ quote: quoteMysql }, undefined, 't`1')).toBe('`t``1`');
    expect(qualified({ quote: quotePg }, '', 't')).toBe('"t"');
  });
});

describe('MySQL/MariaDB statements', () => {
  it('upsert: one row, the key left out of the update', () => {
    expect(mysqlUpsert('`db`.`t`', ['id', 'name', 'v'], ['id'], 1)).toBe(
      'INSERT INTO `db`.`t` (`id`,`name`,`v`) VALUES (?,?,?) ON DUPLICATE KEY UPDATE `name`=VALUES(`name`),`v`=VALUES(`v`)',
    );
  });

  it('upsert: several rows, parameters row after row in column order', () => {
    expect(mysqlUpsert('`t`', ['a', 'k'], ['k'], 3)).toBe(
      'INSERT INTO `t` (`a`,`k`) VALUES (?,?),(?,?),(?,?) ON DUPLICATE KEY UPDATE `a`=VALUES(`a`)',
    );
    expect(mysqlUpsert('`t`', ['a'], ['a'], 2)).toBe(
      'INSERT INTO `t` (`a`) VALUES (?),(?) ON DUPLICATE KEY UPDATE `a`=VALUES(`a`)',
    );
  });

  it('upsert: a composite key (in any position) is left out of the update', () => {
    expect(mysqlUpsert('`t`', ['k1', 'v', 'k2', 'w'], ['k2', 'k1'], 2)).toBe(
      'INSERT INTO `t` (`k1`,`v`,`k2`,`w`) VALUES (?,?,?,?),(?,?,?,?) ON DUPLICATE KEY UPDATE `v`=VALUES(`v`),`w`=VALUES(`w`)',
    );
  });

  it('upsert: every column a key column sets the first column to itself (no DO NOTHING in MySQL)', () => {
    expect(mysqlUpsert('`t`', ['k2', 'k1'], ['k1', 'k2'], 1)).toBe(
      'INSERT INTO `t` (`k2`,`k1`) VALUES (?,?) ON DUPLICATE KEY UPDATE `k2`=VALUES(`k2`)',
    );
  });

  it('upsert: odd column names are quoted everywhere they appear', () => {
    expect(mysqlUpsert('`t`', ['k`', 'select', '列 a'], ['k`'], 1)).toBe(
      'INSERT INTO `t` (`k```,`select`,`列 a`) VALUES (?,?,?) ON DUPLICATE KEY UPDATE `select`=VALUES(`select`),`列 a`=VALUES(`列 a`)',
    );
  });

  it('upsert of no rows has an empty VALUES list (never built: statements carry at least one row)', () => {
    expect(mysqlUpsert('`t`', ['a', 'b'], ['a'], 0)).toBe(
      'INSERT INTO `t` (`a`,`b`) VALUES  ON DUPLICATE KEY UPDATE `b`=VALUES(`b`)',
    );
  });

  it('delete by one key column: k IN (?,…)', () => {
    expect(mysqlDelete('`db`.`t`', ['id'], 1)).toBe('DELETE FROM `db`.`t` WHERE `id` IN (?)');
    expect(mysqlDelete('`t`', ['i`d'], 3)).toBe('DELETE FROM `t` WHERE `i``d` IN (?,?,?)');
    expect(mysqlDelete('`t`', ['id'], 0)).toBe('DELETE FROM `t` WHERE `id` IN ()');
  });

  it('delete by a composite key: (k1,k2) IN ((?,?),…), parameters row after row in key order', () => {
    expect(mysqlDelete('`t`', ['k1', 'k2'], 1)).toBe(
      'DELETE FROM `t` WHERE (`k1`,`k2`) IN ((?,?))',
    );
    expect(mysqlDelete('`t`', ['b', 'a', 'c'], 2)).toBe(
      'DELETE FROM `t` WHERE (`b`,`a`,`c`) IN ((?,?,?),(?,?,?))',
    );
    expect(mysqlDelete('`t`', ['k1', 'k2'], 0)).toBe('DELETE FROM `t` WHERE (`k1`,`k2`) IN ()');
  });
});

describe('PostgreSQL statements', () => {
  it('upsert: one row, ON CONFLICT on the key, the other columns from EXCLUDED', () => {
    expect(pgUpsert('"public"."t"', ['id', 'name', 'v'], ['id'], 1)).toBe(
      'INSERT INTO "public"."t" ("id","name","v") VALUES ($1,$2,$3) ON CONFLICT ("id") DO UPDATE SET "name"=EXCLUDED."name","v"=EXCLUDED."v"',
    );
  });

  it('upsert: several rows numbered $1… row after row in column order', () => {
    expect(pgUpsert('"t"', ['a', 'k'], ['k'], 3)).toBe(
      'INSERT INTO "t" ("a","k") VALUES ($1,$2),($3,$4),($5,$6) ON CONFLICT ("k") DO UPDATE SET "a"=EXCLUDED."a"',
    );
  });

  it('upsert: a composite key in the order given, left out of the update', () => {
    expect(pgUpsert('"t"', ['k1', 'v', 'k2'], ['k2', 'k1'], 2)).toBe(
      'INSERT INTO "t" ("k1","v","k2") VALUES ($1,$2,$3),($4,$5,$6) ON CONFLICT ("k2","k1") DO UPDATE SET "v"=EXCLUDED."v"',
    );
  });

  it('upsert: every column a key column does nothing on conflict', () => {
    expect(pgUpsert('"t"', ['k1', 'k2'], ['k1', 'k2'], 2)).toBe(
      'INSERT INTO "t" ("k1","k2") VALUES ($1,$2),($3,$4) ON CONFLICT ("k1","k2") DO NOTHING',
    );
  });

  it('upsert: odd column names are quoted everywhere they appear', () => {
    expect(pgUpsert('"t"', ['K"', 'user', 'ä b'], ['K"'], 1)).toBe(
      'INSERT INTO "t" ("K""","user","ä b") VALUES ($1,$2,$3) ON CONFLICT ("K""") DO UPDATE SET "user"=EXCLUDED."user","ä b"=EXCLUDED."ä b"',
    );
  });

  it('upsert of no rows has an empty VALUES list (never built)', () => {
    expect(pgUpsert('"t"', ['a'], ['a'], 0)).toBe(
      'INSERT INTO "t" ("a") VALUES  ON CONFLICT ("a") DO NOTHING',
    );
  });

  it('delete by one key column: k IN ($1,…)', () => {
    expect(pgDelete('"s"."t"', ['id'], 1)).toBe('DELETE FROM "s"."t" WHERE "id" IN ($1)');
    expect(pgDelete('"t"', ['i"d'], 3)).toBe('DELETE FROM "t" WHERE "i""d" IN ($1,$2,$3)');
    expect(pgDelete('"t"', ['id'], 0)).toBe('DELETE FROM "t" WHERE "id" IN ()');
  });

  it('delete by a composite key: (k1,k2) IN (($1,$2),…), numbered row after row in key order', () => {
    expect(pgDelete('"t"', ['k1', 'k2'], 1)).toBe('DELETE FROM "t" WHERE ("k1","k2") IN (($1,$2))');
    expect(pgDelete('"t"', ['b', 'a', 'c'], 2)).toBe(
      'DELETE FROM "t" WHERE ("b","a","c") IN (($1,$2,$3),($4,$5,$6))',
    );
    expect(pgDelete('"t"', ['k1', 'k2'], 0)).toBe('DELETE FROM "t" WHERE ("k1","k2") IN ()');
  });

  it('numbers past $9 and many rows: one parameter per value, none skipped or repeated', () => {
    const sql = pgUpsert('"t"', ['a', 'b', 'c', 'd', 'e'], ['a'], 400);
    const numbers = [...sql.matchAll(/\$(\d+)/g)].map((m) => Number(m[1]));
    expect(numbers).toEqual(Array.from({ length: 2000 }, (_, i) => i + 1));
    expect(sql).toContain('($1996,$1997,$1998,$1999,$2000) ON CONFLICT ("a")');
    const del = pgDelete('"t"', ['id'], 12);
    expect(del).toBe('DELETE FROM "t" WHERE "id" IN ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12)');
  });
});
