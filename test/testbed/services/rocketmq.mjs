// Apache RocketMQ 5.3.3: name server and broker in ONE JVM (a tiny launcher calls both
// NamesrvStartup.main and BrokerStartup.main), jars from Maven Central.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { copyDependencies } from '../lib/maven.mjs';
import { CACHE_DIR, RUN_DIR } from '../lib/paths.mjs';
import { ownsPid, startDetached, stopPid, writeIfChanged } from '../lib/util.mjs';

export const ROCKETMQ_VERSION = '5.3.3';
const NAMESRV_PORT = 19876;
// The broker also listens on BROKER_PORT - 2 (its "fast"/VIP channel) and on HA_PORT.
const BROKER_PORT = 19911;
const HA_PORT = 19912;

const LIBS = path.join(CACHE_DIR, `rocketmq-${ROCKETMQ_VERSION}`, 'libs');
const HOME = path.join(RUN_DIR, 'rocketmq');
const DATA = path.join(HOME, 'store');
const LOG = path.join(HOME, 'logs', 'console.log');
const BROKER_CONF = path.join(HOME, 'broker.conf');

// The stock scripts ask for 4-8 GiB; a test broker is fine with far less.
const HEAP = ['-Xms128m', '-Xmx384m', '-XX:MaxDirectMemorySize=256m'];

async function download() {
  const marker = path.join(LIBS, '.complete');
  if (fs.existsSync(marker)) return false;
  fs.rmSync(LIBS, { recursive: true, force: true });
  await copyDependencies(
    path.join(CACHE_DIR, `rocketmq-${ROCKETMQ_VERSION}`, 'pom'),
    [
      { groupId: 'org.apache.rocketmq', artifactId: 'rocketmq-namesrv', version: ROCKETMQ_VERSION },
      { groupId: 'org.apache.rocketmq', artifactId: 'rocketmq-broker', version: ROCKETMQ_VERSION },
    ],
    LIBS,
    path.join(HOME, 'logs', 'download.log'),
  );
  fs.writeFileSync(marker, new Date().toISOString());
  return true;
}

/**
 * Writes the name server and broker configuration and the one-JVM launcher into `home`.
 * Exported so a test can run a private instance (e.g. to restart it) on ports of its own.
 * @param {{home: string, namesrvPort: number, brokerPort: number, haPort: number}} o
 */
export function writeRocketMQConfig(o) {
  const data = path.join(o.home, 'store');
  fs.mkdirSync(path.join(o.home, 'logs'), { recursive: true });
  writeIfChanged(
    path.join(o.home, 'namesrv.conf'),
    `# Written by test/testbed (sluice).
listenPort=${o.namesrvPort}
bindAddress=127.0.0.1
`,
  );
  writeIfChanged(
    path.join(o.home, 'broker.conf'),
    `# Written by test/testbed (sluice). One master broker on loopback.
brokerClusterName=SluiceCluster
brokerName=broker-a
brokerId=0
brokerRole=ASYNC_MASTER
flushDiskType=ASYNC_FLUSH
namesrvAddr=127.0.0.1:${o.namesrvPort}
brokerIP1=127.0.0.1
bindAddress=127.0.0.1
listenPort=${o.brokerPort}
haListenPort=${o.haPort}
autoCreateTopicEnable=true
autoCreateSubscriptionGroup=true
storePathRootDir=${data}
storePathCommitLog=${path.join(data, 'commitlog')}
mappedFileSizeCommitLog=67108864
mappedFileSizeConsumeQueue=300000
diskMaxUsedSpaceRatio=98
fileReservedTime=1
deleteWhen=04
`,
  );
  writeIfChanged(
    path.join(o.home, 'SluiceRocketMQ.java'),
    `// Written by test/testbed (sluice): name server and broker in one JVM.
public class SluiceRocketMQ {
  public static void main(String[] args) throws Exception {
    org.apache.rocketmq.namesrv.NamesrvStartup.main(new String[] {"-c", args[0]});
    org.apache.rocketmq.broker.BrokerStartup.main(new String[] {"-c", args[1]});
  }
}
`,
  );
}

/**
 * The `java` arguments that run the instance configured in `home` (after {@link download}).
 * @param {string} home
 */
