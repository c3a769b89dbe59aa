#!/usr/bin/env node
// `pnpm testbed up|down|status [service...]` — real Kafka, Elasticsearch, MariaDB (row binlog),
// PostgreSQL and Redis on loopback, without Docker. See test/testbed/README.md.
import {
  acquireLock,
  ensureRunDir,
  readState,
  RUN_DIR,
  STATE_FILE,
  writeState,
} from './lib/paths.mjs';
import { ensurePrereqs } from './lib/prereqs.mjs';
import {
  elapsed,
  log,
  mib,
  pidAlive,
  portOpen,
  TestbedError,
  treeRss,
  waitFor,
} from './lib/util.mjs';
import { canal } from './services/canal.mjs';
import { elasticsearch } from './services/elasticsearch.mjs';
import { opensearch } from './services/opensearch.mjs';
import { kafka } from './services/kafka.mjs';
import { mariadb } from './services/mariadb.mjs';
import { postgres } from './services/postgres.mjs';
import { redis } from './services/redis.mjs';
import { redisCluster } from './services/redis-cluster.mjs';
import { rabbitmq } from './services/rabbitmq.mjs';
import { rocketmq } from './services/rocketmq.mjs';
import { zookeeper } from './services/zookeeper.mjs';
import fs from 'node:fs';

/** @typedef {import('./lib/service.mjs').Service} Service */

/** Slow JVMs first, so they get going while the small servers start. */
/** @type {Service[]} */
const SERVICES = [
  elasticsearch,
  opensearch,
  kafka,
  rocketmq,
  mariadb,
  postgres,
  redis,
  redisCluster,
  canal,
  rabbitmq,
  zookeeper,
];

const USAGE = `usage: node test/testbed/cli.mjs <up|down|status> [${SERVICES.map((s) => s.name).join('|')}...] [--keep-data]

  up      start whatever is not running yet (idempotent) and wait until each really answers
  down    stop what \`up\` started (by recorded pid) and wipe its data (logs stay); --keep-data keeps it
  status  say what runs, with pid, memory and a live probe

Environment: SLUICE_TEST_KAFKA=host:port, SLUICE_TEST_ES=http://host:port, SLUICE_TEST_OPENSEARCH=http://host:port,
SLUICE_TEST_MYSQL=mysql://user:pass@host:port, SLUICE_TEST_PG=postgres://user@host:port/db,
SLUICE_TEST_REDIS=redis://host:port, SLUICE_TEST_REDIS_CLUSTER=host:port,host:port,…,
SLUICE_TEST_CANAL=canal://host:11111?control=http://host:11180,
SLUICE_TEST_RABBITMQ=amqp://user:pass@host:port, SLUICE_TEST_ZOOKEEPER=host:port supply a service
instead of starting one.
State: ${STATE_FILE}`;

/** @param {string[]} names */
function select(names) {
  if (names.length === 0) return SERVICES;
  return names.map((n) => {
    const s = SERVICES.find((x) => x.name === n || x.envVar === n);
    if (!s)
      throw new TestbedError(
        `unknown service "${n}" (known: ${SERVICES.map((x) => x.name).join(', ')})`,
      );
    return s;
  });
}

const external = (svc) => (process.env[svc.envVar] ?? '').trim() || undefined;

/** Endpoint with any password masked, for printing. */
const shown = (ep) => ep.replace(/\/\/([^:@/]+):([^@/]+)@/, '//$1:***@');

/** @param {Service[]} services */
async function up(services) {
  const release = await acquireLock();
  const started = Date.now();
  try {
    const state = readState();
    const toStart = services.filter((s) => {
      const st = state.services[s.name];
      return !external(s) && !(st && s.isOurs(st));
    });
    await ensurePrereqs(toStart.flatMap((s) => s.requires));
    ensureRunDir();

    /** @param {Service} svc */
    const bring = async (svc) => {
      const say = (msg) => log(svc.name, msg);
      const t = Date.now();
      const ext = external(svc);
      if (ext) {
        const info = await waitFor(
          `${svc.name} (${svc.envVar}=${shown(ext)})`,
          () => svc.probe(ext),
          {
            timeoutMs: 30_000,
          },
        );
        say(`external ${shown(ext)} answers: ${info}`);
        return;
      }
      const prev = state.services[svc.name];
      if (prev && svc.isOurs(prev)) {
        const info = await waitFor(svc.name, () => svc.probe(svc.endpoint), {
          timeoutMs: svc.readyTimeoutMs,
          isAlive: () => pidAlive(prev.pid ?? 0),
          logFile: svc.logFile,
        });
        if (svc.afterReady) await svc.afterReady(svc.endpoint);
        say(`already running (pid ${prev.pid}): ${info}`);
        return;
      }
      for (const port of svc.ports) {
        if (await portOpen(port))
          throw new TestbedError(
            `${svc.name}: port ${port} is already in use by a process the testbed did not start. ` +
              `Stop it, or use it via ${svc.envVar}.`,
          );
      }
      await svc.prepare(say);
      const { pid, marker } = await svc.start();
      state.services[svc.name] = {
        endpoint: svc.endpoint,
        managed: true,
        pid,
        marker,
        startedAt: new Date().toISOString(),
      };
      writeState(state);
      say(`started pid ${pid}, waiting until it answers...`);
      const info = await waitFor(svc.name, () => svc.probe(svc.endpoint), {
        timeoutMs: svc.readyTimeoutMs,
        intervalMs: 500,
        isAlive: () => pidAlive(pid),
        logFile: svc.logFile,
      });
      if (svc.afterReady) await svc.afterReady(svc.endpoint);
      const readyMs = Date.now() - t;
      state.services[svc.name] = { ...state.services[svc.name], endpoint: svc.endpoint, readyMs };
      writeState(state);
      say(`ready in ${(readyMs / 1000).toFixed(1)}s: ${info}`);
    };

    // A service with `after` (canal: kafka, mysql) starts once those in this run are up.
    /** @type {Map<string, Promise<void>>} */
    const pending = new Map();
    for (const svc of services) {
      const deps = (svc.after ?? []).map((n) => pending.get(n)).filter((p) => p !== undefined);
      pending.set(
        svc.name,
        Promise.allSettled(deps).then(() => bring(svc)),
      );
    }
    const results = await Promise.allSettled(services.map((s) => pending.get(s.name)));
    const failed = results
      .map((r, i) => ({ r, svc: services[i] }))
      .filter((x) => x.r.status === 'rejected');
    printEndpoints(services, readState());
    if (failed.length > 0) {
      for (const { r, svc } of failed) {
        const e = /** @type {PromiseRejectedResult} */ (r).reason;
        process.stderr.write(
          `\n[testbed] ${svc.name} FAILED: ${e instanceof Error ? e.message : e}\n`,
        );
      }
      process.stderr.write(
        `\n[testbed] ${failed.length} service(s) did not come up; logs are under ${RUN_DIR}\n`,
      );
      return 1;
    }
    log(
      'up',
      `all ${services.length} service(s) up in ${((Date.now() - started) / 1000).toFixed(1)}s`,
    );
    return 0;
  } finally {
    release();
  }
}

