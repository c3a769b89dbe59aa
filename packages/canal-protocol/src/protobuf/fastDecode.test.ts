/**
 * The fast path (fastDecode.ts) against the checked decoder (decodeCanalMessages +
 * canalMessagesToChangeEvents): the same events, keys in the same order, for generated payloads
 * (odd names, NULLs, repeated and missing columns, schema changes between entries and calls,
 * unknown fields, props), and never accepting a payload the checked decoder rejects.
 */
import fc from 'fast-check';
import type { RowChangeEvent } from '@sluice/plugin-api';
import { describe, expect, it } from 'vitest';
import { canalMessagesToChangeEvents, decodeCanalMessages, encodeCanalMessages } from '../index.js';
import type { CanalColumn, CanalEntry, CanalPair, CanalRowData } from './entryProtocol.js';
import { encodeRowChange, encodeTransactionBegin } from './entryProtocol.js';
import { ProtoWriter, WireType } from './wire.js';
import { fastProtobufEvents, imageBuilder, slowImage } from './fastDecode.js';

const origin = { destination: 'd', partition: '3', offset: '77' };

/**
 * Property runs: under `pnpm mutate` (SLUICE_MUTATION_RUN) a fifth of them with a fixed seed,
 * so each of the fast path's ~700 mutants costs seconds, not tens, and runs repeat exactly.
 */
const mutationRun = process.env.SLUICE_MUTATION_RUN === '1';
const runs = (n: number): { numRuns: number; seed?: number } =>
  mutationRun ? { numRuns: Math.ceil(n / 5), seed: 18 } : { numRuns: n };

type Outcome = { ok: true; events: unknown[] } | { ok: false };

function checked(bytes: Uint8Array, o = origin): Outcome {
  try {
    return { ok: true, events: canalMessagesToChangeEvents(decodeCanalMessages(bytes), o) };
  } catch {
    return { ok: false };
  }
}

function fast(bytes: Uint8Array, o = origin): Outcome {
  try {
    return { ok: true, events: fastProtobufEvents(bytes, o) };
  } catch {
    return { ok: false };
  }
}

/** Equal, and with every object's keys in the same order. */
function expectSame(actual: Outcome, expected: Outcome): void {
  expect(actual.ok).toBe(expected.ok);
  if (actual.ok && expected.ok) {
    expect(actual.events).toEqual(expected.events);
    expect(JSON.stringify(actual.events)).toBe(JSON.stringify(expected.events));
  }
}

const names = fc.constantFrom(
  'id',
  'name',
  'note',
  '__proto__',
  'toString',
  '',
  '1',
  'Zoë',
  '张三',
  'a"b\u2028c',
  'x'.repeat(70),
);
const types = fc.constantFrom(
  'int(11)',
  'bigint(20) unsigned',
  'varchar(32)',
  "enum('a','b')",
  'text',
  '',
);
const text = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.string({ unit: 'grapheme', maxLength: 6 }),
  fc.string({
    unit: fc.integer({ min: 0, max: 255 }).map((c) => String.fromCharCode(c)),
    maxLength: 8,
  }),
);
const pairs: fc.Arbitrary<CanalPair[]> = fc.oneof(
  { weight: 4, arbitrary: fc.constant<CanalPair[]>([]) },
  { weight: 1, arbitrary: fc.array(fc.record({ key: text, value: text }), { maxLength: 2 }) },
);
const layout = fc.array(
  fc.record({
    name: names,
    mysqlType: types,
    sqlType: fc.constantFrom(4, -5, 12, 2005, -7),
    isKey: fc.boolean(),
  }),
  { maxLength: 5 },
);

function columns(
  cols: { name: string; mysqlType: string; sqlType: number; isKey: boolean }[],
  cells: (string | null)[],
  updated: boolean[],
  props: CanalPair[],
): CanalColumn[] {
  return cols.map((c, i) => {
    const value = cells[i % cells.length] ?? null;
    return {
      index: i,
      sqlType: c.sqlType,
      name: c.name,
      isKey: c.isKey,
      updated: updated[i % updated.length]!,
      isNull: value === null,
      props: i === 0 ? props : [],
      value: value ?? '',
      length: i === 1 ? 5 : 0,
      mysqlType: c.mysqlType,
    };
  });
}

