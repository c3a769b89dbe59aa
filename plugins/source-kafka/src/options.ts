import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import type { ConnectionOptions } from 'node:tls';
import { ErrorCodes, SluiceError } from '@sluice/plugin-api';

/** SASL credentials for kafkajs, from `sasl.mechanism` + `sasl.jaas.config`. */
export interface KafkaSaslOptions {
  readonly mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512';
  readonly username: string;
  readonly password: string;
}

/** What the Kafka source does, derived from canal's `consumerProperties`. */
export interface KafkaSourceOptions {
  /** `kafka.bootstrap.servers`, split on commas. */
  readonly brokers: readonly string[];
  /** The topic (`canalAdapters[].instance`). */
  readonly topic: string;
  /** The consumer group (`groups[].groupId`). */
  readonly groupId: string;
  /** `kafka.client.id`; canal uses a random one, so do we when unset. */
  readonly clientId: string;
  /** `kafka.auto.offset.reset`: where a group without a committed offset starts. */
  readonly autoOffsetReset: 'earliest' | 'latest';
  /** `kafka.session.timeout.ms` (Java default 45000; canal's connector 30000). */
  readonly sessionTimeout: number;
  /** `kafka.heartbeat.interval.ms`. */
  readonly heartbeatInterval: number;
  /** `kafka.max.poll.interval.ms`: how long the group waits for a member to rejoin. */
  readonly rebalanceTimeout: number;
  /** `kafka.request.timeout.ms`. */
  readonly requestTimeout: number;
  /** `kafka.socket.connection.setup.timeout.ms`. */
  readonly connectionTimeout: number;
  /** `kafka.max.poll.records`: the most messages in one delivered batch. */
  readonly maxPollRecords: number;
  /** `kafka.max.partition.fetch.bytes`. */
  readonly maxBytesPerPartition: number;
  /** `kafka.fetch.max.bytes`. */
  readonly maxBytes: number;
  /** `kafka.fetch.min.bytes`. */
  readonly minBytes: number;
  /** `kafka.fetch.max.wait.ms`. */
  readonly maxWaitTimeInMs: number;
  /** `kafka.isolation.level` = `read_uncommitted`. */
  readonly readUncommitted: boolean;
  /** `kafka.retry.backoff.ms`: first retry delay of the client. */
  readonly retryBackoff: number;
  /** `kafka.metadata.max.age.ms`. */
  readonly metadataMaxAge: number;
  /** `kafka.client.rack`. */
  readonly rackId: string | undefined;
  /** `kafka.security.protocol` SSL/SASL_SSL, with the PEM trust store when given. */
  readonly ssl: false | ConnectionOptions;
  /** `kafka.security.protocol` SASL_*. */
  readonly sasl: KafkaSaslOptions | undefined;
  /** `kafka.*` keys this source does not understand (logged once, not an error). */
  readonly ignored: readonly string[];
  /** Notes about keys that were read but cannot mean what they say here (logged once). */
  readonly notes: readonly string[];
}

/** A `consumerProperties` value that cannot be used (a configuration error: fatal). */
export class KafkaOptionsError extends SluiceError {
  constructor(message: string) {
    super(ErrorCodes.config, message);
  }
}

/**
 * Keys that are accepted without effect: Sluice decides these itself (manual commits, its own
 * deserialisation) or they only tune the Java client.
 */
const ACCEPTED_WITHOUT_EFFECT = new Set([
  'enable.auto.commit',
  'auto.commit.interval.ms',
  'key.deserializer',
  'value.deserializer',
  'group.id',
  'allow.auto.create.topics',
  'receive.buffer.bytes',
  'send.buffer.bytes',
  'connections.max.idle.ms',
  'reconnect.backoff.ms',
  'reconnect.backoff.max.ms',
  'check.crcs',
  'exclude.internal.topics',
  'partition.assignment.strategy',
  'ssl.endpoint.identification.algorithm',
  'ssl.truststore.location',
  'ssl.truststore.type',
  'ssl.truststore.certificates',
  'ssl.truststore.password',
  'ssl.keystore.location',
  'ssl.keystore.type',
  'ssl.keystore.password',
  'ssl.key.password',
  'sasl.mechanism',
  'sasl.jaas.config',
  'security.protocol',
  'kerberos.enable',
  'kerberos.krb5.file',
  'kerberos.jaas.file',
]);

