// OpenSearch 2.19 assembled from Maven Central: the integ-test-zip (only transport-netty4) plus
// the module jars lang-painless, reindex, parent-join, analysis-common and mapper-extras, each
// in modules/<name>/ with its own dependency jars and a plugin-descriptor.properties written
// here. That gives what the Elasticsearch 8.19 integ-test-zip lacks: painless scripts,
// _update_by_query, _delete_by_query, _reindex and the `join` field (has_child/has_parent).
// OpenSearch refuses to run as root, so as root it runs as the Elasticsearch user `sluice-es`.
import fs from 'node:fs';
import path from 'node:path';
import { copyArtifact, copyDependencies } from '../lib/maven.mjs';
import { RUN_DIR } from '../lib/paths.mjs';
import { javaHome } from '../lib/prereqs.mjs';
import {
  chownR,
  mkdirOwned,
  ownsPid,
  readPidFile,
  run,
  stopPid,
  TestbedError,
  tailFile,
} from '../lib/util.mjs';
import { createUser, esIds } from './elasticsearch.mjs';

export const OPENSEARCH_VERSION = '2.19.6';
const PORT = 19201;
const TRANSPORT_PORT = 19301;

const ROOT = path.join(RUN_DIR, 'opensearch');
const HOME = path.join(ROOT, `opensearch-${OPENSEARCH_VERSION}`);
const DATA = path.join(ROOT, 'data');
const LOGS = path.join(ROOT, 'logs');
const TMP = path.join(ROOT, 'tmp');
const PIDFILE = path.join(ROOT, 'opensearch.pid');
const STDOUT = path.join(ROOT, 'launcher.log');
const LOG = path.join(LOGS, 'sluice-testbed-os.log');

/**
 * The modules added to the zip: directory, Maven artifact, plugin class, the plugins it extends
 * (analysis-common adds painless allow-lists) and its security policy (painless generates
 * classes). Descriptor values as in OpenSearch's own modules/<name>/build.gradle.
 */
const MODULES = [
  {
    dir: 'lang-painless',
    artifactId: 'lang-painless',
    classname: 'org.opensearch.painless.PainlessPlugin',
    description: 'An easy, safe and fast scripting language for OpenSearch',
    extended: '',
    policy: `grant {
  // needed to generate runtime classes
  permission java.lang.RuntimePermission "createClassLoader";
  // needed to find the classloader to load allowlisted classes from
  permission java.lang.RuntimePermission "getClassLoader";
};
`,
  },
  {
    dir: 'reindex',
    artifactId: 'reindex-client',
    classname: 'org.opensearch.index.reindex.ReindexPlugin',
    description:
      'The Reindex module adds APIs to reindex from one index to another or update documents in place.',
    extended: '',
    policy: `grant {
  // reindex from a remote cluster opens connections with the REST client
  permission java.net.SocketPermission "*", "connect";
};
`,
  },
  {
    dir: 'parent-join',
    artifactId: 'parent-join-client',
    classname: 'org.opensearch.join.ParentJoinPlugin',
    description: 'This module adds the support parent-child queries and aggregations',
    extended: '',
  },
  {
    dir: 'analysis-common',
    artifactId: 'analysis-common',
    classname: 'org.opensearch.analysis.common.CommonAnalysisPlugin',
    description: 'Adds "built in" analyzers to OpenSearch.',
    extended: 'lang-painless',
  },
  {
    dir: 'mapper-extras',
    artifactId: 'mapper-extras-client',
    classname: 'org.opensearch.index.mapper.MapperExtrasPlugin',
    description: 'Adds advanced field mappers',
    extended: '',
  },
];

/** Installs one module: its jar and dependency jars not already on the server's classpath. */
async function installModule(mod, say) {
  const dir = path.join(HOME, 'modules', mod.dir);
  const work = path.join(ROOT, 'download', mod.dir);
  fs.rmSync(dir, { recursive: true, force: true });
  await copyDependencies(
    work,
    [{ groupId: 'org.opensearch.plugin', artifactId: mod.artifactId, version: OPENSEARCH_VERSION }],
    path.join(work, 'jars'),
    path.join(ROOT, 'download.log'),
  );
  // The server's own jars (lib/) must not be loaded twice ("jar hell"): drop every jar of the
  // closure that lib/ has, and the closure of org.opensearch:opensearch that lib/ leaves out.
  const serverJars = new Set(fs.readdirSync(path.join(HOME, 'lib')));
  const serverOnly = /^(opensearch-\d|zstd-jni|t-digest|jspecify|error_prone_annotations)/;
  fs.mkdirSync(dir, { recursive: true });
  const kept = [];
  for (const jar of fs.readdirSync(path.join(work, 'jars'))) {
    if (serverJars.has(jar) || serverOnly.test(jar)) continue;
    fs.copyFileSync(path.join(work, 'jars', jar), path.join(dir, jar));
    kept.push(jar);
  }
  fs.writeFileSync(
    path.join(dir, 'plugin-descriptor.properties'),
    `# Written by test/testbed (sluice) for the Maven Central jar.
description=${mod.description}
version=${OPENSEARCH_VERSION}
name=${mod.dir}
classname=${mod.classname}
java.version=11
opensearch.version=${OPENSEARCH_VERSION}
custom.foldername=
extended.plugins=${mod.extended}
has.native.controller=false
`,
  );
  if (mod.policy) fs.writeFileSync(path.join(dir, 'plugin-security.policy'), mod.policy);
  say(`module ${mod.dir}: ${kept.join(' ')}`);
}

