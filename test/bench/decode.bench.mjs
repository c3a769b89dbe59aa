#!/usr/bin/env node
// Decode throughput of @sluice/canal-protocol (built dist) on a realistic canal message mix,
// beside a ceiling measured in the same run on the same bytes:
//   flat     — decodeCanalPayload(bytes, 'flat')      vs  JSON.parse(bytes.toString())
//   protobuf — decodeCanalPayload(bytes, 'protobuf')  vs  protobufjs decoding Packet → Messages →
//              Entry → RowChange of the same bytes (no ChangeEvents built)
// Usage: pnpm build && node test/bench/decode.bench.mjs [--rows N] [--rounds N] [--json] [--only flat|protobuf]
//   --only runs just the case of that name (e.g. for node --cpu-prof).
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const protocolDist = new URL('../../packages/canal-protocol/dist/index.js', import.meta.url);
const p = await import(protocolDist.href).catch((error) => {
  console.error(
    `Cannot load ${fileURLToPath(protocolDist)}: run "pnpm build" first.\n${error.message}`,
  );
  process.exit(2);
});
const protobuf = require('protobufjs');

const { values: opts } = parseArgs({
  options: {
    rows: { type: 'string', default: '100000' },
    rounds: { type: 'string', default: '7' },
    json: { type: 'boolean', default: false },
    only: { type: 'string' },
  },
});
const TARGET_ROWS = Number(opts.rows);
const ROUNDS = Number(opts.rounds);

// ---------------------------------------------------------------------------------------------
// A realistic mix: three tables of different widths and types, multi-row inserts, updates
// (some changing several columns), deletes, with occasional DDL and MariaDB annotate (QUERY)
// messages. Deterministic (seeded) so runs compare.
let seed = 42;
const rand = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
const pick = (list) => list[Math.floor(rand() * list.length)];
const int = (lo, hi) => lo + Math.floor(rand() * (hi - lo + 1));
const words = ['alpha', 'Zoë', '张三', 'leave at door', 'paid by card', 'express 🚀', 'ok', ''];
const pad = (n, w = 2) => String(n).padStart(w, '0');
const datetime = (fsp) =>
  `2024-${pad(int(1, 12))}-${pad(int(1, 28))} ${pad(int(0, 23))}:${pad(int(0, 59))}:${pad(int(0, 59))}${fsp ? '.' + String(int(0, 999)).padStart(3, '0') : ''}`;

const tables = [
  {
    database: 'shop',
    table: 'orders',
    columns: {
      id: ['bigint(20)', -5, (i) => String(i)],
      user_id: ['int(10) unsigned', 4, () => String(int(1, 4_000_000_000))],
      amount: ['decimal(10,2)', 3, () => `${int(0, 99999)}.${pad(int(0, 99))}`],
      status: ["enum('new','paid','shipped')", 4, () => String(int(1, 3))],
      flags: ['bit(3)', -7, () => String(int(0, 7))],
      note: ['text', 2005, () => (rand() < 0.3 ? null : pick(words))],
      attrs: [
        'json',
        12,
        () => (rand() < 0.5 ? null : `{"gift": ${rand() < 0.5}, "tags": ["a", "b"]}`),
      ],
      created_at: ['datetime(3)', 93, () => datetime(true)],
      updated_at: ['timestamp', 93, () => datetime(false)],
    },
  },
  {
    database: 'crm',
    table: 'users',
    columns: {
      id: ['bigint(20) unsigned', -5, (i) => String(i)],
      name: ['varchar(64)', 12, () => pick(words) + int(0, 1000)],
      email: ['varchar(128)', 12, () => `user${int(1, 1e6)}@example.com`],
      score: ['double', 8, () => String(rand() * 1000)],
      avatar: [
        'blob',
        2004,
        () => (rand() < 0.7 ? null : '\u0000\u00ffPNG\r\n\u001a\n' + 'x'.repeat(int(10, 200))),
      ],
      birthday: ['date', 91, () => `19${int(50, 99)}-${pad(int(1, 12))}-${pad(int(1, 28))}`],
    },
  },
  {
    database: 'erp',
    table: 'items_wide',
    columns: Object.fromEntries([
      ['id', ['int(11)', 4, (i) => String(i)]],
      ...Array.from({ length: 29 }, (_, c) =>
        c % 3 === 0
          ? [`v${c}`, ['varchar(32)', 12, () => pick(words)]]
          : c % 3 === 1
            ? [`n${c}`, ['int(11)', 4, () => String(int(-1e6, 1e6))]]
            : [
                `d${c}`,
                [
                  'decimal(12,4)',
                  3,
                  () => `${int(0, 1e6)}.${String(int(0, 9999)).padStart(4, '0')}`,
                ],
              ],
      ),
    ]),
  },
];