const READ = new Set([
  'bootstrap.servers',
  'client.id',
  'auto.offset.reset',
  'session.timeout.ms',
  'heartbeat.interval.ms',
  'max.poll.interval.ms',
  'request.timeout.ms',
  'socket.connection.setup.timeout.ms',
  'max.poll.records',
  'max.partition.fetch.bytes',
  'fetch.max.bytes',
  'fetch.min.bytes',
  'fetch.max.wait.ms',
  'isolation.level',
  'retry.backoff.ms',
  'metadata.max.age.ms',
  'client.rack',
]);

function positiveInt(
  kafka: ReadonlyMap<string, string>,
  key: string,
  fallback: number,
  min = 1,
): number {
  const raw = kafka.get(key);
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw.trim());
  if (!Number.isInteger(value) || value < min) {
    throw new KafkaOptionsError(`kafka.${key} must be an integer ≥ ${min}, got "${raw}".`);
  }
  return value;
}

/**
 * Reads `username="…"` and `password="…"` from a JAAS line such as
 * `org.apache.kafka.common.security.plain.PlainLoginModule required username="u" password="p";`.
 */
export function parseJaasConfig(jaas: string): { module: string; options: Record<string, string> } {
  const text = jaas.trim().replace(/;\s*$/, '');
  const head = /^(\S+)\s+(required|requisite|sufficient|optional)\b/.exec(text);
  if (!head)
    throw new KafkaOptionsError(
      'kafka.sasl.jaas.config must look like `<LoginModule> required username="…" password="…";`.',
    );
  const options: Record<string, string> = {};
  const re = /([A-Za-z_][\w.-]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s;]+))/g;
  const rest = text.slice(head[0].length);
  for (let m = re.exec(rest); m; m = re.exec(rest)) {
    options[m[1]!] = m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : m[3]!;
  }
  return { module: head[1]!, options };
}

function saslOptions(kafka: ReadonlyMap<string, string>): KafkaSaslOptions {
  const mechanism = (kafka.get('sasl.mechanism') ?? 'PLAIN').trim().toUpperCase() || 'PLAIN';
  const mapped = (
    { PLAIN: 'plain', 'SCRAM-SHA-256': 'scram-sha-256', 'SCRAM-SHA-512': 'scram-sha-512' } as const
  )[mechanism as 'PLAIN'];
  if (!mapped) {
    throw new KafkaOptionsError(
      `kafka.sasl.mechanism "${mechanism}" is not supported; use PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512.`,
    );
  }
  const jaas = kafka.get('sasl.jaas.config');
  if (!jaas?.trim()) {
    throw new KafkaOptionsError(
      `kafka.security.protocol ${kafka.get('security.protocol')} needs kafka.sasl.jaas.config with username and password.`,
    );
  }
  const { options } = parseJaasConfig(jaas);
  if (options.username === undefined || options.password === undefined) {
    throw new KafkaOptionsError(
      'kafka.sasl.jaas.config must set both username="…" and password="…".',
    );
  }
  return { mechanism: mapped, username: options.username, password: options.password };
}