/** A RowChange whose rows mostly share a layout (as canal's do), sometimes not. */
const rowChange = fc
  .record({
    eventType: fc.constantFrom(1, 1, 2, 2, 3, 4, 7, 0, 99),
    isDdl: fc.integer({ min: 0, max: 9 }).map((n) => n < 2),
    main: layout,
    other: layout,
    rows: fc.array(
      fc.record({
        alt: fc.integer({ min: 0, max: 5 }),
        cells: fc.array(fc.option(text, { nil: null }), { minLength: 1, maxLength: 6 }),
        updated: fc.array(fc.boolean(), { minLength: 1, maxLength: 6 }),
        minimal: fc.boolean(),
      }),
      { maxLength: 4 },
    ),
    props: pairs,
  })
  .map((g): Uint8Array => {
    const rowDatas: CanalRowData[] = g.rows.map((row) => {
      const cols = row.alt === 0 ? g.other : g.main;
      const image = columns(cols, row.cells, row.updated, g.props);
      const before =
        g.eventType === 1
          ? []
          : row.minimal && g.eventType === 2
            ? columns(g.other, row.cells.slice(1).concat(null), [false], [])
            : image;
      const after = g.eventType === 3 ? [] : image;
      return { beforeColumns: before, afterColumns: after, props: row.alt === 5 ? g.props : [] };
    });
    return encodeRowChange({
      tableId: 9n,
      eventType: g.eventType,
      isDdl: g.isDdl,
      sql: g.isDdl ? 'ALTER TABLE t' : '',
      rowDatas,
      props: g.props,
      ddlSchemaName: '',
    });
  });

const entry = fc
  .record({
    schema: fc.constantFrom('shop', 'crm', ''),
    table: fc.constantFrom('orders', 'users', 't'),
    executeTime: fc.oneof(
      fc.bigInt({ min: 0n, max: 2n ** 45n }),
      fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
    ),
    gtid: fc.constantFrom('', 'uuid:1-5'),
    entryType: fc.constantFrom(2, 2, 2, 1, 3, 0),
    storeValue: rowChange,
    props: pairs,
  })
  .map((g): CanalEntry => ({
    header: {
      version: 1,
      logfileName: 'mysql-bin.000001',
      logfileOffset: 4n,
      serverId: 1n,
      serverenCode: 'UTF-8',
      executeTime: g.executeTime,
      sourceType: 2,
      schemaName: g.schema,
      tableName: g.table,
      eventLength: 10n,
      eventType: 1,
      props: g.props,
      gtid: g.gtid,
    },
    entryType: g.entryType,
    storeValue:
      g.entryType === 1
        ? encodeTransactionBegin({ executeTime: 0n, transactionId: '', props: [], threadId: 1n })
        : g.storeValue,
  }));

const payload = fc
  .record({
    entries: fc.array(entry, { maxLength: 5 }),
    layout: fc.constantFrom('raw', 'builder') as fc.Arbitrary<'raw' | 'builder'>,
  })
  .map((g) => encodeCanalMessages({ batchId: 1n, entries: g.entries }, g.layout));

