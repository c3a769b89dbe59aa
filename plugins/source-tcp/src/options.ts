import { CANAL_DEFAULT_CLIENT_ID } from '@sluice/canal-protocol';
import { ErrorCodes, SluiceError, type ObjectSchema } from '@sluice/plugin-api';

/** One canal-server address. */
export interface HostPort {
  readonly host: string;
  readonly port: number;
}

/** What the tcp source does, derived from canal's `consumerProperties` (tcp connector keys). */
export interface TcpSourceOptions {
  /** The canal destination (`canalAdapters[].instance`). */
  readonly destination: string;
  /**
   * `canal.tcp.server.host`: canal-server addresses, tried in order (canal takes one `ip:port`;
   * Sluice also accepts a comma-separated list and fails over between them). Empty: use ZooKeeper.
   */
  readonly servers: readonly HostPort[];
  /** `canal.tcp.zookeeper.hosts` (used only when no server host is given, as in canal). */
  readonly zookeeperHosts: string;
  /** `canal.tcp.batch.size`: `Get.fetch_size` (canal's MEMSIZE units of 1 KiB by default). */
  readonly batchSize: number;
  /** `canal.tcp.username`. */
  readonly username: string;
  /** `canal.tcp.password` (plaintext; sent scrambled). */
  readonly password: string;
  /** `canal.tcp.filter` (Sluice's addition): the subscription filter; empty keeps the server's. */
  readonly filter: string;
  /** The client id; canal's client always uses 1001 (a Java short). */
  readonly clientId: string;
  /**
   * How long one GET waits on the server for a full batch, ms: `canal.conf.timeout` (canal-adapter
   * passes it to `getWithoutAck(batchSize, timeout, ms)`; default 500; 0 = answer at once).
   */
  readonly getTimeoutMs: number;
  /**
   * Delivered batches not yet acked before the source stops fetching. The core's own
   * back-pressure (each `deliver` waits while its pipeline is full) comes first; this bound keeps
   * the un-acked list (and canal's outstanding batches) finite when commits lag.
   */
  readonly maxInFlightBatches: number;
  /** Socket connect + handshake + auth + subscribe time limit, ms. */
  readonly connectTimeoutMs: number;
  /** Idle timeouts asked of the server (`ClientAuth.net_read/write_timeout`), ms. */
  readonly idleTimeoutMs: number;
  /** ZooKeeper session timeout, ms (canal's client uses 90 s; Sluice fails over sooner). */
  readonly zkSessionTimeoutMs: number;
}

/** A `consumerProperties` value that cannot be used (a configuration error: fatal). */
export class TcpOptionsError extends SluiceError {
  constructor(message: string) {
    super(ErrorCodes.config, message);
  }
}

/** The `consumerProperties` keys of canal's tcp connector (`TCPConstants`), plus Sluice's. */
export const tcpPropertiesSchema: ObjectSchema = {
  type: 'object',
  properties: {
    'canal.tcp.server.host': {
      type: 'string',
      description:
        'ip:port of canal-server (canal: one; Sluice: a comma-separated list is tried in order). Empty: discover through canal.tcp.zookeeper.hosts.',
    },
    'canal.tcp.zookeeper.hosts': {
      type: 'string',
      description:
        'ZooKeeper connect string; used when canal.tcp.server.host is empty: the running canal-server of the destination is read from /otter/canal/destinations/<destination>/running.',
    },
    'canal.tcp.batch.size': {
      type: 'integer',
      minimum: 1,
      default: 500,
      description:
        'Get.fetch_size: canal-server batch size (1 KiB units of binlog with canal’s default MEMSIZE batch mode, entries with ITEMSIZE).',
    },
    'canal.tcp.username': { type: 'string', description: 'canal.user of canal-server.' },
    'canal.tcp.password': {
      type: 'string',
      secret: true,
      description: 'Plaintext password of canal.user (canal.passwd holds its double SHA-1).',
    },
    'canal.conf.timeout': {
      type: 'integer',
      minimum: 0,
      default: 500,
      description:
        'Set by the core from canal.conf.timeout (not a consumerProperties key): the GET timeout in ms, as canal-adapter passes it to getWithoutAck. 0: canal answers at once.',
    },
    'canal.tcp.filter': {
      type: 'string',
      description:
        'Sluice addition: subscription filter (canal regex list, e.g. shop\\..*); replaces the instance filter for the whole destination. Empty keeps the server’s.',
    },
  },
};

/** Parses `host:port[,host:port…]`. */
export function parseServers(text: string): HostPort[] {
  const out: HostPort[] = [];
  for (const part of text.split(',')) {
    const item = part.trim();
    if (item === '') continue;
    const m = /^(\[[^\]]+\]|[^:]+):(\d{1,5})$/.exec(item);
    const port = m ? Number(m[2]) : NaN;
    if (!m || !(port >= 1 && port <= 65535))
      throw new TcpOptionsError(
        `canal.tcp.server.host: "${item}" is not host:port (for example 127.0.0.1:11111)`,
      );
    out.push({ host: m[1]!.replace(/^\[|\]$/g, ''), port });
  }
  return out;
}

function integer(value: string | undefined, key: string, fallback: number, min = 1): number {
  if (value === undefined || value.trim() === '') return fallback;
  const n = Number(value.trim());
  if (!Number.isInteger(n) || n < min)
    throw new TcpOptionsError(
      `${key}: "${value}" is not ${min === 0 ? 'a non-negative' : 'a positive'} integer`,
    );
  return n;
}

/** Builds the options from `consumerProperties` and the destination. Throws {@link TcpOptionsError}. */
export function tcpSourceOptions(input: {
  properties: Readonly<Record<string, string>>;
  destination: string;
}): TcpSourceOptions {
  const p = input.properties;
  const servers = parseServers(p['canal.tcp.server.host'] ?? '');
  const zookeeperHosts = (p['canal.tcp.zookeeper.hosts'] ?? '').trim();
  if (servers.length === 0 && zookeeperHosts === '')
    throw new TcpOptionsError(
      'mode tcp needs canal.tcp.server.host (ip:port of canal-server, e.g. 127.0.0.1:11111) or canal.tcp.zookeeper.hosts under canal.conf.consumerProperties',
    );
  if (input.destination.trim() === '')
    throw new TcpOptionsError('canalAdapters[].instance (the canal destination) is empty');
  return {
    destination: input.destination,
    servers,
    zookeeperHosts,
    batchSize: integer(p['canal.tcp.batch.size'], 'canal.tcp.batch.size', 500),
    username: p['canal.tcp.username'] ?? '',
    password: p['canal.tcp.password'] ?? '',
    filter: p['canal.tcp.filter'] ?? '',
    clientId: CANAL_DEFAULT_CLIENT_ID,
    getTimeoutMs: integer(p['canal.conf.timeout'], 'canal.conf.timeout', 500, 0),
    maxInFlightBatches: 256,
    connectTimeoutMs: 10_000,
    idleTimeoutMs: 3_600_000,
    zkSessionTimeoutMs: 10_000,
  };
}
