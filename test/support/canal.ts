/**
 * Helpers for tests against the testbed canal-server (test/testbed/services/canal.mjs): run canal's
 * own Java client (com.alibaba.otter:canal.client 1.1.7, via CanalClientCheck in
 * test/testbed/canal) against a destination, and run SQL on the testbed MariaDB.
 */
import { spawn } from 'node:child_process';
import { createConnection, type Connection } from 'mysql2/promise';
import { launcherClasspath } from '../testbed/services/canal.mjs';
import { canalEndpoint, mysqlEndpoint } from './testbed.js';

/** One row change as canal's Java client saw it (values are canal's strings, null = SQL NULL). */
export interface JavaClientRow {
  schema: string;
  table: string;
  eventType: string;
  before: Record<string, string | null> | null;
  after: Record<string, string | null> | null;
}

export interface JavaClientResult {
  rows: JavaClientRow[];
  /** firstMs/lastMs: epoch ms of the first and last non-empty batch; bytes: column values read. */
  summary: { rows: number; batches: number; ms: number; firstMs?: number; lastMs?: number };
  exitCode: number | null;
  stderr: string;
}

let classpath: Promise<string> | undefined;

/**
 * Classpath of the launcher + canal's jars compiled from this checkout's sources (compiled into
 * the testbed cache when missing, so a test runs the launcher of its own tree, not whichever the
 * running service was started from).
 */
export function canalJavaClasspath(): Promise<string> {
  classpath ??= launcherClasspath().then(
    (r) => r.classpath,
    (error: unknown) => {
      classpath = undefined;
      throw error;
    },
  );
  return classpath;
}

/**
 * Runs canal's Java client: subscribe(filter) on `destination`, read until `rows` row changes were
 * seen (or `timeoutSeconds`), ack each batch. Resolves with what it read; exitCode 2 = timeout.
 */
export function runCanalJavaClient(opts: {
  destination: string;
  filter: string;
  rows: number;
  timeoutSeconds: number;
  user?: string;
  password?: string;
}): Promise<JavaClientResult> {
  return canalJavaClasspath().then((classpath) => javaClient(opts, classpath));
}

function javaClient(
  opts: Parameters<typeof runCanalJavaClient>[0],
  classpath: string,
): Promise<JavaClientResult> {
  const args = [
    '-Xmx64m',
    '-XX:+UseSerialGC',
    '-XX:TieredStopAtLevel=1',
    '-cp',
    classpath,
    'sluice.testbed.canal.CanalClientCheck',
    canalEndpoint().tcp,
    opts.destination,
    opts.filter,
    String(opts.rows),
    String(opts.timeoutSeconds),
  ];
  if (opts.user !== undefined) args.push(opts.user, opts.password ?? '');
  return new Promise((resolve, reject) => {
    const child = spawn('java', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (err += d.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => {
      const rows = out
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as JavaClientRow);
      const last = err
        .trim()
        .split('\n')
        .reverse()
        .find((l) => l.startsWith('{"'));
      const summary = last
        ? (JSON.parse(last) as JavaClientResult['summary'])
        : { rows: -1, batches: -1, ms: -1 };
      resolve({ rows, summary, exitCode: code, stderr: err });
    });
  });
}

/** A root connection to the testbed MariaDB (multipleStatements on, UTC session). */
export async function mysqlRoot(database?: string): Promise<Connection> {
  const ep = mysqlEndpoint();
  return createConnection({
    host: ep.host,
    port: ep.port,
    user: ep.user,
    password: ep.password,
    database,
    multipleStatements: true,
    timezone: 'Z',
    dateStrings: true,
    supportBigNumbers: true,
    bigNumberStrings: true,
    charset: 'utf8mb4',
  });
}
