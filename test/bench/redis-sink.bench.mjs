// The redis sink from one partition (sequential batches of 1000 events, as one lane applies them)
// against the testbed Redis, beside a ceiling measured in the same run: a trivial ioredis script
// that pipelines exactly the same commands (UNLINKs; EVALSHA of the same script with the same
// arguments, computed before the clock starts).
// Run after `pnpm build` with the testbed up:
//   node test/bench/redis-sink.bench.mjs [events=100000] [redis=redis://127.0.0.1:16379]
import os from 'node:os';
import { Redis } from 'ioredis';
import { redisSink } from '../../plugins/sink-redis/dist/index.js';
import { APPLY_SCRIPT } from '../../plugins/sink-redis/dist/scripts.js';
import { planEvent, compileMapping } from '../../plugins/sink-redis/dist/index.js';

const N = Number(process.argv[2] ?? 100_000);
const URL = process.argv[3] ?? process.env.SLUICE_TEST_REDIS ?? 'redis://127.0.0.1:16379';
const BATCH = 1000;
const ROUNDS = 5;
const prefix = `bench_redis_${process.pid}:`;
const quiet = { debug() {}, info() {}, warn() {}, error() {}, child: () => quiet };
const signal = new AbortController().signal;

const mapping = (redisMapping) => ({
  file: 'redis/bench.yml',
  name: 'bench',
  config: {
    redisMapping: {
      database: 'shop',
      table: 'users',
      mode: 'evict',
      format: 'json',
      ttl: 0,
      tombstoneTtl: 86_400,
      delayedEviction: 0,
      readBatch: 1000,
      ...redisMapping,
    },
  },
});
const EVICT = mapping({ keys: ['user:{id}', 'user:email:{email}'] });
const WRITE = mapping({ mode: 'write', keys: ['user:{id}'] });

const columns = {
  id: { mysqlType: 'bigint(20)', sqlType: -5 },
  email: { mysqlType: 'varchar(64)', sqlType: 12 },
  name: { mysqlType: 'varchar(64)', sqlType: 12 },
  qty: { mysqlType: 'int(11)', sqlType: 4 },
};
const events = Array.from({ length: N }, (_, i) => {
  const id = String(i % 20_000);
  return {
    kind: 'row',
    type: 'UPDATE',
    destination: 'bench',
    database: 'shop',
    table: 'users',
    pkNames: ['id'],
    columns,
    executedAt: 0,
    producedAt: 0,
    changed: ['qty'],
    before: { id, email: `u${id}@example.com`, name: `n${id}`, qty: String(i) },
    after: { id, email: `u${id}@example.com`, name: `n${id}`, qty: String(i + 1) },
    position: { source: 'bench', partition: '0', offset: String(i), index: 0 },
  };
});

function createSink() {
  return redisSink.create({
    key: 'bench',
    name: 'redis',
    hosts: undefined,
    configDir: process.cwd(),
    properties: {
      url: URL,
      host: '127.0.0.1',
      port: 6379,
      db: 0,
      tls: false,
      'tls.rejectUnauthorized': true,
      keyPrefix: prefix,
      'delayedEviction.pollMs': 1000,
      connectTimeoutMs: 5000,
    },
    deps: {
      logger: quiet,
      clock: { now: () => Date.now() },
      dataSources: { get: () => undefined, keys: () => [] },
    },
  });
}

async function throughSink(m) {
  const sink = createSink();
  await sink.connect(signal);
  const records = events.map((event) => ({ event, mapping: m }));
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < N; i += BATCH) {
    const result = await sink.write(records.slice(i, i + BATCH), signal);
    if (result.some((o) => o.status !== 'applied')) throw new Error('a record failed');
  }
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  await sink.close(signal);
  return s;
}

/** The same commands the sink sends, precomputed, pipelined per batch by a trivial script. */
async function ceiling(m) {
  const client = new Redis(URL);
  client.defineCommand('sluiceApply', { numberOfKeys: 2, lua: APPLY_SCRIPT });
  const compiled = compileMapping(m.config.redisMapping);
  const batches = [];
  for (let i = 0; i < N; i += BATCH)
    batches.push(
      events
        .slice(i, i + BATCH)
        .flatMap((e) => planEvent(e, compiled, { prefix, scheduleKey: 'x', now: 0 })),
    );
  await client.ping();
  const t0 = process.hrtime.bigint();
  for (const commands of batches) {
    const p = client.pipeline();
    for (const c of commands)
      if (c.kind === 'unlink') p.unlink(c.key);
      else p.sluiceApply(c.key, c.versionKey, ...c.args);
    const replies = await p.exec();
    if (replies.some(([e]) => e)) throw new Error('a command failed');
  }
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  client.disconnect();
  return { s, commands: batches.reduce((n, b) => n + b.length, 0) };
}

async function wipe() {
  const client = new Redis(URL);
  let cursor = '0';
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', `*${prefix}*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length) await client.unlink(...keys);
  } while (cursor !== '0');
  client.disconnect();
}

console.log(
  `redis sink bench: ${N} UPDATE events, batches of ${BATCH}, one partition (sequential), ` +
    `node ${process.version}, ${os.cpus().length} × ${os.cpus()[0]?.model ?? '?'}, Redis ${URL}`,
);
for (const [name, m] of [
  ['evict (2 keys/event → UNLINK)', EVICT],
  ['write (1 key/event → EVALSHA versioned JSON)', WRITE],
]) {
  const rows = [];
  for (let r = 0; r < ROUNDS; r++) {
    await wipe();
    const c = await ceiling(m);
    await wipe();
    const s = await throughSink(m);
    rows.push({ sink: c.commands / s, ceil: c.commands / c.s });
  }
  await wipe();
  const best = (k) => Math.max(...rows.map((r) => r[k]));
  const median = (k) => rows.map((r) => r[k]).sort((a, b) => a - b)[Math.floor(rows.length / 2)];
  console.log(
    `${name}: sink ${Math.round(median('sink')).toLocaleString('en')} keys/s (best ${Math.round(best('sink')).toLocaleString('en')}), ` +
      `ceiling ${Math.round(median('ceil')).toLocaleString('en')} keys/s (best ${Math.round(best('ceil')).toLocaleString('en')}), ` +
      `ratio ${((100 * median('sink')) / median('ceil')).toFixed(0)} % (median of ${ROUNDS})`,
  );
}