function sslOptions(
  kafka: ReadonlyMap<string, string>,
  configDir: string,
  notes: string[],
): ConnectionOptions {
  const ssl: { ca?: string; key?: string; cert?: string; checkServerIdentity?: () => undefined } =
    {};
  const abs = (p: string) => (isAbsolute(p) ? p : resolve(configDir, p));
  const read = (key: string, path: string) => {
    try {
      return readFileSync(abs(path), 'utf8');
    } catch (error) {
      throw new KafkaOptionsError(
        `kafka.${key} "${path}" cannot be read: ${(error as Error).message}`,
      );
    }
  };
  const trustType = (kafka.get('ssl.truststore.type') ?? '').trim().toUpperCase();
  const inlineTrust = kafka.get('ssl.truststore.certificates')?.trim();
  const trustPath = kafka.get('ssl.truststore.location')?.trim();
  if (inlineTrust) ssl.ca = inlineTrust;
  else if (trustPath && (trustType === 'PEM' || /\.(pem|crt)$/i.test(trustPath)))
    ssl.ca = read('ssl.truststore.location', trustPath);
  else if (trustPath)
    notes.push(
      `kafka.ssl.truststore.location is a ${trustType || 'JKS'} store, which Node cannot read; convert it to PEM and set kafka.ssl.truststore.type: PEM. Using the system CAs.`,
    );
  const keyType = (kafka.get('ssl.keystore.type') ?? '').trim().toUpperCase();
  const keyPath = kafka.get('ssl.keystore.location')?.trim();
  if (keyPath && (keyType === 'PEM' || /\.pem$/i.test(keyPath))) {
    const pem = read('ssl.keystore.location', keyPath);
    ssl.key = pem;
    ssl.cert = pem;
  } else if (keyPath)
    notes.push(
      `kafka.ssl.keystore.location is a ${keyType || 'JKS'} store, which Node cannot read; convert it to PEM (key and certificate) and set kafka.ssl.keystore.type: PEM.`,
    );
  if (
    kafka.has('ssl.endpoint.identification.algorithm') &&
    (kafka.get('ssl.endpoint.identification.algorithm') ?? '').trim() === ''
  ) {
    ssl.checkServerIdentity = () => undefined;
  }
  return ssl;
}

/**
 * Maps canal's `consumerProperties` to kafkajs options. As in canal-adapter, every key starting
 * with `kafka.` is a Kafka consumer setting with the prefix stripped, and an environment variable
 * named exactly like the key (e.g. `kafka.bootstrap.servers`) overrides its value.
 */
