#!/usr/bin/env node
/**
 * Builds the workspace before `pnpm start` / `pnpm sluice`, without touching stdout (the changes
 * the logger sink prints, and `sluice inspect`'s output, must pipe cleanly).
 *
 * Up to date (every turbo task a cache hit): prints nothing. As soon as turbo reports a cache miss
 * (it is compiling something: the first run on a fresh clone takes about a minute), or when the
 * build takes longer than 20 s anyway, it prints "Building Sluice …" on stderr and then turbo's
 * progress (one line per package) as it comes. On failure the whole turbo output goes to stderr
 * and the exit code is turbo's.
 *
 * Usage: node scripts/build.mjs [-- command args…] (default: turbo run build)
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/**
 * Runs `command` and shows its output on `err` (never stdout) once it reports a cache miss or
 * takes longer than `quietMs`, after a one-line notice. Resolves with the exit code.
 *
 * @param {{ command: string, args: string[], quietMs?: number, err?: (text: string) => void, cwd?: string }} options
 * @returns {Promise<number>}
 */
export function buildWithProgress({
  command,
  args,
  quietMs = 20_000,
  err = (text) => void process.stderr.write(text),
  cwd,
}) {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let buffered = '';
    let showing = false;
    const show = () => {
      if (showing) return;
      showing = true;
      err('Building Sluice (the first run takes about a minute)…\n');
      if (buffered) err(buffered);
      buffered = '';
    };
    const timer = setTimeout(show, quietMs);
    const take = (chunk) => {
      const text = String(chunk);
      if (showing) err(text);
      else {
        buffered += text;
        if (/cache miss/.test(text)) show(); // turbo is compiling, not replaying its cache
      }
    };
    child.stdout.on('data', take);
    child.stderr.on('data', take);
    child.on('error', (error) => {
      clearTimeout(timer);
      err(`Cannot run ${command}: ${error.message}\n`);
      resolve(1);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code !== 0 && !showing) err(buffered);
      else if (showing) err(code === 0 ? 'Built.\n' : '');
      resolve(code ?? 1);
    });
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const dash = process.argv.indexOf('--');
  const [command, ...args] =
    dash >= 0
      ? process.argv.slice(dash + 1)
      : ['turbo', 'run', 'build', '--output-logs=hash-only', '--log-order=stream'];
  process.exitCode = await buildWithProgress({ command, args });
}