let nextId = 1;
function makeRow(t) {
  const id = nextId++;
  const row = {};
  for (const [name, [, , gen]] of Object.entries(t.columns)) row[name] = gen(id);
  return row;
}

function message(t, type, rows, old, es) {
  const mysqlType = {};
  const sqlType = {};
  for (const [name, [mt, st]] of Object.entries(t.columns)) {
    mysqlType[name] = mt;
    sqlType[name] = st;
  }
  return {
    id: 1,
    database: t.database,
    table: t.table,
    pkNames: ['id'],
    isDdl: false,
    type,
    es,
    ts: es + 137,
    sql: '',
    sqlType,
    mysqlType,
    data: rows,
    old,
    gtid: '',
  };
}

const flatMessages = [];
let rows = 0;
let es = 1718000000000;
while (rows < TARGET_ROWS) {
  es += 1000;
  const t = pick(tables);
  const r = rand();
  if (r < 0.02) {
    flatMessages.push({
      id: 1,
      database: t.database,
      table: t.table,
      pkNames: null,
      isDdl: true,
      type: 'ALTER',
      es,
      ts: es + 1,
      sql: `ALTER TABLE ${t.table} ADD COLUMN c${int(1, 99)} int NULL`,
      sqlType: null,
      mysqlType: null,
      data: null,
      old: null,
      gtid: '',
    });
    continue;
  }
  if (r < 0.1) {
    flatMessages.push({
      id: 1,
      database: '',
      table: '',
      pkNames: null,
      isDdl: false,
      type: 'QUERY',
      es,
      ts: es + 1,
      sql: `insert into ${t.table} values (...)`,
      sqlType: null,
      mysqlType: null,
      data: null,
      old: null,
      gtid: '',
    });
    continue;
  }
  const type = r < 0.5 ? 'INSERT' : r < 0.9 ? 'UPDATE' : 'DELETE';
  const n = type === 'INSERT' ? int(1, 10) : int(1, 5);
  const data = Array.from({ length: n }, () => makeRow(t));
  let old = null;
  if (type === 'UPDATE') {
    const names = Object.keys(t.columns).filter((c) => c !== 'id');
    const changed = Array.from({ length: int(1, 3) }, () => pick(names));
    old = data.map(() => Object.fromEntries(changed.map((c) => [c, t.columns[c][2](0)])));
  }
  flatMessages.push(message(t, type, data, old, es));
  rows += n;
}

// One Kafka record per FlatMessage (canal's flat mode).
const flatPayloads = flatMessages.map((m) => Buffer.from(p.encodeFlatMessage(m)));
// Protobuf (canal's raw fast path): one Kafka record per canal batch; a batch holds one or more
// transactions, each BEGIN + 1–3 entries + END.
const protobufPayloads = [];
{
  let i = 0;
  let batchId = 1n;
  while (i < flatMessages.length) {
    const entries = [];
    const transactions = int(1, 3);
    for (let tx = 0; tx < transactions && i < flatMessages.length; tx++) {
      const header = {
        version: 1,
        logfileName: 'mysql-bin.000042',
        logfileOffset: BigInt(i * 1000),
        serverId: 1n,
        serverenCode: 'UTF-8',
        executeTime: BigInt(flatMessages[i].es),
        sourceType: 2,
        schemaName: '',
        tableName: '',
        eventLength: 31n,
        eventType: 2,
        props: [],
        gtid: '',
      };
      entries.push({
        header,
        entryType: p.EntryType.TRANSACTIONBEGIN,
        storeValue: p.encodeTransactionBegin({
          executeTime: 0n,
          transactionId: '',
          props: [],
          threadId: 7n,
        }),
      });
      const k = int(1, 3);
      for (let j = 0; j < k && i < flatMessages.length; j++)
        entries.push(p.flatMessageToEntry(flatMessages[i++], { logfileOffset: BigInt(i * 1000) }));
      entries.push({
        header,
        entryType: p.EntryType.TRANSACTIONEND,
        storeValue: p.encodeTransactionEnd({
          executeTime: 0n,
          transactionId: String(i),
          props: [],
        }),
      });
    }
    protobufPayloads.push(p.encodeCanalMessages({ batchId: batchId++, entries }, 'raw'));
  }
}

// protobufjs, the ceiling for protobuf: full decode of the same bytes.
const root = protobuf.loadSync([
  fileURLToPath(
    new URL('../../packages/canal-protocol/test/fixtures/EntryProtocol.proto', import.meta.url),
  ),
  fileURLToPath(
    new URL('../../packages/canal-protocol/test/fixtures/CanalProtocol.proto', import.meta.url),
  ),
]);
const T = (n) => root.lookupType(`com.alibaba.otter.canal.protocol.${n}`);
const [PPacket, PMessages, PEntry, PRowChange] = ['Packet', 'Messages', 'Entry', 'RowChange'].map(
  T,
);

