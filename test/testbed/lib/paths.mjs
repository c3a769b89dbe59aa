// Where the testbed keeps downloads (cache) and runtime state (data dirs, pids, logs, state.json).
// Both live outside the repository so every clone on the machine shares one warm cache.
//
// * cache: $SLUICE_TESTBED_CACHE, else ${XDG_CACHE_HOME:-~/.cache}/sluice-testbed
//   (Kafka jars; the Elasticsearch zip itself stays in Maven's ~/.m2).
// * run:   $SLUICE_TESTBED_RUN, else /var/tmp/sluice-testbed when root, else <cache>/run.
//   As root, Elasticsearch, MariaDB and PostgreSQL run as unprivileged users (sluice-es, mysql,
//   postgres), which cannot enter /root (mode 700); /var/tmp is reachable and survives reboots.
//
// test/support/testbed.ts computes the same state-file path; keep the two in step.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { isRoot, pidAlive, sleep, TestbedError } from './util.mjs';

export const CACHE_DIR =
  process.env.SLUICE_TESTBED_CACHE ||
  path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'sluice-testbed');

export const RUN_DIR =
  process.env.SLUICE_TESTBED_RUN ||
  (isRoot() ? '/var/tmp/sluice-testbed' : path.join(CACHE_DIR, 'run'));

export const STATE_FILE = path.join(RUN_DIR, 'state.json');
const LOCK_FILE = path.join(RUN_DIR, 'lock');

/**
 * @typedef {{
 *   endpoint: string,
 *   managed: boolean,
 *   pid?: number,
 *   marker?: string,
 *   startedAt?: string,
 *   readyMs?: number,
 * }} ServiceState
 * @typedef {{ version: 1, services: Record<string, ServiceState> }} State
 */

/** @returns {State} */
export function readState() {
  try {
    const s = JSON.parse(fs.readFileSync(STATE_FILE, 'utf8'));
    if (s && s.version === 1 && s.services) return s;
  } catch {
    /* missing or corrupt */
  }
  return { version: 1, services: {} };
}

/** @param {State} state */
export function writeState(state) {
  fs.mkdirSync(RUN_DIR, { recursive: true });
  const tmp = `${STATE_FILE}.${process.pid}`;
  fs.writeFileSync(tmp, `${JSON.stringify(state, null, 2)}\n`);
  fs.renameSync(tmp, STATE_FILE);
}

export function ensureRunDir() {
  fs.mkdirSync(RUN_DIR, { recursive: true, mode: 0o755 });
  // The service users must be able to traverse into their own subdirectories.
  if (isRoot()) fs.chmodSync(RUN_DIR, 0o755);
}

/** Serialises concurrent `up`/`down` calls (e.g. two test runs). Returns a release function. */
export async function acquireLock(timeoutMs = 15 * 60_000) {
  ensureRunDir();
  const deadline = Date.now() + timeoutMs;
  let told = false;
  for (;;) {
    try {
      fs.writeFileSync(LOCK_FILE, String(process.pid), { flag: 'wx' });
      const release = () => {
        try {
          if (fs.readFileSync(LOCK_FILE, 'utf8') === String(process.pid)) fs.unlinkSync(LOCK_FILE);
        } catch {
          /* already gone */
        }
      };
      process.once('exit', release);
      return release;
    } catch (e) {
      if (/** @type {NodeJS.ErrnoException} */ (e).code !== 'EEXIST') throw e;
    }
    const holder = Number(fs.readFileSync(LOCK_FILE, 'utf8').trim() || 0);
    if (!pidAlive(holder)) {
      fs.rmSync(LOCK_FILE, { force: true });
      continue;
    }
    if (!told) {
      process.stdout.write(`[testbed] waiting for another testbed command (pid ${holder})...\n`);
      told = true;
    }
    if (Date.now() > deadline)
      throw new TestbedError(`another testbed command (pid ${holder}) holds ${LOCK_FILE}`);
    await sleep(500);
  }
}
