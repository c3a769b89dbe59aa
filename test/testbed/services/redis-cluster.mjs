// A throwaway 3-master Redis Cluster (Debian's redis-server, no replicas, no persistence) for the
// redis sink's Cluster tests. One supervisor process (redis-cluster-supervisor.mjs) runs the three
// nodes; `afterReady` assigns the slots and joins the nodes once (idempotent: a formed cluster is
// left alone; nodes.conf in each node's data dir keeps the layout across restarts until `down`).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { RUN_DIR } from '../lib/paths.mjs';
import { ownsPid, sleep, startDetached, stopPid } from '../lib/util.mjs';

const PORTS = [17001, 17002, 17003];
const HOME = path.join(RUN_DIR, 'redis-cluster');
const LOG = path.join(HOME, 'redis-cluster.log');
const SUPERVISOR = fileURLToPath(new URL('./redis-cluster-supervisor.mjs', import.meta.url));
const MARKER = 'redis-cluster-supervisor.mjs';
const SLOTS = 16384;

/** @param {string} endpoint host:port,host:port,… */
const nodesOf = (endpoint) =>
  endpoint.split(',').map((s) => {
    const [host, port] = s.trim().split(':');
    return { host: host ?? '127.0.0.1', port: Number(port) };
  });

/** @param {{host: string, port: number}} node */
async function client(node) {
  const { Redis } = await import('ioredis');
  const c = new Redis({
    ...node,
    lazyConnect: true,
    connectTimeout: 2000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  c.on('error', () => {});
  await c.connect();
  return c;
}

/** @param {string} info */
const field = (info, name) => new RegExp(`^${name}:(\\S+)`, 'm').exec(info)?.[1];

/** @type {import('../lib/service.mjs').Service} */
export const redisCluster = {
  name: 'redis-cluster',
  envVar: 'SLUICE_TEST_REDIS_CLUSTER',
  requires: ['redis'],
  endpoint: PORTS.map((p) => `127.0.0.1:${p}`).join(','),
  ports: [...PORTS, ...PORTS.map((p) => p + 10_000)], // client and cluster-bus ports
  logFile: LOG,
  readyTimeoutMs: 60_000,
  dirs: { home: HOME, data: path.join(HOME, 'data') },
  async prepare() {
    fs.mkdirSync(path.join(HOME, 'data'), { recursive: true });
  },
  async start() {
    const pid = startDetached(process.execPath, [SUPERVISOR, HOME, ...PORTS.map(String)], {
      cwd: HOME,
      logFile: LOG,
    });
    return { pid, marker: MARKER };
  },
  /** Every node answers PING; once formed, the cluster state is ok (else not yet formed: true). */
  async probe(endpoint) {
    const versions = [];
    for (const node of nodesOf(endpoint)) {
      const c = await client(node);
      try {
        if ((await c.ping()) !== 'PONG') throw new Error(`${node.port}: no PONG`);
        versions.push(field(await c.info('server'), 'redis_version'));
      } finally {
        c.disconnect();
      }
    }
    return `redis cluster of ${versions.length} nodes (redis ${versions[0] ?? '?'})`;
  },
  /** Forms the cluster when it is not formed yet: slots split evenly, CLUSTER MEET, wait for ok. */
  async afterReady(endpoint) {
    const nodes = nodesOf(endpoint);
    const clients = await Promise.all(nodes.map(client));
    try {
      const state = async () =>
        Promise.all(clients.map(async (c) => field(await c.cluster('INFO'), 'cluster_state')));
      if ((await state()).every((s) => s === 'ok')) return;
      const assigned = await Promise.all(
        clients.map(async (c) => Number(field(await c.cluster('INFO'), 'cluster_slots_assigned'))),
      );
      if (assigned.every((n) => n === 0)) {
        const per = Math.floor(SLOTS / clients.length);
        await Promise.all(
          clients.map((c, i) => {
            const first = i * per;
            const last = i === clients.length - 1 ? SLOTS - 1 : first + per - 1;
            return c.cluster('ADDSLOTSRANGE', first, last);
          }),
        );
      }
      for (const n of nodes.slice(1)) await clients[0].cluster('MEET', n.host, n.port);
      const deadline = Date.now() + 30_000;
      while (Date.now() < deadline) {
        if ((await state()).every((s) => s === 'ok')) return;
        await sleep(200);
      }
      throw new Error(`the cluster did not reach cluster_state:ok (${(await state()).join(', ')})`);
    } finally {
      for (const c of clients) c.disconnect();
    }
  },
  async stop(st) {
    if (st.pid && st.marker) await stopPid(st.pid, st.marker, 'SIGTERM', 15_000);
  },
  isOurs: (st) => !!st.pid && !!st.marker && ownsPid(st.pid, st.marker),
};
