// Apache Kafka 3.9 in KRaft mode (one combined broker+controller), from Maven Central jars.
import fs from 'node:fs';
import path from 'node:path';
import { copyDependencies } from '../lib/maven.mjs';
import { CACHE_DIR, RUN_DIR } from '../lib/paths.mjs';
import {
  ownsPid,
  run,
  startDetached,
  stopPid,
  TestbedError,
  writeIfChanged,
} from '../lib/util.mjs';

export const KAFKA_VERSION = '3.9.1';
const PORT = 19092;
const CONTROLLER_PORT = 19093;
// SASL_PLAINTEXT listener with mechanism PLAIN and one user (no authorizer: the user may do
// anything). Same values as TESTBED_KAFKA_SASL in test/support/testbed.ts.
const SASL_PORT = 19094;
const SASL_USER = 'sluice';
const SASL_PASSWORD = 'sluice-secret';

const LIBS = path.join(CACHE_DIR, `kafka-${KAFKA_VERSION}`, 'libs');
const HOME = path.join(RUN_DIR, 'kafka');
const DATA = path.join(HOME, 'data');
const LOG = path.join(HOME, 'logs', 'server.log');
const CONF = path.join(HOME, 'server.properties');
const LOG4J = path.join(HOME, 'log4j.properties');

const HEAP = ['-Xms256m', '-Xmx512m'];
// What kafka-run-class.sh uses as KAFKA_JVM_PERFORMANCE_OPTS.
const PERF = [
  '-XX:+UseG1GC',
  '-XX:MaxGCPauseMillis=20',
  '-XX:InitiatingHeapOccupancyPercent=35',
  '-XX:+ExplicitGCInvokesConcurrent',
  '-Djava.awt.headless=true',
];

async function download() {
  const marker = path.join(LIBS, '.complete');
  if (fs.existsSync(marker)) return false;
  fs.rmSync(LIBS, { recursive: true, force: true });
  await copyDependencies(
    path.join(CACHE_DIR, `kafka-${KAFKA_VERSION}`, 'pom'),
    [
      { groupId: 'org.apache.kafka', artifactId: 'kafka_2.13', version: KAFKA_VERSION },
      // Logging backend: reload4j is compileOnly in kafka_2.13's POM, so add it ourselves.
      { groupId: 'org.slf4j', artifactId: 'slf4j-reload4j', version: '1.7.36' },
      { groupId: 'ch.qos.reload4j', artifactId: 'reload4j', version: '1.2.25' },
    ],
    LIBS,
    path.join(HOME, 'logs', 'download.log'),
  );
  fs.writeFileSync(marker, new Date().toISOString());
  return true;
}

function writeConfig() {
  writeIfChanged(
    CONF,
    `# Written by test/testbed (sluice). Single-node KRaft broker+controller on loopback.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:${CONTROLLER_PORT}
listeners=PLAINTEXT://127.0.0.1:${PORT},CONTROLLER://127.0.0.1:${CONTROLLER_PORT},SASL_PLAINTEXT://127.0.0.1:${SASL_PORT}
advertised.listeners=PLAINTEXT://127.0.0.1:${PORT},SASL_PLAINTEXT://127.0.0.1:${SASL_PORT}
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT
listener.name.sasl_plaintext.sasl.enabled.mechanisms=PLAIN
listener.name.sasl_plaintext.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="${SASL_USER}" password="${SASL_PASSWORD}" user_${SASL_USER}="${SASL_PASSWORD}";
log.dirs=${DATA}
auto.create.topics.enable=false
delete.topic.enable=true
num.partitions=1
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=1
group.initial.rebalance.delay.ms=0
num.network.threads=2
num.io.threads=2
num.recovery.threads.per.data.dir=1
log.retention.hours=1
log.segment.bytes=16777216
`,
  );
  writeIfChanged(
    LOG4J,
    `log4j.rootLogger=INFO, stdout
log4j.appender.stdout=org.apache.log4j.ConsoleAppender
log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka=INFO
log4j.logger.org.apache.kafka=INFO
log4j.logger.kafka.request.logger=WARN
log4j.logger.state.change.logger=WARN
log4j.logger.org.apache.kafka.controller=INFO
`,
  );
}

const javaArgs = (extra) => [
  ...extra,
  `-Dlog4j.configuration=file:${LOG4J}`,
  `-Dkafka.logs.dir=${path.join(HOME, 'logs')}`,
  '-cp',
  `${LIBS}/*`,
];

async function format() {
  if (fs.existsSync(path.join(DATA, 'meta.properties'))) return;
  const uuidOut = await run('java', [
    ...javaArgs(['-Xmx128m', '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1']),
    'kafka.tools.StorageTool',
    'random-uuid',
  ]);
  const clusterId = uuidOut.trim().split('\n').pop()?.trim();
  if (!clusterId || !/^[A-Za-z0-9_-]{22}$/.test(clusterId))
    throw new TestbedError(`kafka: unexpected StorageTool random-uuid output: ${uuidOut}`);
  await run(
    'java',
    [
      ...javaArgs(['-Xmx256m', '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1']),
      'kafka.tools.StorageTool',
      'format',
      '-t',
      clusterId,
      '-c',
      CONF,
      '--ignore-formatted',
    ],
    { logFile: path.join(HOME, 'logs', 'format.log') },
  );
}

