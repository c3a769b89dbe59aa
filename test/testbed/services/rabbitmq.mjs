// A throwaway RabbitMQ node (Debian's rabbitmq-server 3.10, Erlang/OTP 25) beside the machine's
// own node (rabbit@localhost on 5672/25672, which is never touched): its own node name, AMQP
// port, distribution port, Erlang cookie (in its own HOME), config and env files, mnesia and log
// dirs under the run dir, no plugins. As root it runs as the `rabbitmq` user. It registers its
// name with the machine's epmd (port 4369), which every Erlang node on a host shares.
//
// The node is started with /usr/lib/rabbitmq/bin/rabbitmq-server (the real script; the
// /usr/sbin wrapper would `su` to rabbitmq and reset HOME, i.e. use the system node's cookie).
// That script runs in the foreground and stops the node on SIGTERM.
//
// TLS: a second listener on RABBITMQ_TLS_PORT with a CA and a server certificate (localhost,
// 127.0.0.1) that `openssl` generates into <home>/tls the first time (kept while valid). A node
// that was started before the listener existed gets it at `up` through rabbitmqctl eval (the
// same options as in rabbitmq.conf), so `up` never restarts a running node.
import fs from 'node:fs';
import path from 'node:path';
import { RUN_DIR } from '../lib/paths.mjs';
import {
  isRoot,
  mkdirOwned,
  ownsPid,
  portOpen,
  run,
  startDetached,
  stopPid,
  userIds,
} from '../lib/util.mjs';

export const RABBITMQ_PORT = 15673;
export const RABBITMQ_TLS_PORT = 15674;
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
 * The TLS files of a node (PEM): the CA that signed the server certificate, the server's
 * certificate and key, and a client certificate and key signed by the same CA.
 * @param {{ home: string }} node
 */
export function rabbitTlsFiles(node) {
  const dir = path.join(node.home, 'tls');
  return {
    dir,
    ca: path.join(dir, 'ca.pem'),
    serverCert: path.join(dir, 'server.pem'),
    serverKey: path.join(dir, 'server.key'),
    clientCert: path.join(dir, 'client.pem'),
    clientKey: path.join(dir, 'client.key'),
  };
}

/** The `ssl_options` of a node's TLS listener, as rabbitmq.conf lines. @param {{ home: string }} node */
function sslOptionLines(node) {
  const f = rabbitTlsFiles(node);
  return [
    `ssl_options.cacertfile = ${f.ca}`,
    `ssl_options.certfile = ${f.serverCert}`,
    `ssl_options.keyfile = ${f.serverKey}`,
    // Client certificates are checked when given, not required.
    'ssl_options.verify = verify_peer',
    'ssl_options.fail_if_no_peer_cert = false',
  ];
}

/**
 * Generates the CA, server and client certificates with openssl unless valid ones are there
 * (idempotent; a certificate expiring within a day is replaced).
 * @param {{ home: string }} node
 */
export async function ensureRabbitTls(node) {
  const f = rabbitTlsFiles(node);
  const owner = ids();
  const all = [f.ca, f.serverCert, f.serverKey, f.clientCert, f.clientKey];
  if (all.every((file) => fs.existsSync(file))) {
    const valid = await run('openssl', [
      'x509',
      '-checkend',
      '86400',
      '-noout',
      '-in',
      f.serverCert,
    ])
      .then(() => true)
      .catch(() => false);
    if (valid) return f;
  }
  mkdirOwned(f.dir, owner, 0o750);
  const tmp = (name) => path.join(f.dir, name);
  const days = ['-days', '3650'];
  await run('openssl', [
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    tmp('ca.key'),
    '-out',
    f.ca,
    ...days,
    '-subj',
    '/CN=Sluice testbed RabbitMQ CA',
  ]);
  /** @param {string} name @param {string} cn @param {string} ext */
  const signed = async (name, cn, ext) => {
    fs.writeFileSync(tmp(`${name}.ext`), ext);
    await run('openssl', [
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      tmp(`${name}.key`),
      '-out',
      tmp(`${name}.csr`),
      '-subj',
      `/CN=${cn}`,
    ]);
    await run('openssl', [
      'x509',
      '-req',
      '-in',
      tmp(`${name}.csr`),
      '-CA',
      f.ca,
      '-CAkey',
      tmp('ca.key'),
      '-CAcreateserial',
      '-out',
      tmp(`${name}.pem`),
      ...days,
      '-extfile',
      tmp(`${name}.ext`),
    ]);
  };
  await signed(
    'server',
    'localhost',
    'subjectAltName = DNS:localhost, IP:127.0.0.1\nbasicConstraints = CA:FALSE\nextendedKeyUsage = serverAuth\n',
  );
  await signed(
    'client',
    'sluice-test-client',
    'basicConstraints = CA:FALSE\nextendedKeyUsage = clientAuth\n',
  );
  for (const name of fs.readdirSync(f.dir)) {
    const file = path.join(f.dir, name);
    if (/\.(csr|ext|srl)$/.test(name)) fs.rmSync(file);
    else if (owner) fs.chownSync(file, owner.uid, owner.gid);
  }
  return f;
}

