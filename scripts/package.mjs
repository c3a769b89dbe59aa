#!/usr/bin/env node
// `pnpm package [OUT] [--no-build]`: builds the workspace and writes a self-contained Sluice — the `sluice`
// command with its production dependencies — into OUT (default dist/sluice), plus a tarball
// beside it (dist/sluice-<version>.tgz). Run it with `node OUT/dist/bin.js` or link that file
// as `sluice`. Uses `pnpm deploy` (legacy mode: this workspace does not inject packages).
import { spawnSync } from 'node:child_process';
import { chmodSync, readFileSync, rmSync, mkdirSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const args = process.argv.slice(2);
// --no-build: package what is built now (the tests do, while other tests read dist/).
const build = !args.includes('--no-build');
const positional = args.filter((a) => !a.startsWith('--'));
const out = resolve(positional[0] ?? resolve(root, 'dist/sluice'));
const run = (cmd, args, cwd = root) => {
  const r = spawnSync(cmd, args, { cwd, stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(`pnpm package: ${cmd} ${args.join(' ')} failed (${r.status ?? r.signal}).`);
    process.exit(1);
  }
};

if (build) run('pnpm', ['-s', 'build:quiet']);
rmSync(out, { recursive: true, force: true });
mkdirSync(dirname(out), { recursive: true });
run('pnpm', ['--filter', '@sluice/cli', 'deploy', '--legacy', '--prod', '--silent', out]);
// tsc does not keep the executable bit: `ln -s OUT/dist/bin.js /usr/local/bin/sluice` needs it.
chmodSync(resolve(out, 'dist/bin.js'), 0o755);
const { version } = JSON.parse(readFileSync(resolve(root, 'packages/cli/package.json'), 'utf8'));
const tarball = resolve(dirname(out), `sluice-${version}.tgz`);
run('tar', ['-czf', tarball, '-C', dirname(out), basename(out)]);
console.log(`Sluice ${version}: ${out} (run: node ${out}/dist/bin.js --help)\nTarball: ${tarball}`);