describe('protobuf fast path', () => {
  it('gives the same events as the checked decoder', () => {
    fc.assert(
      fc.property(
        payload,
        fc.option(fc.integer({ min: 0, max: 2 ** 45 }), { nil: undefined }),
        (bytes, producedAt) => {
          const o = producedAt === undefined ? origin : { ...origin, producedAt };
          const expected = checked(bytes, o);
          expect(expected.ok).toBe(true);
          expectSame(fast(bytes, o), expected);
        },
      ),
      runs(1500),
    );
  });

  it('rejects exactly what the checked decoder rejects (mutated payloads), else agrees', () => {
    fc.assert(
      fc.property(
        payload,
        fc.array(
          fc.tuple(
            fc.nat(),
            fc.integer({ min: 0, max: 255 }),
            fc.constantFrom('set', 'insert', 'delete'),
          ),
          { minLength: 1, maxLength: 4 },
        ),
        (valid, edits) => {
          const bytes = [...valid];
          for (const [at, value, op] of edits) {
            const i = at % (bytes.length + 1);
            if (op === 'set') bytes[Math.min(i, bytes.length - 1)] = value;
            else if (op === 'insert') bytes.splice(i, 0, value);
            else bytes.splice(i, 1);
          }
          const mutated = Uint8Array.from(bytes);
          expectSame(fast(mutated), checked(mutated));
          // The state kept between calls survives a rejected payload.
          expectSame(fast(valid), checked(valid));
        },
      ),
      runs(3000),
    );
  });

  it('every truncation of a payload', () => {
    fc.assert(
      fc.property(payload, (valid) => {
        for (let n = 0; n < valid.length; n += 1 + (n >> 4))
          expectSame(fast(valid.subarray(0, n)), checked(valid.subarray(0, n)));
      }),
      runs(100),
    );
  });

  it('reads values from a Uint8Array at an offset (not a Buffer)', () => {
    fc.assert(
      fc.property(payload, (valid) => {
        const padded = new Uint8Array(valid.length + 7);
        padded.set(valid, 3);
        expectSame(fast(padded.subarray(3, 3 + valid.length)), checked(valid));
      }),
      runs(200),
    );
  });

  it('checks props it never uses: a Pair with a wrong wire type is rejected wherever it sits', () => {
    const pair = [{ key: 'KK', value: '' }];
    const column = (props: CanalPair[]): CanalColumn => ({
      index: 0,
      sqlType: 4,
      name: 'id',
      isKey: true,
      updated: true,
      isNull: false,
      props,
      value: '1',
      length: 0,
      mysqlType: 'int',
    });
    const rc = (where: string) =>
      encodeRowChange({
        tableId: 1n,
        eventType: 1,
        isDdl: false,
        sql: '',
        rowDatas: [
          {
            beforeColumns: [],
            afterColumns: [column(where === 'column' ? pair : [])],
            props: where === 'row' ? pair : [],
          },
        ],
        props: where === 'rowChange' ? pair : [],
        ddlSchemaName: '',
      });
    for (const where of ['header', 'column', 'row', 'rowChange']) {
      const e: CanalEntry = {
        header: {
          version: 1,
          logfileName: 'f',
          logfileOffset: 4n,
          serverId: 1n,
          serverenCode: 'UTF-8',
          executeTime: 1n,
          sourceType: 2,
          schemaName: 's',
          tableName: 't',
          eventLength: 1n,
          eventType: 1,
          props: where === 'header' ? pair : [],
          gtid: '',
        },
        entryType: 2,
        storeValue: rc(where),
      };
      const valid = encodeCanalMessages({ batchId: 1n, entries: [e] });
      expectSame(fast(valid), checked(valid));
      expect(fast(valid).ok).toBe(true);
      // The key field tagged as a varint (wrong wire type); read as length-delimited it would pass.
      const hex = Buffer.from(valid).toString('hex');
      const bad = Buffer.from(hex.replace('0a024b4b1200', '08024b4b1200'), 'hex');
      expect(bad.equals(valid)).toBe(false);
      expect(checked(bad).ok).toBe(false);
      expect(fast(bad).ok).toBe(false);
    }
  });

  it('generated image builders make the same objects as adding the columns one by one', () => {
    const cases = [
      ['id', 'name'],
      ['a', 'b', 'a'],
      ['__proto__', 'x'],
      ['1', 'b', '0'],
      ['', 'a"b\\', '\u2028\u2029', '</script>', '${x}', '`'],
      Array.from({ length: 40 }, (_, i) => `c${i}`),
    ];
    for (const list of cases) {
      const values = list.map((_, i) => (i % 3 === 0 ? null : `v${i}`));
      const generated = imageBuilder(list)(values, list, list.length);
      const plain = slowImage(values, list, list.length);
      expect(Object.getPrototypeOf(generated)).toBe(Object.prototype);
      expect(Object.keys(generated)).toEqual(Object.keys(plain));
      expect(generated).toEqual(plain);
      expect(Object.getOwnPropertyDescriptors(generated)).toEqual(
        Object.getOwnPropertyDescriptors(plain),
      );
    }
  });
});

