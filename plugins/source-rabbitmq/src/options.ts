import { resolve } from 'node:path';
import { FatalError, type ObjectSchema } from '@sluice/plugin-api';

/**
 * The connection and consumer settings of the RabbitMQ source, from `canal.conf.consumerProperties`.
 *
 * canal-adapter reads `rabbitmq.host`, `rabbitmq.virtual.host`, `rabbitmq.username` and
 * `rabbitmq.password` (canal 1.1.8 `connector/rabbitmq-connector/.../CanalRabbitMQConsumer.java`,
 * `init`/`connect`); the other keys are Sluice's own and all optional.
 */
export interface RabbitOptions {
  /** Host name or address (`rabbitmq.host` before the colon). */
  readonly host: string;
  /** AMQP port (`rabbitmq.host` after the colon; 5672 when absent, as the Java client's default). */
  readonly port: number;
  /** `rabbitmq.virtual.host`; `/` when absent or empty. */
  readonly vhost: string;
  /** `rabbitmq.username`; `guest` when absent or empty (the Java client's default). */
  readonly username: string;
  /** `rabbitmq.password`; `guest` when absent or empty. A secret: never logged. */
  readonly password: string;
  /** The queue consumed: `canalAdapters[].instance`. */
  readonly queue: string;
  /**
   * `rabbitmq.prefetch.count`: unacknowledged messages the broker may push before Sluice acks
   * (basic.qos per consumer). Bounds memory and in-flight work: the back-pressure. From half
   * of it unacknowledged on, the source asks the core to commit (hence ack) at once instead of
   * at the next `sluice.pipeline.commitIntervalMs`. Default 5000.
   */
  readonly prefetch: number;
  /**
   * `rabbitmq.consumer.exclusive`: consume with `exclusive: true`, so the broker refuses any
   * second consumer of the queue (it waits and retries: a warm standby that keeps order).
   * Default false.
   */
  readonly exclusive: boolean;
  /** `rabbitmq.heartbeat.seconds`: AMQP heartbeat asked for; 0 turns heartbeats off. Default 30. */
  readonly heartbeatSeconds: number;
  /** `rabbitmq.connection.timeout.ms`: TCP connect and handshake timeout, ms. Default 10 000. */
  readonly connectTimeoutMs: number;
  /** `rabbitmq.reconnect.max.ms`: longest wait between reconnect attempts while running, ms. Default 10 000. */
  readonly reconnectMaxMs: number;
  /**
   * True when `canal.aliyun.accessKey` and `canal.aliyun.secretKey` (canal's copies of
   * `canal.conf.accessKey`/`secretKey`) are both set: canal-adapter would log in to Aliyun's AMQP
   * service with them. Sluice has no Aliyun login: it logs in with username and password and
   * warns ({@link aliyunLoginWarning}).
   */
  readonly aliyunKeysIgnored: boolean;
  /** TLS (`amqps`), when on: `rabbitmq.host` written as `amqps://…` or `rabbitmq.ssl.enabled`. */
  readonly tls: RabbitTlsOptions | undefined;
}

/**
 * TLS settings of the connection (Sluice's keys: canal-adapter's RabbitMQ consumer has no TLS).
 * Paths are absolute (resolved against the configuration directory); the files are read when
 * connecting.
 */
export interface RabbitTlsOptions {
  /** `rabbitmq.ssl.ca.path`: PEM CA certificate(s) to verify the broker; Node's CAs when absent. */
  readonly caPath: string | undefined;
  /** `rabbitmq.ssl.cert.path`: PEM client certificate (mutual TLS), with `keyPath`. */
  readonly certPath: string | undefined;
  /** `rabbitmq.ssl.key.path`: PEM private key of the client certificate. */
  readonly keyPath: string | undefined;
  /** `rabbitmq.ssl.key.passphrase`: passphrase of an encrypted key. A secret: never logged. */
  readonly passphrase: string | undefined;
  /**
   * `rabbitmq.ssl.verify`: verify the broker's certificate chain and that it names the host
   * (default true). False encrypts without knowing who answers (a warning says so).
   */
  readonly verify: boolean;
}