export function kafkaSourceOptions(input: {
  readonly properties: Readonly<Record<string, string>>;
  readonly topic: string;
  readonly groupId: string;
  readonly configDir: string;
  readonly env?: Readonly<Record<string, string | undefined>>;
}): KafkaSourceOptions {
  const env = input.env ?? process.env;
  const kafka = new Map<string, string>();
  for (const [key, value] of Object.entries(input.properties)) {
    if (!key.startsWith('kafka.')) continue;
    kafka.set(key.slice('kafka.'.length), env[key] ?? String(value ?? ''));
  }
  const brokers = (kafka.get('bootstrap.servers') ?? '')
    .split(',')
    .map((b) => b.trim().replace(/^[a-z]+:\/\//i, ''))
    .filter(Boolean);
  if (brokers.length === 0) {
    throw new KafkaOptionsError(
      'canal.conf.consumerProperties needs kafka.bootstrap.servers (host:port[,host:port…]) in kafka mode.',
    );
  }
  if (!input.topic.trim())
    throw new KafkaOptionsError('canalAdapters[].instance (the Kafka topic) is empty.');
  const reset = (kafka.get('auto.offset.reset') ?? 'latest').trim().toLowerCase() || 'latest';
  if (reset !== 'earliest' && reset !== 'latest') {
    throw new KafkaOptionsError(
      `kafka.auto.offset.reset must be earliest or latest, got "${kafka.get('auto.offset.reset')}".`,
    );
  }
  const sessionTimeout = positiveInt(kafka, 'session.timeout.ms', 30_000);
  const heartbeatInterval = positiveInt(
    kafka,
    'heartbeat.interval.ms',
    Math.max(100, Math.min(3_000, Math.floor(sessionTimeout / 3))),
  );
  if (heartbeatInterval >= sessionTimeout) {
    throw new KafkaOptionsError(
      `kafka.heartbeat.interval.ms (${heartbeatInterval}) must be lower than kafka.session.timeout.ms (${sessionTimeout}).`,
    );
  }
  const isolation =
    (kafka.get('isolation.level') ?? 'read_committed').trim().toLowerCase() || 'read_committed';
  if (isolation !== 'read_committed' && isolation !== 'read_uncommitted') {
    throw new KafkaOptionsError(
      `kafka.isolation.level must be read_committed or read_uncommitted, got "${isolation}".`,
    );
  }
  const notes: string[] = [];
  const protocol =
    (kafka.get('security.protocol') ?? 'PLAINTEXT').trim().toUpperCase() || 'PLAINTEXT';
  if (!['PLAINTEXT', 'SSL', 'SASL_PLAINTEXT', 'SASL_SSL'].includes(protocol)) {
    throw new KafkaOptionsError(
      `kafka.security.protocol must be PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL, got "${protocol}".`,
    );
  }
  const useSsl = protocol === 'SSL' || protocol === 'SASL_SSL';
  const sasl = protocol.startsWith('SASL_') ? saslOptions(kafka) : undefined;
  if (!sasl && kafka.has('sasl.jaas.config'))
    notes.push(
      `kafka.sasl.jaas.config is set but kafka.security.protocol is ${protocol}; SASL is not used.`,
    );
  if ((kafka.get('enable.auto.commit') ?? '').trim().toLowerCase() === 'true') {
    notes.push(
      'kafka.enable.auto.commit: true is ignored; Sluice commits offsets itself once messages are applied.',
    );
  }
  if (kafka.has('group.id') && kafka.get('group.id') !== input.groupId) {
    notes.push(
      `kafka.group.id is ignored; the consumer group is groups[].groupId ("${input.groupId}"), as in canal-adapter.`,
    );
  }
  if ((kafka.get('kerberos.enable') ?? '').trim().toLowerCase() === 'true') {
    notes.push(
      'kafka.kerberos.enable: true is not supported (no GSSAPI in Node); use SASL PLAIN or SCRAM.',
    );
  }
  const ignored = [...kafka.keys()]
    .filter((k) => !READ.has(k) && !ACCEPTED_WITHOUT_EFFECT.has(k))
    .map((k) => `kafka.${k}`);
  const rack = kafka.get('client.rack')?.trim();
  return {
    brokers,
    topic: input.topic.trim(),
    groupId: input.groupId,
    clientId: kafka.get('client.id')?.trim() || `sluice-${Math.random().toString(36).slice(2, 8)}`,
    autoOffsetReset: reset,
    sessionTimeout,
    heartbeatInterval,
    rebalanceTimeout: positiveInt(kafka, 'max.poll.interval.ms', 60_000),
    requestTimeout: positiveInt(kafka, 'request.timeout.ms', 40_000),
    connectionTimeout: positiveInt(kafka, 'socket.connection.setup.timeout.ms', 10_000),
    maxPollRecords: positiveInt(kafka, 'max.poll.records', 500),
    maxBytesPerPartition: positiveInt(kafka, 'max.partition.fetch.bytes', 1_048_576),
    maxBytes: positiveInt(kafka, 'fetch.max.bytes', 52_428_800),
    minBytes: positiveInt(kafka, 'fetch.min.bytes', 1),
    maxWaitTimeInMs: positiveInt(kafka, 'fetch.max.wait.ms', 500, 0),
    readUncommitted: isolation === 'read_uncommitted',
    retryBackoff: positiveInt(kafka, 'retry.backoff.ms', 100),
    metadataMaxAge: positiveInt(kafka, 'metadata.max.age.ms', 300_000),
    rackId: rack || undefined,
    ssl: useSsl ? sslOptions(kafka, input.configDir, notes) : false,
    sasl,
    ignored,
    notes,
  };
}
