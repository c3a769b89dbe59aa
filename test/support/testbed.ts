/**
 * Endpoints of the real services that integration and end-to-end tests talk to.
 *
 * Each service comes from its environment variable when set (SLUICE_TEST_KAFKA, SLUICE_TEST_ES,
 * SLUICE_TEST_MYSQL, SLUICE_TEST_PG, SLUICE_TEST_REDIS), otherwise from the state file that
 * `pnpm testbed up` writes. A service that is neither set nor running is an error naming
 * `pnpm testbed up` — tests never skip silently.
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export type ServiceName =
  | 'kafka'
  | 'es'
  | 'opensearch'
  | 'mysql'
  | 'pg'
  | 'redis'
  | 'redis-cluster'
  | 'canal'
  | 'rabbitmq'
  | 'rocketmq'
  | 'zookeeper';

export interface MysqlEndpoint {
  host: string;
  port: number;
  /** An account with all privileges (root on the managed testbed). */
  user: string;
  password: string;
  /** mysql://user:pass@host:port */
  uri: string;
  /** A replication account (SELECT, REPLICATION SLAVE, REPLICATION CLIENT), as canal uses. */
  replication: { user: string; password: string };
  /** Pre-created databases on the managed testbed; on an external server create your own. */
  sourceDatabase: string;
  targetDatabase: string;
}

export interface PgEndpoint {
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
  /** postgres://user[:pass]@host:port/database */
  uri: string;
}

export interface TestbedEndpoints {
  /** Kafka bootstrap server, host:port. */
  kafka: string;
  /** Elasticsearch base URL, e.g. http://127.0.0.1:19200 */
  es: string;
  mysql: MysqlEndpoint;
  pg: PgEndpoint;
  /** redis://host:port */
  redis: string;
}

const ENV_VARS: Record<ServiceName, string> = {
  kafka: 'SLUICE_TEST_KAFKA',
  es: 'SLUICE_TEST_ES',
  opensearch: 'SLUICE_TEST_OPENSEARCH',
  mysql: 'SLUICE_TEST_MYSQL',
  pg: 'SLUICE_TEST_PG',
  redis: 'SLUICE_TEST_REDIS',
  'redis-cluster': 'SLUICE_TEST_REDIS_CLUSTER',
  canal: 'SLUICE_TEST_CANAL',
  rabbitmq: 'SLUICE_TEST_RABBITMQ',
  rocketmq: 'SLUICE_TEST_ROCKETMQ',
  zookeeper: 'SLUICE_TEST_ZOOKEEPER',
};

/** Same rule as test/testbed/lib/paths.mjs. */
export function testbedStateFile(): string {
  const cache =
    process.env.SLUICE_TESTBED_CACHE ||
    join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'sluice-testbed');
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  const run =
    process.env.SLUICE_TESTBED_RUN || (isRoot ? '/var/tmp/sluice-testbed' : join(cache, 'run'));
  return join(run, 'state.json');
}

interface ServiceState {
  endpoint: string;
  managed: boolean;
  pid?: number;
}