/**
 * The warning for {@link RabbitOptions.aliyunKeysIgnored}. canal 1.1.8
 * `CanalRabbitMQConsumer.connect` uses `AliyunCredentialsProvider(accessKey, secretKey,
 * resourceOwnerId)` when both keys are non-empty, but `init` never reads the owner id (it looks
 * for `rabbitmq.rabbitmq.resource.ownerId`), so the `long` parameter gets `null` and
 * canal-adapter fails with a NullPointerException before it connects.
 */
export function aliyunLoginWarning(o: Pick<RabbitOptions, 'username'>): string {
  return (
    'canal.conf.accessKey and secretKey are set, but Sluice has no Aliyun AMQP login: it logs in ' +
    `as user "${o.username}" (rabbitmq.username / rabbitmq.password). canal-adapter would try ` +
    'the Aliyun login and fail with a NullPointerException (it never reads the resource owner ' +
    'id). Leave accessKey and secretKey empty to silence this warning.'
  );
}

/** Keys of `consumerProperties` this source reads. */
export const RABBIT_KEYS = {
  host: 'rabbitmq.host',
  vhost: 'rabbitmq.virtual.host',
  username: 'rabbitmq.username',
  password: 'rabbitmq.password',
  prefetch: 'rabbitmq.prefetch.count',
  exclusive: 'rabbitmq.consumer.exclusive',
  heartbeat: 'rabbitmq.heartbeat.seconds',
  connectTimeout: 'rabbitmq.connection.timeout.ms',
  reconnectMax: 'rabbitmq.reconnect.max.ms',
  sslEnabled: 'rabbitmq.ssl.enabled',
  sslCa: 'rabbitmq.ssl.ca.path',
  sslCert: 'rabbitmq.ssl.cert.path',
  sslKey: 'rabbitmq.ssl.key.path',
  sslPassphrase: 'rabbitmq.ssl.key.passphrase',
  sslVerify: 'rabbitmq.ssl.verify',
  /** canal-adapter copies `canal.conf.accessKey` here (canal `CanalConstants`). */
  aliyunAccessKey: 'canal.aliyun.accessKey',
  /** canal-adapter copies `canal.conf.secretKey` here. */
  aliyunSecretKey: 'canal.aliyun.secretKey',
} as const;

/** The `propertiesSchema` of the source (what `sluice validate` checks, with file and line). */
export const rabbitPropertiesSchema: ObjectSchema = {
  type: 'object',
  properties: {
    [RABBIT_KEYS.host]: {
      type: 'string',
      description:
        'host or host:port of the RabbitMQ broker (canal-adapter: rabbitmq.host); Sluice also takes amqps://host[:port] (TLS, port 5671 by default).',
    },
    [RABBIT_KEYS.sslEnabled]: {
      type: 'boolean',
      default: false,
      description: 'Sluice: connect with TLS (also implied by an amqps:// host).',
    },
    [RABBIT_KEYS.sslCa]: {
      type: 'string',
      path: 'existing',
      description:
        'Sluice: PEM CA certificate(s) that sign the broker certificate; Node’s CAs when empty.',
    },
    [RABBIT_KEYS.sslCert]: {
      type: 'string',
      path: 'existing',
      description: 'Sluice: PEM client certificate for mutual TLS (with rabbitmq.ssl.key.path).',
    },
    [RABBIT_KEYS.sslKey]: {
      type: 'string',
      path: 'existing',
      description: 'Sluice: PEM private key of the client certificate.',
    },
    [RABBIT_KEYS.sslPassphrase]: {
      type: 'string',
      secret: true,
      description: 'Sluice: passphrase of an encrypted rabbitmq.ssl.key.path.',
    },
    [RABBIT_KEYS.sslVerify]: {
      type: 'boolean',
      default: true,
      description:
        'Sluice: verify the broker certificate and host name (false: encrypted but unauthenticated, with a warning).',
    },
    [RABBIT_KEYS.vhost]: { type: 'string', description: 'Virtual host; / when empty.' },
    [RABBIT_KEYS.username]: { type: 'string', description: 'User name; guest when empty.' },
    [RABBIT_KEYS.password]: {
      type: 'string',
      secret: true,
      description: 'Password; guest when empty.',
    },
    [RABBIT_KEYS.aliyunAccessKey]: {
      type: 'string',
      description:
        'canal.conf.accessKey as canal passes it: Aliyun AMQP login, not supported (a warning when set with the secret key).',
    },
    [RABBIT_KEYS.aliyunSecretKey]: {
      type: 'string',
      secret: true,
      description: 'canal.conf.secretKey as canal passes it; see canal.aliyun.accessKey.',
    },
    'rabbitmq.resource.ownerId': {
      type: 'string',
      description: 'Shipped in canal-adapter’s application.yml but never read by it; ignored.',
    },
    [RABBIT_KEYS.prefetch]: {
      type: 'integer',
      minimum: 1,
      maximum: 65535,
      default: 5000,
      description:
        'Sluice: unacknowledged messages in flight per queue (back-pressure; from half of it on, Sluice acks as soon as something more was applied).',
    },
    [RABBIT_KEYS.exclusive]: {
      type: 'boolean',
      default: false,
      description: 'Sluice: consume exclusively; a second instance waits as a standby.',
    },
    [RABBIT_KEYS.heartbeat]: { type: 'integer', minimum: 0, default: 30 },
    [RABBIT_KEYS.connectTimeout]: { type: 'integer', minimum: 1, default: 10000 },
    [RABBIT_KEYS.reconnectMax]: { type: 'integer', minimum: 1, default: 10000 },
  },
};