export function rocketmqJavaArgs(home) {
  return [
    ...HEAP,
    '-XX:+UseG1GC',
    '-XX:TieredStopAtLevel=1',
    '-Djava.awt.headless=true',
    `-Drocketmq.home.dir=${home}`,
    // A queue lock (LOCK_BATCH_MQ) of a consumer that died without unlocking lasts 60 s by
    // default; the crash tests restart consumers many times, so let it expire after 5 s.
    '-Drocketmq.broker.rebalance.lockMaxLiveTime=5000',
    // RocketMQ's logback configs write under ${user.home}/logs/rocketmqlogs.
    `-Duser.home=${home}`,
    '-cp',
    `${LIBS}/*`,
    path.join(home, 'SluiceRocketMQ.java'),
    path.join(home, 'namesrv.conf'),
    path.join(home, 'broker.conf'),
  ];
}

/** The jars' directory, once `pnpm testbed up rocketmq` downloaded them. */
export const ROCKETMQ_LIBS = LIBS;

/**
 * One remoting request (JSON header, see plugins/source-rocketmq/src/remoting.ts) to host:port.
 * @returns {Promise<{code: number, remark?: string, body: Buffer}>}
 */
export function remotingRequest(address, code, extFields = {}) {
  const [host, port] = [
    address.slice(0, address.lastIndexOf(':')),
    Number(address.split(':').pop()),
  ];
  return new Promise((resolve, reject) => {
    const socket = net.createConnection({ host, port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`${address}: no answer to request ${code}`));
    }, 5000);
    let buf = Buffer.alloc(0);
    socket.on('connect', () => {
      const header = Buffer.from(
        JSON.stringify({ code, language: 'JAVA', version: 453, opaque: 1, flag: 0, extFields }),
      );
      const frame = Buffer.alloc(8);
      frame.writeInt32BE(4 + header.length, 0);
      frame.writeInt32BE(header.length, 4);
      socket.write(Buffer.concat([frame, header]));
    });
    socket.on('data', (chunk) => {
      buf = Buffer.concat([buf, chunk]);
      if (buf.length < 4 || buf.length < 4 + buf.readInt32BE(0)) return;
      clearTimeout(timer);
      socket.destroy();
      const headerLength = buf.readInt32BE(4) & 0xffffff;
      const header = JSON.parse(buf.subarray(8, 8 + headerLength).toString('utf8'));
      resolve({ ...header, body: buf.subarray(8 + headerLength, 4 + buf.readInt32BE(0)) });
    });
    socket.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

/** @type {import('../lib/service.mjs').Service} */
export const rocketmq = {
  name: 'rocketmq',
  envVar: 'SLUICE_TEST_ROCKETMQ',
  requires: ['java', 'mvn'],
  endpoint: `127.0.0.1:${NAMESRV_PORT}`,
  ports: [NAMESRV_PORT, BROKER_PORT - 2, BROKER_PORT, HA_PORT],
  logFile: LOG,
  readyTimeoutMs: 120_000,
  dirs: { home: HOME, data: DATA },
  async prepare(say) {
    fs.mkdirSync(path.join(HOME, 'logs'), { recursive: true });
    if (await download()) say(`downloaded RocketMQ ${ROCKETMQ_VERSION} jars into ${LIBS}`);
    writeRocketMQConfig({
      home: HOME,
      namesrvPort: NAMESRV_PORT,
      brokerPort: BROKER_PORT,
      haPort: HA_PORT,
    });
  },
  async start() {
    const pid = startDetached('java', rocketmqJavaArgs(HOME), { cwd: HOME, logFile: LOG });
    return { pid, marker: BROKER_CONF };
  },
  async probe(endpoint) {
    // The name server knows a broker, and that broker answers (GET_BROKER_RUNTIME_INFO).
    const cluster = await remotingRequest(endpoint, 106);
    if (cluster.code !== 0) throw new Error(`cluster info: code ${cluster.code} ${cluster.remark}`);
    const addresses = [
      ...new Set(cluster.body.toString('utf8').match(/\d+\.\d+\.\d+\.\d+:\d+/g) ?? []),
    ];
    if (addresses.length === 0) throw new Error('no broker registered with the name server');
    const runtime = await remotingRequest(addresses[0], 28);
    if (runtime.code !== 0) throw new Error(`broker runtime info: code ${runtime.code}`);
    return `broker(s) ${addresses.join(', ')}`;
  },
  async stop(st) {
    if (st.pid && st.marker) await stopPid(st.pid, st.marker, 'SIGTERM', 45_000);
  },
  isOurs: (st) => !!st.pid && !!st.marker && ownsPid(st.pid, st.marker),
};
