import { randomUUID } from 'node:crypto';
import type zookeeper from 'node-zookeeper-client';
import type { Logger } from '@sluice/plugin-api';
import type { EtlLockLease } from './adminRuntime.js';
import { zooKeeperClient, zooKeeperRequest, type ZooKeeperCallback } from './zooKeeperRequest.js';

/**
 * canal-adapter's ZooKeeper path of the ETL lock of one (adapter type, destination):
 * `CommonRest.java` locks `"/sync-etl/" + type + "-" + (destination or task)` through a Curator
 * client in namespace `canal-adapter` (`CuratorClient.java`), hence
 * `/canal-adapter/sync-etl/<type>-<destination>` (behaviour reference §6.2).
 */
export const etlLockPath = (type: string, destination: string): string =>
  `/canal-adapter/sync-etl/${type}-${destination}`;

/**
 * The name of a contender's node: Curator's `InterProcessMutex` creates
 * `_c_<uuid>-lock-<10-digit sequence>` (protected mode, lock name `lock-`) and orders contenders
 * by the sequence after the last `lock-` (`StandardLockInternalsDriver.fixForSorting`). Sluice
 * uses the same name so canal-adapter processes and Sluice processes queue on one lock.
 */
const LOCK_NAME = 'lock-';
const sequenceOf = (child: string): string => {
  const i = child.lastIndexOf(LOCK_NAME);
  return i < 0 ? child : child.slice(i + LOCK_NAME.length);
};

/** canal's `EtlLock.tryLock(key)` waits 500 ms for the distributed lock. */
export const ETL_LOCK_WAIT_MS = 500;

/** Options of {@link ZooKeeperEtlLock}. */
export interface ZooKeeperEtlLockOptions {
  /** canal's `zookeeperHosts`: `host:port[,host:port…][/chroot]`. */
  readonly hosts: string;
  readonly logger: Logger;
  /**
   * ZooKeeper session timeout, ms (canal's Curator: 6 s): how long after a crash of the holder
   * (kill -9, power loss) its node, and with it the lock, survives.
   */
  readonly sessionTimeoutMs?: number;
  /** How long an acquisition waits for a connection, ms (default 10 s). */
  readonly connectTimeoutMs?: number;
  /**
   * How long each request waits for ZooKeeper's answer, ms (default 10 s). When one does not
   * come, the acquisition fails and the session is closed (ZooKeeper then drops the node it may
   * have created); the next acquisition opens a new one.
   */
  readonly requestTimeoutMs?: number;
}

const isCode = (error: unknown, code: number): boolean =>
  error instanceof zooKeeperClient().Exception && error.getCode() === code;

/**
 * canal-adapter's distributed ETL lock (`EtlLock.java`, Curator `InterProcessMutex`, used when
 * `canal.conf.zookeeperHosts` is set): one ETL per (type, destination) across every process
 * sharing the ZooKeeper, canal-adapter's included. The ZooKeeper lock recipe: each contender
 * creates an ephemeral sequential node under {@link etlLockPath}; the lowest sequence holds the
 * lock; the others watch their predecessor until {@link ETL_LOCK_WAIT_MS} runs out, then delete
 * their node and give up. The holder deletes its node when the ETL ends (success, failure,
 * cancellation); when the holder dies, ZooKeeper deletes the node once its session expires.
 *
 * Concurrency: any number of {@link tryAcquire} calls may run at once. The session is opened on
 * first use and opened again after an expiry (node-zookeeper-client does not renew an expired
 * session) or after a request that got no answer in time.
 */
export class ZooKeeperEtlLock {
  readonly #o: ZooKeeperEtlLockOptions;
  #client: zookeeper.Client | undefined;
  #connected: Promise<zookeeper.Client> | undefined;
  #closed = false;

  constructor(options: ZooKeeperEtlLockOptions) {
    this.#o = options;
  }