/** A `consumerProperties` value the RabbitMQ source cannot use. */
export class RabbitOptionsError extends FatalError {
  override readonly name: string = 'RabbitOptionsError';
}

const blank = (v: string | undefined): v is undefined => v === undefined || v.trim() === '';

function integer(
  properties: Readonly<Record<string, string>>,
  key: string,
  fallback: number,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
): number {
  const raw = properties[key];
  if (blank(raw)) return fallback;
  const n = Number(raw.trim());
  if (!Number.isInteger(n) || n < min || n > max)
    throw new RabbitOptionsError(`${key} must be an integer from ${min} to ${max}, got "${raw}".`);
  return n;
}

/**
 * Parses `rabbitmq.host` as canal does: `host` or `host:port` (canal splits at the colon).
 * A bracketed IPv6 address (`[::1]:5672`) is accepted too, and (Sluice) an `amqp://` or
 * `amqps://` prefix: `amqps` means TLS, with 5671 as the default port.
 *
 * @throws RabbitOptionsError when it is empty or the port is not 1–65535.
 */
export function parseRabbitHost(raw: string | undefined): {
  host: string;
  port: number;
  tls: boolean;
} {
  if (blank(raw))
    throw new RabbitOptionsError(
      `${RABBIT_KEYS.host} is not set: canal.conf.consumerProperties needs the broker as host or host:port.`,
    );
  let text = raw.trim();
  const scheme = /^(amqps?):\/\//i.exec(text);
  const tls = scheme?.[1]?.toLowerCase() === 'amqps';
  if (scheme) text = text.slice(scheme[0].length).replace(/\/$/, '');
  const m = /^\[([^\]]+)\](?::(.*))?$/.exec(text) ?? /^([^:]+)(?::(.*))?$/.exec(text);
  if (!m)
    throw new RabbitOptionsError(`${RABBIT_KEYS.host} must be host or host:port, got "${raw}".`);
  const host = m[1]!;
  if (m[2] === undefined) return { host, port: tls ? 5671 : 5672, tls };
  const port = Number(m[2]);
  if (!/^\d+$/.test(m[2]) || port < 1 || port > 65535)
    throw new RabbitOptionsError(
      `${RABBIT_KEYS.host} must be host or host:port with a port from 1 to 65535, got "${raw}".`,
    );
  return { host, port, tls };
}