// ---------------------------------------------------------------------------------------------
const origin = { destination: 'bench', partition: '0', offset: '0' };
const bytesOf = (list) => list.reduce((n, b) => n + b.length, 0);

// Throughput per CPU-second of this process (user + system), which is what "on one core"
// means, and less disturbed than wall time on a shared machine; wall time is reported too.
function measure(fn) {
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const count = fn();
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  const c = process.cpuUsage(c0);
  return { count, seconds: (c.user + c.system) / 1e6, wall };
}

const cases = {
  flat: () => {
    let n = 0;
    for (const b of flatPayloads) n += p.decodeCanalPayload(b, 'flat', origin).length;
    return n;
  },
  'flat ceiling: JSON.parse': () => {
    let n = 0;
    for (const b of flatPayloads) n += JSON.parse(b.toString()).data?.length ?? 0;
    return n;
  },
  protobuf: () => {
    let n = 0;
    for (const b of protobufPayloads) n += p.decodeCanalPayload(b, 'protobuf', origin).length;
    return n;
  },
  'protobuf decode only (no ChangeEvents)': () => {
    let n = 0;
    for (const b of protobufPayloads) {
      for (const e of p.decodeCanalMessages(b).entries)
        if (e.entryType === 2) n += p.decodeRowChange(e.storeValue).rowDatas.length;
    }
    return n;
  },
  'protobuf ceiling: protobufjs': () => {
    let n = 0;
    for (const b of protobufPayloads) {
      const packet = PPacket.decode(b);
      for (const e of PMessages.decode(packet.body).messages) {
        const entry = PEntry.decode(e);
        if (entry.entryType === 2) n += PRowChange.decode(entry.storeValue).rowDatas.length;
      }
    }
    return n;
  },
};

if (opts.only) for (const name of Object.keys(cases)) if (name !== opts.only) delete cases[name];

// Interleave the cases round by round so machine noise hits them alike; report the median.
const results = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
for (let round = 0; round < ROUNDS + 1; round++) {
  for (const [name, fn] of Object.entries(cases)) {
    const r = measure(fn);
    if (round > 0) results[name].push(r); // round 0 warms up the JIT
  }
}
const median = (list) => [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)];
const summary = {};
for (const [name, runs] of Object.entries(results)) {
  const rowsCount = runs[0].count;
  summary[name] = {
    rows: rowsCount,
    rowsPerSecond: Math.round(median(runs.map((r) => r.count / r.seconds))),
    rowsPerWallSecond: Math.round(median(runs.map((r) => r.count / r.wall))),
  };
}
// Ours count ChangeEvents (rows + DDL); the ceilings count rows. DDL is ~2 % of messages.
const env = { node: process.version, nproc: cpus().length, cpu: cpus()[0]?.model ?? 'unknown' };
const flatEvents = summary.flat?.rows ?? summary.protobuf?.rows;
const ratio = (a, b) =>
  summary[a] && summary[b] ? summary[a].rowsPerSecond / summary[b].rowsPerSecond : NaN;
const ratioFlat = ratio('flat', 'flat ceiling: JSON.parse');
const ratioPb = ratio('protobuf', 'protobuf ceiling: protobufjs');
if (opts.json) {
  console.log(
    JSON.stringify(
      {
        env,
        messages: { flat: flatPayloads.length, protobuf: protobufPayloads.length },
        summary,
        ratioFlat,
        ratioPb,
      },
      null,
      2,
    ),
  );
} else {
  console.log(
    `node ${env.node}, ${env.nproc} CPUs (${env.cpu}); median of ${ROUNDS} rounds after 1 warm-up`,
  );
  console.log(
    `mix: ${flatPayloads.length} FlatMessages (${(bytesOf(flatPayloads) / 1e6).toFixed(1)} MB), ${protobufPayloads.length} protobuf records (${(bytesOf(protobufPayloads) / 1e6).toFixed(1)} MB), ${flatEvents} events`,
  );
  console.log(`  ${'case'.padEnd(40)} ${'rows/CPU-s'.padStart(10)} ${'rows/wall-s'.padStart(11)}`);
  for (const [name, s] of Object.entries(summary))
    console.log(
      `  ${name.padEnd(40)} ${String(s.rowsPerSecond).padStart(10)} ${String(s.rowsPerWallSecond).padStart(11)}  (${s.rows} rows per round)`,
    );
  console.log(`  flat / JSON.parse ceiling       ${(ratioFlat * 100).toFixed(0)} %`);
  console.log(`  protobuf / protobufjs ceiling   ${(ratioPb * 100).toFixed(0)} %`);
}
