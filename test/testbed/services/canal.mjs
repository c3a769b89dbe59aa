// canal-server for the testbed: canal 1.1.7's own server modules (Maven Central) run by our small
// launcher (test/testbed/canal), one JVM, TCP server on 127.0.0.1:11111, destinations created and
// dropped at run time through an HTTP control endpoint on 127.0.0.1:11180. Reads the testbed
// MariaDB's binlog and (per destination) publishes to the testbed Kafka, flat or protobuf.
// Why this route and its limits: test/testbed/README.md, "canal".
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { copyProjectDependencies } from '../lib/maven.mjs';
import { CACHE_DIR, RUN_DIR } from '../lib/paths.mjs';
import { ownsPid, run, startDetached, stopPid, TestbedError } from '../lib/util.mjs';

export const CANAL_VERSION = '1.1.7';
/** canal's default port (canal.port), so canal-adapter's stock canalServerHost works unchanged. */
export const CANAL_TCP_PORT = 11111;
export const CANAL_CONTROL_PORT = 11180;

const PROJECT = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'canal');
const POM = path.join(PROJECT, 'pom.xml');
const LIB = path.join(CACHE_DIR, `canal-${CANAL_VERSION}`, 'lib');
const HOME = path.join(RUN_DIR, 'canal');
const DATA = path.join(HOME, 'data');
const LOG = path.join(HOME, 'logs', 'canal.log');

const HEAP = ['-Xms32m', '-Xmx256m', '-XX:+UseSerialGC', '-Xss512k'];

const kafkaEndpoint = () => (process.env.SLUICE_TEST_KAFKA || '127.0.0.1:19092').trim();
function mysqlAddress() {
  const ext = process.env.SLUICE_TEST_MYSQL?.trim();
  if (!ext) return '127.0.0.1:13306';
  const u = new URL(ext);
  return `${u.hostname}:${u.port || 3306}`;
}
function replicationAccount() {
  const r = process.env.SLUICE_TEST_MYSQL_REPLICATION?.split(':');
  return { user: r?.[0] || 'canal', password: r ? r.slice(1).join(':') : 'canal' };
}

/** Every file of the launcher project, hashed: a change recompiles. */
function sourceHash() {
  const h = crypto.createHash('sha256');
  const walk = (dir) => {
    for (const e of fs
      .readdirSync(dir, { withFileTypes: true })
      .sort((a, b) => a.name.localeCompare(b.name))) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) {
        if (e.name !== 'target') walk(p);
      } else {
        h.update(path.relative(PROJECT, p));
        h.update(fs.readFileSync(p));
      }
    }
  };
  walk(PROJECT);
  return h.digest('hex').slice(0, 16);
}

async function download(say) {
  const marker = path.join(LIB, '.complete');
  const pomHash = crypto.createHash('sha256').update(fs.readFileSync(POM)).digest('hex');
  if (fs.existsSync(marker) && fs.readFileSync(marker, 'utf8') === pomHash) return;
  fs.rmSync(LIB, { recursive: true, force: true });
  await copyProjectDependencies(POM, LIB, path.join(HOME, 'logs', 'download.log'));
  fs.writeFileSync(marker, pomHash);
  say(`downloaded canal ${CANAL_VERSION} server modules into ${LIB}`);
}

/** Compiles the launcher once per source version into the cache; returns the classes dir. */
async function compile(say) {
  const classes = path.join(CACHE_DIR, 'canal-launcher', `classes-${sourceHash()}`);
  if (fs.existsSync(path.join(classes, '.complete'))) return classes;
  const tmp = `${classes}.tmp${process.pid}-${crypto.randomBytes(3).toString('hex')}`;
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.mkdirSync(tmp, { recursive: true });
  const srcDir = path.join(PROJECT, 'src', 'main', 'java');
  const sources = [];
  const walk = (d) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.java')) sources.push(p);
    }
  };
  walk(srcDir);
  await run(
    'javac',
    ['-nowarn', '--release', '17', '-encoding', 'UTF-8', '-d', tmp, '-cp', `${LIB}/*`, ...sources],
    { logFile: path.join(HOME, 'logs', 'compile.log') },
  );
  fs.cpSync(path.join(PROJECT, 'src', 'main', 'resources'), tmp, { recursive: true });
  fs.writeFileSync(path.join(tmp, '.complete'), new Date().toISOString());
  fs.rmSync(classes, { recursive: true, force: true });
  fs.renameSync(tmp, classes);
  say(`compiled the canal launcher into ${classes}`);
  return classes;
}

