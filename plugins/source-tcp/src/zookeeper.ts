import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import zookeeper from 'node-zookeeper-client';
import type { HostPort } from './options.js';
import { parseServers } from './options.js';

/**
 * canal's ZooKeeper layout (canal 1.1.7 `common/.../zookeeper/ZookeeperPathUtils.java`, written
 * by `ServerRunningMonitor` on the server and `ClientRunningMonitor` on the client):
 *
 * - `/otter/canal/destinations/<dest>/running` — EPHEMERAL, JSON `ServerRunningData`
 *   `{"active":true,"address":"ip:port","cid":1}`: the canal-server that runs the destination
 *   now. Standby servers wait for it to disappear and race to create it.
 * - `/otter/canal/destinations/<dest>/cluster/<ip:port>` — every server able to run it.
 * - `/otter/canal/destinations/<dest>/<clientId>/running` — EPHEMERAL, JSON `ClientRunningData`
 *   `{"active":true,"address":"ip:pid","clientId":1001}`: the one client consuming the
 *   destination (canal's store has one cursor per destination, so only one may).
 */
export const canalPaths = {
  serverRunning: (destination: string) => `/otter/canal/destinations/${destination}/running`,
  cluster: (destination: string) => `/otter/canal/destinations/${destination}/cluster`,
  clientRunning: (destination: string, clientId: string) =>
    `/otter/canal/destinations/${destination}/${clientId}/running`,
} as const;

/** ZooKeeper could not be reached or answered an error. */
export class ZooKeeperError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ZooKeeperError';
  }
}

type Client = zookeeper.Client;

function exceptionCode(error: unknown): number | undefined {
  return error instanceof zookeeper.Exception ? error.getCode() : undefined;
}

/**
 * canal's ZooKeeper discovery and client election for one destination. The ZooKeeper session
 * is created on first use and again after it expired (an expired session lost the client node,
 * so {@link onLost} listeners are told: stop consuming, then re-acquire).
 */
export class CanalZooKeeper {
  readonly #connect: string;
  readonly #destination: string;
  readonly #clientId: string;
  readonly #sessionTimeoutMs: number;
  /** This client in the client node: host, pid and a per-instance tag (one process may hold several). */
  readonly #identity = `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  #client: Client | undefined;
  #connecting: Promise<Client> | undefined;
  #closed = false;
  readonly #lostListeners = new Set<() => void>();

  constructor(connect: string, destination: string, clientId: string, sessionTimeoutMs: number) {
    this.#connect = connect;
    this.#destination = destination;
    this.#clientId = clientId;
    this.#sessionTimeoutMs = sessionTimeoutMs;
  }

  /** Called when the ZooKeeper session is lost (expired or closed): the client node is gone. */
  onLost(listener: () => void): () => void {
    this.#lostListeners.add(listener);
    return () => this.#lostListeners.delete(listener);
  }

