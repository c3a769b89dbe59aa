import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { FlatMessage, FlatRow } from './flatMessage.js';
import {
  flatMessagePartitions,
  javaEqualsIgnoreCase,
  javaStringHash,
  parsePartitionHash,
  partitionOfHash,
  rowPartition,
  ruleMatches,
} from './partitionHash.js';

const message = (ids: (string | null)[], fields: Partial<FlatMessage> = {}): FlatMessage => ({
  id: 1,
  database: 'shop',
  table: 'orders',
  pkNames: ['id'],
  isDdl: false,
  type: 'UPDATE',
  es: 0,
  ts: 0,
  sql: '',
  sqlType: null,
  mysqlType: null,
  data: ids.map((id) => ({ id, n: 'x' })),
  old: ids.map(() => ({ n: 'y' })),
  ...fields,
});

describe('javaStringHash', () => {
  it('matches the numbers verified against Java (reference §4.3)', () => {
    expect(javaStringHash('shop')).toBe(3529462);
    expect(javaStringHash('1001')).toBe(1507424);
    expect(javaStringHash('orders')).toBe(-1008770331);
    expect(javaStringHash('')).toBe(0);
  });

  it('hashes UTF-16 code units with int32 wraparound', () => {
    // Java: "🚀".hashCode() == 0xD83D * 31 + 0xDE80 = 1772939
    expect(javaStringHash('🚀')).toBe(0xd83d * 31 + 0xde80);
    expect(javaStringHash('x'.repeat(1000))).toBe(javaStringHash('x'.repeat(1000)) | 0);
  });

  it('partitionOfHash handles Integer.MIN_VALUE as Java does', () => {
    expect(partitionOfHash(-2147483648, 3)).toBe(2); // Java: abs(abs(MIN) % 3) = abs(-2) = 2
    expect(partitionOfHash(-7, 3)).toBe(1);
  });
});

describe('partition choice', () => {
  const rules = parsePartitionHash('shop.orders:id');

  it('reproduces the reference example: database.hash on and off', () => {
    const on = [...'123'].map((d) =>
      rowPartition('shop', { id: `100${d}` }, ['id'], { partitions: 3 }),
    );
    expect(on).toEqual([0, 1, 1]);
    const off = [...'123'].map((d) =>
      rowPartition('shop', { id: `100${d}` }, ['id'], { partitions: 3, databaseHash: false }),
    );
    expect(off).toEqual([2, 0, 1]);
  });

  it('splits a multi-row message per partition, keeping old aligned', () => {
    const parts = flatMessagePartitions(message(['1001', '1002', '1003']), rules, {
      partitions: 3,
    });
    expect([...parts.keys()].sort()).toEqual([0, 1]);
    expect(parts.get(1)!.data!.map((r) => r['id'])).toEqual(['1002', '1003']);
    expect(parts.get(1)!.old).toHaveLength(2);
  });

  it('NULL and missing hash as "", exact-case lookup', () => {
    expect(rowPartition('shop', { id: null }, ['id'], { partitions: 7 })).toBe(
      rowPartition('shop', {}, ['id'], { partitions: 7 }),
    );
    const upper = flatMessagePartitions(
      message(['1001', '1002', '1003']),
      parsePartitionHash('shop.orders:ID'),
      { partitions: 3 },
    );
    expect(upper.size).toBe(1);
  });

  it('$pk$, table hash, DDL and unmatched tables', () => {
    expect(
      flatMessagePartitions(message(['1001', '1002']), parsePartitionHash('.*\\..*:$PK$'), {
        partitions: 3,
      }).size,
    ).toBe(2);
    expect([
      ...flatMessagePartitions(message(['1001', '1002']), parsePartitionHash('shop.orders'), {
        partitions: 3,
      }).keys(),
    ]).toEqual([partitionOfHash(javaStringHash('orders'), 3)]);
    expect([
      ...flatMessagePartitions(message([], { isDdl: true, data: null, old: null }), rules, {
        partitions: 3,
      }).keys(),
    ]).toEqual([0]);
    expect([
      ...flatMessagePartitions(message(['1002'], { table: 'users' }), rules, {
        partitions: 3,
      }).keys(),
    ]).toEqual([0]);
  });

  it('parses rule lists split on , and ; with the last : as separator', () => {
    expect(parsePartitionHash('a.b:id^user_id; c\\..*:$pk$,d.e')).toEqual([
      { pattern: 'a.b', mode: 'columns', columns: ['id', 'user_id'] },
      // canal trims nothing: the space after ';' belongs to the pattern.
      { pattern: ' c\\..*', mode: 'pk', columns: [] },
      { pattern: 'd.e', mode: 'table', columns: [] },
    ]);
    expect(
      ruleMatches({ pattern: 'SHOP.Orders', mode: 'table', columns: [] }, 'shop', 'orders'),
    ).toBe(true);
    expect(
      ruleMatches({ pattern: 'shop\\.ord.*', mode: 'table', columns: [] }, 'Shop', 'ORDERS'),
    ).toBe(true);
    expect(
      ruleMatches({ pattern: 'shop\\.ord', mode: 'table', columns: [] }, 'shop', 'orders'),
    ).toBe(false);
    expect(ruleMatches({ pattern: '(', mode: 'table', columns: [] }, 'shop', 'orders')).toBe(false);
  });
});

