import { mkdtemp, readFile, readdir, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { main } from './main.js';
import type { CliIo } from './io.js';

function capture(): CliIo & { out: () => string; err: () => string } {
  let out = '';
  let err = '';
  return {
    stdout: (t) => void (out += t),
    stderr: (t) => void (err += t),
    out: () => out,
    err: () => err,
  };
}

describe('sluice command line', () => {
  it('prints help with --help and exits 0', async () => {
    const io = capture();
    expect(await main(['--help'], io)).toBe(0);
    expect(io.out()).toContain('Usage: sluice <command>');
    expect(io.out()).toContain('start');
  });

  it('prints help and exits 2 without a command', async () => {
    const io = capture();
    expect(await main([], io)).toBe(2);
    expect(io.out()).toContain('Usage: sluice <command>');
  });

  it('prints the package version with --version and -v', async () => {
    const pkg = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8')) as {
      version: string;
    };
    for (const flag of ['--version', '-v']) {
      const io = capture();
      expect(await main([flag], io)).toBe(0);
      expect(io.out().trim()).toBe(`sluice ${pkg.version}`);
    }
  });

  it('rejects an unknown command with exit code 2 and names it', async () => {
    const io = capture();
    expect(await main(['strat'], io)).toBe(2);
    expect(io.err()).toContain('unknown command "strat"');
    expect(io.err()).toContain('sluice --help');
  });

  it('rejects an unknown top-level option with exit code 2', async () => {
    const io = capture();
    expect(await main(['--verbose'], io)).toBe(2);
    expect(io.err()).toContain('unknown option "--verbose"');
  });

  it('rejects an unknown option of start with exit code 2', async () => {
    const io = capture();
    expect(await main(['start', '--onse'], io)).toBe(2);
    expect(io.err()).toContain("Unknown option '--onse'");
  });

  it('rejects start --config without a value with exit code 2', async () => {
    const io = capture();
    expect(await main(['start', '--config'], io)).toBe(2);
    expect(io.err()).toMatch(/--config/);
  });

  it('shows the help of start', async () => {
    const io = capture();
    expect(await main(['start', '--help'], io)).toBe(0);
    expect(io.out()).toContain('Usage: sluice start [--config DIR] [--once]');
  });

  it('accepts pnpm\'s "--" separator before options', async () => {
    const io = capture();
    expect(await main(['start', '--', '--help'], io)).toBe(0);
    expect(io.out()).toContain('Usage: sluice start');
  });

  it('fails with exit code 1 and a clear message when the config directory does not exist', async () => {
    const io = capture();
    expect(await main(['start', '--config', '/nonexistent/sluice-conf', '--once'], io)).toBe(1);
    expect(io.err()).toContain('/nonexistent/sluice-conf');
  });

  it('runs a file-mode configuration with --once and dead-letters a bad line with its line number', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sluice-cli-'));
    await mkdir(join(dir, 'in'));
    const good = (id: number) =>
      JSON.stringify({
        data: [{ id: String(id), name: `n${id}` }],
        database: 'd',
        es: 1,
        gtid: '',
        id: 1,
        isDdl: false,
        mysqlType: { id: 'int', name: 'varchar(10)' },
        old: null,
        pkNames: ['id'],
        sql: '',
        sqlType: { id: 4, name: 12 },
        table: 't',
        ts: 2,
        type: 'INSERT',
      });
    await writeFile(join(dir, 'in', 'a.jsonl'), [good(1), '{not json', good(2)].join('\n') + '\n');
    await writeFile(
      join(dir, 'application.yml'),
      [
        'canal.conf:',
        '  mode: file',
        '  consumerProperties:',
        '    file.path: in',
        '  canalAdapters:',
        '  - instance: example',
        '    groups:',
        '    - groupId: g1',
        '      outerAdapters:',
        '      - name: logger',
        '        properties:',
        '          output: stderr',
        'sluice:',
        '  deadLetter:',
        `    dir: ${join(dir, 'dlq')}`,
        '',
      ].join('\n'),
    );
    const io = capture();
    expect(await main(['start', '--config', dir, '--once'], io)).toBe(0);
    expect(io.err()).toContain('line 2 of in/a.jsonl');
    // Start-up names the version and the configuration directory; the end says "Stopped." and
    // --once prints what it did per sink instance.
    expect(io.err()).toMatch(/"version":"[^"]+".*"configDir":"[^"]+".*Starting Sluice\./);
    // The undecodable line 2 is a dead letter too (a fresh user read "dead-lettered 0" here).
    expect(io.err()).toMatch(/"applied":2,"deadLettered":1.*"msg":"Stopped\."/);
    expect(io.err()).toContain('Applied 2 event(s), dead-lettered 1 (1 undecodable message(s)).');
    expect(io.err()).toMatch(/example\/g1 sink "[^"]+": 2 applied, 0 dead-lettered/);
    const dlqFiles = await readdir(join(dir, 'dlq'));
    expect(dlqFiles).toHaveLength(1);
    const records = (await readFile(join(dir, 'dlq', dlqFiles[0]!), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({
      offset: '2',
      payload: '{not json',
      partition: 'in/a.jsonl',
    });
    expect(String(records[0]!['reason'])).toContain('not valid JSON');
  });
});

describe('sluice start: the admin API', () => {
  async function fileConfig(extra: string[] = []): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), 'sluice-admin-cli-'));
    await mkdir(join(dir, 'in'));
    await writeFile(join(dir, 'in', 'a.jsonl'), '');
    await writeFile(
      join(dir, 'application.yml'),
      [
        'canal.conf:',
        '  mode: file',
        '  consumerProperties:',
        '    file.path: in',
        '  canalAdapters:',
        '  - instance: example',
        '    groups:',
        '    - groupId: g1',
        '      outerAdapters:',
        '      - name: logger',
        'sluice:',
        '  deadLetter:',
        `    dir: ${join(dir, 'dlq')}`,
        ...extra,
        '',
      ].join('\n'),
    );
    return dir;
  }

  it('refuses to start, saying why and what to set, when the admin port is taken', async () => {
    const { createServer } = await import('node:net');
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as { port: number }).port;
    try {
      const io = capture();
      const code = await main(
        ['start', '--config', await fileConfig(), '--admin-port', String(port)],
        io,
        AbortSignal.timeout(10_000),
      );
      expect(code).toBe(1);
      expect(io.err()).toContain(
        `the admin API cannot listen (port ${port} on 127.0.0.1 is in use by another process)`,
      );
      expect(io.err()).toContain('--admin-port (0 = any free port)');
      expect(io.err()).not.toContain('Started.');
    } finally {
      blocker.close();
    }
  });

  it('serves the API while running and stops it with the process', async () => {
    const controller = new AbortController();
    const io = capture();
    const run = main(
      ['start', '--config', await fileConfig(), '--admin-port', '0'],
      io,
      controller.signal,
    );
    let url: string | undefined;
    for (let i = 0; i < 100 && !url; i++) {
      await new Promise((r) => setTimeout(r, 50));
      url = /"url":"(http:\/\/127\.0\.0\.1:\d+)".*Admin API listening/.exec(io.err())?.[1];
    }
    expect(url, io.err()).toBeDefined();
    // Says (unredacted) that no token guards it.
    expect(io.err()).toMatch(/"access":"open \(no token\)".*Admin API listening/);
    expect(await (await fetch(`${url}/destinations`)).json()).toEqual([
      { destination: 'example', status: 'on' },
    ]);
    controller.abort();
    expect(await run).toBe(0);
    await expect(fetch(`${url}/health/live`)).rejects.toThrow();
  });

  it('does not start the API with --once, nor when sluice.admin.enabled is false', async () => {
    const once = capture();
    expect(await main(['start', '--config', await fileConfig(), '--once'], once)).toBe(0);
    expect(once.err()).not.toContain('Admin API listening');
    const controller = new AbortController();
    const off = capture();
    const run = main(
      ['start', '--config', await fileConfig(['  admin:', '    enabled: false'])],
      off,
      controller.signal,
    );
    await new Promise((r) => setTimeout(r, 500));
    controller.abort();
    expect(await run).toBe(0);
    expect(off.err()).toContain('Started.');
    expect(off.err()).not.toContain('Admin API listening');
  });

  it('rejects an --admin-port that is not a port number', async () => {
    const io = capture();
    expect(await main(['start', '--config', await fileConfig(), '--admin-port', '80x'], io)).toBe(
      2,
    );
    expect(io.err()).toContain('--admin-port must be a port number (0-65535), not "80x"');
    // Validated before anything starts: no "Starting Sluice." (nor any other log line) first.
    expect(io.err()).not.toContain('Starting');
    expect(io.err()).not.toContain('"level"');
  });
});