function flag(
  properties: Readonly<Record<string, string>>,
  key: string,
  fallback: boolean,
): boolean {
  const raw = properties[key];
  if (blank(raw)) return fallback;
  const v = raw.trim().toLowerCase();
  if (v !== 'true' && v !== 'false')
    throw new RabbitOptionsError(`${key} must be true or false, got "${raw}".`);
  return v === 'true';
}

/** The TLS settings, or `undefined` for a plain connection. Paths resolved against `configDir`. */
function tlsOptions(
  properties: Readonly<Record<string, string>>,
  hostTls: boolean,
  configDir: string | undefined,
): RabbitTlsOptions | undefined {
  if (!hostTls && !flag(properties, RABBIT_KEYS.sslEnabled, false)) return undefined;
  const path = (key: string): string | undefined => {
    const raw = properties[key];
    if (blank(raw)) return undefined;
    return configDir === undefined ? raw.trim() : resolve(configDir, raw.trim());
  };
  const certPath = path(RABBIT_KEYS.sslCert);
  const keyPath = path(RABBIT_KEYS.sslKey);
  if ((certPath === undefined) !== (keyPath === undefined))
    throw new RabbitOptionsError(
      `${RABBIT_KEYS.sslCert} and ${RABBIT_KEYS.sslKey} must be set together (a client certificate and its key).`,
    );
  const passphrase = properties[RABBIT_KEYS.sslPassphrase];
  return {
    caPath: path(RABBIT_KEYS.sslCa),
    certPath,
    keyPath,
    passphrase: blank(passphrase) ? undefined : passphrase,
    verify: flag(properties, RABBIT_KEYS.sslVerify, true),
  };
}

/**
 * The source's options from `consumerProperties` and the queue name.
 *
 * @throws RabbitOptionsError for a missing host, an empty queue name or a malformed number.
 */
export function rabbitOptions(
  properties: Readonly<Record<string, string>>,
  queue: string,
  configDir?: string,
): RabbitOptions {
  if (queue.trim() === '')
    throw new RabbitOptionsError(
      'The queue name (canalAdapters[].instance) is empty: the RabbitMQ source consumes the queue named by instance.',
    );
  const { host, port, tls } = parseRabbitHost(properties[RABBIT_KEYS.host]);
  const exclusive = properties[RABBIT_KEYS.exclusive]?.trim().toLowerCase();
  if (exclusive !== undefined && exclusive !== '' && exclusive !== 'true' && exclusive !== 'false')
    throw new RabbitOptionsError(
      `${RABBIT_KEYS.exclusive} must be true or false, got "${properties[RABBIT_KEYS.exclusive]}".`,
    );
  const vhost = properties[RABBIT_KEYS.vhost];
  const username = properties[RABBIT_KEYS.username];
  const password = properties[RABBIT_KEYS.password];
  return {
    host,
    port,
    vhost: blank(vhost) ? '/' : vhost.trim(),
    username: blank(username) ? 'guest' : username,
    password: blank(password) ? 'guest' : password,
    queue,
    prefetch: integer(properties, RABBIT_KEYS.prefetch, 5000, 1, 65535),
    exclusive: exclusive === 'true',
    heartbeatSeconds: integer(properties, RABBIT_KEYS.heartbeat, 30, 0, 3600),
    connectTimeoutMs: integer(properties, RABBIT_KEYS.connectTimeout, 10_000, 1),
    reconnectMaxMs: integer(properties, RABBIT_KEYS.reconnectMax, 10_000, 1),
    aliyunKeysIgnored:
      !blank(properties[RABBIT_KEYS.aliyunAccessKey]) &&
      !blank(properties[RABBIT_KEYS.aliyunSecretKey]),
    tls: tlsOptions(properties, tls, configDir),
  };
}

/** `host:port vhost "v"` for messages (no credentials), with `, TLS` when on. */
export function describeBroker(
  o: Pick<RabbitOptions, 'host' | 'port' | 'vhost'> & { readonly tls?: unknown },
): string {
  const host = o.host.includes(':') ? `[${o.host}]` : o.host;
  return `RabbitMQ at ${host}:${o.port} (vhost "${o.vhost}"${o.tls ? ', TLS' : ''})`;
}