describe('agrees with canal 1.1.8 on whitespace, case and rule-syntax variants', () => {
  // test/fixtures/partition-oracle: canal's partition choice for each case, computed by
  // PartitionOracle.java on the libraries canal uses (commons-lang StringUtils.split, ORO).
  const lines = readFileSync(
    new URL('../test/fixtures/partition-oracle/oracle.jsonl', import.meta.url),
    'utf8',
  )
    .trim()
    .split('\n');
  const { rowSets } = JSON.parse(lines[0]!) as { rowSets: FlatRow[][] };
  const cases = lines.slice(1).map(
    (line) =>
      JSON.parse(line) as {
        spec: string;
        database: string;
        table: string;
        pkNames: string[] | null;
        partitions: number;
        databaseHash: boolean;
        rowSet: number;
        canal: string;
      },
  );

  /** Sluice's answer in the oracle's notation: Z, T<p> or R<p per row>. */
  function sluice(c: (typeof cases)[number]): string {
    const data = rowSets[c.rowSet]!;
    const m = message([], {
      database: c.database,
      table: c.table,
      pkNames: c.pkNames,
      data,
      old: null,
    });
    const rules = parsePartitionHash(c.spec);
    const rule = rules.find((r) => ruleMatches(r, c.database, c.table));
    const parts = flatMessagePartitions(m, rules, {
      partitions: c.partitions,
      databaseHash: c.databaseHash,
    });
    if (rule === undefined) return parts.size === 1 && parts.get(0) === m ? 'Z' : 'wrong';
    if (rule.mode === 'table') return `T${[...parts.keys()].join()}`;
    return `R${data.map((row) => [...parts].find(([, part]) => part.data!.includes(row))![0]).join()}`;
  }

  it(`all ${cases.length} cases`, () => {
    expect(cases.length).toBeGreaterThan(2000);
    const wrong = cases
      .map((c) => ({ ...c, sluice: sluice(c) }))
      .filter((c) => c.sluice !== c.canal);
    expect(wrong.slice(0, 5)).toEqual([]);
  });

  it('does not trim: spaces around names, patterns and $pk$ are part of them', () => {
    expect(parsePartitionHash(' shop.orders : id ^ n ;\tx.y')).toEqual([
      { pattern: ' shop.orders ', mode: 'columns', columns: [' id ', ' n '] },
      { pattern: '\tx.y', mode: 'table', columns: [] },
    ]);
    expect(parsePartitionHash('shop.orders: $pk$')[0]).toEqual({
      pattern: 'shop.orders',
      mode: 'columns',
      columns: [' $pk$'],
    });
    expect(ruleMatches(parsePartitionHash(' shop.orders')[0]!, 'shop', 'orders')).toBe(false);
    expect(ruleMatches(parsePartitionHash('shop.orders ')[0]!, 'shop', 'orders')).toBe(false);
    // A column name with a space is looked up as written: missing, so it hashes as "".
    expect(rowPartition('shop', { id: '5' }, [' id'], { partitions: 7 })).toBe(
      rowPartition('shop', {}, ['id'], { partitions: 7 }),
    );
  });

  it('reads rule syntax as canal does: a leading-only colon, empty specs, plain names with dots', () => {
    expect(parsePartitionHash(':id')).toEqual([{ pattern: ':id', mode: 'table', columns: [] }]);
    expect(parsePartitionHash('a.b:')).toEqual([{ pattern: 'a.b', mode: 'columns', columns: [] }]);
    expect(parsePartitionHash('a.b:id^^n,,;')).toEqual([
      { pattern: 'a.b', mode: 'columns', columns: ['id', 'n'] },
    ]);
    // No regex metacharacter: a plain name, `.` and `-` compared literally.
    expect(ruleMatches(parsePartitionHash('shop-db.orders')[0]!, 'shop-db', 'orders')).toBe(true);
    expect(ruleMatches(parsePartitionHash('shop.orders')[0]!, 'shopXorders', '')).toBe(false);
  });
});