describe('what the fast path keeps between rows, entries and payloads', () => {
  const col = (
    name: string,
    value: string | null,
    extra: Partial<CanalColumn> = {},
  ): CanalColumn => ({
    index: 0,
    sqlType: 12,
    name,
    isKey: false,
    updated: false,
    isNull: value === null,
    props: [],
    value: value ?? '',
    length: 0,
    mysqlType: 'varchar(9)',
    ...extra,
  });
  const entryOf = (
    table: string,
    eventType: number,
    rows: { before?: CanalColumn[]; after?: CanalColumn[] }[],
    gtid = '',
  ): CanalEntry => ({
    header: {
      version: 1,
      logfileName: 'f',
      logfileOffset: 4n,
      serverId: 1n,
      serverenCode: 'UTF-8',
      executeTime: 1_700_000_000_000n,
      sourceType: 2,
      schemaName: 'keep',
      tableName: table,
      eventLength: 1n,
      eventType,
      props: [],
      gtid,
    },
    entryType: 2,
    storeValue: encodeRowChange({
      tableId: 1n,
      eventType,
      isDdl: false,
      sql: '',
      rowDatas: rows.map((r) => ({
        beforeColumns: r.before ?? [],
        afterColumns: r.after ?? [],
        props: [],
      })),
      props: [],
      ddlSchemaName: '',
    }),
  });
  const payloadOf = (...entries: CanalEntry[]) =>
    encodeCanalMessages({ batchId: 1n, entries }, 'raw');
  const decode = (bytes: Uint8Array): RowChangeEvent[] => {
    const expected = checked(bytes);
    const actual = fast(bytes);
    expectSame(actual, expected);
    if (!actual.ok) throw new Error('fast path refused a valid payload');
    return actual.events as RowChangeEvent[];
  };
  const shape = (id: string, v: string | null, type = 'varchar(9)') => [
    col('id', id, { isKey: true, sqlType: 4, mysqlType: 'int' }),
    col('v', v, { mysqlType: type }),
  ];

  it('one column map and pkNames per table shape: across rows, entries and payloads', () => {
    const t = `ident${Math.random()}`;
    const [a, b, c] = decode(
      payloadOf(
        entryOf(t, 1, [{ after: shape('1', 'x') }, { after: shape('2', null) }]),
        entryOf(t, 1, [{ after: shape('3', 'z') }]),
      ),
    );
    expect(b!.columns).toBe(a!.columns);
    expect(c!.columns).toBe(a!.columns);
    expect(b!.pkNames).toBe(a!.pkNames);
    expect(c!.pkNames).toBe(a!.pkNames);
    expect(Object.isFrozen(a!.columns)).toBe(true);
    expect(Object.isFrozen(a!.pkNames)).toBe(true);
    const [d] = decode(payloadOf(entryOf(t, 1, [{ after: shape('4', 'w') }])));
    expect(d!.columns).toBe(a!.columns);
    expect(d!.pkNames).toBe(a!.pkNames);
    // A DELETE of the table has its own (before) side, with the same types: equal, not shared.
    const [del] = decode(payloadOf(entryOf(t, 3, [{ before: shape('4', 'w') }])));
    expect(del!.columns).toEqual(a!.columns);
    // Another table of the same shape: equal maps, its own objects.
    const [o] = decode(payloadOf(entryOf(`${t}-other`, 1, [{ after: shape('1', 'x') }])));
    expect(o!.columns).toEqual(a!.columns);
    expect(o!.columns).not.toBe(a!.columns);
  });

  it('a new map when a type changes, the old one again never reused by mistake', () => {
    const t = `types${Math.random()}`;
    const events = decode(
      payloadOf(
        entryOf(t, 1, [
          { after: shape('1', 'x') },
          { after: shape('2', 'y', 'text') },
          { after: shape('3', 'z', 'text') },
          { after: shape('4', 'w') },
        ]),
      ),
    );
    const maps = events.map((e) => e.columns);
    expect(maps[1]).not.toBe(maps[0]);
    expect(maps[2]).toBe(maps[1]);
    expect(maps[1]!.v).toEqual({ mysqlType: 'text', sqlType: 12 });
    expect(maps[3]!.v).toEqual({ mysqlType: 'varchar(9)', sqlType: 12 });
    // The next payload starts from the last shape seen.
    const [next] = decode(payloadOf(entryOf(t, 1, [{ after: shape('5', 'q', 'text') }])));
    expect(next!.columns.v).toEqual({ mysqlType: 'text', sqlType: 12 });
    const [back] = decode(payloadOf(entryOf(t, 1, [{ after: shape('6', 'q') }])));
    expect(back!.columns.v).toEqual({ mysqlType: 'varchar(9)', sqlType: 12 });
  });

  it('a sqlType, a column count or a name change between rows and payloads is seen', () => {
    const t = `counts${Math.random()}`;
    const three = [...shape('1', 'x'), col('w', 'y')];
    decode(payloadOf(entryOf(t, 1, [{ after: three }])));
    const [fewer] = decode(payloadOf(entryOf(t, 1, [{ after: shape('2', 'x') }])));
    expect(Object.keys(fewer!.columns)).toEqual(['id', 'v']);
    expect(Object.keys(fewer!.after!)).toEqual(['id', 'v']);
    const [renamed] = decode(
      payloadOf(
        entryOf(t, 1, [
          { after: [col('id', '3', { isKey: true, sqlType: 4, mysqlType: 'int' }), col('u', 'x')] },
        ]),
      ),
    );
    expect(renamed!.after).toEqual({ id: '3', u: 'x' });
    const [retyped] = decode(
      payloadOf(
        entryOf(t, 1, [
          {
            after: [col('id', '3', { isKey: true, sqlType: -5, mysqlType: 'int' }), col('u', 'x')],
          },
        ]),
      ),
    );
    expect(retyped!.columns.id).toEqual({ mysqlType: 'int', sqlType: -5 });
    const [more] = decode(payloadOf(entryOf(t, 1, [{ after: three }])));
    expect(Object.keys(more!.after!)).toEqual(['id', 'v', 'w']);
  });

  it('keys follow each row: a key column added, dropped, or only in the before image', () => {
    const t = `keys${Math.random()}`;
    const events = decode(
      payloadOf(
        entryOf(t, 2, [
          { before: shape('1', 'a'), after: shape('1', 'b') },
          {
            before: shape('2', 'a'),
            after: [col('id', '2', { sqlType: 4, mysqlType: 'int' }), col('v', 'b')],
          },
          {
            before: [col('id', '3', { sqlType: 4, mysqlType: 'int' }), col('v', 'a')],
            after: [col('id', '3', { sqlType: 4, mysqlType: 'int' }), col('v', 'b')],
          },
          {
            before: [
              col('id', '4', { isKey: true, sqlType: 4, mysqlType: 'int' }),
              col('v', 'a', { isKey: true }),
            ],
            after: [
              col('id', '4', { isKey: true, sqlType: 4, mysqlType: 'int' }),
              col('v', 'b', { isKey: true }),
            ],
          },
        ]),
      ),
    );
    expect(events.map((e) => e.pkNames)).toEqual([['id'], ['id'], [], ['id', 'v']]);
    expect(events[1]!.pkNames).toBe(events[0]!.pkNames);
    expect(Object.isFrozen(events[2]!.pkNames)).toBe(true);
  });

  it('ASCII values of one payload never come from the text of another', () => {
    const t = `latin${Math.random()}`;
    const first = payloadOf(entryOf(t, 1, [{ after: shape('1', 'aaaa') }]));
    const second = payloadOf(entryOf(t, 1, [{ after: shape('2', 'bbbbbbbb') }]));
    decode(first);
    expect(decode(second)[0]!.after).toEqual({ id: '2', v: 'bbbbbbbb' });
    // Also when the previous payload was refused halfway.
    expect(fast(first.subarray(0, first.length - 3)).ok).toBe(false);
    expect(decode(second)[0]!.after).toEqual({ id: '2', v: 'bbbbbbbb' });
    expect(decode(first)[0]!.after).toEqual({ id: '1', v: 'aaaa' });
  });

  it('UPDATE: changed columns, a before-only column, the gtid; INSERT/DELETE images only', () => {
    const t = `upd${Math.random()}`;
    const [u, i, d] = decode(
      payloadOf(
        entryOf(
          t,
          2,
          [
            {
              before: [...shape('1', 'a'), col('blob', 'B', { sqlType: 2004, mysqlType: 'blob' })],
              after: [
                col('id', '1', { isKey: true, sqlType: 4, mysqlType: 'int', updated: false }),
                col('v', 'b', { updated: true }),
              ],
            },
          ],
          'g:7',
        ),
        entryOf(t, 1, [{ before: shape('9', 'ignored'), after: shape('2', 'n') }]),
        entryOf(t, 3, [{ before: shape('3', 'o'), after: shape('9', 'ignored') }]),
      ),
    );
    expect(u).toMatchObject({
      type: 'UPDATE',
      before: { id: '1', v: 'a', blob: 'B' },
      after: { id: '1', v: 'b' },
      changed: ['v'],
      gtid: 'g:7',
    });
    expect(Object.keys(u!.columns)).toEqual(['blob', 'id', 'v']);
    expect(i!.before).toBeUndefined();
    expect(i!.after).toEqual({ id: '2', v: 'n' });
    expect('gtid' in i!).toBe(false);
    expect(d!.after).toBeUndefined();
    expect(d!.before).toEqual({ id: '3', v: 'o' });
  });

  it('many tables: still right after the table cache is dropped and rebuilt', () => {
    const entries: CanalEntry[] = [];
    for (let i = 0; i < 4200; i++)
      entries.push(entryOf(`many${i}`, 1, [{ after: shape(String(i), 'x') }]));
    const events = decode(payloadOf(...entries));
    expect(events).toHaveLength(4200);
    expect(events[4199]!.after).toEqual({ id: '4199', v: 'x' });
    const again = decode(payloadOf(entries[0]!, entries[4199]!));
    expect(again.map((e) => e.table)).toEqual(['many0', 'many4199']);
  });

  it('the image builder cache holds many shapes and is dropped when full', () => {
    for (let i = 0; i < 600; i++) {
      const list = [`s${i}`, 'x'];
      const values = ['1', null];
      expect(imageBuilder(list)(values, list, 2)).toEqual({ [`s${i}`]: '1', x: null });
    }
    expect(imageBuilder([])).toBe(slowImage);
    const list = ['p', 'q'];
    expect(imageBuilder(list)).toBe(imageBuilder(['p', 'q']));
  });
});

