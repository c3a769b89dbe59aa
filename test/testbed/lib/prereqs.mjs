// Host prerequisites. As root on Debian, missing pieces are installed from Debian's packages
// (one `apt-get update`, one `apt-get install`); anywhere else a missing piece is an error that
// names what to install.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { commandExists, isRoot, log, run, TestbedError, which } from './util.mjs';

/** @typedef {{ id: string, what: string, apt: string, check: () => boolean }} Requirement */

/** Major version of the `java` on PATH, or 0. */
export function javaMajor() {
  if (!commandExists('java')) return 0;
  const r = spawnSync('java', ['-version'], { encoding: 'utf8' });
  const m = /version "(\d+)(?:\.(\d+))?/.exec(`${r.stderr}${r.stdout}`);
  if (!m) return 0;
  const major = Number(m[1]);
  return major === 1 ? Number(m[2]) : major;
}

/** JAVA_HOME of the `java` on PATH (what ES_JAVA_HOME must point to). */
export function javaHome() {
  const bin = which('java');
  if (!bin) throw new TestbedError('java is not installed');
  return path.dirname(path.dirname(fs.realpathSync(bin)));
}

/** The newest Debian PostgreSQL bin dir (/usr/lib/postgresql/<v>/bin), or undefined. */
export function pgBinDir() {
  const base = '/usr/lib/postgresql';
  let versions = [];
  try {
    versions = fs
      .readdirSync(base)
      .filter((v) => fs.existsSync(path.join(base, v, 'bin', 'initdb')))
      .sort((a, b) => Number(b) - Number(a));
  } catch {
    /* not installed */
  }
  if (versions[0]) return path.join(base, versions[0], 'bin');
  // Non-Debian layouts: initdb on PATH.
  const initdb = which('initdb');
  return initdb ? path.dirname(initdb) : undefined;
}

/** @type {Record<string, Requirement>} */
export const REQUIREMENTS = {
  java: {
    id: 'java',
    what: 'a Java 17+ runtime (java)',
    apt: 'default-jdk-headless',
    check: () => javaMajor() >= 17,
  },
  mvn: { id: 'mvn', what: 'Apache Maven (mvn)', apt: 'maven', check: () => commandExists('mvn') },
  unzip: { id: 'unzip', what: 'unzip', apt: 'unzip', check: () => commandExists('unzip') },
  mariadb: {
    id: 'mariadb',
    what: 'MariaDB server (mariadbd, mariadb-install-db)',
    apt: 'mariadb-server',
    check: () =>
      (commandExists('mariadbd') || fs.existsSync('/usr/sbin/mariadbd')) &&
      commandExists('mariadb-install-db'),
  },
  postgres: {
    id: 'postgres',
    what: 'PostgreSQL server (initdb, postgres)',
    apt: 'postgresql',
    check: () => pgBinDir() !== undefined,
  },
  redis: {
    id: 'redis',
    what: 'Redis server (redis-server)',
    apt: 'redis-server',
    check: () => commandExists('redis-server'),
  },
  rabbitmq: {
    id: 'rabbitmq',
    what: 'RabbitMQ server (/usr/lib/rabbitmq/bin/rabbitmq-server)',
    apt: 'rabbitmq-server',
    check: () => fs.existsSync('/usr/lib/rabbitmq/bin/rabbitmq-server'),
  },
  openssl: {
    id: 'openssl',
    what: "openssl (the RabbitMQ node's TLS certificates)",
    apt: 'openssl',
    check: () => commandExists('openssl'),
  },
  useradd: {
    id: 'useradd',
    what: 'useradd (to create the unprivileged Elasticsearch user)',
    apt: 'passwd',
    check: () => !isRoot() || commandExists('useradd') || fs.existsSync('/usr/sbin/useradd'),
  },
};

const isDebian = () => fs.existsSync('/etc/debian_version') && commandExists('apt-get');

/**
 * Makes sure every requirement holds, installing from apt when allowed.
 * @param {string[]} ids
 */
export async function ensurePrereqs(ids) {
  const missing = [...new Set(ids)]
    .map((id) => REQUIREMENTS[id])
    .filter((r) => r !== undefined && !r.check());
  if (missing.length === 0) return;
  const pkgs = [...new Set(missing.map((r) => r.apt))];
  if (!(isRoot() && isDebian())) {
    throw new TestbedError(
      `missing: ${missing.map((r) => r.what).join('; ')}.\n` +
        `Install them (on Debian/Ubuntu: sudo apt-get install ${pkgs.join(' ')}), ` +
        `or point the tests at your own services with SLUICE_TEST_KAFKA, SLUICE_TEST_ES, ` +
        `SLUICE_TEST_MYSQL, SLUICE_TEST_PG, SLUICE_TEST_REDIS.`,
    );
  }
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  log('apt', `installing ${pkgs.join(' ')} (missing: ${missing.map((r) => r.id).join(', ')})`);
  await run('apt-get', ['update', '-q'], { env });
  await run(
    'apt-get',
    [
      'install',
      '-y',
      '-q',
      '--no-install-recommends',
      '-o',
      'Dpkg::Options::=--force-confold',
      ...pkgs,
    ],
    { env },
  );
  const still = missing.filter((r) => !r.check());
  if (still.length > 0)
    throw new TestbedError(
      `still missing after apt-get install ${pkgs.join(' ')}: ${still.map((r) => r.what).join('; ')}`,
    );
}