/**
 * Starts the TLS listener in a running node that has none (it was started before the listener
 * was configured), with the options rabbitmq.conf gives it at the next start. No-op when the
 * port answers.
 * @param {{ home: string, nodename: string, port: number, distPort: number, tlsPort?: number }} node
 */
export async function ensureRabbitTlsListener(node) {
  if (!node.tlsPort || (await portOpen(node.tlsPort))) return;
  const f = rabbitTlsFiles(node);
  const opts = [
    `{cacertfile, "${f.ca}"}`,
    `{certfile, "${f.serverCert}"}`,
    `{keyfile, "${f.serverKey}"}`,
    '{verify, verify_peer}',
    '{fail_if_no_peer_cert, false}',
  ].join(', ');
  await rabbitmqctl(node, [
    'eval',
    `{ok, _} = application:ensure_all_started(ssl), ok = rabbit_networking:start_ssl_listener({"127.0.0.1", ${node.tlsPort}}, [${opts}], 1).`,
  ]);
}

/**
 * Creates the dirs and files of a node (idempotent). With `tlsPort`, the node also listens for
 * TLS there (call {@link ensureRabbitTls} first).
 * @param {{ home: string, nodename: string, port: number, distPort: number, tlsPort?: number }} node
 */
export function prepareRabbitNode(node) {
  const owner = ids();
  mkdirOwned(node.home, owner);
  for (const d of ['home', 'mnesia', 'log']) mkdirOwned(path.join(node.home, d), owner, 0o750);
  const files = {
    'rabbitmq.conf': [
      `listeners.tcp.1 = 127.0.0.1:${node.port}`,
      ...(node.tlsPort
        ? [`listeners.ssl.1 = 127.0.0.1:${node.tlsPort}`, ...sslOptionLines(node)]
        : []),
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

/** The testbed's node (tests run rabbitmqctl against it: users, permissions). */
export const NODE = {
  home: HOME,
  nodename: RABBITMQ_NODENAME,
  port: RABBITMQ_PORT,
  distPort: RABBITMQ_DIST_PORT,
  tlsPort: RABBITMQ_TLS_PORT,
};

/** @type {import('../lib/service.mjs').Service} */
export const rabbitmq = {
  name: 'rabbitmq',
  envVar: 'SLUICE_TEST_RABBITMQ',
  requires: ['rabbitmq', 'openssl'],
  endpoint: `amqp://guest:guest@127.0.0.1:${RABBITMQ_PORT}`,
  ports: [RABBITMQ_PORT, RABBITMQ_DIST_PORT, RABBITMQ_TLS_PORT],
  logFile: path.join(HOME, 'log', 'startup.log'),
  readyTimeoutMs: 90_000,
  dirs: { home: HOME, data: path.join(HOME, 'mnesia') },
  async prepare() {
    await ensureRabbitTls(NODE);
    prepareRabbitNode(NODE);
  },
  // A node started before the TLS listener was configured gets it now, without a restart.
  async afterReady() {
    await ensureRabbitTls(NODE);
    await ensureRabbitTlsListener(NODE);
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
