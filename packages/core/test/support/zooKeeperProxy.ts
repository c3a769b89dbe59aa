import { connect, createServer, type Socket } from 'node:net';
import { zookeeperHosts } from '../../../../test/support/testbed.js';

/** A TCP proxy in front of the testbed's ZooKeeper; see {@link zooKeeperProxy}. */
export interface ZooKeeperProxy {
  /** `127.0.0.1:<port>`: give it to a client as its `zookeeperHosts`. */
  readonly hosts: string;
  /**
   * From now on the connections open through the proxy carry nothing, either way, and stay open:
   * ZooKeeper as a stopped process looks to its clients. Later connections pass normally.
   */
  freeze(): void;
  close(): Promise<void>;
}

/**
 * Starts a proxy to the testbed's ZooKeeper (its first host), so a test can make ZooKeeper stop
 * answering one client without touching the ZooKeeper other tests share.
 */
export async function zooKeeperProxy(): Promise<ZooKeeperProxy> {
  const [host, port] = zookeeperHosts().split(',')[0]!.split('/')[0]!.split(':') as [
    string,
    string,
  ];
  const open = new Set<{ client: Socket; upstream: Socket; frozen: boolean }>();
  const server = createServer((client) => {
    const pair = { client, upstream: connect(Number(port), host), frozen: false };
    open.add(pair);
    client.on('data', (d) => void (pair.frozen || pair.upstream.write(d)));
    pair.upstream.on('data', (d) => void (pair.frozen || client.write(d)));
    const end = () => {
      open.delete(pair);
      client.destroy();
      pair.upstream.destroy();
    };
    client.on('error', end).on('close', end);
    pair.upstream.on('error', end).on('close', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('proxy has no port');
  return {
    hosts: `127.0.0.1:${address.port}`,
    freeze: () => {
      for (const pair of open) pair.frozen = true;
    },
    close: async () => {
      for (const pair of open) {
        pair.client.destroy();
        pair.upstream.destroy();
      }
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
