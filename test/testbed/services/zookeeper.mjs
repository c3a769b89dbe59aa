// Apache ZooKeeper 3.9 standalone, from Maven Central jars: canal's cluster discovery
// (/otter/canal/destinations/<dest>/running) for the tcp source's fail-over tests.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { copyDependencies } from '../lib/maven.mjs';
import { CACHE_DIR, RUN_DIR } from '../lib/paths.mjs';
import { ownsPid, startDetached, stopPid, writeIfChanged } from '../lib/util.mjs';

export const ZOOKEEPER_VERSION = '3.9.5';
const PORT = 12181;

const LIBS = path.join(CACHE_DIR, `zookeeper-${ZOOKEEPER_VERSION}`, 'libs');
const HOME = path.join(RUN_DIR, 'zookeeper');
const DATA = path.join(HOME, 'data');
const LOG = path.join(HOME, 'logs', 'server.log');
const CONF = path.join(HOME, 'zoo.cfg');

async function download() {
  const marker = path.join(LIBS, '.complete');
  if (fs.existsSync(marker)) return false;
  fs.rmSync(LIBS, { recursive: true, force: true });
  await copyDependencies(
    path.join(CACHE_DIR, `zookeeper-${ZOOKEEPER_VERSION}`, 'pom'),
    [
      { groupId: 'org.apache.zookeeper', artifactId: 'zookeeper', version: ZOOKEEPER_VERSION },
      // Optional (provided) in ZooKeeper's POM but needed by the server: metrics, snapshot
      // compression and a logger.
      { groupId: 'io.dropwizard.metrics', artifactId: 'metrics-core', version: '4.2.30' },
      { groupId: 'org.xerial.snappy', artifactId: 'snappy-java', version: '1.1.10.5' },
      { groupId: 'org.slf4j', artifactId: 'slf4j-simple', version: '2.0.13' },
    ],
    LIBS,
    path.join(HOME, 'logs', 'download.log'),
  );
  fs.writeFileSync(marker, new Date().toISOString());
  return true;
}

/** Sends a four-letter word and returns the answer. */
function fourLetters(endpoint, word, timeoutMs = 2000) {
  const [host, port] = [endpoint.replace(/:\d+$/, ''), Number(endpoint.split(':').pop())];
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    let out = '';
    const timer = setTimeout(() => socket.destroy(new Error(`${word}: no answer`)), timeoutMs);
    socket.on('connect', () => socket.write(word));
    socket.on('data', (d) => (out += d.toString('utf8')));
    socket.on('error', (e) => (clearTimeout(timer), reject(e)));
    socket.on('close', () => (clearTimeout(timer), resolve(out)));
  });
}

/** @type {import('../lib/service.mjs').Service} */
export const zookeeper = {
  name: 'zookeeper',
  envVar: 'SLUICE_TEST_ZOOKEEPER',
  requires: ['java', 'mvn'],
  endpoint: `127.0.0.1:${PORT}`,
  ports: [PORT],
  logFile: LOG,
  readyTimeoutMs: 60_000,
  dirs: { home: HOME, data: DATA },
  async prepare(say) {
    fs.mkdirSync(path.join(HOME, 'logs'), { recursive: true });
    fs.mkdirSync(DATA, { recursive: true });
    if (await download()) say(`downloaded ZooKeeper ${ZOOKEEPER_VERSION} jars into ${LIBS}`);
    writeIfChanged(
      CONF,
      `# Written by test/testbed (sluice). Standalone ZooKeeper on loopback.
tickTime=500
minSessionTimeout=1000
maxSessionTimeout=60000
dataDir=${DATA}
clientPort=${PORT}
clientPortAddress=127.0.0.1
maxClientCnxns=200
admin.enableServer=false
4lw.commands.whitelist=ruok,srvr
autopurge.purgeInterval=1
`,
    );
  },
  async start() {
    const pid = startDetached(
      'java',
      [
        '-Xms32m',
        '-Xmx128m',
        '-XX:+UseSerialGC',
        '-XX:TieredStopAtLevel=1',
        '-Dzookeeper.admin.enableServer=false',
        '-cp',
        `${LIBS}/*`,
        'org.apache.zookeeper.server.quorum.QuorumPeerMain',
        CONF,
      ],
      { cwd: HOME, logFile: LOG },
    );
    return { pid, marker: CONF };
  },
  async probe(endpoint) {
    const ok = await fourLetters(endpoint, 'ruok');
    if (ok !== 'imok') throw new Error(`ruok answered ${JSON.stringify(ok)}`);
    // ruok answers imok before the database is loaded; srvr only once it serves.
    const srvr = await fourLetters(endpoint, 'srvr');
    const version = /Zookeeper version: ([^,-]+)/.exec(srvr)?.[1];
    if (!version) throw new Error(`not serving yet: ${srvr.trim()}`);
    return `zookeeper ${version}`;
  },
  async stop(st) {
    if (st.pid && st.marker) await stopPid(st.pid, st.marker, 'SIGTERM', 15_000);
  },
  isOurs: (st) => !!st.pid && !!st.marker && ownsPid(st.pid, st.marker),
};