  /** Connects (or reuses the session). Rejects with {@link ZooKeeperError} after `timeoutMs`. */
  #session(timeoutMs: number): Promise<Client> {
    if (this.#closed) return Promise.reject(new ZooKeeperError('closed'));
    if (this.#client) return Promise.resolve(this.#client);
    this.#connecting ??= new Promise<Client>((resolve, reject) => {
      const client = zookeeper.createClient(this.#connect, {
        sessionTimeout: this.#sessionTimeoutMs,
        spinDelay: 500,
        retries: 0,
      });
      const timer = setTimeout(() => {
        client.close();
        this.#connecting = undefined;
        reject(
          new ZooKeeperError(`cannot reach ZooKeeper at ${this.#connect} within ${timeoutMs} ms`),
        );
      }, timeoutMs);
      client.once('connected', () => {
        clearTimeout(timer);
        this.#client = client;
        this.#connecting = undefined;
        resolve(client);
      });
      client.on('state', (state: zookeeper.State) => {
        if (state === zookeeper.State.EXPIRED || state === zookeeper.State.AUTH_FAILED) {
          if (this.#client === client) this.#dropSession();
          client.close();
        }
      });
      client.connect();
    });
    return this.#connecting;
  }

  #dropSession(): void {
    this.#client = undefined;
    for (const l of this.#lostListeners) l();
  }

  /**
   * The canal-server running the destination now, from its `running` node; `undefined` when
   * no server runs it (none started, or a fail-over in progress).
   */
  async runningServer(timeoutMs = 10_000): Promise<HostPort | undefined> {
    const client = await this.#session(timeoutMs);
    const path = canalPaths.serverRunning(this.#destination);
    const data = await new Promise<Buffer | undefined>((resolve, reject) =>
      client.getData(path, (error, bytes) => {
        if (exceptionCode(error) === zookeeper.Exception.NO_NODE) resolve(undefined);
        else if (error)
          reject(new ZooKeeperError(`reading ${path}: ${String(error)}`, { cause: error }));
        else resolve(bytes ?? undefined);
      }),
    );
    return data ? this.#address(path, data) : undefined;
  }

  /**
   * Watches the destination's `running` node and calls `listener` with the canal-server that
   * runs it after every change (`undefined` while none does, or when the node cannot be read),
   * and once at the start. ZooKeeper watches fire once: this one is re-armed after each event,
   * and after a lost session on the next one (re-tried every second while ZooKeeper cannot be
   * reached). Calls come from ZooKeeper's event callbacks, one at a time; a listener error is not
   * caught. Returns a function that stops watching (idempotent).
   */
  watchRunning(listener: (server: HostPort | undefined) => void): () => void {
    const path = canalPaths.serverRunning(this.#destination);
    let stopped = false;
    let retry: NodeJS.Timeout | undefined;
    const again = () => {
      if (!stopped && !this.#closed) retry = setTimeout(arm, 1000);
    };
    const report = (data: Buffer | undefined) => {
      if (stopped) return;
      let server: HostPort | undefined;
      try {
        server = data ? this.#address(path, data) : undefined;
      } catch {
        server = undefined; // not canal's ServerRunningData: as if none ran it
      }
      listener(server);
    };
    // One function for every registration: the client keeps a watcher once per path and function.
    const onEvent = () => {
      if (!stopped) arm();
    };
    const arm = () => {
      retry = undefined;
      if (stopped || this.#closed) return;
      this.#session(10_000).then(
        (client) =>
          client.getData(path, onEvent, (error, data) => {
            if (exceptionCode(error) === zookeeper.Exception.NO_NODE) {
              // watch for its creation instead
              client.exists(path, onEvent, (e, stat) => {
                if (e) again();
                else if (stat)
                  arm(); // created meanwhile
                else report(undefined);
              });
            } else if (error) again();
            else report(data ?? undefined);
          }),
        () => again(),
      );
    };
    // A new ZooKeeper session has no watches: re-arm on it.
    const unlisten = this.onLost(() => again());
    arm();
    return () => {
      stopped = true;
      unlisten();
      if (retry) clearTimeout(retry);
    };
  }

  /** The address in canal's ServerRunningData JSON; `undefined` when not active. */
  #address(path: string, data: Buffer): HostPort | undefined {
    let address: unknown;
    try {
      const parsed = JSON.parse(data.toString('utf8')) as { active?: unknown; address?: unknown };
      if (parsed.active === false) return undefined;
      address = parsed.address;
    } catch (error) {
      throw new ZooKeeperError(`${path} does not hold canal's ServerRunningData JSON`, {
        cause: error,
      });
    }
    if (typeof address !== 'string' || address === '')
      throw new ZooKeeperError(`${path} names no address`);
    return parseServers(address)[0];
  }

  /**
   * Becomes the destination's one active client: creates the EPHEMERAL client `running` node
   * (parents as needed). Resolves `undefined` on success (also when the node is already ours),
   * or the identity of the client that holds it (this process then stands by).
   */
  async acquireClient(timeoutMs = 10_000): Promise<string | undefined> {
    const client = await this.#session(timeoutMs);
    const path = canalPaths.clientRunning(this.#destination, this.#clientId);
    const parent = path.slice(0, path.lastIndexOf('/'));
    const data = Buffer.from(
      JSON.stringify({ active: true, address: this.#identity, clientId: Number(this.#clientId) }),
    );
    await new Promise<void>((resolve, reject) =>
      client.mkdirp(parent, (error) =>
        error
          ? reject(new ZooKeeperError(`creating ${parent}: ${String(error)}`, { cause: error }))
          : resolve(),
      ),
    );
    const created = await new Promise<boolean>((resolve, reject) =>
      client.create(path, data, zookeeper.CreateMode.EPHEMERAL, (error) => {
        if (exceptionCode(error) === zookeeper.Exception.NODE_EXISTS) resolve(false);
        else if (error)
          reject(new ZooKeeperError(`creating ${path}: ${String(error)}`, { cause: error }));
        else resolve(true);
      }),
    );
    if (created) return undefined;
    const holder = await new Promise<string>((resolve, reject) =>
      client.getData(path, (error, bytes) => {
        if (exceptionCode(error) === zookeeper.Exception.NO_NODE) resolve('');
        else if (error)
          reject(new ZooKeeperError(`reading ${path}: ${String(error)}`, { cause: error }));
        else resolve(bytes?.toString('utf8') ?? '');
      }),
    );
    if (holder === '') return this.acquireClient(timeoutMs); // released meanwhile
    try {
      const parsed = JSON.parse(holder) as { address?: unknown };
      if (parsed.address === this.#identity) return undefined;
      return typeof parsed.address === 'string' ? parsed.address : holder;
    } catch {
      return holder;
    }
  }

  /** Closes the session (the client node disappears with it). Idempotent. */
  close(): void {
    this.#closed = true;
    const client = this.#client;
    this.#client = undefined;
    client?.close();
  }
}
