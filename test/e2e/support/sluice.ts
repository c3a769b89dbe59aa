/**
 * Drives the built `sluice` binary as a child process, and writes the kafka-mode configuration
 * directories the end-to-end tests use.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
export const sluiceBin = join(repoRoot, 'packages/cli/dist/bin.js');
export const recordingSinkPath = join(repoRoot, 'test/e2e/fixtures/recording-sink.mjs');

/** Fails with a clear message when the CLI was not built (the suite runs against dist/). */
export function requireBuiltCli(): void {
  if (!existsSync(sluiceBin)) throw new Error(`${sluiceBin} is missing: run \`pnpm build\` first.`);
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** One running `sluice` process; its output is kept line by line. */
export class SluiceProcess {
  readonly child: ChildProcess;
  readonly lines: string[] = [];
  readonly exited: Promise<Exit>;
  #waiters: Array<{
    re: RegExp;
    from: number;
    resolve: (line: string) => void;
    reject: (e: Error) => void;
  }> = [];
  #exit: Exit | undefined;

  constructor(args: readonly string[], env: Record<string, string> = {}) {
    this.child = spawn(process.execPath, [sluiceBin, ...args], {
      cwd: repoRoot,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let pending = '';
    const onData = (chunk: Buffer) => {
      pending += chunk.toString('utf8');
      const parts = pending.split('\n');
      pending = parts.pop()!;
      for (const line of parts) this.#push(line);
    };
    this.child.stdout!.on('data', onData);
    this.child.stderr!.on('data', onData);
    this.exited = new Promise((resolve) => {
      this.child.on('exit', (code, signal) => {
        if (pending) this.#push(pending);
        this.#exit = { code, signal };
        for (const w of this.#waiters)
          w.reject(
            new Error(`sluice exited (${code ?? signal}) before printing ${w.re}:\n${this.tail()}`),
          );
        this.#waiters = [];
        resolve(this.#exit);
      });
    });
  }

  /**
   * `sluice start --config DIR`. Long-running processes get the admin API on a free port
   * (`--admin-port 0`, unless `adminPort` says otherwise) so parallel tests never collide on
   * 8081; {@link adminUrl} reads the URL from the log.
   */
  static start(
    configDir: string,
    options: { once?: boolean; env?: Record<string, string>; adminPort?: number } = {},
  ): SluiceProcess {
    return new SluiceProcess(
      [
        'start',
        '--config',
        configDir,
        ...(options.once ? ['--once'] : ['--admin-port', String(options.adminPort ?? 0)]),
      ],
      options.env,
    );
  }

  /** The admin API's URL, once the process logged "Admin API listening." */
  async adminUrl(): Promise<string> {
    const line = await this.waitFor(/"msg":"Admin API listening\."/);
    const url = /"url":"([^"]+)"/.exec(line)?.[1];
    if (!url) throw new Error(`No admin URL in: ${line}`);
    return url;
  }

  #push(line: string): void {
    this.lines.push(line);
    if (process.env.SLUICE_TEST_VERBOSE) console.error(`[sluice ${this.child.pid}] ${line}`);
    const index = this.lines.length - 1;
    this.#waiters = this.#waiters.filter((w) => {
      if (index >= w.from && w.re.test(line)) {
        w.resolve(line);
        return false;
      }
      return true;
    });
  }

  /** Resolves with the first line (from line `from` on) matching `re`; rejects if the process exits first. */
  waitFor(re: RegExp, from = 0): Promise<string> {
    const found = this.lines.slice(from).find((l) => re.test(l));
    if (found) return Promise.resolve(found);
    if (this.#exit)
      return Promise.reject(
        new Error(`sluice already exited before printing ${re}:\n${this.tail()}`),
      );
    return new Promise((resolve, reject) => this.#waiters.push({ re, from, resolve, reject }));
  }

  kill(signal: NodeJS.Signals): void {
    if (!this.#exit) this.child.kill(signal);
  }

  tail(n = 40): string {
    return this.lines.slice(-n).join('\n');
  }
}

/** `canalAdapters` YAML: one entry per topic, one group per groupId, a recording sink each. */
function canalAdapters(
  adapters: readonly { topic: string; groupId: string; prefix: string }[],
  sinkProps: Record<string, string>,
): string {
  const topics = [...new Set(adapters.map((a) => a.topic))];
  return topics
    .map((topic) => {
      const groups = adapters
        .filter((a) => a.topic === topic)
        .map((a, i) => {
          const props = { ...sinkProps, prefix: a.prefix };
          return `    - groupId: ${a.groupId}
      outerAdapters:
      - name: recording
        key: ${adapters.length === 1 ? 'rec' : `rec_${topic}_${i}`}
        properties:
${Object.entries(props)
  .map(([k, v]) => `          ${k}: ${JSON.stringify(v)}`)
  .join('\n')}`;
        });
      return `  - instance: ${topic}\n    groups:\n${groups.join('\n')}`;
    })
    .join('\n');
}

export interface E2eConfig {
  readonly dir: string;
  readonly dlqDir: string;
}

/** Writes `application.yml` for kafka mode with the recording sink (a third-party plugin file). */
export async function writeKafkaConfig(options: {
  broker: string;
  topic: string;
  groupId: string;
  redis: string;
  prefix: string;
  lanes?: number;
  syncBatchSize?: number;
  sinkProperties?: Record<string, string>;
  deadLetter?: 'file' | 'kafka';
  extraKafka?: Record<string, string>;
  /**
   * Several `canalAdapters` entries instead of the one of `topic`/`groupId`/`prefix`: each
   * (instance, groupId) gets a recording sink with its own key and Redis prefix.
   */
  adapters?: readonly { topic: string; groupId: string; prefix: string }[];
  /** canal `retries` (default 3). */
  retries?: number;
}): Promise<E2eConfig> {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-e2e-'));
  const dlqDir = join(dir, 'dlq');
  await mkdir(dlqDir, { recursive: true });
  const kafka: Record<string, string> = {
    'kafka.bootstrap.servers': options.broker,
    'kafka.auto.offset.reset': 'earliest',
    'kafka.session.timeout.ms': '6000',
    'kafka.heartbeat.interval.ms': '1000',
    'kafka.max.poll.records': '200',
    'kafka.fetch.max.wait.ms': '100',
    ...options.extraKafka,
  };
  const sinkProps = { redis: options.redis, prefix: options.prefix, ...options.sinkProperties };
  const yaml = `# Written by test/e2e.
server:
  port: 8081
canal.conf:
  mode: kafka
  flatMessage: true
  syncBatchSize: ${options.syncBatchSize ?? 200}
  retries: ${options.retries ?? 3}
  timeout:
  accessKey:
  secretKey:
  consumerProperties:
${Object.entries(kafka)
  .map(([k, v]) => `    ${k}: ${JSON.stringify(v)}`)
  .join('\n')}
  canalAdapters:
${canalAdapters(
  options.adapters ?? [
    { topic: options.topic, groupId: options.groupId, prefix: sinkProps.prefix! },
  ],
  sinkProps,
)}
sluice:
  plugins:
  - ${JSON.stringify(recordingSinkPath)}
  pipeline:
    lanes: ${options.lanes ?? 8}
  deadLetter:
    type: ${options.deadLetter ?? 'file'}
    dir: ${JSON.stringify(dlqDir)}
  admin:
    enabled: false
`;
  await writeFile(join(dir, 'application.yml'), yaml);
  return { dir, dlqDir };
}
