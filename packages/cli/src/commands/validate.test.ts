import { mkdtemp, mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { main } from '../main.js';
import type { CliIo } from '../io.js';

const repo = fileURLToPath(new URL('../../../../', import.meta.url));

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

async function confDir(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-validate-'));
  for (const [path, text] of Object.entries(files)) {
    await mkdir(join(dir, path, '..'), { recursive: true });
    await writeFile(join(dir, path), text);
  }
  return dir;
}

describe('sluice validate', () => {
  it('accepts the default configuration with no problems and exit code 0', async () => {
    const io = capture();
    expect(await main(['validate', '--config', join(repo, 'config')], io)).toBe(0);
    expect(io.out()).toMatch(/config: valid \(0 mapping files\)\.\n$/);
    expect(io.out()).not.toContain('warning');
  });

  it('exits 0 with warnings only, and prints them', async () => {
    const dir = await confDir({
      'application.yml': `canal.conf:
  mode: file
  timout: 500
  consumerProperties:
    file.path: samples
  canalAdapters:
  - instance: example
    groups:
    - groupId: g1
      outerAdapters:
      - name: logger
`,
      'samples/a.jsonl': '',
      // No rdb adapter is configured: canal-adapter ignores this file, so its problems are warnings.
      'rdb/mytest_user.yml': 'dataSourceKey: defaultDS\ndestination: example\n',
    });
    const io = capture();
    expect(await main(['validate', '-c', dir], io)).toBe(0);
    expect(io.out()).toContain('application.yml:3: warning: canal.conf.timout');
    expect(io.out()).toContain('rdb/mytest_user.yml:1: warning: dataSourceKey');
    expect(io.out()).toContain('valid (0 mapping files)');
  });

  it('exits 1 and lists every error of a broken directory', async () => {
    const io = capture();
    expect(
      await main(
        ['validate', '--config', join(repo, 'packages/core/test/config/fixtures/broken')],
        io,
      ),
    ).toBe(1);
    expect(io.out()).toContain('application.yml:25: error:');
    expect(io.out()).toContain('did you mean "es7" or "es8"?');
    expect(io.out()).toContain('rdb/user.yml:4: error: outerAdapterKey');
    expect(io.out()).toMatch(/\d+ errors, \d+ warnings\n/);
    expect(io.out()).toContain('invalid.');
    // redis/ files are checked by the built-in redis plugin's mapping format; this directory
    // configures no redis adapter, so the file is not used and its problems are warnings.
    expect(io.out()).toContain('redis/cache.yml:4: warning: redisMapping.keys: missing');
    expect(io.out()).toContain('redis/cache.yml:7: warning: redisMapping.mode: "write-behind"');
  });

  it('validates the example configuration, every adapter and mapping file included', async () => {
    const io = capture();
    // canal-adapter's own directory shape (rdb, es7 single-table, redis, logger): valid means
    // `sluice start` would run it; nothing in it is refused.
    expect(await main(['validate', '-c', join(repo, 'examples/canal-adapter-conf')], io)).toBe(0);
    expect(io.out()).not.toContain(': error: ');
    expect(io.out()).toMatch(/examples\/canal-adapter-conf: valid \(3 mapping files\)/);
  });

  it('prints the resolved configuration with secrets redacted on --print', async () => {
    const dir = await confDir({
      'application.yml': `canal.conf:
  mode: file
  consumerProperties:
    file.path: samples
  srcDataSources:
    ds:
      url: jdbc:mysql://127.0.0.1:3306/mytest
      password: pa55word!
  canalAdapters:
  - instance: example
    groups:
    - groupId: g1
      outerAdapters:
      - name: logger
`,
      'samples/a.jsonl': '',
    });
    const io = capture();
    expect(await main(['validate', '--config', dir, '--print'], io)).toBe(0);
    const printed = JSON.parse(io.out().slice(io.out().indexOf('{'))) as {
      canal: { srcDataSources: { ds: { password: string; port: number } } };
    };
    expect(printed.canal.srcDataSources.ds).toMatchObject({ password: '******', port: 3306 });
    expect(io.out()).not.toContain('pa55word!');
  });

  it('exits 1 when the directory has no application.yml', async () => {
    const io = capture();
    expect(await main(['validate', '--config', join(repo, 'no-such-dir')], io)).toBe(1);
    expect(io.out()).toContain('application.yml: error: cannot read');
  });

  it('rejects unknown options with exit code 2 and shows help with --help', async () => {
    const bad = capture();
    expect(await main(['validate', '--pritn'], bad)).toBe(2);
    expect(bad.err()).toContain("Unknown option '--pritn'");
    const help = capture();
    expect(await main(['validate', '--help'], help)).toBe(0);
    expect(help.out()).toContain('Usage: sluice validate');
  });
});

describe('sluice start validates first', () => {
  it('refuses to start a configuration with errors and exits 1 with the report', async () => {
    const io = capture();
    expect(
      await main(
        ['start', '--once', '--config', join(repo, 'packages/core/test/config/fixtures/broken')],
        io,
      ),
    ).toBe(1);
    expect(io.err()).toContain('application.yml:25: error:');
    expect(io.err()).toContain('not starting');
  });

  it('refuses an adapter whose plugin is not loaded, in validate exactly as in start', async () => {
    const dir = await confDir({
      'application.yml': `canal.conf:
  mode: file
  consumerProperties:
    file.path: samples
  canalAdapters:
  - instance: example
    groups:
    - groupId: g1
      outerAdapters:
      - name: hbase
`,
      'samples/a.jsonl': '',
    });
    const v = capture();
    expect(await main(['validate', '--config', dir], v)).toBe(1);
    expect(v.out()).toContain('error: canal.conf.canalAdapters[0].groups[0].outerAdapters[0].name');
    const s = capture();
    expect(await main(['start', '--once', '--config', dir], s)).toBe(1);
    expect(s.err()).toContain('error: canal.conf.canalAdapters[0].groups[0].outerAdapters[0].name');
  });
});