/** @type {import('../lib/service.mjs').Service} */
export const kafka = {
  name: 'kafka',
  envVar: 'SLUICE_TEST_KAFKA',
  requires: ['java', 'mvn'],
  endpoint: `127.0.0.1:${PORT}`,
  ports: [PORT, CONTROLLER_PORT, SASL_PORT],
  logFile: LOG,
  readyTimeoutMs: 180_000,
  dirs: { home: HOME, data: DATA },
  async prepare(say) {
    fs.mkdirSync(path.join(HOME, 'logs'), { recursive: true });
    if (await download()) say(`downloaded Kafka ${KAFKA_VERSION} jars into ${LIBS}`);
    writeConfig();
    await format();
  },
  async start() {
    const pid = startDetached('java', [...javaArgs([...HEAP, ...PERF]), 'kafka.Kafka', CONF], {
      cwd: HOME,
      logFile: LOG,
    });
    return { pid, marker: CONF };
  },
  async probe(endpoint) {
    const { Kafka, logLevel } = await import('kafkajs');
    const client = new Kafka({
      clientId: 'sluice-testbed-probe',
      brokers: [endpoint],
      logLevel: logLevel.NOTHING,
      connectionTimeout: 3000,
      requestTimeout: 10_000,
      retry: { retries: 0 },
    });
    const admin = client.admin();
    try {
      await admin.connect();
      const cluster = await admin.describeCluster();
      if (cluster.brokers.length < 1) throw new Error('no broker in metadata');
      const topic = `__sluice_testbed_probe_${process.pid}_${Date.now()}`;
      const created = await admin.createTopics({
        waitForLeaders: true,
        timeout: 10_000,
        topics: [{ topic, numPartitions: 1, replicationFactor: 1 }],
      });
      if (!created) throw new Error(`createTopics(${topic}) returned false`);
      await admin.deleteTopics({ topics: [topic], timeout: 10_000 });
      return `${cluster.brokers.length} broker(s), controller ${cluster.controller}`;
    } finally {
      await admin.disconnect().catch(() => {});
    }
  },
  // Warm-up: the first FindCoordinator creates __consumer_offsets; until its leader is elected,
  // consumers get "The group coordinator is not available". Do that here, not in the first test.
  async afterReady(endpoint) {
    await warmUp(endpoint);
    await checkSaslListener(endpoint);
  },
  async stop(st) {
    if (st.pid && st.marker) await stopPid(st.pid, st.marker, 'SIGTERM', 45_000);
  },
  isOurs: (st) => !!st.pid && !!st.marker && ownsPid(st.pid, st.marker),
};

async function warmUp(endpoint) {
  const { Kafka, logLevel } = await import('kafkajs');
  const admin = new Kafka({
    clientId: 'sluice-testbed-warmup',
    brokers: [endpoint],
    logLevel: logLevel.NOTHING,
    retry: { retries: 0 },
  }).admin();
  try {
    await admin.connect();
    const deadline = Date.now() + 60_000;
    for (;;) {
      try {
        await admin.describeGroups(['__sluice_testbed_warmup']);
        return;
      } catch (e) {
        if (Date.now() > deadline) throw e;
        await new Promise((r) => setTimeout(r, 300));
      }
    }
  } finally {
    await admin.disconnect().catch(() => {});
  }
}

/**
 * The SASL listener answers with the testbed user. A broker started by an older testbed (before
 * the listener existed) keeps running without it: KRaft cannot add an advertised listener at
 * runtime, and `up` never restarts a running service (others may be using it). Then this only
 * warns, naming the restart that applies the new configuration (data is kept).
 */
async function checkSaslListener(endpoint) {
  const host = endpoint.replace(/:\d+$/, '');
  const { Kafka, logLevel } = await import('kafkajs');
  const admin = new Kafka({
    clientId: 'sluice-testbed-sasl-probe',
    brokers: [`${host}:${SASL_PORT}`],
    sasl: { mechanism: 'plain', username: SASL_USER, password: SASL_PASSWORD },
    logLevel: logLevel.NOTHING,
    connectionTimeout: 3000,
    retry: { retries: 0 },
  }).admin();
  try {
    await admin.connect();
    await admin.describeCluster();
  } catch (error) {
    if (!/ECONNREFUSED/.test(`${error?.message} ${error?.cause?.message ?? ''}`))
      throw new TestbedError(`kafka: the SASL listener on ${SASL_PORT} fails: ${error?.message}`);
    console.warn(
      `[kafka] the running broker predates the SASL/PLAIN listener on ${host}:${SASL_PORT} ` +
        '(tests that need it are skipped). To apply the new configuration, restart it ' +
        '(data is kept): pnpm testbed down kafka --keep-data && pnpm testbed up kafka',
    );
  } finally {
    await admin.disconnect().catch(() => {});
  }
}