describe('partition choice: what the mutation run asked for', () => {
  const ids = ['1001', '1002', '1003', '1004', '1005', '1006'];
  const byId = (parts: Map<number, FlatMessage>) =>
    new Map([...parts].map(([p, m]) => [p, m.data!.map((r) => r['id'])]));

  it('splits INSERT and DELETE messages (old: null) by a column rule and by $pk$', () => {
    for (const type of ['INSERT', 'DELETE'] as const) {
      for (const spec of ['shop.orders:id', 'shop.orders:$pk$']) {
        const parts = flatMessagePartitions(
          message(ids, { type, old: null }),
          parsePartitionHash(spec),
          { partitions: 3 },
        );
        expect(parts.size, `${type} ${spec}`).toBeGreaterThan(1);
        for (const [p, m] of parts) {
          expect(m.old).toBeNull();
          expect(m.type).toBe(type);
          for (const row of m.data!)
            expect(rowPartition('shop', row, ['id'], { partitions: 3 })).toBe(p);
        }
        expect([...byId(parts).values()].flat().sort()).toEqual(ids);
      }
    }
  });

  it('keeps each row with its own old image, in row order', () => {
    const m = message(ids);
    const withOld = { ...m, old: ids.map((id) => ({ n: `old-${id}` })) };
    const parts = flatMessagePartitions(withOld, parsePartitionHash('shop.orders:id'), {
      partitions: 3,
    });
    for (const part of parts.values()) {
      expect(part.old!.map((o) => o['n'])).toEqual(part.data!.map((r) => `old-${r['id']}`));
      const order = part.data!.map((r) => ids.indexOf(r['id']!));
      expect(order).toEqual([...order].sort((a, b) => a - b));
    }
  });

  it('hashes NULL like canal: as the empty string, and with several columns XORs them', () => {
    for (const partitions of [3, 7, 11]) {
      expect(rowPartition('shop', { id: null }, ['id'], { partitions })).toBe(
        rowPartition('shop', { id: '' }, ['id'], { partitions }),
      );
    }
    const h = javaStringHash('shop') ^ javaStringHash('a') ^ javaStringHash('b');
    expect(rowPartition('shop', { x: 'a', y: 'b' }, ['x', 'y'], { partitions: 1000 })).toBe(
      partitionOfHash(h, 1000),
    );
    expect(
      rowPartition('shop', { x: 'a', y: 'b' }, ['x', 'y'], {
        partitions: 1000,
        databaseHash: false,
      }),
    ).toBe(partitionOfHash(javaStringHash('a') ^ javaStringHash('b'), 1000));
    // An inherited property is not a column.
    expect(rowPartition('shop', {}, ['toString'], { partitions: 1000 })).toBe(
      rowPartition('shop', { toString: '' }, ['toString'], { partitions: 1000 }),
    );
  });

  it('a message without rows goes whole to partition 0; a table rule to hash(table)', () => {
    const empty = message([], { data: [] });
    expect([
      ...flatMessagePartitions(empty, parsePartitionHash('shop.orders:id'), { partitions: 3 }),
    ]).toEqual([[0, empty]]);
    const none = message([], { data: null });
    expect([
      ...flatMessagePartitions(none, parsePartitionHash('shop.orders'), { partitions: 3 }),
    ]).toEqual([[0, none]]);
    const whole = message(ids);
    const parts = flatMessagePartitions(whole, parsePartitionHash('shop.orders'), {
      partitions: 5,
    });
    expect([...parts]).toEqual([[partitionOfHash(javaStringHash('orders'), 5), whole]]);
    // $pk$ without pkNames hashes no column: the database alone.
    const nopk = flatMessagePartitions(
      message(ids, { pkNames: null }),
      parsePartitionHash('shop.orders:$pk$'),
      { partitions: 5 },
    );
    expect([...nopk.keys()]).toEqual([partitionOfHash(javaStringHash('shop'), 5)]);
  });

  it('regex rules: anchored, case-insensitive (upper-case patterns too), dot matches a line break', () => {
    const rule = (pattern: string) => ({ pattern, mode: 'table' as const, columns: [] });
    expect(ruleMatches(rule('SHOP\\.ORD.*'), 'shop', 'orders')).toBe(true);
    expect(ruleMatches(rule('shop\\..*'), 'shop', 'a\nb')).toBe(true);
    expect(ruleMatches(rule('hop\\..*'), 'shop', 'orders')).toBe(false);
    expect(ruleMatches(rule('shop\\.or'), 'shop', 'orders')).toBe(false);
    expect(ruleMatches(rule('shop\\.orders|x'), 'shop', 'orders')).toBe(true);
    // ORO takes the first alternative that matches at 0 and needs it to span the name.
    expect(ruleMatches(rule('shop\\.o|shop\\.orders'), 'shop', 'orders')).toBe(false);
    // A plain name is compared case-insensitively, dots literally.
    expect(ruleMatches(rule('shop.orders'), 'SHOP', 'Orders')).toBe(true);
    expect(ruleMatches(rule('shop.orders'), 'shop', 'orderx')).toBe(false);
    expect(ruleMatches(rule('shopxorders'), 'shop', 'orders')).toBe(false);
    // Cached patterns give the same answers the second time.
    expect(ruleMatches(rule('SHOP\\.ORD.*'), 'shop', 'orders')).toBe(true);
    expect(ruleMatches(rule('('), 'shop', 'orders')).toBe(false);
    expect(ruleMatches(rule('('), 'shop', 'orders')).toBe(false);
  });

  it('keeps answering after more than 1024 distinct patterns (the cache is cleared, not wrong)', () => {
    for (let i = 0; i < 1100; i++)
      expect(ruleMatches({ pattern: `t${i}\\..*`, mode: 'table', columns: [] }, `t${i}`, 'x')).toBe(
        true,
      );
    expect(ruleMatches({ pattern: 't0\\..*', mode: 'table', columns: [] }, 't0', 'x')).toBe(true);
  });
});