describe('sluice logging', () => {
  let dir = '';
  const saved = {
    SLUICE_LOG_LEVEL: process.env['SLUICE_LOG_LEVEL'],
    SLUICE_LOG_FORMAT: process.env['SLUICE_LOG_FORMAT'],
  };
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sluice-logging-'));
    await writeFile(join(dir, 'in.jsonl'), '');
    await writeFile(
      join(dir, 'application.yml'),
      'canal.conf:\n  mode: file\n  consumerProperties:\n    file.path: in.jsonl\n  canalAdapters:\n  - instance: example\n    groups:\n    - groupId: g1\n      outerAdapters:\n      - name: logger\n',
    );
  });
  afterEach(() => {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  });

  it('--log-level sets the level for the run, before or after the command, and rejects unknown levels', async () => {
    const info = capture();
    expect(await main(['start', '--config', dir, '--once', '--log-level=info'], info)).toBe(0);
    expect(info.err()).toContain('Starting Sluice.');
    const warn = capture();
    expect(await main(['--log-level', 'WARN', 'start', '--config', dir, '--once'], warn)).toBe(0);
    expect(warn.err()).not.toContain('Starting Sluice.');
    expect(warn.err()).toContain('Applied 0 event(s)');
    const bad = capture();
    expect(await main(['start', '--log-level', 'loud'], bad)).toBe(2);
    expect(bad.err()).toContain('--log-level must be one of debug, info, warn, error, not "loud"');
  });

  // A new user ran `sluice start` on a terminal and got JSON: the CLI writes the log lines itself,
  // and the logger could not tell the destination was a terminal.
  it('is readable lines when stderr is a terminal, JSON otherwise, unless SLUICE_LOG_FORMAT says', async () => {
    const run = async (stderrIsTTY: boolean, format?: string) => {
      if (format === undefined) delete process.env['SLUICE_LOG_FORMAT'];
      else process.env['SLUICE_LOG_FORMAT'] = format;
      const io = capture();
      const terminal: CliIo = { stdout: io.stdout, stderr: io.stderr, stderrIsTTY };
      expect(await main(['start', '--config', dir, '--once'], terminal)).toBe(0);
      return io
        .err()
        .split('\n')
        .find((l) => l.includes('Starting Sluice.'))!;
    };
    expect(await run(true)).toMatch(/INFO.*Starting Sluice\./);
    expect(await run(true)).not.toContain('"level"');
    expect(JSON.parse(await run(false))).toMatchObject({ level: 'info', msg: 'Starting Sluice.' });
    expect(JSON.parse(await run(true, 'json'))).toMatchObject({ msg: 'Starting Sluice.' });
    expect(await run(false, 'pretty')).toMatch(/INFO.*Starting Sluice\./);
  });
});

describe('sluice start: the dead-letter directory', () => {
  it('refuses to start when sluice.deadLetter.dir cannot be written', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sluice-dlqdir-'));
    await writeFile(join(dir, 'in.jsonl'), '');
    await writeFile(
      join(dir, 'application.yml'),
      'canal.conf:\n  mode: file\n  consumerProperties:\n    file.path: in.jsonl\n  canalAdapters:\n  - instance: example\n    groups:\n    - groupId: g1\n      outerAdapters:\n      - name: logger\nsluice:\n  deadLetter:\n    dir: /proc/sluice-cannot-write-here\n',
    );
    const io = capture();
    expect(await main(['start', '--config', dir, '--once'], io)).toBe(1);
    expect(io.err()).toContain(
      'the dead-letter directory /proc/sluice-cannot-write-here (sluice.deadLetter.dir) cannot be written',
    );
    expect(io.err()).not.toContain('Started.');
  });
});
