// Small process/file helpers shared by the testbed services. Plain Node, no dependencies.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The pid a daemon wrote to `file`, waiting up to `timeoutMs` for it: the file can exist and
 * still be empty for a moment (created, not yet written), which read as pid 0 and made a node
 * that was starting look like one that had exited.
 * @returns {Promise<number>} the pid, or 0 when none was written in time
 */
export async function readPidFile(file, timeoutMs) {
  for (let waited = 0; ; waited += 100) {
    const text = fs.existsSync(file) ? fs.readFileSync(file, 'utf8').trim() : '';
    const pid = Number(text);
    if (Number.isInteger(pid) && pid > 0) return pid;
    if (waited >= timeoutMs) return 0;
    await sleep(100);
  }
}

const t0 = Date.now();
/** Seconds since the CLI started, for log lines. */
export const elapsed = () => ((Date.now() - t0) / 1000).toFixed(1).padStart(5);

/** @param {string} name @param {string} msg */
export function log(name, msg) {
  process.stdout.write(`[testbed ${elapsed()}s] ${name.padEnd(13)} ${msg}\n`);
}

export class TestbedError extends Error {}

/** @param {string} cmd */
export function commandExists(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

/** The full path of a command, or undefined. @param {string} cmd */
export function which(cmd) {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

export const isRoot = () => typeof process.getuid === 'function' && process.getuid() === 0;

/**
 * Runs a command to completion, capturing output. Rejects with the output tail on failure.
 * @param {string} cmd @param {string[]} args
 * @param {{cwd?: string, env?: NodeJS.ProcessEnv, uid?: number, gid?: number, logFile?: string, input?: string}} [opts]
 * @returns {Promise<string>}
 */
export function run(cmd, args, opts = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      uid: opts.uid,
      gid: opts.gid,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    const onData = (d) => {
      out += d;
      if (out.length > 200_000) out = out.slice(-100_000);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.stdin.end(opts.input ?? '');
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (opts.logFile) fs.appendFileSync(opts.logFile, `$ ${cmd} ${args.join(' ')}\n${out}\n`);
      if (code === 0) resolve(out);
      else
        reject(
          new TestbedError(
            `\`${cmd} ${args.join(' ')}\` failed (${signal ?? `exit ${code}`}):\n${tail(out, 25)}`,
          ),
        );
    });
  });
}

/** Last n lines of a string. @param {string} s @param {number} n */
export function tail(s, n) {
  return s.trimEnd().split('\n').slice(-n).join('\n');
}

/** Last n lines of a file, or ''. @param {string} file @param {number} [n] */
export function tailFile(file, n = 30) {
  try {
    const fd = fs.openSync(file, 'r');
    const size = fs.fstatSync(fd).size;
    const len = Math.min(size, 64 * 1024);
    const buf = Buffer.alloc(len);
    fs.readSync(fd, buf, 0, len, size - len);
    fs.closeSync(fd);
    return tail(buf.toString('utf8'), n);
  } catch {
    return '';
  }
}

/**
 * Starts a long-running process in its own session, detached from this CLI, with stdout and
 * stderr appended to logFile. Returns its pid.
 * @param {string} cmd @param {string[]} args
 * @param {{cwd?: string, env?: NodeJS.ProcessEnv, uid?: number, gid?: number, logFile: string}} opts
 */
export function startDetached(cmd, args, opts) {
  fs.mkdirSync(path.dirname(opts.logFile), { recursive: true });
  const fd = fs.openSync(opts.logFile, 'a');
  fs.writeSync(fd, `\n===== ${new Date().toISOString()} $ ${cmd} ${args.join(' ')}\n`);
  const child = spawn(cmd, args, {
    cwd: opts.cwd,
    env: opts.env ?? process.env,
    uid: opts.uid,
    gid: opts.gid,
    detached: true,
    stdio: ['ignore', fd, fd],
  });
  fs.closeSync(fd);
  child.on('error', () => {});
  child.unref();
  if (child.pid === undefined) throw new TestbedError(`could not start ${cmd}`);
  return child.pid;
}

/** @param {number} pid */
export function pidAlive(pid) {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (e) {
    if (/** @type {NodeJS.ErrnoException} */ (e).code !== 'EPERM') return false;
  }
  // A zombie still answers kill(0); treat it as gone.
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true;
  }
}

/** @param {number} pid */
export function cmdline(pid) {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
  } catch {
    return '';
  }
}

