// Cost per event of the pipeline applier into a no-op sink, beside a ceiling measured in the same run.
// Run after `pnpm build`:  node test/bench/applier.bench.mjs [events=200000] [keys=10000]
import os from 'node:os';
import { AckTracker, Applier, SinkHandle, conflictKeys } from '../../packages/core/dist/index.js';
import { noopSink, quiet, runEngineOnce } from './lib/engineRun.mjs';

const N = Number(process.argv[2] ?? 200_000);
const KEYS = Number(process.argv[3] ?? 10_000);
const BATCH = 1000;

const events = Array.from({ length: N }, (_, i) => {
  const id = String(i % KEYS);
  return {
    kind: 'row',
    type: i % 3 === 0 ? 'INSERT' : 'UPDATE',
    destination: 'bench',
    database: 'db',
    table: 't',
    pkNames: ['id'],
    columns: {},
    executedAt: 0,
    producedAt: 0,
    changed: ['v'],
    before: { id, v: 'a' },
    after: { id, v: 'b' },
    position: { source: 'bench', partition: '0', offset: String(i), index: 0 },
  };
});

async function ceiling() {
  const sink = noopSink();
  const records = events.map((event) => ({ event, mapping: undefined }));
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < N; i += BATCH) await sink.write(records.slice(i, i + BATCH), undefined);
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

async function applier(lanes) {
  const tracker = new AckTracker();
  const signal = new AbortController().signal;
  const settings = {
    lanes,
    batchSize: BATCH,
    batchBytes: 64 << 20,
    lingerMs: 0,
    retries: 3,
    terminateOnException: false,
    retryBaseMs: 100,
    retryMaxMs: 1000,
  };
  const a = new Applier({
    sink: new SinkHandle('noop', noopSink(), quiet, { baseMs: 100, maxMs: 1000 }),
    settings,
    coalescing: false,
    signal,
    logger: quiet,
    hooks: {
      applied: (entries) => {
        for (const e of entries) tracker.complete(e.ticket);
      },
      deadLetter: async () => true,
      fail: (e) => {
        throw e;
      },
      observeWrite: () => {},
    },
  });
  const origin = { partition: '0', offset: '0', payload: '' };
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < N; i += BATCH) {
    // One delivered source batch at a time, like a source would hand them over.
    for (let j = i; j < Math.min(N, i + BATCH); j++) {
      const event = events[j];
      const ticket = tracker.open(event.position.offset, 1);
      tracker.add(ticket, 1);
      // An entry as the ingest step builds it (packages/core/src/pipeline/ingest.ts): the
      // conflict keys as signed 32-bit hashes, `key2` the second key of a key change, else `key`.
      const ck = conflictKeys(event, 'per-key');
      a.push({
        event,
        mapping: undefined,
        key: ck.keys[0] | 0,
        key2: (ck.keys[1] ?? ck.keys[0]) | 0,
        table: ck.table,
        barrier: ck.barrier,
        coalescible: true,
        bytes: 100,
        ticket,
        origin,
        held: 0,
      });
      tracker.release(ticket);
    }
    if (tracker.inFlight >= 10_000) await tracker.whenIdle();
  }
  await tracker.whenIdle();
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  if (tracker.committable !== BigInt(N))
    throw new Error(`committable ${tracker.committable} != ${N}`);
  return seconds;
}

function flatPayload(i) {
  const id = String(i % KEYS);
  return JSON.stringify({
    data: [{ id, v: 'b' }],
    old: [{ v: 'a' }],
    database: 'db',
    table: 't',
    pkNames: ['id'],
    isDdl: false,
    type: 'UPDATE',
    es: 1,
    ts: 2,
    id: i,
    sql: '',
    mysqlType: { id: 'int', v: 'varchar(8)' },
    sqlType: { id: 4, v: 12 },
  });
}

const best = async (fn, runs = 5) => {
  let b = Infinity;
  for (let r = 0; r < runs; r++) b = Math.min(b, await fn());
  return b;
};
const fmt = (s) =>
  `${Math.round(N / s).toLocaleString('en-US')} ev/s, ${((s / N) * 1e6).toFixed(3)} µs/ev`;

const cpu = os.cpus()[0]?.model ?? 'unknown';
console.log(
  `applier.bench: ${N} events, ${KEYS} keys, batch ${BATCH}; node ${process.version}; nproc ${os.availableParallelism()}; ${cpu}`,
);
const c = await best(ceiling);
console.log(`ceiling (bare loop → no-op sink, same batches): ${fmt(c)}`);
for (const lanes of [1, 8]) {
  const s = await best(() => applier(lanes));
  console.log(
    `applier, ${lanes} lane(s): ${fmt(s)}  (ratio to ceiling ${(c / s).toFixed(3)}, added cost ${(((s - c) / N) * 1e6).toFixed(3)} µs/ev)`,
  );
}
const payloads = Array.from({ length: N }, (_, i) => flatPayload(i));
for (const lanes of [1, 8]) {
  const s =
    (await best(
      () => runEngineOnce(payloads, { sourceBatch: BATCH, settings: { lanes, batchSize: BATCH } }),
      3,
    )) / 1000;
  console.log(`engine incl. FlatMessage decode + routing + ack, ${lanes} lane(s): ${fmt(s)}`);
}