/**
 * Sparse messages: canal's encoder writes every field, but proto2 lets any be absent (then it
 * reads as its default: isKey/updated/isNull false, eventType UPDATE, …) and fields come in any
 * order, repeated (the last wins), with unknown ones in between. The checked decoder handles
 * that; the fast path must give the same events.
 */
const sparseColumn = fc
  .record({
    fields: fc.shuffledSubarray([1, 2, 3, 4, 5, 6, 8, 8, 9, 10, 99], { minLength: 0 }),
    name: names,
    value: text,
    mysqlType: types,
    sqlType: fc.constantFrom(4, -5, 12, 2004),
    flag: fc.constantFrom(0, 1, 2, 300),
  })
  .map((g) => {
    const w = new ProtoWriter();
    for (const f of g.fields) {
      if (f === 3) w.tag(3, WireType.lengthDelimited).string(g.name);
      else if (f === 8) w.tag(8, WireType.lengthDelimited).string(g.value);
      else if (f === 10) w.tag(10, WireType.lengthDelimited).string(g.mysqlType);
      else if (f === 99) w.tag(99, WireType.lengthDelimited).string('future');
      else if (f === 2) w.tag(2, WireType.varint).int32(g.sqlType);
      else w.tag(f, WireType.varint).uint32(g.flag);
    }
    return w.finish();
  });

