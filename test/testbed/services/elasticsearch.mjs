// Elasticsearch 8.19 from Maven Central's integ-test-zip (no bundled JDK, modules: transport-netty4,
// x-pack-core, x-pack-security, apm). ES refuses to run as root, so as root it runs as the
// unprivileged system user `sluice-es`, created on first use.
import fs from 'node:fs';
import path from 'node:path';
import { copyArtifact } from '../lib/maven.mjs';
import { RUN_DIR } from '../lib/paths.mjs';
import { javaHome } from '../lib/prereqs.mjs';
import {
  chownR,
  isRoot,
  mkdirOwned,
  ownsPid,
  readPidFile,
  run,
  stopPid,
  TestbedError,
  tailFile,
  userIds,
} from '../lib/util.mjs';

export const ES_VERSION = '8.19.2';
const PORT = 19200;
const TRANSPORT_PORT = 19300;
const USER = 'sluice-es';

const ROOT = path.join(RUN_DIR, 'elasticsearch');
const HOME = path.join(ROOT, `elasticsearch-${ES_VERSION}`);
const DATA = path.join(ROOT, 'data');
const LOGS = path.join(ROOT, 'logs');
const TMP = path.join(ROOT, 'tmp');
const PIDFILE = path.join(ROOT, 'es.pid');
const STDOUT = path.join(ROOT, 'launcher.log');
const LOG = path.join(LOGS, 'sluice-testbed.log');

/** uid/gid of the ES user when running as root (else ES runs as the current user). */
export function esIds() {
  return isRoot() ? userIds(USER) : undefined;
}

/** The useradd in flight: Elasticsearch and OpenSearch start in parallel and share the user. */
let creatingUser;

/**
 * Creates the unprivileged ES user when running as root (once per process; a user that appears
 * meanwhile, e.g. from a parallel testbed process, is fine).
 */
export function createUser() {
  if (!isRoot() || userIds(USER)) return Promise.resolve();
  creatingUser ??= run('useradd', [
    '--system',
    '--user-group',
    '--no-create-home',
    '--home-dir',
    ROOT,
    '--shell',
    '/usr/sbin/nologin',
    '--comment',
    'sluice testbed Elasticsearch',
    USER,
  ]).catch((error) => {
    creatingUser = undefined;
    if (!userIds(USER)) throw error;
  });
  return creatingUser;
}

async function install(say) {
  if (fs.existsSync(path.join(HOME, '.complete'))) return;
  const dl = path.join(ROOT, 'download');
  fs.rmSync(dl, { recursive: true, force: true });
  fs.rmSync(HOME, { recursive: true, force: true });
  await copyArtifact(
    `org.elasticsearch.distribution.integ-test-zip:elasticsearch:${ES_VERSION}:zip`,
    dl,
    path.join(ROOT, 'download.log'),
  );
  await run('unzip', ['-q', '-o', path.join(dl, `elasticsearch-${ES_VERSION}.zip`), '-d', ROOT]);
  fs.rmSync(dl, { recursive: true, force: true });
  fs.writeFileSync(path.join(HOME, '.complete'), new Date().toISOString());
  say(`unpacked Elasticsearch ${ES_VERSION} (integ-test-zip from ~/.m2) into ${HOME}`);
}

function writeConfig() {
  const security = fs.existsSync(path.join(HOME, 'modules', 'x-pack-security'))
    ? 'xpack.security.enabled: false\n'
    : '';
  fs.writeFileSync(
    path.join(HOME, 'config', 'elasticsearch.yml'),
    `# Written by test/testbed (sluice).
cluster.name: sluice-testbed
node.name: sluice-es1
discovery.type: single-node
network.host: 127.0.0.1
http.port: ${PORT}
transport.port: ${TRANSPORT_PORT}
path.data: ${DATA}
path.logs: ${LOGS}
# A fullish disk must not turn indices read-only in tests.
cluster.routing.allocation.disk.threshold_enabled: false
action.destructive_requires_name: false
${security}`,
  );
}

/** @type {import('../lib/service.mjs').Service} */
export const elasticsearch = {
  name: 'es',
  envVar: 'SLUICE_TEST_ES',
  requires: ['java', 'mvn', 'unzip', 'useradd'],
  endpoint: `http://127.0.0.1:${PORT}`,
  ports: [PORT, TRANSPORT_PORT],
  logFile: LOG,
  readyTimeoutMs: 240_000,
  dirs: { home: ROOT, data: DATA },
  async prepare(say) {
    fs.mkdirSync(ROOT, { recursive: true, mode: 0o755 });
    await createUser();
    await install(say);
    writeConfig();
    const ids = esIds();
    for (const d of [DATA, LOGS, TMP]) mkdirOwned(d, ids);
    // ES writes config/elasticsearch.keystore and logs/gc.log under its home.
    chownR(HOME, ids);
    if (ids) fs.chownSync(ROOT, 0, ids.gid);
    fs.chmodSync(ROOT, 0o775);
  },
  async start() {
    const ids = esIds();
    fs.rmSync(PIDFILE, { force: true });
    const env = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: ROOT,
      LANG: 'C.UTF-8',
      ES_JAVA_HOME: javaHome(),
      ES_JAVA_OPTS: '-Xms512m -Xmx512m',
      ES_TMPDIR: TMP,
    };
    // `-d` daemonises: the launcher exits once the node has started, leaving the server JVM
    // (whose pid goes to PIDFILE) in the new session created by `setsid` below.
    const fd = fs.openSync(STDOUT, 'a');
    if (ids) fs.fchownSync(fd, ids.uid, ids.gid);
    fs.writeSync(fd, `\n===== ${new Date().toISOString()} starting elasticsearch\n`);
    const { spawn } = await import('node:child_process');
    const code = await new Promise((resolve, reject) => {
      const child = spawn(path.join(HOME, 'bin', 'elasticsearch'), ['-d', '-p', PIDFILE], {
        cwd: HOME,
        env,
        uid: ids?.uid,
        gid: ids?.gid,
        detached: true,
        stdio: ['ignore', fd, fd],
      });
      child.on('error', reject);
      child.on('exit', (c) => resolve(c));
    });
    fs.closeSync(fd);
    if (code !== 0)
      throw new TestbedError(
        `elasticsearch launcher exited ${code}\n--- ${STDOUT} ---\n${tailFile(STDOUT)}\n` +
          `--- ${LOG} ---\n${tailFile(LOG)}`,
      );
    const pid = await readPidFile(PIDFILE, 50 * 100);
    return { pid, marker: `${HOME}/lib` };
  },
  async probe(endpoint) {
    const res = await fetch(
      `${endpoint.replace(/\/$/, '')}/_cluster/health?wait_for_status=yellow&timeout=2s`,
      { signal: AbortSignal.timeout(5000) },
    );
    const body = /** @type {{status?: string}} */ (await res.json());
    if (res.status !== 200 || !['yellow', 'green'].includes(body.status ?? ''))
      throw new Error(`cluster health ${res.status} ${JSON.stringify(body)}`);
    if (res.headers.get('x-elastic-product') !== 'Elasticsearch')
      throw new Error('no x-elastic-product header (not Elasticsearch?)');
    return `health ${body.status}`;
  },
  async stop(st) {
    if (st.pid && st.marker) await stopPid(st.pid, st.marker, 'SIGTERM', 45_000);
  },
  isOurs: (st) => !!st.pid && !!st.marker && ownsPid(st.pid, st.marker),
};
