/**
 * The route docs/plugins.md gives plugin authors, taken from outside this repository: pack
 * @sluice/plugin-api and @sluice/testkit (`pnpm pack`, as they would be published), install them
 * with npm into a fresh directory under the OS temp directory, write and build a sink with its own
 * mapping files against them, run the sink contract suite there with the plugin's own vitest, and
 * run the plugin under the sluice binary of this repository.
 *
 * npm fetches typescript, vitest and @types/node from the registry (`--prefer-offline`: from the
 * npm cache when it has them); the Sluice packages come only from the tarballs.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify, stripVTControlCharacters } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const cli = join(repo, 'packages', 'cli', 'dist', 'bin.js');

/** The plugin's files, as an author outside the repository would write them. */
const files: Record<string, string> = {
  'tsconfig.json': JSON.stringify({
    compilerOptions: {
      target: 'ES2022',
      module: 'NodeNext',
      moduleResolution: 'NodeNext',
      strict: true,
      declaration: true,
      outDir: 'dist',
      rootDir: 'src',
      types: ['node'],
      skipLibCheck: true,
    },
    include: ['src'],
  }),
  'src/index.ts': `
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import {
  APPLIED, PermanentEventError, SinkClosedError, defineSink, failed,
  type Infer, type RowImage, type SinkInstance, type SinkRecord, type WriteOutcome, type WriteResult,
} from '@sluice/plugin-api';

/** This sink's own mapping files, outside/*.yml: one source table to one JSON file. */
const mappingSchema = {
  type: 'object',
  properties: {
    destination: { type: 'string' }, groupId: { type: 'string' },
    outerAdapterKey: { type: 'string' }, dataSourceKey: { type: 'string' },
    database: { type: 'string' }, table: { type: 'string' }, file: { type: 'string' },
  },
  required: ['database', 'table', 'file'],
} as const;
type Mapping = Infer<typeof mappingSchema>;
type Rows = Record<string, RowImage | undefined>;

class OutsideSink implements SinkInstance<Mapping> {
  #closed = false;
  #queue: Promise<unknown> = Promise.resolve();
  constructor(private readonly dir: string) {}
  async connect(): Promise<void> {
    if (this.#closed) throw new SinkClosedError();
    await mkdir(this.dir, { recursive: true });
  }
  write(batch: readonly SinkRecord<Mapping>[]): Promise<WriteResult> {
    const done = this.#queue.then(() => this.#write(batch));
    this.#queue = done.catch(() => undefined);
    return done;
  }
  async flush(): Promise<void> {
    if (this.#closed) throw new SinkClosedError();
    await this.#queue;
  }
  async close(): Promise<void> {
    this.#closed = true;
    await this.#queue;
  }
  async #write(batch: readonly SinkRecord<Mapping>[]): Promise<WriteResult> {
    if (this.#closed) throw new SinkClosedError();
    const touched = new Map<string, Rows>();
    const outcomes: WriteOutcome[] = [];
    for (const { event, mapping } of batch) {
      const file = mapping?.config.file ?? event.database + '.' + event.table + '.json';
      let rows = touched.get(file);
      if (!rows) {
        const text = await readFile(join(this.dir, file), 'utf8').catch(() => '{}');
        touched.set(file, (rows = JSON.parse(text) as Rows));
      }
      if (event.kind === 'ddl') {
        if (event.type === 'TRUNCATE') for (const k of Object.keys(rows)) delete rows[k];
        outcomes.push(APPLIED);
        continue;
      }
      const key = (image: RowImage | undefined) => {
        const values = event.pkNames.map((k) => image?.[k]);
        if (values.length === 0 || values.some((v) => v == null))
          throw new PermanentEventError('The row has no usable primary key.');
        return JSON.stringify(values);
      };
      try {
        if (event.type !== 'INSERT') delete rows[key(event.before)];
        if (event.type !== 'DELETE') rows[key(event.after)] = event.after;
        outcomes.push(APPLIED);
      } catch (error) {
        outcomes.push(failed(error as Error));
      }
    }
    for (const [file, rows] of touched) {
      await writeFile(join(this.dir, file + '.tmp'), JSON.stringify(rows));
      await rename(join(this.dir, file + '.tmp'), join(this.dir, file));
    }
    return outcomes;
  }
}

export default defineSink({
  name: 'outside',
  description: 'One JSON file per mapped table (a plugin built outside the Sluice repository).',
  propertiesSchema: { type: 'object', properties: { dir: { type: 'string', default: 'out' } } },
  mappings: {
    directories: ['outside'],
    schema: mappingSchema,
    tables: (m) => [{ database: m.database, table: m.table }],
    check: (m) =>
      m.file.endsWith('.json') ? [] : [{ severity: 'error', path: ['file'], message: 'file must end in .json.' }],
  },
  create: (ctx) => new OutsideSink(isAbsolute(ctx.properties.dir) ? ctx.properties.dir : resolve(ctx.configDir, ctx.properties.dir)),
});
`,
  'test/contract.test.ts': `
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runSinkContractSuite } from '@sluice/testkit';
import sink from '../dist/index.js';

const root = await mkdtemp(join(tmpdir(), 'outside-contract-'));
runSinkContractSuite({
  name: 'outside sink contract',
  target: {
    mapping: { file: 'outside/items.yml', name: 'items.yml', config: { database: 'sluice_contract', table: 'items', file: 'items.json' } },
    createSink: () => sink.create({ key: 'c', name: 'outside', hosts: undefined, properties: { dir: 'out' }, configDir: root, deps: {} }),
    reset: () => rm(join(root, 'out'), { recursive: true, force: true }),
    async readState() {
      const text = await readFile(join(root, 'out', 'items.json'), 'utf8').catch(() => '{}');
      const rows = JSON.parse(text) as Record<string, Record<string, unknown>>;
      return new Map(Object.entries(rows).map(([k, row]) => [(JSON.parse(k) as string[]).join(','), row]));
    },
    poison: (event) => ({ ...event, pkNames: [] }),
  },
});
`,
};

