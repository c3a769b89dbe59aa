#!/usr/bin/env node
// Runs the testbed's Redis Cluster nodes (redis-server children) and stops them with itself:
// `node redis-cluster-supervisor.mjs <home> <port>...`. One pid for the testbed to record; SIGTERM
// or SIGINT stop every node (SIGTERM to each, then exit once all are gone).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const [home, ...ports] = process.argv.slice(2);
if (!home || ports.length === 0) {
  process.stderr.write('usage: redis-cluster-supervisor.mjs <home> <port>...\n');
  process.exit(2);
}
const children = ports.map((port) => {
  const dir = path.join(home, 'data', port);
  fs.mkdirSync(dir, { recursive: true });
  const child = spawn(
    'redis-server',
    [
      '--port',
      port,
      '--bind',
      '127.0.0.1',
      '--cluster-enabled',
      'yes',
      '--cluster-config-file',
      path.join(dir, 'nodes.conf'),
      '--cluster-node-timeout',
      '5000',
      '--save',
      '',
      '--appendonly',
      'no',
      '--daemonize',
      'no',
      '--dir',
      dir,
      '--logfile',
      '',
      '--maxmemory',
      '64mb',
    ],
    { stdio: ['ignore', 'inherit', 'inherit'] },
  );
  child.on('exit', (code, signal) => {
    process.stderr.write(`redis-server :${port} exited (${code ?? signal})\n`);
    if (!stopping) stop(1);
  });
  return child;
});

let stopping = false;
function stop(code = 0) {
  if (stopping) return;
  stopping = true;
  let left = children.filter((c) => c.exitCode === null && c.signalCode === null).length;
  if (left === 0) process.exit(code);
  for (const c of children) {
    if (c.exitCode !== null || c.signalCode !== null) continue;
    c.once('exit', () => {
      if (--left === 0) process.exit(code);
    });
    c.kill('SIGTERM');
  }
  setTimeout(() => {
    for (const c of children) c.kill('SIGKILL');
    process.exit(code);
  }, 10_000).unref();
}
process.on('SIGTERM', () => stop(0));
process.on('SIGINT', () => stop(0));