function readStateServices(): Record<string, ServiceState> {
  try {
    const parsed = JSON.parse(readFileSync(testbedStateFile(), 'utf8')) as {
      services?: Record<string, ServiceState>;
    };
    return parsed.services ?? {};
  } catch {
    return {};
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export class TestbedMissingError extends Error {
  constructor(service: ServiceName, why: string) {
    super(
      `The ${service} test service is not available (${why}). ` +
        `Run \`pnpm testbed up\` (or \`pnpm test\`, which does it), ` +
        `or set ${ENV_VARS[service]} to your own instance.`,
    );
    this.name = 'TestbedMissingError';
  }
}

/** The raw endpoint string of one service (env var first, then the testbed state file). */
export function testbedEndpoint(service: ServiceName): string {
  const fromEnv = process.env[ENV_VARS[service]]?.trim();
  if (fromEnv) return fromEnv;
  const st = readStateServices()[service];
  if (!st?.endpoint) throw new TestbedMissingError(service, `not in ${testbedStateFile()}`);
  if (st.managed && st.pid !== undefined && !pidAlive(st.pid))
    throw new TestbedMissingError(service, `its recorded process ${st.pid} is gone`);
  return st.endpoint;
}

export function kafkaBroker(): string {
  return testbedEndpoint('kafka').replace(/^[a-z]+:\/\//, '');
}

/** The RocketMQ name server, host:port (test/testbed/services/rocketmq.mjs). */
export function rocketmqNameServer(): string {
  return testbedEndpoint('rocketmq').replace(/^[a-z]+:\/\//, '');
}

/** A Kafka listener that requires SASL/PLAIN credentials. */
export interface KafkaSaslEndpoint {
  /** host:port of the SASL_PLAINTEXT listener. */
  broker: string;
  username: string;
  password: string;
}

/** The managed testbed's SASL_PLAINTEXT listener (see test/testbed/services/kafka.mjs). */
export const TESTBED_KAFKA_SASL = {
  port: 19094,
  username: 'sluice',
  password: 'sluice-secret',
} as const;

/**
 * The SASL/PLAIN listener of the test Kafka: `SLUICE_TEST_KAFKA_SASL=user:password@host:port`
 * when set, else the managed testbed's (127.0.0.1:19094, user `sluice`, password
 * `sluice-secret`). With an external `SLUICE_TEST_KAFKA` but no `SLUICE_TEST_KAFKA_SASL`, throws.
 * The listener lives on the same broker as {@link kafkaBroker} (topics are shared).
 */
export function kafkaSaslEndpoint(): KafkaSaslEndpoint {
  const fromEnv = process.env.SLUICE_TEST_KAFKA_SASL?.trim();
  if (fromEnv) {
    const m = /^([^:@]+):([^@]*)@([^@]+:\d+)$/.exec(fromEnv);
    if (!m) throw new Error('SLUICE_TEST_KAFKA_SASL must look like user:password@host:port.');
    return { username: m[1]!, password: m[2]!, broker: m[3]! };
  }
  if (process.env.SLUICE_TEST_KAFKA?.trim())
    throw new TestbedMissingError(
      'kafka',
      'SLUICE_TEST_KAFKA is set but SLUICE_TEST_KAFKA_SASL (user:password@host:port of a SASL/PLAIN listener on the same broker) is not',
    );
  const host = kafkaBroker().replace(/:\d+$/, '');
  return {
    broker: `${host}:${TESTBED_KAFKA_SASL.port}`,
    username: TESTBED_KAFKA_SASL.username,
    password: TESTBED_KAFKA_SASL.password,
  };
}

/**
 * Why the SASL listener cannot be used, or `undefined` when it can. Only a managed testbed broker
 * started before the listener was added lacks it (`pnpm testbed up` warns and names the restart);
 * tests then skip with this reason. A listener named by SLUICE_TEST_KAFKA_SASL is never skipped.
 */
export async function kafkaSaslUnavailable(): Promise<string | undefined> {
  if (process.env.SLUICE_TEST_KAFKA_SASL?.trim()) return undefined;
  const { broker } = kafkaSaslEndpoint();
  const { connect } = await import('node:net');
  const host = broker.replace(/:\d+$/, '');
  const port = Number(/\d+$/.exec(broker)![0]);
  return new Promise((resolve) => {
    const socket = connect({ host, port }, () => {
      socket.destroy();
      resolve(undefined);
    });
    socket.on('error', () =>
      resolve(
        `the running testbed Kafka has no SASL listener on ${broker} (it was started before the ` +
          'listener was added); restart it: pnpm testbed down kafka --keep-data && pnpm testbed up kafka',
      ),
    );
  });
}

export function esUrl(): string {
  return testbedEndpoint('es').replace(/\/+$/, '');
}

/** The OpenSearch 2.19 base URL (painless, update/delete-by-query, join field), e.g. http://127.0.0.1:19201 */
export function opensearchUrl(): string {
  return testbedEndpoint('opensearch').replace(/\/+$/, '');
}

export function redisUrl(): string {
  return testbedEndpoint('redis');
}

/** Seed nodes of the testbed's 3-master Redis Cluster, `host:port,host:port,host:port`. */
/** ZooKeeper connect string (host:port) for canal's cluster discovery (tcp source). */
export function zookeeperHosts(): string {
  return testbedEndpoint('zookeeper');
}

export function redisClusterNodes(): string {
  return testbedEndpoint('redis-cluster');
}

/** The testbed's own RabbitMQ node (never the machine's on 5672), `amqp://user:pass@host:port`. */
export function rabbitmqUrl(): string {
  return testbedEndpoint('rabbitmq');
}

export function mysqlEndpoint(): MysqlEndpoint {
  const raw = testbedEndpoint('mysql');
  const u = new URL(raw);
  const user = decodeURIComponent(u.username) || 'root';
  const password = decodeURIComponent(u.password);
  const port = Number(u.port || 3306);
  const db = decodeURIComponent(u.pathname.replace(/^\//, ''));
  const repl = process.env.SLUICE_TEST_MYSQL_REPLICATION?.split(':');
  return {
    host: u.hostname,
    port,
    user,
    password,
    uri: `mysql://${encodeURIComponent(user)}:${encodeURIComponent(password)}@${u.hostname}:${port}`,
    replication: { user: repl?.[0] ?? 'canal', password: repl?.slice(1).join(':') ?? 'canal' },
    sourceDatabase: db || 'mytest',
    targetDatabase: 'sluice_target',
  };
}

export function pgEndpoint(): PgEndpoint {
  const raw = testbedEndpoint('pg');
  const u = new URL(raw);
  const user = decodeURIComponent(u.username) || 'postgres';
  const password = decodeURIComponent(u.password);
  const port = Number(u.port || 5432);
  const database = decodeURIComponent(u.pathname.replace(/^\//, '')) || 'postgres';
  const auth = password
    ? `${encodeURIComponent(user)}:${encodeURIComponent(password)}`
    : encodeURIComponent(user);
  return {
    host: u.hostname,
    port,
    user,
    password,
    database,
    uri: `postgres://${auth}@${u.hostname}:${port}/${encodeURIComponent(database)}`,
  };
}

/** All five endpoints; throws (naming `pnpm testbed up`) if any service is missing. */
export function testbedEndpoints(): TestbedEndpoints {
  return {
    kafka: kafkaBroker(),
    es: esUrl(),
    mysql: mysqlEndpoint(),
    pg: pgEndpoint(),
    redis: redisUrl(),
  };
}

let counter = 0;
const runTag = `${process.pid.toString(36)}${Date.now().toString(36).slice(-5)}`;

/**
 * A name unique across test files, workers and runs, valid as a Kafka topic, an Elasticsearch
 * index (lowercase), a MySQL/PostgreSQL database or table, and a Redis key prefix:
 * `[a-z][a-z0-9_]*`, at most 48 characters. E.g. uniqueName('orders') → "orders_k3x9f1ab2_1_x7q".
 */
export function uniqueName(prefix = 't'): string {
  counter += 1;
  let p = prefix.toLowerCase().replace(/[^a-z0-9_]+/g, '_');
  if (!/^[a-z]/.test(p)) p = `t_${p}`;
  const rand = Math.random().toString(36).slice(2, 5);
  const suffix = `_${runTag}_${counter.toString(36)}_${rand}`;
  return `${p.slice(0, 48 - suffix.length)}${suffix}`;
}

// ------------------------------------------------------------------------------------------------
// canal-server (test/testbed/services/canal.mjs): canal 1.1.7's server classes in one JVM, TCP
// server on 127.0.0.1:11111, destinations created per test through the control endpoint.

export interface CanalEndpoint {
  /** canal's TCP client protocol, host:port (127.0.0.1:11111 on the managed testbed). */
  tcp: string;
  host: string;
  port: number;
  /** Base URL of the launcher's HTTP control endpoint, e.g. http://127.0.0.1:11180 */
  control: string;
}

/** The testbed canal-server (`SLUICE_TEST_CANAL=canal://host:port?control=http://host:port`). */
export function canalEndpoint(): CanalEndpoint {
  const raw = testbedEndpoint('canal');
  const u = new URL(raw);
  const control = u.searchParams.get('control');
  if (!control) throw new Error(`SLUICE_TEST_CANAL must carry ?control=http://host:port: ${raw}`);
  const port = Number(u.port || 11111);
  return {
    tcp: `${u.hostname}:${port}`,
    host: u.hostname,
    port,
    control: control.replace(/\/+$/, ''),
  };
}

/** A binlog position (file + offset), as canal's EntryPosition. */
export interface BinlogPosition {
  journalName: string;
  position: number;
  timestamp?: number | null;
}

/** What a destination is asked for (PUT /destinations/<name>); every field optional. */
export interface CanalDestinationRequest {
  /** canal.instance.filter.regex (default `.*\\..*`). */
  filter?: string;
  /** canal.instance.filter.black.regex (default `mysql\\.slave_.*`). */
  blackFilter?: string;
  /** tcp (default): read by TCP clients; kafka: canal's MQ loop publishes to `topic`. */
  mode?: 'tcp' | 'kafka';
  /** kafka mode: canal.mq.flatMessage (default true; false = protobuf). */
  flatMessage?: boolean;
  /** kafka mode: canal.mq.topic (default: the destination name); created if missing. */
  topic?: string;
  /** kafka mode: canal.mq.partition (default 0). */
  partition?: number;
  /** kafka mode: canal.mq.partitionsNum (the topic is created with this many partitions). */
  partitionsNum?: number;
  /** kafka mode: canal.mq.partitionHash, e.g. `mydb\\..*:id`. */
  partitionHash?: string;
  /** kafka mode: canal.mq.dynamicTopic. */
  dynamicTopic?: string;
  /** kafka mode: canal.mq.canalBatchSize of this format's producer (default 50; first one wins). */
  batchSize?: number;
  /** Start here; default: the master's current position (SHOW MASTER STATUS) at creation. */
  journalName?: string;
  position?: number;
  timestamp?: number;
}

/** A destination as the control endpoint reports it. Positions are canal's EntryPositions. */
export interface CanalDestination extends CanalDestinationRequest {
  name: string;
  mode: 'tcp' | 'kafka';
  filter: string;
  journalName: string;
  position: number;
  slaveId: number;
  running: boolean;
  /** Newest event in canal's memory store. */
  storeLatest?: BinlogPosition | null;
  /** Ack cursor of client 1001 (canal's MQ loop, and canal's Java client by default). */
  cursor?: BinlogPosition | null;
  /** Where the parser would restart. */
  parsed?: BinlogPosition | null;
  parserError?: string | null;
}

async function canalControl<T>(method: string, path: string, body?: unknown): Promise<T> {
  const { control } = canalEndpoint();
  const res = await fetch(`${control}${path}`, {
    method,
    headers: body === undefined ? undefined : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`canal control ${method} ${path}: HTTP ${res.status} ${text}`);
  return JSON.parse(text) as T;
}

/**
 * Creates (and starts) a canal destination on the testbed canal-server. Idempotent for the same
 * request; a different request for an existing name is an error (drop it first). Without a start
 * position it starts at the master's current position, so SQL run after this resolves is seen.
 */
export function createCanalDestination(
  name: string,
  request: CanalDestinationRequest = {},
): Promise<CanalDestination> {
  return canalControl('PUT', `/destinations/${encodeURIComponent(name)}`, request);
}

/** Stops a destination and deletes its cursor; a missing one is not an error. */
export async function dropCanalDestination(name: string): Promise<void> {
  try {
    await canalControl('DELETE', `/destinations/${encodeURIComponent(name)}`);
  } catch (e) {
    if (!/HTTP 404/.test(String(e))) throw e;
  }
}

/** Config and live status of one destination. */
export function canalDestination(name: string): Promise<CanalDestination> {
  return canalControl('GET', `/destinations/${encodeURIComponent(name)}`);
}

/**
 * Sets (or with `undefined` clears) the TCP server's login, canal.user/canal.passwd. Global to the
 * canal-server: tests that set it must clear it and must not run beside other TCP tests.
 */
export async function setCanalServerAuth(
  auth: { user: string; password: string } | undefined,
): Promise<void> {
  if (auth) await canalControl('PUT', '/auth', auth);
  else await canalControl('DELETE', '/auth');
}