  /**
   * Takes the lock of `path`, waiting at most `waitMs` for a holder to release it.
   *
   * @returns the lease, or undefined when another process (or another job) holds the lock.
   * @throws Error when ZooKeeper cannot be reached within the connect timeout, does not answer a
   *   request within the request timeout or refuses one: the caller must not run the ETL (canal
   *   answers "busy" then; Sluice says why).
   */
  async tryAcquire(path: string, waitMs = ETL_LOCK_WAIT_MS): Promise<EtlLockLease | undefined> {
    const deadline = Date.now() + waitMs;
    const client = await this.#connect();
    const call = <T>(what: string, run: (cb: ZooKeeperCallback<T>) => void) =>
      zooKeeperRequest(run, {
        hosts: this.#o.hosts,
        what: `${what} (${path})`,
        timeoutMs: this.#o.requestTimeoutMs ?? 10_000,
        onTimeout: () => this.#drop(client),
      });
    await call<string>('creating the lock path', (cb) =>
      client.mkdirp(path, zooKeeperClient().CreateMode.PERSISTENT, cb),
    ).catch((error: unknown) => {
      if (!isCode(error, zooKeeperClient().Exception.NODE_EXISTS)) throw error;
    });
    const ours = await call<string>('creating the lock node', (cb) =>
      client.create(
        `${path}/_c_${randomUUID()}-${LOCK_NAME}`,
        Buffer.from(`sluice pid ${process.pid}`),
        zooKeeperClient().CreateMode.EPHEMERAL_SEQUENTIAL,
        cb,
      ),
    );
    const name = ours.slice(path.length + 1);
    const release = async () => {
      await call<null>('removing the lock node', (cb) =>
        client.remove(ours, -1, (e) => cb(e, null)),
      ).catch((error: unknown) => {
        if (isCode(error, zooKeeperClient().Exception.NO_NODE)) return;
        this.#o.logger.warn(
          'Releasing the ETL lock in ZooKeeper failed; it is released when the session ends.',
          { lock: path, node: ours, error: (error as Error).message },
        );
      });
    };
    try {
      for (;;) {
        const children = (
          await call<string[]>('listing the lock nodes', (cb) => client.getChildren(path, cb))
        ).sort((a, b) =>
          sequenceOf(a) < sequenceOf(b) ? -1 : sequenceOf(a) > sequenceOf(b) ? 1 : 0,
        );
        const index = children.indexOf(name);
        if (index < 0) throw new Error(`The ETL lock node ${ours} vanished (session expired?).`);
        if (index === 0) {
          let released = false;
          return {
            release: async () => {
              if (released) return;
              released = true;
              await release();
            },
          };
        }
        const remaining = deadline - Date.now();
        if (remaining <= 0) {
          await release();
          return undefined;
        }
        await this.#waitForDeletion(client, `${path}/${children[index - 1]!}`, remaining);
      }
    } catch (error) {
      await release();
      throw error;
    }
  }

  /** Closes `client`'s session and forgets it (the next acquisition opens a new one). */
  #drop(client: zookeeper.Client): void {
    client.close();
    if (this.#client === client) {
      this.#client = undefined;
      this.#connected = undefined;
    }
  }

  /** Closes the session: every lock this process holds is released. Idempotent. */
  close(): void {
    this.#closed = true;
    this.#client?.close();
    this.#client = undefined;
    this.#connected = undefined;
  }

  /** Resolves when `node` is gone or `ms` passed. */
  #waitForDeletion(client: zookeeper.Client, node: string, ms: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(resolve, ms);
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      client.exists(
        node,
        () => done(),
        (error, stat) => {
          if (error) {
            clearTimeout(timer);
            return reject(error);
          }
          if (!stat) done();
        },
      );
    });
  }

  #connect(): Promise<zookeeper.Client> {
    if (this.#closed) return Promise.reject(new Error('The ETL lock is closed.'));
    if (this.#connected) return this.#connected;
    const client = zooKeeperClient().createClient(this.#o.hosts, {
      sessionTimeout: this.#o.sessionTimeoutMs ?? 6_000,
      spinDelay: 1_000,
      retries: 3,
    });
    this.#client = client;
    const timeoutMs = this.#o.connectTimeoutMs ?? 10_000;
    const connected = new Promise<zookeeper.Client>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#drop(client);
        reject(
          new Error(
            `ZooKeeper at ${this.#o.hosts} (canal.conf.zookeeperHosts) did not answer within ${timeoutMs / 1000} s; the distributed ETL lock cannot be taken.`,
          ),
        );
      }, timeoutMs);
      client.once('connected', () => {
        clearTimeout(timer);
        resolve(client);
      });
    });
    client.on('expired', () => {
      this.#o.logger.warn(
        'The ZooKeeper session of the ETL lock expired: locks held by this process are released; a new session is opened on the next ETL.',
        { zookeeperHosts: this.#o.hosts },
      );
      this.#drop(client);
    });
    client.connect();
    this.#connected = connected;
    return connected;
  }
}
