// A throwaway PostgreSQL cluster from Debian's binaries (/usr/lib/postgresql/<v>/bin), trust auth
// on loopback. As root it runs as the `postgres` user (initdb and postgres refuse root).
import fs from 'node:fs';
import path from 'node:path';
import { RUN_DIR } from '../lib/paths.mjs';
import { pgBinDir } from '../lib/prereqs.mjs';
import {
  isRoot,
  mkdirOwned,
  ownsPid,
  run,
  startDetached,
  stopPid,
  TestbedError,
  userIds,
} from '../lib/util.mjs';

const PORT = 15432;
export const PG_DATABASE = 'sluice_test';

const HOME = path.join(RUN_DIR, 'postgres');
const DATA = path.join(HOME, 'data');
const SOCK_DIR = path.join(HOME, 'run');
const LOG = path.join(HOME, 'log', 'postgres.log');

const ids = () => (isRoot() ? userIds('postgres') : undefined);
function bin(name) {
  const dir = pgBinDir();
  if (!dir) throw new TestbedError('PostgreSQL binaries not found');
  return path.join(dir, name);
}

/** @type {import('../lib/service.mjs').Service} */
export const postgres = {
  name: 'pg',
  envVar: 'SLUICE_TEST_PG',
  requires: ['postgres'],
  endpoint: `postgres://postgres@127.0.0.1:${PORT}/${PG_DATABASE}`,
  ports: [PORT],
  logFile: LOG,
  readyTimeoutMs: 60_000,
  dirs: { home: HOME, data: DATA },
  async prepare(say) {
    if (isRoot() && !ids())
      throw new TestbedError('user "postgres" does not exist (install postgresql)');
    fs.mkdirSync(HOME, { recursive: true, mode: 0o755 });
    for (const d of [SOCK_DIR, path.join(HOME, 'log')]) mkdirOwned(d, ids());
    if (fs.existsSync(path.join(DATA, 'PG_VERSION'))) return;
    fs.rmSync(DATA, { recursive: true, force: true });
    mkdirOwned(DATA, ids(), 0o700);
    await run(
      bin('initdb'),
      ['-D', DATA, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--locale=C', '--no-sync'],
      {
        uid: ids()?.uid,
        gid: ids()?.gid,
        cwd: HOME,
        env: { ...process.env, HOME, LC_ALL: 'C' },
        logFile: path.join(HOME, 'log', 'initdb.log'),
      },
    );
    say(`initialised cluster ${DATA}`);
  },
  async start() {
    const pid = startDetached(
      bin('postgres'),
      [
        '-D',
        DATA,
        '-p',
        String(PORT),
        '-k',
        SOCK_DIR,
        '-c',
        'listen_addresses=127.0.0.1',
        '-c',
        'fsync=off',
        '-c',
        'synchronous_commit=off',
        '-c',
        'full_page_writes=off',
        '-c',
        'shared_buffers=64MB',
        '-c',
        'max_connections=200',
        '-c',
        'wal_level=logical',
      ],
      {
        uid: ids()?.uid,
        gid: ids()?.gid,
        cwd: HOME,
        env: { ...process.env, HOME, LC_ALL: 'C' },
        logFile: LOG,
      },
    );
    return { pid, marker: DATA };
  },
  async probe(endpoint) {
    const pg = (await import('pg')).default;
    const u = new URL(endpoint);
    u.pathname = '/postgres';
    const client = new pg.Client({ connectionString: u.toString(), connectionTimeoutMillis: 3000 });
    await client.connect();
    try {
      const r = await client.query('SELECT version() AS v');
      return String(r.rows[0]?.v).split(' on ')[0] ?? 'ok';
    } finally {
      await client.end();
    }
  },
  async afterReady(endpoint) {
    const pg = (await import('pg')).default;
    const u = new URL(endpoint);
    const db = decodeURIComponent(u.pathname.slice(1)) || PG_DATABASE;
    u.pathname = '/postgres';
    const client = new pg.Client({ connectionString: u.toString() });
    await client.connect();
    try {
      const r = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [db]);
      if (r.rowCount === 0) await client.query(`CREATE DATABASE "${db}"`);
    } finally {
      await client.end();
    }
  },
  // SIGINT = "fast" shutdown (SIGTERM would wait for every client to disconnect).
  async stop(st) {
    if (st.pid && st.marker) await stopPid(st.pid, st.marker, 'SIGINT', 60_000);
  },
  isOurs: (st) => !!st.pid && !!st.marker && ownsPid(st.pid, st.marker),
};
