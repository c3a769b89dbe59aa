/**
 * Issue 15, the production story: the packaged `sluice` runs outside the repository, the systemd
 * unit passes `systemd-analyze verify`, and the Dockerfile is consistent with the repository (no
 * image is built: this machine has no container engine).
 */
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { DockerfileParser } from 'dockerfile-ast';
import { beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));
const run = promisify(execFile);
const rootPackage = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  packageManager: string;
  engines: { node: string };
};

describe('pnpm package', () => {
  let out: string;
  let work: string;
  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'sluice-package-'));
    out = join(work, 'sluice');
    const r = spawnSync(process.execPath, [join(root, 'scripts/package.mjs'), out, '--no-build'], {
      cwd: root,
      encoding: 'utf8',
    });
    if (r.status !== 0) throw new Error(`pnpm package failed:\n${r.stdout}\n${r.stderr}`);
  }, 240_000);

  it('writes a self-contained sluice that runs from anywhere', async () => {
    expect(existsSync(join(work, 'sluice-0.1.0.tgz'))).toBe(true);
    const bin = join(out, 'dist/bin.js');
    const cwd = await mkdtemp(join(tmpdir(), 'sluice-elsewhere-'));
    expect((await run(process.execPath, [bin, '--version'], { cwd })).stdout).toMatch(
      /^sluice \d+\.\d+\.\d+\n$/,
    );
    // Linked as a command (the README's and the Dockerfile's way), it runs by its shebang.
    await run('ln', ['-s', bin, join(cwd, 'sluice')]);
    expect((await run(join(cwd, 'sluice'), ['--version'], { cwd })).stdout).toMatch(/^sluice /);
    // The configured plugins load (validate creates each configured sink and source).
    const validated = await run(
      process.execPath,
      [bin, 'validate', '--config', join(root, 'examples/canal-adapter-conf')],
      { cwd },
    );
    expect(validated.stdout).toContain('valid (3 mapping files)');
    // A process imports only the plugins its configuration uses: import every one of them from
    // the packaged tree (what `createBuiltinRegistry()` without arguments does).
    const registered = await run(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `const { createBuiltinRegistry } = await import(${JSON.stringify(join(out, 'dist/index.js'))});
const r = await createBuiltinRegistry();
console.log(JSON.stringify([r.sinkNames(), r.sourceNames()]));`,
      ],
      { cwd },
    );
    expect(JSON.parse(registered.stdout)).toEqual([
      ['es6', 'es7', 'es8', 'logger', 'rdb', 'redis'],
      ['file', 'kafka', 'rabbitmq', 'rocketmq', 'tcp'],
    ]);
    // And it runs: the embedded default configuration, once, from a copy outside the repo.
    const conf = join(cwd, 'conf');
    await run('cp', ['-r', join(root, 'config'), conf]);
    const started = await run(process.execPath, [bin, 'start', '--config', conf, '--once'], {
      cwd,
    });
    expect(started.stdout).toContain('mytest.user INSERT [id=1] name="Eric"');
    expect(started.stderr).toContain('Applied 7 event(s)');
    // Four node processes in a row: 30 s was once too short at load average 20-56.
  }, 120_000);
});

describe('deploy/sluice.service', () => {
  it('passes systemd-analyze verify without a warning', async () => {
    if (!existsSync('/usr/bin/systemd-analyze'))
      throw new Error('systemd-analyze is missing (Debian package systemd).');
    const dir = await mkdtemp(join(tmpdir(), 'sluice-unit-'));
    let unit = await readFile(join(root, 'deploy/sluice.service'), 'utf8');
    // The unit names Debian's node; verify checks that the binary exists, so use this one's.
    if (!existsSync('/usr/bin/node')) unit = unit.replaceAll('/usr/bin/node', process.execPath);
    await writeFile(join(dir, 'sluice.service'), unit);
    const r = spawnSync('systemd-analyze', ['verify', join(dir, 'sluice.service')], {
      encoding: 'utf8',
    });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(unit).toMatch(
      /^ExecStart=\S+ \/opt\/sluice\/dist\/bin\.js start --config \/etc\/sluice$/m,
    );
  });

  it('fails verification when a key is misspelt (the check can fail)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sluice-unit-'));
    const unit = (await readFile(join(root, 'deploy/sluice.service'), 'utf8')).replace(
      'NoNewPrivileges=',
      'NoNewPrivilege=',
    );
    await writeFile(join(dir, 'sluice.service'), unit);
    const r = spawnSync('systemd-analyze', ['verify', join(dir, 'sluice.service')], {
      encoding: 'utf8',
    });
    expect(r.stderr).toContain("Unknown key 'NoNewPrivilege'");
  });
});

describe('deploy/Dockerfile', () => {
  const text = readFileSync(join(root, 'deploy/Dockerfile'), 'utf8');
  const dockerfile = DockerfileParser.parse(text);
  const instructions = dockerfile.getInstructions();
  const args = (keyword: string) =>
    instructions
      .filter((i) => i.getKeyword() === keyword)
      .map((i) => i.getArgumentsContent() ?? '');

  it('parses, and builds on the Node.js line the engines field accepts', () => {
    expect(instructions.map((i) => i.getKeyword())).toContain('ENTRYPOINT');
    const froms = dockerfile.getFROMs();
    expect(froms).toHaveLength(2);
    for (const from of froms) {
      const major = /^node:(\d+)-/.exec(from.getImageName() + ':' + from.getImageTag())?.[1];
      expect(major, from.getArgumentsContent() ?? '').toBeDefined();
      expect(rootPackage.engines.node).toContain(`^${major}.`);
    }
  });

  it('installs the pnpm of packageManager and packages with pnpm package’s deploy command', () => {
    const pnpm = rootPackage.packageManager.replace('pnpm@', '');
    expect(args('RUN').join('\n')).toContain(`npm install -g pnpm@${pnpm}`);
    const script = readFileSync(join(root, 'scripts/package.mjs'), 'utf8');
    expect(script).toContain("'deploy', '--legacy', '--prod'");
    expect(args('RUN').join('\n')).toContain(
      'pnpm --filter @sluice/cli deploy --legacy --prod /opt/sluice',
    );
  });

  it('runs as a non-root user, the deployed bin.js, with a liveness check on the admin API', () => {
    expect(args('USER').at(-1)).toBe('node');
    expect(JSON.parse(args('ENTRYPOINT').at(-1)!)).toEqual(['node', '/opt/sluice/dist/bin.js']);
    expect(JSON.parse(args('CMD').at(-1)!)).toEqual(['start', '--config', '/etc/sluice']);
    expect(existsSync(join(root, 'packages/cli/dist/bin.js'))).toBe(true);
    expect(args('HEALTHCHECK').at(-1)).toContain('/health/live');
    expect(args('EXPOSE')).toEqual(['8081']);
    expect(args('STOPSIGNAL')).toEqual(['SIGTERM']);
  });

  it('keeps node_modules and build output out of the build context', async () => {
    const ignore = await readFile(join(root, 'deploy/Dockerfile.dockerignore'), 'utf8');
    expect(ignore).toMatch(/^\*\*\/node_modules$/m);
    expect(ignore).toMatch(/^\*\*\/dist$/m);
  });
});

describe('LICENSE', () => {
  it('is the license every package declares', async () => {
    const license = await readFile(join(root, 'LICENSE'), 'utf8');
    expect(license).toContain('Apache License');
    expect(license).toContain('Version 2.0, January 2004');
    const cli = JSON.parse(await readFile(join(root, 'packages/cli/package.json'), 'utf8')) as {
      license: string;
    };
    expect(cli.license).toBe('Apache-2.0');
  });
});
