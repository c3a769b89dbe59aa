// A throwaway Redis (Debian's redis-server) with no persistence.
import fs from 'node:fs';
import path from 'node:path';
import { RUN_DIR } from '../lib/paths.mjs';
import { ownsPid, startDetached, stopPid } from '../lib/util.mjs';

const PORT = 16379;
const HOME = path.join(RUN_DIR, 'redis');
const LOG = path.join(HOME, 'redis.log');

/** @type {import('../lib/service.mjs').Service} */
export const redis = {
  name: 'redis',
  envVar: 'SLUICE_TEST_REDIS',
  requires: ['redis'],
  endpoint: `redis://127.0.0.1:${PORT}`,
  ports: [PORT],
  logFile: LOG,
  readyTimeoutMs: 30_000,
  dirs: { home: HOME, data: path.join(HOME, 'data') },
  async prepare() {
    fs.mkdirSync(path.join(HOME, 'data'), { recursive: true });
  },
  async start() {
    const pid = startDetached(
      'redis-server',
      [
        '--port',
        String(PORT),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        '--daemonize',
        'no',
        '--dir',
        path.join(HOME, 'data'),
        '--logfile',
        '',
        '--maxmemory',
        '256mb',
      ],
      { cwd: HOME, logFile: LOG },
    );
    // redis-server rewrites its argv to "redis-server 127.0.0.1:16379", so that is the marker.
    return { pid, marker: `127.0.0.1:${PORT}` };
  },
  async probe(endpoint) {
    const { Redis } = await import('ioredis');
    const client = new Redis(endpoint, {
      lazyConnect: true,
      connectTimeout: 2000,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    client.on('error', () => {});
    try {
      await client.connect();
      const pong = await client.ping();
      if (pong !== 'PONG') throw new Error(`PING answered ${pong}`);
      const info = await client.info('server');
      return `redis ${/redis_version:(\S+)/.exec(info)?.[1] ?? '?'}`;
    } finally {
      client.disconnect();
    }
  },
  async stop(st) {
    if (st.pid && st.marker) await stopPid(st.pid, st.marker, 'SIGTERM', 15_000);
  },
  isOurs: (st) => !!st.pid && !!st.marker && ownsPid(st.pid, st.marker),
};
