// A throwaway MariaDB (Debian's mariadb-server binaries) with a ROW binlog, its own datadir,
// socket and port. As root it runs as the `mysql` user. --no-defaults keeps /etc/mysql (the
// system instance's config) out.
import fs from 'node:fs';
import path from 'node:path';
import { RUN_DIR } from '../lib/paths.mjs';
import {
  isRoot,
  mkdirOwned,
  ownsPid,
  run,
  startDetached,
  stopPid,
  userIds,
  which,
} from '../lib/util.mjs';

const PORT = 13306;
export const MYSQL_SOURCE_DB = 'mytest';
export const MYSQL_TARGET_DB = 'sluice_target';

const HOME = path.join(RUN_DIR, 'mariadb');
const DATA = path.join(HOME, 'data');
const SOCK_DIR = path.join(HOME, 'run');
const SOCKET = path.join(SOCK_DIR, 'mysqld.sock');
const LOG = path.join(HOME, 'log', 'error.log');

const user = () => (isRoot() ? 'mysql' : undefined);
const ids = () => (isRoot() ? userIds('mysql') : undefined);
const mariadbd = () => which('mariadbd') ?? '/usr/sbin/mariadbd';

/** @type {import('../lib/service.mjs').Service} */
export const mariadb = {
  name: 'mysql',
  envVar: 'SLUICE_TEST_MYSQL',
  requires: ['mariadb'],
  endpoint: `mysql://root:@127.0.0.1:${PORT}`,
  ports: [PORT],
  logFile: LOG,
  readyTimeoutMs: 60_000,
  dirs: { home: HOME, data: DATA },
  async prepare(say) {
    fs.mkdirSync(HOME, { recursive: true, mode: 0o755 });
    for (const d of [SOCK_DIR, path.join(HOME, 'log'), path.join(HOME, 'tmp')])
      mkdirOwned(d, ids());
    const done = path.join(HOME, '.initialised');
    if (fs.existsSync(done) && fs.existsSync(path.join(DATA, 'mysql'))) return;
    fs.rmSync(DATA, { recursive: true, force: true });
    mkdirOwned(DATA, ids(), 0o750);
    const args = [
      '--no-defaults',
      `--datadir=${DATA}`,
      '--auth-root-authentication-method=normal',
      '--skip-test-db',
    ];
    if (user()) args.push(`--user=${user()}`);
    await run('mariadb-install-db', args, { logFile: path.join(HOME, 'log', 'install.log') });
    fs.writeFileSync(done, new Date().toISOString());
    say(`initialised datadir ${DATA}`);
  },
  async start() {
    const args = [
      '--no-defaults',
      `--datadir=${DATA}`,
      `--port=${PORT}`,
      '--bind-address=127.0.0.1',
      `--socket=${SOCKET}`,
      `--pid-file=${path.join(SOCK_DIR, 'mysqld.pid')}`,
      `--log-error=${LOG}`,
      `--tmpdir=${path.join(HOME, 'tmp')}`,
      '--skip-name-resolve',
      `--log-bin=${path.join(DATA, 'mysql-bin')}`,
      '--binlog-format=ROW',
      '--binlog-row-image=FULL',
      '--server-id=1',
      '--expire-logs-days=1',
      '--character-set-server=utf8mb4',
      '--collation-server=utf8mb4_unicode_ci',
      '--innodb-buffer-pool-size=128M',
      '--innodb-log-file-size=64M',
      '--innodb-flush-log-at-trx-commit=2',
      '--sync-binlog=0',
      '--max-connections=300',
      '--performance-schema=OFF',
    ];
    if (user()) args.push(`--user=${user()}`);
    const pid = startDetached(mariadbd(), args, {
      cwd: HOME,
      logFile: path.join(HOME, 'log', 'stdout.log'),
    });
    return { pid, marker: `--datadir=${DATA}` };
  },
  async probe(endpoint) {
    const { createConnection } = await import('mysql2/promise');
    const u = new URL(endpoint);
    const conn = await createConnection({
      host: u.hostname,
      port: Number(u.port || 3306),
      user: decodeURIComponent(u.username),
      password: decodeURIComponent(u.password),
      connectTimeout: 3000,
    });
    try {
      const [rows] = await conn.query(
        'SELECT VERSION() AS v, @@log_bin AS log_bin, @@binlog_format AS fmt',
      );
      const r = /** @type {{v: string, log_bin: number, fmt: string}[]} */ (rows)[0];
      return `${r?.v}, log_bin=${r?.log_bin}, binlog_format=${r?.fmt}`;
    } finally {
      await conn.end();
    }
  },
  async afterReady(endpoint) {
    const { createConnection } = await import('mysql2/promise');
    const u = new URL(endpoint);
    const conn = await createConnection({
      host: u.hostname,
      port: Number(u.port),
      user: decodeURIComponent(u.username),
      password: decodeURIComponent(u.password),
      multipleStatements: true,
    });
    try {
      await conn.query(`
        CREATE USER IF NOT EXISTS 'canal'@'%' IDENTIFIED BY 'canal';
        GRANT SELECT, REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO 'canal'@'%';
        CREATE DATABASE IF NOT EXISTS \`${MYSQL_SOURCE_DB}\`;
        CREATE DATABASE IF NOT EXISTS \`${MYSQL_TARGET_DB}\`;
        FLUSH PRIVILEGES;`);
    } finally {
      await conn.end();
    }
  },
  async stop(st) {
    if (st.pid && st.marker) await stopPid(st.pid, st.marker, 'SIGTERM', 60_000);
  },
  isOurs: (st) => !!st.pid && !!st.marker && ownsPid(st.pid, st.marker),
};
