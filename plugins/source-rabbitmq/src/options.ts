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
   * (basic.qos per consumer). Bounds memory and in-flight work: the back-pressure. The core
   * commits (hence acks) about once a second, so this also bounds throughput to about this many
   * messages per second. Default 5000.
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
} as const;

/** The `propertiesSchema` of the source (what `sluice validate` checks, with file and line). */
export const rabbitPropertiesSchema: ObjectSchema = {
  type: 'object',
  properties: {
    [RABBIT_KEYS.host]: {
      type: 'string',
      description: 'host or host:port of the RabbitMQ broker (canal-adapter: rabbitmq.host).',
    },
    [RABBIT_KEYS.vhost]: { type: 'string', description: 'Virtual host; / when empty.' },
    [RABBIT_KEYS.username]: { type: 'string', description: 'User name; guest when empty.' },
    [RABBIT_KEYS.password]: {
      type: 'string',
      secret: true,
      description: 'Password; guest when empty.',
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
        'Sluice: unacknowledged messages in flight per queue (back-pressure; Sluice acks about once a second, so also about the most messages per second).',
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
 * A bracketed IPv6 address (`[::1]:5672`) is accepted too.
 *
 * @throws RabbitOptionsError when it is empty or the port is not 1–65535.
 */
export function parseRabbitHost(raw: string | undefined): { host: string; port: number } {
  if (blank(raw))
    throw new RabbitOptionsError(
      `${RABBIT_KEYS.host} is not set: canal.conf.consumerProperties needs the broker as host or host:port.`,
    );
  const text = raw.trim();
  const m = /^\[([^\]]+)\](?::(.*))?$/.exec(text) ?? /^([^:]+)(?::(.*))?$/.exec(text);
  if (!m)
    throw new RabbitOptionsError(`${RABBIT_KEYS.host} must be host or host:port, got "${raw}".`);
  const host = m[1]!;
  if (m[2] === undefined) return { host, port: 5672 };
  const port = Number(m[2]);
  if (!/^\d+$/.test(m[2]) || port < 1 || port > 65535)
    throw new RabbitOptionsError(
      `${RABBIT_KEYS.host} must be host or host:port with a port from 1 to 65535, got "${raw}".`,
    );
  return { host, port };
}

/**
 * The source's options from `consumerProperties` and the queue name.
 *
 * @throws RabbitOptionsError for a missing host, an empty queue name or a malformed number.
 */
export function rabbitOptions(
  properties: Readonly<Record<string, string>>,
  queue: string,
): RabbitOptions {
  if (queue.trim() === '')
    throw new RabbitOptionsError(
      'The queue name (canalAdapters[].instance) is empty: the RabbitMQ source consumes the queue named by instance.',
    );
  const { host, port } = parseRabbitHost(properties[RABBIT_KEYS.host]);
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
  };
}

/** `host:port vhost "v"` for messages (no credentials). */
export function describeBroker(o: Pick<RabbitOptions, 'host' | 'port' | 'vhost'>): string {
  const host = o.host.includes(':') ? `[${o.host}]` : o.host;
  return `RabbitMQ at ${host}:${o.port} (vhost "${o.vhost}")`;
}