const sparseRowChange = fc
  .record({
    eventType: fc.option(fc.constantFrom(1, 2, 3), { nil: undefined }),
    rows: fc.array(
      fc.record({
        before: fc.array(sparseColumn, { maxLength: 4 }),
        after: fc.array(sparseColumn, { maxLength: 4 }),
      }),
      { minLength: 1, maxLength: 3 },
    ),
    unknownFirst: fc.boolean(),
  })
  .map((g) => {
    const w = new ProtoWriter();
    if (g.unknownFirst) w.tag(15, WireType.varint).uint32(1);
    for (const row of g.rows) {
      const r = new ProtoWriter();
      for (const c of row.before) r.tag(1, WireType.lengthDelimited).bytes(c);
      for (const c of row.after) r.tag(2, WireType.lengthDelimited).bytes(c);
      w.tag(12, WireType.lengthDelimited).bytes(r.finish());
    }
    if (g.eventType !== undefined) w.tag(2, WireType.varint).int32(g.eventType);
    return w.finish();
  });

describe('protobuf fast path on sparse messages', () => {
  it('absent fields read as their proto2 defaults, in any order, as the checked decoder reads them', () => {
    fc.assert(
      fc.property(
        fc.array(sparseRowChange, { minLength: 1, maxLength: 3 }),
        fc.constantFrom('t1', 't2'),
        (stores, table) => {
          const entries: CanalEntry[] = stores.map((storeValue) => ({
            header: {
              version: 1,
              logfileName: 'f',
              logfileOffset: 4n,
              serverId: 1n,
              serverenCode: 'UTF-8',
              executeTime: 1n,
              sourceType: 2,
              schemaName: 'sparse',
              tableName: table,
              eventLength: 1n,
              eventType: 2,
              props: [],
              gtid: '',
            },
            entryType: 2,
            storeValue,
          }));
          const bytes = encodeCanalMessages({ batchId: 1n, entries });
          const expected = checked(bytes);
          expect(expected.ok).toBe(true);
          const actual = fast(bytes);
          expect(actual.ok).toBe(true);
          expectSame(actual, expected);
        },
      ),
      runs(500),
    );
  });
});