describe('a plugin built outside the workspace against the packed @sluice/plugin-api', () => {
  let work: string;
  let plugin: string;
  beforeAll(async () => {
    for (const built of ['plugin-api', 'testkit', 'cli'])
      if (!existsSync(join(repo, 'packages', built, 'dist', 'index.js')))
        throw new Error(`Build first: pnpm -s build:quiet (packages/${built}/dist is missing).`);
    work = await mkdtemp(join(tmpdir(), 'sluice-outside-'));
    for (const pkg of ['plugin-api', 'testkit'])
      await run('pnpm', ['pack', '--pack-destination', work], {
        cwd: join(repo, 'packages', pkg),
      });
    plugin = join(work, 'sluice-sink-outside');
    await mkdir(join(plugin, 'src'), { recursive: true });
    await mkdir(join(plugin, 'test'), { recursive: true });
    const devDependencies = {
      '@sluice/plugin-api': `file:${join(work, 'sluice-plugin-api-0.1.0.tgz')}`,
      '@sluice/testkit': `file:${join(work, 'sluice-testkit-0.1.0.tgz')}`,
      '@types/node': '^20.19.0',
      typescript: '~5.9.3',
      vitest: '^4.1.12',
    };
    await writeFile(
      join(plugin, 'package.json'),
      JSON.stringify({
        name: 'sluice-sink-outside',
        version: '1.0.0',
        private: true,
        type: 'module',
        keywords: ['sluice-plugin'],
        exports: { '.': { types: './dist/index.d.ts', import: './dist/index.js' } },
        peerDependencies: { '@sluice/plugin-api': '^0.1.0' },
        devDependencies,
      }),
    );
    for (const [name, text] of Object.entries(files)) await writeFile(join(plugin, name), text);
    await run(
      'npm',
      ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'],
      {
        cwd: plugin,
      },
    );
    await run(join(plugin, 'node_modules', '.bin', 'tsc'), ['-p', 'tsconfig.json'], {
      cwd: plugin,
    });
  }, 600_000);
  afterAll(() => (work ? rm(work, { recursive: true, force: true }) : undefined));

  it('lies outside the workspace and uses the packed packages, not workspace links', async () => {
    expect(plugin.startsWith(repo)).toBe(false);
    const api = JSON.parse(
      await readFile(join(plugin, 'node_modules', '@sluice', 'plugin-api', 'package.json'), 'utf8'),
    ) as { version: string; dependencies?: Record<string, string> };
    expect(api.version).toBe('0.1.0');
    const testkit = JSON.parse(
      await readFile(join(plugin, 'node_modules', '@sluice', 'testkit', 'package.json'), 'utf8'),
    ) as { peerDependencies: Record<string, string> };
    // pnpm pack turned the workspace: ranges into real ones.
    expect(testkit.peerDependencies['@sluice/plugin-api']).toBe('^0.1.0');
  });

  it('passes the sink contract suite with its own vitest', async () => {
    const { stdout } = await run(
      join(plugin, 'node_modules', '.bin', 'vitest'),
      ['run', '--reporter=verbose'],
      { cwd: plugin, env: { ...process.env, CI: '1', NO_COLOR: '1', FORCE_COLOR: '0' } },
    ).catch((error: { stdout?: string; stderr?: string }) => {
      throw new Error(`The contract suite failed:\n${error.stdout}\n${error.stderr}`);
    });
    const plain = stripVTControlCharacters(stdout);
    expect(plain).toMatch(/outside sink contract/);
    // Every test but `reconnect` (the sink has no connection to break: no disconnect hook).
    expect(plain).toMatch(/Tests\s+10 passed \| 1 skipped/);
  }, 120_000);

  it('is validated and runs under sluice start with its own mapping files', async () => {
    const conf = join(work, 'conf');
    await mkdir(join(conf, 'outside'), { recursive: true });
    await writeFile(
      join(conf, 'application.yml'),
      [
        'canal.conf:',
        '  mode: file',
        '  flatMessage: true',
        '  consumerProperties:',
        `    file.path: ${join(repo, 'config', 'samples')}`,
        '  canalAdapters:',
        '  - instance: example',
        '    groups:',
        '    - groupId: g1',
        '      outerAdapters:',
        '      - name: outside',
        '        key: out1',
        '        properties:',
        `          dir: ${join(work, 'data')}`,
        'sluice:',
        '  plugins:',
        `    - ${plugin}`,
        '  deadLetter:',
        `    dir: ${join(work, 'dlq')}`,
        '',
      ].join('\n'),
    );
    await writeFile(
      join(conf, 'outside', 'mytest_user.yml'),
      'destination: example\ngroupId: g1\nouterAdapterKey: out1\ndatabase: mytest\ntable: user\nfile: users.json\n',
    );
    const validated = await run('node', [cli, 'validate', '--config', conf]);
    expect(validated.stdout).toContain('valid (1 mapping file)');
    await run('node', [cli, 'start', '--config', conf, '--once']);
    const rows = JSON.parse(await readFile(join(work, 'data', 'users.json'), 'utf8')) as Record<
      string,
      Record<string, string>
    >;
    // The samples insert 1, 2, 3, rename 1, change 3's key to 30, then delete 2.
    expect(Object.keys(rows).sort()).toEqual(['["1"]', '["30"]']);

    await writeFile(
      join(conf, 'outside', 'mytest_user.yml'),
      'destination: example\ngroupId: g1\nouterAdapterKey: out1\ndatabase: mytest\ntable: user\nfile: users.txt\n',
    );
    const invalid = await run('node', [cli, 'validate', '--config', conf]).then(
      () => undefined,
      (error: { stdout: string; stderr: string }) => error.stdout + error.stderr,
    );
    expect(invalid).toContain('outside/mytest_user.yml:6: error: file: file must end in .json.');
  }, 120_000);
});
