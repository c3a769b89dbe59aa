#!/usr/bin/env node
// CPU per row of the rdb sink's planning, without a database: planRow (column resolution, value
// conversion, key ids) + groupOperations + statementsOf + the MySQL statement text, optionally
// with mysql2's client-side escaping (`--escape`), over the rows of rdb-pipeline.bench.mjs
// (10 columns; half inserts, half updates of the same keys; canal's before images), in batches
// of 1000. `--against DIR` loads a second sink-rdb dist directory (e.g. a copy of an older
// build) and alternates the two in one process, so that both see the same machine load.
//
// Usage: pnpm build && node test/bench/rdb-plan.bench.mjs [--rows 100000] [--rounds 6] [--escape]
//        [--against /path/to/old/sink-rdb/dist]
import { createRequire } from 'node:module';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const { values: opts } = parseArgs({
  options: {
    rows: { type: 'string', default: '100000' },
    rounds: { type: 'string', default: '6' },
    escape: { type: 'boolean', default: false },
    against: { type: 'string' },
  },
});
const N = Number(opts.rows);
const BATCH = 1000;
const KEYS = Math.floor(N / 2);
const here = fileURLToPath(new URL('../../plugins/sink-rdb/dist', import.meta.url));
const format = createRequire(`${here}/../package.json`)('mysql2').format;

const columns = Object.freeze({
  id: { mysqlType: 'bigint(20)', sqlType: -5 },
  user_id: { mysqlType: 'int(11)', sqlType: 4 },
  name: { mysqlType: 'varchar(64)', sqlType: 12 },
  email: { mysqlType: 'varchar(128)', sqlType: 12 },
  amount: { mysqlType: 'decimal(12,2)', sqlType: 3 },
  qty: { mysqlType: 'int(11)', sqlType: 4 },
  status: { mysqlType: 'varchar(16)', sqlType: 12 },
  created: { mysqlType: 'datetime', sqlType: 93 },
  updated: { mysqlType: 'timestamp', sqlType: 93 },
  note: { mysqlType: 'varchar(255)', sqlType: 12 },
});
const row = (i) => {
  const id = i % KEYS;
  return {
    id: String(id),
    user_id: String(id % 977),
    name: `user ${id}`,
    email: `user${id}@example.com`,
    amount: `${(i % 100000) / 100}`,
    qty: String(i % 50),
    status: i % 2 ? 'paid' : 'new',
    created: '2024-06-01 12:00:00',
    updated: `2024-06-01 12:${String(i % 60).padStart(2, '0')}:00`,
    note: `note ${i}`,
  };
};
const pkNames = Object.freeze(['id']);
const events = Array.from({ length: N }, (_, i) => {
  const after = row(i);
  const old = i < KEYS ? undefined : row(i - KEYS);
  return {
    kind: 'row',
    type: old ? 'UPDATE' : 'INSERT',
    destination: 'bench',
    database: 'shop',
    table: 'orders',
    pkNames,
    columns,
    executedAt: 0,
    producedAt: 0,
    position: { source: 'bench', partition: '0', offset: String(i), index: 0 },
    ...(old
      ? {
          before: {
            ...after,
            amount: old.amount,
            qty: old.qty,
            updated: old.updated,
            note: old.note,
          },
        }
      : {}),
    after,
    changed: [],
  };
});
const families = {
  id: 'integer',
  user_id: 'integer',
  name: 'text',
  email: 'text',
  amount: 'decimal',
  qty: 'integer',
  status: 'text',
  created: 'datetime',
  updated: 'timestamp',
  note: 'text',
};
const targetColumns = Object.entries(families).map(([name, family]) => ({
  name,
  dataType: family,
  family,
  bitWidth: 0,
  fixedBits: false,
}));
const mapping = {
  file: 'orders.yml',
  name: 'orders.yml',
  config: {
    dbMapping: {
      database: 'shop',
      table: 'orders',
      targetTable: 'orders',
      targetPk: { id: 'id' },
      mapAll: true,
    },
  },
};
const quiet = { debug() {}, info() {}, warn() {}, error() {}, child: () => quiet };

/** One pass over all events with the sink-rdb build in `dist`. */
async function load(dist) {
  const m = await import(pathToFileURL(`${dist}/index.js`).href);
  const plan = await import(pathToFileURL(`${dist}/plan.js`).href);
  const sink = new m.RdbSink({
    key: 'bench',
    properties: {
      'jdbc.url': 'jdbc:mysql://127.0.0.1:1/d',
      threads: 1,
      batchRows: BATCH,
      foreignKeyChecks: false,
    },
    logger: quiet,
  });
  const route = sink.routeFor(mapping, 'orders');
  const table = {
    schema: 'd',
    table: 'orders',
    columns: targetColumns,
    column: (n) => targetColumns.find((c) => c.name === n),
  };
  const o = { kind: 'mysql', instantsFromZone: undefined };
  const build = (g, n) => sink.dialect.upsert(g.table, g.columns, g.keyColumns, n);
  return () => {
    let bytes = 0;
    for (let b = 0; b < N; b += BATCH) {
      const ops = [];
      for (let k = b; k < Math.min(N, b + BATCH); k++)
        for (const op of m.planRow(events[k], route, table, '`d`.`orders`', o)) ops.push(op);
      for (const g of plan.groupOperations(ops))
        for (const st of plan.statementsOf(g, BATCH, 60_000, build))
          bytes += opts.escape ? format(st.sql, st.params).length : st.sql.length;
    }
    return bytes;
  };
}

const impls = { current: await load(here) };
if (opts.against) impls.against = await load(opts.against);
for (const run of Object.values(impls)) run(); // warm-up
const perRow = Object.fromEntries(Object.keys(impls).map((k) => [k, []]));
for (let r = 0; r < Number(opts.rounds); r++) {
  const order = Object.keys(impls);
  if (r % 2) order.reverse();
  for (const k of order) {
    const before = process.cpuUsage();
    impls[k]();
    const used = process.cpuUsage(before);
    perRow[k].push((used.user + used.system) / N);
  }
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(
  `rdb-plan: ${N} row events, batch ${BATCH}, escape ${opts.escape}; Node ${process.version}; ` +
    `${cpus().length} CPUs ${cpus()[0]?.model}; load ${loadavg()
      .map((x) => x.toFixed(1))
      .join(' ')}`,
);
for (const [k, xs] of Object.entries(perRow))
  console.log(
    `${k}: CPU µs/row median ${median(xs).toFixed(2)} (rounds ${xs.map((x) => x.toFixed(2)).join(' ')})`,
  );
