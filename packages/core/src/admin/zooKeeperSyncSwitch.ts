import type zookeeper from 'node-zookeeper-client';
import type { Logger } from '@sluice/plugin-api';
import type { SwitchState } from './adminRuntime.js';
import { zooKeeperClient, zooKeeperRequest, type ZooKeeperCallback } from './zooKeeperRequest.js';

/**
 * canal-adapter's ZooKeeper layout for the distributed sync switch (`SyncSwitch.java` with a
 * Curator client in namespace `canal-adapter`, behaviour reference §2.6): one persistent node per
 * destination, `/canal-adapter/sync-switch/<destination>`, holding `on` or `off`. Absent means
 * `on`; any data but `on` means `off`. canal-adapter processes and Sluice processes that share
 * the ZooKeeper therefore pause and resume together.
 */
export const syncSwitchPath = (destination: string): string =>
  `/canal-adapter/sync-switch/${destination}`;

/** Options of {@link ZooKeeperSyncSwitch}. */
export interface ZooKeeperSyncSwitchOptions {
  /** canal's `zookeeperHosts`: `host:port[,host:port…][/chroot]`. */
  readonly hosts: string;
  readonly logger: Logger;
  /** ZooKeeper session timeout, ms (canal's Curator: 6 s). */
  readonly sessionTimeoutMs?: number;
  /** How long {@link ZooKeeperSyncSwitch.start} waits for the first connection, ms. */
  readonly connectTimeoutMs?: number;
  /**
   * How long a read or write of a switch node waits for ZooKeeper's answer, ms (default 10 s):
   * `start` and `set` fail after it instead of waiting on a ZooKeeper that holds the connection
   * without answering.
   */
  readonly requestTimeoutMs?: number;
}

const stateOf = (data: Buffer | undefined): SwitchState =>
  data === undefined ? 'on' : data.toString('utf8') === 'on' ? 'on' : 'off';

/**
 * The shared sync switch: reads each destination's node, watches it (ZooKeeper watches are one
 * shot; each event re-reads and re-arms), and writes it on `PUT /syncSwitch`. While the session
 * is down the last known states stay in force and the client reconnects by itself; on reconnect
 * every node is read again.
 *
 * Concurrency: `onChange` is called from the ZooKeeper client's callbacks, never concurrently
 * for one destination, and only when the state differs from the last one reported.
 */
export class ZooKeeperSyncSwitch {
  readonly #o: ZooKeeperSyncSwitchOptions;
  readonly #states = new Map<string, SwitchState>();
  readonly #client: zookeeper.Client;
  #onChange: (destination: string, state: SwitchState) => void = () => undefined;
  #closed = false;

  constructor(options: ZooKeeperSyncSwitchOptions) {
    this.#o = options;
    this.#client = zooKeeperClient().createClient(options.hosts, {
      sessionTimeout: options.sessionTimeoutMs ?? 6_000,
      spinDelay: 1_000,
      retries: 3,
    });
    this.#client.on('state', (state) => {
      if (this.#closed) return;
      const { State } = zooKeeperClient();
      if (state === State.SYNC_CONNECTED) {
        for (const destination of this.#states.keys()) this.#watch(destination);
      } else if (state === State.DISCONNECTED || state === State.EXPIRED) {
        this.#o.logger.warn(
          'ZooKeeper of the shared sync switch is unreachable; the last known switch states stay in force.',
          { zookeeperHosts: this.#o.hosts, state: String(state) },
        );
      }
    });
  }

  /**
   * Connects and reads the switch of every destination; resolves with their states, then calls
   * `onChange` on every later change. Rejects when ZooKeeper does not answer within the connect
   * timeout (the pipelines must not start `on` when the shared switch may say `off`).
   */
  async start(
    destinations: readonly string[],
    onChange: (destination: string, state: SwitchState) => void,
  ): Promise<ReadonlyMap<string, SwitchState>> {
    const timeoutMs = this.#o.connectTimeoutMs ?? 15_000;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#client.close();
        reject(
          new Error(
            `ZooKeeper at ${this.#o.hosts} (canal.conf.zookeeperHosts) did not answer within ${timeoutMs / 1000} s; the shared sync switch cannot be read.`,
          ),
        );
      }, timeoutMs);
      this.#client.once('connected', () => {
        clearTimeout(timer);
        resolve();
      });
      this.#client.connect();
    });
    for (const destination of destinations)
      this.#states.set(destination, await this.#read(destination));
    this.#onChange = onChange;
    return new Map(this.#states);
  }

  /** The state last read for a destination (`on` for one never read). */
  state(destination: string): SwitchState {
    return this.#states.get(destination) ?? 'on';
  }

  /**
   * Writes a destination's node (creating it and its parents when absent).
   *
   * @throws the client's error, or when ZooKeeper does not answer within the request timeout.
   */
  async set(destination: string, state: SwitchState): Promise<void> {
    const path = syncSwitchPath(destination);
    const data = Buffer.from(state, 'utf8');
    await this.#call<string>(`creating ${path}`, (cb) =>
      this.#client.mkdirp(path, data, zooKeeperClient().CreateMode.PERSISTENT, cb),
    );
    await this.#call<unknown>(`writing ${path}`, (cb) => this.#client.setData(path, data, -1, cb));
    this.#report(destination, state);
  }

  #call<T>(what: string, run: (cb: ZooKeeperCallback<T>) => void): Promise<T> {
    return zooKeeperRequest(run, {
      hosts: this.#o.hosts,
      what,
      timeoutMs: this.#o.requestTimeoutMs ?? 10_000,
    });
  }

  /** Closes the session. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#client.close();
  }

  #report(destination: string, state: SwitchState): void {
    if (this.#states.get(destination) === state) return;
    this.#states.set(destination, state);
    this.#onChange(destination, state);
  }

  #watch(destination: string): void {
    this.#read(destination).then(
      (state) => this.#report(destination, state),
      (error: unknown) =>
        this.#o.logger.warn('Reading the shared sync switch failed; will retry on reconnect.', {
          destination,
          error: (error as Error).message,
        }),
    );
  }

  /** Reads a node and arms a watch that re-reads it on the next change. */
  #read(destination: string): Promise<SwitchState> {
    const path = syncSwitchPath(destination);
    const rearm = () => {
      if (!this.#closed) this.#watch(destination);
    };
    return this.#call<SwitchState>(`reading ${path}`, (cb) => {
      this.#client.exists(path, rearm, (error, stat) => {
        if (error) return cb(error, 'on');
        if (!stat) return cb(null, 'on');
        // exists() already watches the node (data changes and deletion): no second watch here.
        this.#client.getData(path, (e, data) => {
          // Deleted between exists and getData: absent means on.
          const { Exception } = zooKeeperClient();
          if (e instanceof Exception && e.getCode() === Exception.NO_NODE) return cb(null, 'on');
          cb(e, stateOf(data ?? undefined));
        });
      });
    });
  }
}