let classesDir = '';

/**
 * The classpath of the launcher and of CanalClientCheck compiled from this checkout's sources
 * (canal's jars copied and the launcher compiled when missing; each source version has its own
 * classes directory). Does not touch the running service's `classpath.txt`.
 */
export async function launcherClasspath(say = () => {}) {
  fs.mkdirSync(path.join(HOME, 'logs'), { recursive: true });
  await download(say);
  const classes = await compile(say);
  return { classes, classpath: `${classes}:${LIB}/*` };
}

/** The classpath of the launcher and of CanalClientCheck (canal's Java client). */
export async function canalClasspath(say = () => {}) {
  const { classes, classpath: cp } = await launcherClasspath(say);
  classesDir = classes;
  // For tests that run canal's own Java client (CanalClientCheck): test/support/canal.ts.
  fs.writeFileSync(path.join(HOME, 'classpath.txt'), cp);
  return cp;
}

const ENDPOINT = `canal://127.0.0.1:${CANAL_TCP_PORT}?control=http://127.0.0.1:${CANAL_CONTROL_PORT}`;

/** @type {import('../lib/service.mjs').Service} */
export const canal = {
  name: 'canal',
  envVar: 'SLUICE_TEST_CANAL',
  requires: ['java', 'mvn'],
  after: ['kafka', 'mysql'],
  endpoint: ENDPOINT,
  ports: [CANAL_TCP_PORT, CANAL_CONTROL_PORT],
  logFile: LOG,
  readyTimeoutMs: 120_000,
  dirs: { home: HOME, data: DATA },
  async prepare(say) {
    fs.mkdirSync(DATA, { recursive: true });
    await canalClasspath(say);
  },
  async start() {
    if (!classesDir) throw new TestbedError('canal: prepare() did not run');
    const repl = replicationAccount();
    const pid = startDetached(
      'java',
      [
        ...HEAP,
        '-Djava.awt.headless=true',
        '-Djava.net.preferIPv4Stack=true',
        '-Dfile.encoding=UTF-8',
        '-Duser.timezone=UTC',
        `-Dsluice.canal.home=${HOME}`,
        `-Dsluice.canal.data=${DATA}`,
        '-Dsluice.canal.ip=127.0.0.1',
        `-Dsluice.canal.port=${CANAL_TCP_PORT}`,
        `-Dsluice.canal.control.port=${CANAL_CONTROL_PORT}`,
        `-Dsluice.canal.kafka=${kafkaEndpoint()}`,
        `-Dsluice.canal.mysql=${mysqlAddress()}`,
        `-Dsluice.canal.mysql.user=${repl.user}`,
        `-Dsluice.canal.mysql.password=${repl.password}`,
        '-cp',
        `${classesDir}:${LIB}/*`,
        'sluice.testbed.canal.SluiceCanalLauncher',
      ],
      { cwd: HOME, logFile: LOG },
    );
    return { pid, marker: `-Dsluice.canal.home=${HOME}` };
  },
  async probe(endpoint) {
    const control = new URL(endpoint).searchParams.get('control');
    if (!control) throw new TestbedError(`canal endpoint without ?control=: ${endpoint}`);
    const res = await fetch(`${control}/health`, { signal: AbortSignal.timeout(3000) });
    if (!res.ok) throw new Error(`GET ${control}/health: HTTP ${res.status}`);
    const h = /** @type {{ok: boolean, canal: string, tcp: string, destinations: string[]}} */ (
      await res.json()
    );
    if (!h.ok) throw new Error('health: not ok');
    return `canal ${h.canal}, tcp ${h.tcp}, ${h.destinations.length} destination(s)`;
  },
  async stop(st) {
    if (st.pid && st.marker) await stopPid(st.pid, st.marker, 'SIGTERM', 30_000);
  },
  isOurs: (st) => !!st.pid && !!st.marker && ownsPid(st.pid, st.marker),
};
