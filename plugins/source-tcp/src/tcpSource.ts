import {
  FatalError,
  NotConnectedError,
  coreServices,
  defineSource,
  type Logger,
  type SourceHandler,
  type SourceInstance,
  type SourceRunOptions,
} from '@sluice/plugin-api';
import { CanalAuthError, CanalSession } from './connection.js';
import {
  tcpPropertiesSchema,
  tcpSourceOptions,
  type HostPort,
  type TcpSourceOptions,
} from './options.js';
import { CanalZooKeeper } from './zookeeper.js';

/** A batch delivered to the core and not yet acked to canal-server. */
interface Outstanding {
  /** Sluice's offset of the delivery (never goes back, across sessions and server restarts). */
  readonly offset: bigint;
  /** canal's batch id (restarts after a canal-server restart). */
  readonly batchId: bigint;
  /** The session that fetched it; a batch of an earlier session was rolled back by canal. */
  readonly session: CanalSession;
}

const RECONNECT_MIN_MS = 500;
const RECONNECT_MAX_MS = 5_000;
/** Pause after an empty GET when the GET timeout is 0 (canal then answers empty at once). */
const EMPTY_POLL_PAUSE_MS = 100;

/** Resolves after `ms`, or at once when `signal` aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

const message = (error: unknown) => (error instanceof Error ? error.message : String(error));

/**
 * canal's TCP client for one destination (`canal.conf.mode: tcp`, wire formats §3).
 *
 * - **Partition**: the destination (one per group); batches arrive in binlog order.
 * - **Payload**: each non-empty GET reply is handed to the core as one message whose payload is
 *   the `Packet{MESSAGES}` bytes exactly as canal-server sent them. That is canal's non-flat MQ
 *   payload layout (§2.4), which the core decodes with its protobuf decoder.
 * - **Offsets**: a counter of this source instance, one per delivered batch, never going back
 *   (canal's batch ids restart with canal-server). A redelivered batch gets a new, higher offset
 *   and is applied again, never dropped as a duplicate.
 * - **Acks**: `commit(dest, next)` acks, in order, every batch below `next` fetched by the
 *   current session, so a batch is acked only after every event of it was applied or
 *   dead-lettered. Batches of a lost session are not acked: canal rolled them back.
 * - **Back-pressure**: at most `maxInFlightBatches` un-acked batches; then it waits for commits.
 * - **Failures**: a broken connection or an error reply ends the session; the source reconnects
 *   (through ZooKeeper when configured, to whichever canal-server runs the destination now),
 *   rolls back everything un-acked, and canal redelivers it (at-least-once).
 */
export class TcpSource implements SourceInstance {
  readonly #o: TcpSourceOptions;
  readonly #log: Logger;
  readonly #zk: CanalZooKeeper | undefined;
  #session: CanalSession | undefined;
  #seq = 0n;
  #outstanding: Outstanding[] = [];
  #wake: (() => void) | undefined;
  #closed = new AbortController();
  #running = false;
  #standbyLogged = false;
  /** Stops the watch of the destination's `running` node (ZooKeeper discovery only). */
  #unwatch: (() => void) | undefined;
  /** Ends the run loop's reconnect back-off at once (set while it waits). */
  #kick: (() => void) | undefined;