/** True when pid is alive and its command line contains marker (guards against pid reuse). */
export function ownsPid(pid, marker) {
  return pidAlive(pid) && cmdline(pid).includes(marker);
}

/**
 * Sends signal to pid (only if it still carries marker) and waits for it to exit; SIGKILL after
 * timeoutMs. Returns true if it was running.
 */
export async function stopPid(pid, marker, signal = 'SIGTERM', timeoutMs = 30_000) {
  if (!ownsPid(pid, marker)) return false;
  try {
    process.kill(pid, signal);
  } catch {
    return false;
  }
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!pidAlive(pid)) return true;
    await sleep(200);
  }
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    /* gone */
  }
  while (pidAlive(pid)) await sleep(100);
  return true;
}

/** All processes as pid → ppid. */
function processTable() {
  /** @type {Map<number, number>} */
  const parents = new Map();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      parents.set(Number(entry), Number(fields[1]));
    } catch {
      /* exited meanwhile */
    }
  }
  return parents;
}

/** Resident memory (bytes) of pid and all its descendants. @param {number} pid */
export function treeRss(pid) {
  const parents = processTable();
  const pids = new Set([pid]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const [p, pp] of parents) {
      if (!pids.has(p) && pids.has(pp)) {
        pids.add(p);
        grew = true;
      }
    }
  }
  let kb = 0;
  for (const p of pids) {
    try {
      const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${p}/status`, 'utf8'));
      if (m) kb += Number(m[1]);
    } catch {
      /* exited */
    }
  }
  return kb * 1024;
}

export const mib = (bytes) => `${Math.round(bytes / 1024 / 1024)} MiB`;

/** Whether something accepts TCP connections on host:port. */
export function portOpen(port, host = '127.0.0.1', timeoutMs = 1000) {
  return new Promise((resolve) => {
    const sock = net.connect({ port, host });
    const done = (v) => {
      sock.destroy();
      resolve(v);
    };
    sock.setTimeout(timeoutMs, () => done(false));
    sock.once('connect', () => done(true));
    sock.once('error', () => done(false));
  });
}

/**
 * Polls probe until it resolves truthy. Throws with the last error (and a log tail) on timeout or
 * when isAlive() turns false.
 * @template T
 * @param {string} what
 * @param {() => Promise<T>} probe
 * @param {{timeoutMs: number, intervalMs?: number, isAlive?: () => boolean, logFile?: string}} opts
 * @returns {Promise<T>}
 */
export async function waitFor(what, probe, opts) {
  const deadline = Date.now() + opts.timeoutMs;
  let lastErr = 'no answer yet';
  for (;;) {
    try {
      const v = await probe();
      if (v) return v;
    } catch (e) {
      lastErr = e instanceof Error ? e.message : String(e);
    }
    const logHint = opts.logFile
      ? `\n--- ${opts.logFile} (tail) ---\n${tailFile(opts.logFile)}`
      : '';
    if (opts.isAlive && !opts.isAlive())
      throw new TestbedError(`${what}: the process exited before it was ready.${logHint}`);
    if (Date.now() > deadline)
      throw new TestbedError(
        `${what}: not ready after ${opts.timeoutMs / 1000}s (last: ${lastErr}).${logHint}`,
      );
    await sleep(opts.intervalMs ?? 500);
  }
}

/** Writes a file only when its content changed. */
export function writeIfChanged(file, content) {
  try {
    if (fs.readFileSync(file, 'utf8') === content) return false;
  } catch {
    /* missing */
  }
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, content);
  return true;
}

/** A unix user's uid/gid, or undefined. @param {string} name */
export function userIds(name) {
  for (const line of fs.readFileSync('/etc/passwd', 'utf8').split('\n')) {
    const f = line.split(':');
    if (f[0] === name) return { uid: Number(f[2]), gid: Number(f[3]) };
  }
  return undefined;
}

/** chown -R (only when running as root). */
export function chownR(target, ids) {
  if (!ids || !isRoot()) return;
  const walk = (p) => {
    fs.lchownSync(p, ids.uid, ids.gid);
    const st = fs.lstatSync(p);
    if (st.isDirectory()) for (const e of fs.readdirSync(p)) walk(path.join(p, e));
  };
  walk(target);
}

/** mkdir -p owned by ids (root only). */
export function mkdirOwned(dir, ids, mode = 0o755) {
  fs.mkdirSync(dir, { recursive: true, mode });
  if (ids && isRoot()) fs.chownSync(dir, ids.uid, ids.gid);
}