describe("Java's case folding in rule matching", () => {
  it('equalsIgnoreCase folds like Java: upper case first, then lower case of the upper case', () => {
    // ſ (long s) upper-cases to S; the Kelvin sign only lower-cases to k.
    expect(javaEqualsIgnoreCase('ſ', 's')).toBe(true);
    expect(javaEqualsIgnoreCase('\u212a', 'k')).toBe(true);
    // ß has no one-unit upper case in Java: it stays ß, which is not "s".
    expect(javaEqualsIgnoreCase('ß', 's')).toBe(false);
    // İ lower-cases to i in Java (simple mapping), so it equals i ignoring case.
    expect(javaEqualsIgnoreCase('\u0130', 'i')).toBe(true);
    expect(javaEqualsIgnoreCase('Shop.Orders', 'shop.orders')).toBe(true);
    expect(javaEqualsIgnoreCase('shop.order', 'shop.orders')).toBe(false);
  });

  it('a pattern without metacharacters is compared as text: its dots are no wildcards', () => {
    const rule = { pattern: 'a.b.c', mode: 'table' as const, columns: [] };
    expect(ruleMatches(rule, 'a', 'b.c')).toBe(true);
    expect(ruleMatches(rule, 'axb', 'c')).toBe(false);
  });

  it('a regex pattern is matched against the lower-cased name (ß stays one letter)', () => {
    const rule = { pattern: 'ß\\.t', mode: 'table' as const, columns: [] };
    expect(ruleMatches(rule, 'ß', 'T')).toBe(true);
  });
});