  constructor(options: TcpSourceOptions, logger: Logger) {
    this.#o = options;
    this.#log = logger.child({ destination: options.destination });
    this.#zk =
      options.servers.length === 0
        ? new CanalZooKeeper(
            options.zookeeperHosts,
            options.destination,
            options.clientId,
            options.zkSessionTimeoutMs,
          )
        : undefined;
    // The client node is gone with the ZooKeeper session: another Sluice may take over, so stop.
    this.#zk?.onLost(() => {
      this.#log.warn('The ZooKeeper session expired; giving up the destination and re-joining.');
      this.#dropSession();
    });
  }

  /** A human-readable position, for log lines and dead-letter records. */
  locate(partition: string, offset: string): string {
    const entry = this.#outstanding.find((e) => e.offset.toString() === offset);
    return entry
      ? `canal destination "${partition}" batch ${entry.batchId} from ${entry.session.where} (delivery ${offset})`
      : `canal destination "${partition}" delivery ${offset}`;
  }

  async connect(signal: AbortSignal): Promise<void> {
    if (this.#session) return;
    this.#session = await this.#open(signal);
  }

  async run(handler: SourceHandler, options: SourceRunOptions): Promise<void> {
    if (this.#running) throw new FatalError('The tcp source is already running.');
    this.#running = true;
    const { signal } = options;
    const stop = AbortSignal.any([signal, this.#closed.signal]);
    const onStop = () => this.#wake?.();
    stop.addEventListener('abort', onStop, { once: true });
    const partition = this.#o.destination;
    try {
      await handler.assigned?.([partition]);
      let backoff = RECONNECT_MIN_MS;
      while (!stop.aborted) {
        let session = this.#session;
        if (!session || session.failure) {
          try {
            session = this.#session = await this.#open(stop);
            backoff = RECONNECT_MIN_MS;
          } catch (error) {
            if (error instanceof FatalError) throw error;
            if (stop.aborted) break;
            this.#log.warn(`canal-server not reachable; retrying in ${backoff} ms.`, {
              error: message(error),
            });
            // the running-node watch ends the wait when ZooKeeper names a server
            const kick = new AbortController();
            this.#kick = () => kick.abort();
            await sleep(backoff, AbortSignal.any([stop, kick.signal]));
            this.#kick = undefined;
            backoff = Math.min(backoff * 2, RECONNECT_MAX_MS);
            continue;
          }
        }
        if (this.#outstanding.length >= this.#o.maxInFlightBatches) {
          let unlisten = () => {};
          await new Promise<void>((resolve) => {
            this.#wake = resolve;
            unlisten = session.onClosed(() => resolve());
            if (stop.aborted) resolve();
          });
          unlisten();
          this.#wake = undefined;
          continue;
        }
        let batch;
        try {
          batch = await session.get(this.#o.batchSize, this.#o.getTimeoutMs);
        } catch (error) {
          this.#lost(session, error);
          continue;
        }
        if (batch.batchId === -1n) {
          if (options.once) break;
          // canal.conf.timeout 0: canal answers at once; do not spin on an idle destination.
          if (this.#o.getTimeoutMs === 0) await sleep(EMPTY_POLL_PAUSE_MS, stop);
          continue;
        }
        const offset = ++this.#seq;
        this.#outstanding.push({ offset, batchId: batch.batchId, session });
        await handler.deliver({
          partition,
          messages: [{ offset: offset.toString(), payload: batch.packet }],
        });
      }
    } finally {
      stop.removeEventListener('abort', onStop);
    }
  }

  async commit(partition: string, nextOffset: string): Promise<void> {
    if (partition !== this.#o.destination) return;
    const next = BigInt(nextOffset);
    const current = this.#session;
    while (this.#outstanding.length > 0 && this.#outstanding[0]!.offset < next) {
      const entry = this.#outstanding.shift()!;
      // A batch of a lost session was rolled back by canal and is (or will be) redelivered.
      if (entry.session !== current || current.failure) continue;
      try {
        current.ack(entry.batchId);
      } catch {
        // The session just failed: canal redelivers the batch to the next session.
      }
    }
    this.#wake?.();
  }

  /** Closes the session and the ZooKeeper client (its client node goes with it). Idempotent. */
  async close(): Promise<void> {
    this.#closed.abort();
    this.#unwatch?.();
    this.#unwatch = undefined;
    this.#wake?.();
    this.#session?.close();
    this.#session = undefined;
    this.#zk?.close();
  }

  /**
   * Follows a change of the destination's running canal-server at once (not only at the next
   * reconnect): when ZooKeeper names another server than the current session's, the session is
   * closed (acks already sent are flushed, nothing more is acked on it: its un-acked batches are
   * forgotten and canal redelivers them) and the run loop connects to the new one. A deleted
   * node alone changes nothing: the session breaks by itself if its server died; a server
   * named while the loop waits to reconnect ends that wait.
   */
  #watchRunning(zk: CanalZooKeeper): void {
    this.#unwatch?.();
    this.#unwatch = zk.watchRunning((server) => {
      const session = this.#session;
      if (!server) return;
      if (!session || session.failure) {
        this.#kick?.(); // waiting to reconnect: try the new server now
        return;
      }
      const now = `${server.host}:${server.port}`;
      if (now === session.where) return;
      this.#log.info(`canal-server ${now} now runs the destination; leaving ${session.where}.`);
      this.#lost(session, new Error(`ZooKeeper names ${now} as the running canal-server`));
      this.#wake?.();
    });
  }

  /** A session failed: forget its un-acked batches (canal redelivers them after a rollback). */
  #lost(session: CanalSession, error: unknown): void {
    if (this.#closed.signal.aborted) return;
    // already handled (e.g. closed for a new running server, then its pending GET failed)
    if (
      session.failure &&
      this.#session !== session &&
      !this.#outstanding.some((e) => e.session === session)
    )
      return;
    this.#log.warn(
      `Lost the session with canal-server ${session.where}; reconnecting (un-acked batches are redelivered).`,
      {
        error: message(error),
      },
    );
    session.close();
    if (this.#session === session) this.#session = undefined;
    this.#outstanding = this.#outstanding.filter((e) => e.session !== session);
  }

  #dropSession(): void {
    const session = this.#session;
    if (session) this.#lost(session, new Error('ZooKeeper session lost'));
  }

  /** The canal-server addresses to try now: the configured ones, or the running one in ZooKeeper. */
  async #addresses(): Promise<HostPort[]> {
    const zk = this.#zk;
    if (!zk) return [...this.#o.servers];
    const where = `ZooKeeper ${this.#o.zookeeperHosts}`;
    let holder: string | undefined;
    try {
      holder = await zk.acquireClient(this.#o.connectTimeoutMs);
    } catch (error) {
      throw new NotConnectedError(`Cannot use ${where}: ${message(error)}`, { cause: error });
    }
    if (holder !== undefined) {
      if (!this.#standbyLogged)
        this.#log.info(
          `Standing by: client ${holder} consumes destination "${this.#o.destination}".`,
        );
      this.#standbyLogged = true;
      throw new NotConnectedError(
        `Another client (${holder}) consumes canal destination "${this.#o.destination}"; this one stands by until it leaves.`,
      );
    }
    this.#standbyLogged = false;
    let running: HostPort | undefined;
    try {
      running = await zk.runningServer(this.#o.connectTimeoutMs);
    } catch (error) {
      throw new NotConnectedError(`Cannot use ${where}: ${message(error)}`, { cause: error });
    }
    if (!running)
      throw new NotConnectedError(
        `No canal-server runs destination "${this.#o.destination}" (${where} has no /otter/canal/destinations/${this.#o.destination}/running).`,
      );
    return [running];
  }

  /** Opens a session with the first reachable canal-server. */
  async #open(signal: AbortSignal): Promise<CanalSession> {
    const addresses = await this.#addresses();
    const failures: string[] = [];
    for (const address of addresses) {
      if (signal.aborted) break;
      try {
        const session = await CanalSession.open(
          address,
          {
            destination: this.#o.destination,
            clientId: this.#o.clientId,
            username: this.#o.username,
            password: this.#o.password,
            filter: this.#o.filter,
            idleTimeoutMs: this.#o.idleTimeoutMs,
            connectTimeoutMs: this.#o.connectTimeoutMs,
          },
          signal,
        );
        // The destination is already a field of this logger (child).
        this.#log.info('Subscribed to canal-server.', { server: session.where });
        if (this.#zk) this.#watchRunning(this.#zk);
        return session;
      } catch (error) {
        if (error instanceof CanalAuthError) throw new FatalError(error.message, { cause: error });
        failures.push(`${address.host}:${address.port}: ${message(error)}`);
      }
    }
    throw new NotConnectedError(
      `Cannot read canal destination "${this.#o.destination}": ${failures.join('; ') || 'aborted'}`,
    );
  }
}

/**
 * `canal.conf.mode: tcp`: reads `canalAdapters[].instance` as a canal destination straight from
 * canal-server (canal-adapter's default mode), with canal's tcp connector keys under
 * `consumerProperties`: `canal.tcp.server.host` or `canal.tcp.zookeeper.hosts`,
 * `canal.tcp.batch.size`, `canal.tcp.username`, `canal.tcp.password`, and `canal.conf.timeout`
 * (the GET timeout; the core copies it from `canal.conf`). A batch is acked only
 * once every event of it was applied or dead-lettered.
 */
export const tcpSource = defineSource({
  name: 'tcp',
  description:
    'Reads canal messages straight from canal-server (TCP, optional ZooKeeper discovery); acks only what was applied.',
  deps: { logger: coreServices.logger },
  propertiesSchema: tcpPropertiesSchema,
  create: (ctx) =>
    new TcpSource(
      tcpSourceOptions({ properties: ctx.properties, destination: ctx.instance }),
      ctx.deps.logger,
    ),
});