async function install(say) {
  if (fs.existsSync(path.join(HOME, '.complete'))) return;
  const dl = path.join(ROOT, 'download');
  fs.rmSync(dl, { recursive: true, force: true });
  fs.rmSync(HOME, { recursive: true, force: true });
  await copyArtifact(
    `org.opensearch.distribution.integ-test-zip:opensearch:${OPENSEARCH_VERSION}:zip`,
    dl,
    path.join(ROOT, 'download.log'),
  );
  await run('unzip', [
    '-q',
    '-o',
    path.join(dl, `opensearch-${OPENSEARCH_VERSION}.zip`),
    '-d',
    ROOT,
  ]);
  for (const mod of MODULES) await installModule(mod, say);
  fs.rmSync(dl, { recursive: true, force: true });
  fs.writeFileSync(path.join(HOME, '.complete'), new Date().toISOString());
  say(
    `assembled OpenSearch ${OPENSEARCH_VERSION} (integ-test-zip + modules from ~/.m2) in ${HOME}`,
  );
}

function writeConfig() {
  fs.writeFileSync(
    path.join(HOME, 'config', 'opensearch.yml'),
    `# Written by test/testbed (sluice).
cluster.name: sluice-testbed-os
node.name: sluice-os1
discovery.type: single-node
network.host: 127.0.0.1
http.port: ${PORT}
transport.port: ${TRANSPORT_PORT}
path.data: ${DATA}
path.logs: ${LOGS}
cluster.routing.allocation.disk.threshold_enabled: false
action.destructive_requires_name: false
`,
  );
}

/** @type {import('../lib/service.mjs').Service} */
export const opensearch = {
  name: 'opensearch',
  envVar: 'SLUICE_TEST_OPENSEARCH',
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
      OPENSEARCH_JAVA_HOME: javaHome(),
      JAVA_HOME: javaHome(),
      OPENSEARCH_JAVA_OPTS: '-Xms512m -Xmx512m',
      OPENSEARCH_TMPDIR: TMP,
    };
    const fd = fs.openSync(STDOUT, 'a');
    if (ids) fs.fchownSync(fd, ids.uid, ids.gid);
    fs.writeSync(fd, `\n===== ${new Date().toISOString()} starting opensearch\n`);
    const { spawn } = await import('node:child_process');
    const code = await new Promise((resolve, reject) => {
      const child = spawn(path.join(HOME, 'bin', 'opensearch'), ['-d', '-p', PIDFILE], {
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
        `opensearch launcher exited ${code}\n--- ${STDOUT} ---\n${tailFile(STDOUT)}\n` +
          `--- ${LOG} ---\n${tailFile(LOG)}`,
      );
    // The pid file appears once the node has initialised (seconds after the launcher returns).
    const pid = await readPidFile(PIDFILE, 1200 * 100);
    return { pid, marker: `${HOME}/lib` };
  },
  async probe(endpoint) {
    const base = endpoint.replace(/\/$/, '');
    const res = await fetch(`${base}/_cluster/health?wait_for_status=yellow&timeout=2s`, {
      signal: AbortSignal.timeout(5000),
    });
    const body = /** @type {{status?: string}} */ (await res.json());
    if (res.status !== 200 || !['yellow', 'green'].includes(body.status ?? ''))
      throw new Error(`cluster health ${res.status} ${JSON.stringify(body)}`);
    // The added modules must be loaded (a missing one would make the sink tests fail oddly).
    const nodes = await fetch(`${base}/_nodes/_local/plugins`, {
      signal: AbortSignal.timeout(5000),
    });
    const info = /** @type {{nodes?: Record<string, {modules?: {name: string}[]}>}} */ (
      await nodes.json()
    );
    const loaded = new Set(
      Object.values(info.nodes ?? {}).flatMap((n) => (n.modules ?? []).map((m) => m.name)),
    );
    const missing = MODULES.map((m) => m.dir).filter((m) => !loaded.has(m));
    if (missing.length > 0) throw new Error(`modules not loaded: ${missing.join(', ')}`);
    return `health ${body.status}, modules ${[...loaded].sort().join(' ')}`;
  },
  async stop(st) {
    if (st.pid && st.marker) await stopPid(st.pid, st.marker, 'SIGTERM', 45_000);
  },
  isOurs: (st) => !!st.pid && !!st.marker && ownsPid(st.pid, st.marker),
};
