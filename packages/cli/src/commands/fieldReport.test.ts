import { cp, mkdtemp, mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { main } from '../main.js';
import type { CliIo } from '../io.js';

/** Issue #10 item 8: `sluice validate` runs every check `sluice start` runs. */

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
  const dir = await mkdtemp(join(tmpdir(), 'sluice-field-'));
  for (const [path, text] of Object.entries(files)) {
    await mkdir(join(dir, path, '..'), { recursive: true });
    await writeFile(join(dir, path), text);
  }
  return dir;
}

const logger = (head: string) => `canal.conf:
${head}
  canalAdapters:
  - instance: example
    groups:
    - groupId: g1
      outerAdapters:
      - name: logger
`;

/** Runs validate, then start --once, on `dir`; both outputs. */
async function both(dir: string): Promise<{ validate: [number, string]; start: [number, string] }> {
  const v = capture();
  const vc = await main(['validate', '--config', dir], v);
  const s = capture();
  const sc = await main(['start', '--once', '--config', dir], s, AbortSignal.timeout(20_000));
  return { validate: [vc, v.out()], start: [sc, s.err()] };
}

describe('validate runs the checks start runs (issue #10 item 8)', () => {
  it('names a mistyped source key and the missing path instead of a stack trace at start', async () => {
    const dir = await confDir({
      'application.yml': logger(`  mode: file
  consumerProperties:
    file.pth: samples`),
    });
    const { validate, start } = await both(dir);
    expect(validate[0]).toBe(1);
    expect(validate[1]).toContain(
      'application.yml:4: warning: canal.conf.consumerProperties["file.pth"]: unknown key, ignored',
    );
    expect(validate[1]).toContain('did you mean "file.path"?');
    expect(validate[1]).toMatch(
      /error: canal\.conf\.consumerProperties\["file\.path"\]: \S+samples does not exist \(the default "samples"; the key is not set\)/,
    );
    expect(start[0]).toBe(1);
    expect(start[1]).toContain('not starting');
    expect(start[1]).not.toMatch(/\n\s+at /); // no stack trace
  });

  it('reports what the source plugin refuses (kafka without kafka.bootstrap.servers)', async () => {
    const dir = await confDir({
      'application.yml': logger(`  mode: kafka
  consumerProperties:
    kafka.auto.offset.reset: earliest`),
    });
    const { validate, start } = await both(dir);
    expect(validate[0]).toBe(1);
    expect(validate[1]).toMatch(
      /application\.yml:\d+: error: canal\.conf\.consumerProperties: the "kafka" source refuses instance "example", group "g1": .*kafka\.bootstrap\.servers/,
    );
    expect(start[0]).toBe(1);
    expect(start[1]).toContain('kafka.bootstrap.servers');
  });

  it('gives the same verdict as start for the shipped example directory with an es7 mapping the sink refuses', async () => {
    // The shipped example selects from one table; a mapping with a top-level WHERE (canal appends
    // its own WHERE to the SQL) is refused by the es sink: validate and start must both refuse
    // it, at its SQL line.
    const dir = await mkdtemp(join(tmpdir(), 'sluice-example-'));
    await cp(join(repo, 'examples/canal-adapter-conf'), dir, { recursive: true });
    await writeFile(
      join(dir, 'es7/mytest_user.yml'),
      [
        'dataSourceKey: defaultDS',
        'destination: example',
        'groupId: g1',
        'esMapping:',
        '  _index: mytest_user',
        '  _id: _id',
        '  sql: "select a.id as _id, a.name, b.role_names from user a left join',
        "        (select user_id, group_concat(role_name separator ';') as role_names",
        '        from user_role group by user_id) b on b.user_id=a.id where a.id > 0"',
        '',
      ].join('\n'),
    );
    const v = capture();
    const code = await main(['validate', '--config', dir], v);
    expect(code).toBe(1);
    // The es7 mapping has a top-level WHERE, which the es sink does not apply: refused at its SQL line.
    expect(v.out()).toMatch(
      /es7\/mytest_user\.yml:\d+: error: esMapping\.sql: .*WHERE in the mapping SQL is not applied/,
    );
    const s = capture();
    expect(await main(['start', '--once', '--config', dir], s)).toBe(code);
    expect(s.err()).toContain('not starting');
  });
});
