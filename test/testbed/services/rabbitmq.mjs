// A throwaway RabbitMQ node (Debian's rabbitmq-server 3.10, Erlang/OTP 25) beside the machine's
// own node (rabbit@localhost on 5672/25672, which is never touched): its own node name, AMQP
// port, distribution port, Erlang cookie (in its own HOME), config and env files, mnesia and log
// dirs under the run dir, no plugins. As root it runs as the `rabbitmq` user. It registers its
// name with the machine's epmd (port 4369), which every Erlang node on a host shares.
//
// The node is started with /usr/lib/rabbitmq/bin/rabbitmq-server (the real script; the
// /usr/sbin wrapper would `su` to rabbitmq and reset HOME, i.e. use the system node's cookie).
// That script runs in the foreground and stops the node on SIGTERM.
import fs from 'node:fs';
import path from 'node:path';
import { RUN_DIR } from '../lib/paths.mjs';
import { isRoot, mkdirOwned, ownsPid, run, startDetached, stopPid, userIds } from '../lib/util.mjs';

export const RABBITMQ_PORT = 15673;
export const RABBITMQ_DIST_PORT = 35673;
export const RABBITMQ_NODENAME = 'sluice-testbed@localhost';
const SCRIPTS = '/usr/lib/rabbitmq/bin';

const HOME = path.join(RUN_DIR, 'rabbitmq');

/**
 * Where one node keeps everything, and the environment its scripts (server, rabbitmqctl) need.
 * Exported so a test can run a node of its own (a broker restart must not disturb the others).
 * @param {{ home: string, nodename: string, port: number, distPort: number }} node
 */
export function rabbitNodeEnv(node) {
  return {
    ...process.env,
    HOME: path.join(node.home, 'home'),
    RABBITMQ_NODENAME: node.nodename,
    RABBITMQ_NODE_IP_ADDRESS: '127.0.0.1',
    RABBITMQ_NODE_PORT: String(node.port),
    RABBITMQ_DIST_PORT: String(node.distPort),
    RABBITMQ_MNESIA_BASE: path.join(node.home, 'mnesia'),
    RABBITMQ_LOG_BASE: path.join(node.home, 'log'),
    RABBITMQ_LOGS: path.join(node.home, 'log', 'rabbit.log'),
    RABBITMQ_CONFIG_FILE: path.join(node.home, 'rabbitmq.conf'),
    RABBITMQ_ADVANCED_CONFIG_FILE: path.join(node.home, 'advanced.config'),
    RABBITMQ_CONF_ENV_FILE: path.join(node.home, 'rabbitmq-env.conf'),
    RABBITMQ_ENABLED_PLUGINS_FILE: path.join(node.home, 'enabled_plugins'),
    RABBITMQ_PID_FILE: path.join(node.home, 'rabbit.pid'),
    ERL_EPMD_ADDRESS: '127.0.0.1',
    RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS: '-kernel inet_dist_use_interface {127,0,0,1}',
  };
}

const ids = () => (isRoot() ? userIds('rabbitmq') : undefined);

/**
 * Creates the dirs and files of a node (idempotent).
 * @param {{ home: string, nodename: string, port: number, distPort: number }} node
 */
export function prepareRabbitNode(node) {
  const owner = ids();
  mkdirOwned(node.home, owner);
  for (const d of ['home', 'mnesia', 'log']) mkdirOwned(path.join(node.home, d), owner, 0o750);
  const files = {
    'rabbitmq.conf': [
      `listeners.tcp.1 = 127.0.0.1:${node.port}`,
      'loopback_users.guest = true',
      'vm_memory_high_watermark.absolute = 512MiB',
      'disk_free_limit.absolute = 50MB',
      'log.console = false',
      'log.file.level = info',
      '',
    ].join('\n'),
    'advanced.config': '[].\n',
    'rabbitmq-env.conf': '# Sluice testbed node: everything comes from the environment.\n',
    enabled_plugins: '[].\n',
  };
  for (const [name, text] of Object.entries(files)) {
    const file = path.join(node.home, name);
    fs.writeFileSync(file, text);
    if (owner) fs.chownSync(file, owner.uid, owner.gid);
  }
}

/**
 * Starts a node in the foreground script (detached from the caller); returns its pid.
 * @param {{ home: string, nodename: string, port: number, distPort: number }} node
 */
export function startRabbitNode(node) {
  const owner = ids();
  return startDetached(path.join(SCRIPTS, 'rabbitmq-server'), [], {
    cwd: node.home,
    env: rabbitNodeEnv(node),
    uid: owner?.uid,
    gid: owner?.gid,
    logFile: path.join(node.home, 'log', 'startup.log'),
  });
}

/**
 * Runs rabbitmqctl against a node (as the node's user, with its cookie).
 * @param {{ home: string, nodename: string, port: number, distPort: number }} node
 * @param {string[]} args
 */
export function rabbitmqctl(node, args) {
  const owner = ids();
  return run(path.join(SCRIPTS, 'rabbitmqctl'), ['-n', node.nodename, ...args], {
    cwd: node.home,
    env: rabbitNodeEnv(node),
    uid: owner?.uid,
    gid: owner?.gid,
  });
}

/** Opens and closes an AMQP connection; resolves with the broker's version. @param {string} url */
export async function probeRabbit(url) {
  const amqp = await import('amqplib');
  const conn = await amqp.connect(url, { timeout: 2000 });
  try {
    const ch = await conn.createChannel();
    await ch.close();
    const props = /** @type {Record<string, unknown>} */ (conn.connection.serverProperties);
    return `rabbitmq ${String(props['version'] ?? '?')}`;
  } finally {
    await conn.close().catch(() => {});
  }
}

const NODE = {
  home: HOME,
  nodename: RABBITMQ_NODENAME,
  port: RABBITMQ_PORT,
  distPort: RABBITMQ_DIST_PORT,
};

/** @type {import('../lib/service.mjs').Service} */
export const rabbitmq = {
  name: 'rabbitmq',
  envVar: 'SLUICE_TEST_RABBITMQ',
  requires: ['rabbitmq'],
  endpoint: `amqp://guest:guest@127.0.0.1:${RABBITMQ_PORT}`,
  ports: [RABBITMQ_PORT, RABBITMQ_DIST_PORT],
  logFile: path.join(HOME, 'log', 'startup.log'),
  readyTimeoutMs: 90_000,
  dirs: { home: HOME, data: path.join(HOME, 'mnesia') },
  async prepare() {
    prepareRabbitNode(NODE);
  },
  async start() {
    const pid = startRabbitNode(NODE);
    // The foreground script is `/bin/sh /usr/lib/rabbitmq/bin/rabbitmq-server`; the node's own
    // name is in its environment, not its argv, so the marker is the script's path.
    return { pid, marker: `${SCRIPTS}/rabbitmq-server` };
  },
  probe: probeRabbit,
  async stop(st) {
    if (st.pid && st.marker) await stopPid(st.pid, st.marker, 'SIGTERM', 30_000);
  },
  isOurs: (st) => !!st.pid && !!st.marker && ownsPid(st.pid, st.marker) && ownsNode(st.pid),
};

/** The recorded pid runs our node (its environment names our node), not the machine's. */
function ownsNode(pid) {
  try {
    return fs
      .readFileSync(`/proc/${pid}/environ`, 'utf8')
      .split('\0')
      .includes(`RABBITMQ_NODENAME=${RABBITMQ_NODENAME}`);
  } catch {
    return false;
  }
}
