import { createRequire } from 'node:module';
import type zookeeper from 'node-zookeeper-client';

let loaded: typeof zookeeper | undefined;

/**
 * node-zookeeper-client, loaded on first use: only a configuration with `zookeeperHosts` needs
 * it, and a process without it keeps ~1.3 MB less heap (a larger heap slows JSON.parse:
 * BENCHMARKS.md, issue 11, session 17).
 */
export function zooKeeperClient(): typeof zookeeper {
  return (loaded ??= createRequire(import.meta.url)('node-zookeeper-client') as typeof zookeeper);
}

/** A node-zookeeper-client callback. */
export type ZooKeeperCallback<T> = (error: Error | zookeeper.Exception | null, value: T) => void;

/** Options of {@link zooKeeperRequest}. */
export interface ZooKeeperRequestOptions {
  /** canal's `zookeeperHosts`, for the message. */
  readonly hosts: string;
  /** What was asked, for the message: "creating the ETL lock node", … */
  readonly what: string;
  /** How long to wait for the answer, ms. */
  readonly timeoutMs: number;
  /**
   * Runs once when the answer did not come in time, before the promise rejects (a caller that
   * may have left an ephemeral node behind closes its session there).
   */
  readonly onTimeout?: () => void;
}

/**
 * One ZooKeeper request as a promise that settles within `timeoutMs`. node-zookeeper-client has
 * no request timeout of its own: a request waits in its queue while the client reconnects, and
 * forever when the server keeps the TCP connection open without answering (a stopped or
 * overloaded process; the client's pings detect nothing, see its `ConnectionManager`). Rejects
 * with the client's error, or on timeout with "ZooKeeper at `hosts` did not answer `what`
 * within N s"; an answer after the timeout is ignored.
 */
export function zooKeeperRequest<T>(
  run: (callback: ZooKeeperCallback<T>) => void,
  options: ZooKeeperRequestOptions,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const timer = setTimeout(() => {
      settled = true;
      options.onTimeout?.();
      reject(
        new Error(
          `ZooKeeper at ${options.hosts} (canal.conf.zookeeperHosts) did not answer ${options.what} within ${options.timeoutMs / 1000} s.`,
        ),
      );
    }, options.timeoutMs);
    run((error, value) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (error) reject(error);
      else resolve(value);
    });
  });
}