/** @param {Service[]} services @param {import('./lib/paths.mjs').State} state */
function printEndpoints(services, state) {
  const rows = services.map((svc) => {
    const st = state.services[svc.name];
    const ext = external(svc);
    if (ext) return [svc.name, shown(ext), `external (${svc.envVar})`, ''];
    if (!st || !svc.isOurs(st)) return [svc.name, '-', 'not running', ''];
    return [svc.name, shown(st.endpoint), `pid ${st.pid}`, `rss ${mib(treeRss(st.pid ?? 0))}`];
  });
  const w = [0, 1, 2].map((i) => Math.max(...rows.map((r) => r[i].length)));
  process.stdout.write('\n');
  for (const r of rows)
    process.stdout.write(
      `  ${r[0].padEnd(w[0])}  ${r[1].padEnd(w[1])}  ${r[2].padEnd(w[2])}  ${r[3]}\n`,
    );
  process.stdout.write(`  (state: ${STATE_FILE})\n\n`);
}

/** @param {Service[]} services @param {boolean} keepData */
async function down(services, keepData) {
  const release = await acquireLock();
  try {
    const state = readState();
    await Promise.all(
      services.map(async (svc) => {
        const st = state.services[svc.name];
        if (!st) {
          log(svc.name, external(svc) ? `external (${svc.envVar}), left alone` : 'not running');
          return;
        }
        if (!st.managed) {
          log(svc.name, 'external, left alone');
          delete state.services[svc.name];
          return;
        }
        if (svc.isOurs(st)) {
          await svc.stop(st);
          log(svc.name, `stopped pid ${st.pid}`);
        } else {
          log(svc.name, `pid ${st.pid} no longer running`);
        }
        if (!keepData) fs.rmSync(svc.dirs.data, { recursive: true, force: true });
        delete state.services[svc.name];
      }),
    );
    writeState(state);
    return 0;
  } finally {
    release();
  }
}

/** @param {Service[]} services */
async function status(services) {
  const state = readState();
  let allUp = true;
  await Promise.all(
    services.map(async (svc) => {
      const ext = external(svc);
      const st = state.services[svc.name];
      const endpoint = ext ?? st?.endpoint ?? svc.endpoint;
      let line;
      if (!ext && !(st && svc.isOurs(st))) {
        line = `not running${st?.pid ? ` (recorded pid ${st.pid} is gone)` : ''}`;
        allUp = false;
      } else {
        const probe = await Promise.race([
          svc.probe(endpoint).then(
            (i) => `answers: ${i}`,
            (e) => `NOT ANSWERING: ${e instanceof Error ? e.message : e}`,
          ),
          new Promise((r) => setTimeout(() => r('NOT ANSWERING: probe timed out'), 15_000)),
        ]);
        if (String(probe).startsWith('NOT')) allUp = false;
        line = ext
          ? `external ${shown(ext)} (${svc.envVar}) ${probe}`
          : `running pid ${st?.pid}, ${shown(endpoint)}, rss ${mib(treeRss(st?.pid ?? 0))}, ${probe}`;
      }
      log(svc.name, line);
    }),
  );
  process.stdout.write(`  (state: ${STATE_FILE})\n`);
  return allUp ? 0 : 3;
}

async function main() {
  const [cmd, ...rest] = process.argv.slice(2);
  const keepData = rest.includes('--keep-data');
  const names = rest.filter((a) => !a.startsWith('--'));
  switch (cmd) {
    case 'up':
      return up(select(names));
    case 'down':
      return down(select(names), keepData);
    case 'status':
      return status(select(names));
    default:
      process.stdout.write(`${USAGE}\n`);
      return cmd === undefined || cmd === 'help' || cmd === '--help' ? 0 : 2;
  }
}

main().then(
  (code) => {
    // Clients (kafkajs, ioredis, pg) may leave timers behind; do not wait for them.
    process.exit(code);
  },
  (e) => {
    process.stderr.write(
      `[testbed ${elapsed()}s] ${e instanceof TestbedError ? e.message : (e?.stack ?? e)}\n`,
    );
    process.exit(1);
  },
);
