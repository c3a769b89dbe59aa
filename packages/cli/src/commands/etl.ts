import {
  MappingIndex,
  MetricsRegistry,
  createGroupSinks,
  dataSourcesOf,
  formatReport,
  toMappingFile,
} from '@sluice/core';
import type { OuterAdapterConfig, ResolvedConfig, RuntimeStatus } from '@sluice/core';
import { commandLogger, type CliIo } from '../io.js';
import { UsageError } from '../usageError.js';
import { parseCommandArgs } from './parse.js';
import { checkConfiguration } from './validate.js';
import {
  AdminRequestError,
  adminRequest,
  adminTarget,
  adminTargetOf,
  sameConfigDir,
} from './adminClient.js';

export const etlHelp = `Usage: sluice etl TYPE [KEY] TASK [--config DIR] [--params "a;b"] [--remote | --url URL]

Full sync of one mapping file (canal's POST /etl/{type}/{key}/{task}): reads the source table of
its dataSourceKey page by page (keyset pagination on the primary key, or on the document key for
es mappings) and writes every row to the sink's target. TYPE is the adapter name (rdb, redis,
es8, es7, es6), KEY the outerAdapters key (optional when only one instance owns the file), TASK
the mapping file name (mytest_user.yml). An interrupted run resumes after its last committed
page when started again with the same params.

Options:
  -c, --config DIR     configuration directory holding application.yml (default: config)
  -p, --params "a;b"   values for the {} placeholders of the mapping's etlCondition, split on ";"
                       (bound as parameters, never spliced into the SQL); without them the
                       condition is ignored, as canal-adapter does
      --remote         run it inside the running Sluice of --config, through its admin API
                       (POST /etl/…): that process takes nothing new from the destination's
                       stream while the ETL runs (batches in hand finish; its ETL/stream gate
                       keeps them from leaving a row older than the source)
      --url URL        the same, against the admin API at URL (http://127.0.0.1:8081)
      --token T        bearer token for --remote/--url (default: SLUICE_ADMIN_TOKEN, then
                       sluice.admin.token)
      --force          run in this process even though the Sluice of --config is running
  -h, --help           show this help

Without --remote/--url the ETL runs in this process: run it while the destination's stream is
stopped (or re-consume the stream from before the ETL's start afterwards), since a separate
process cannot see the stream's writes (README, rdb ETL). When the Sluice of --config answers on
its admin address (or something there refuses the token), a local run is refused (exit 1) unless
--force is given: use --remote. A Sluice started with another admin port or with the admin API
disabled is not seen.
Ctrl-C cancels a remote job too.
`;

function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** One progress line: bar, rows, rows/s, ETA. */
export function progressLine(done: number, total: number | undefined, elapsedMs: number): string {
  const rate = elapsedMs > 0 ? (done * 1000) / elapsedMs : 0;
  const n = (v: number) => Math.round(v).toLocaleString('en-US');
  if (total === undefined || total <= 0) return `${n(done)} rows  ${n(rate)} rows/s`;
  const ratio = Math.min(1, done / total);
  const width = 30;
  const filled = Math.round(ratio * width);
  const bar =
    '='.repeat(filled) + (filled < width ? '>' : '') + ' '.repeat(Math.max(0, width - filled - 1));
  const eta = rate > 0 ? (total - done) / rate : Number.POSITIVE_INFINITY;
  return `[${bar}] ${(ratio * 100).toFixed(1)}% ${n(done)}/${n(total)} rows  ${n(rate)} rows/s  ETA ${formatDuration(eta)}`;
}

/**
 * Draws ETL progress on stderr: on a terminal one line redrawn in place (`\r`) at most every
 * 200 ms; elsewhere (a log file, a pipe) one whole line at most every 10 s, so a log does not
 * fill with carriage returns. `end` prints the final line (always, once).
 */
export function progressDrawer(
  io: CliIo,
  started: number,
  now: () => number = Date.now,
): {
  draw(done: number, total: number | undefined): void;
  end(done: number, total: number | undefined): void;
} {
  const tty = io.stderrIsTTY === true;
  const every = tty ? 200 : 10_000;
  let last = started;
  let drawn = false;
  const line = (done: number, total: number | undefined, t: number) =>
    progressLine(done, total, t - started);
  return {
    draw(done, total) {
      const t = now();
      if (t - last < every) return;
      last = t;
      drawn = true;
      io.stderr(tty ? `\r${line(done, total, t)}` : `${line(done, total, t)}\n`);
    },
    end(done, total) {
      const t = now();
      io.stderr(
        tty ? `${drawn ? '\r' : ''}${line(done, total, t)}\n` : `${line(done, total, t)}\n`,
      );
    },
  };
}

/** `sluice etl`: full sync of one mapping file through its sink's `etl`. */
export async function etlCommand(
  args: readonly string[],
  io: CliIo,
  signal: AbortSignal,
): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    'etl',
    args,
    {
      config: { type: 'string', short: 'c', default: 'config' },
      params: { type: 'string', short: 'p' },
      remote: { type: 'boolean', default: false },
      url: { type: 'string' },
      token: { type: 'string' },
      force: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    true,
  );
  if (values.help) {
    io.stdout(etlHelp);
    return 0;
  }
  if (positionals.length < 2 || positionals.length > 3)
    throw new UsageError(
      'sluice etl: expected TYPE [KEY] TASK (e.g. sluice etl rdb mysql1 mytest_user.yml).',
    );
  const type = positionals[0]!;
  const task = positionals[positionals.length - 1]!;
  const key = positionals.length === 3 ? positionals[1] : undefined;
  const params =
    values.params === undefined || values.params.trim() === ''
      ? []
      : values.params.trim().split(';');

  if (values.remote || values.url !== undefined)
    return remoteEtl({ type, key, task, params: values.params ?? '' }, values, io, signal);

  const { result, registry } = await checkConfiguration(values.config);
  const config = result.config;
  if (!result.ok || config === undefined) {
    if (result.problems.length > 0) io.stderr(formatReport(result.problems));
    io.stderr(`sluice etl: the configuration in "${values.config}" has errors.\n`);
    return 1;
  }
  const mapping = config.mappings.find(
    (m) =>
      m.name === task &&
      m.type === type &&
      (key === undefined || m.owners.some((o) => o.key.toLowerCase() === key.toLowerCase())),
  );
  if (!mapping) {
    io.stderr(
      `sluice etl: no ${type} mapping file named "${task}"${key ? ` owned by "${key}"` : ''}.\n`,
    );
    return 1;
  }
  const owners = mapping.owners.filter(
    (o) => key === undefined || o.key.toLowerCase() === key.toLowerCase(),
  );
  if (owners.length !== 1) {
    io.stderr(
      `sluice etl: "${task}" is owned by ${owners.length} sink instances (${owners.map((o) => o.key).join(', ')}); name one as KEY.\n`,
    );
    return 1;
  }
  const owner = owners[0]!;
  const pipelines = config.canal.canalAdapters.flatMap((a) =>
    a.groups.map((g) => ({ destination: a.instance, groupId: g.groupId, outers: g.outerAdapters })),
  );
  const home = pipelines.find((p) =>
    p.outers.some((o) => o.key === owner.key && o.name === owner.name),
  );
  const outer: OuterAdapterConfig | undefined = home?.outers.find(
    (o) => o.key === owner.key && o.name === owner.name,
  );
  if (!outer) {
    io.stderr(`sluice etl: no outerAdapters entry with key "${owner.key}".\n`);
    return 1;
  }
  if (!values.force) {
    const live = await runningInstance(config, values.token, signal);
    if (live) {
      io.stderr(
        `sluice etl: the Sluice of this configuration ${live}: a local ETL beside its stream can leave a row older than the source (this process cannot see the stream's writes). Run it inside that process with --remote (it pauses the destination's stream while the ETL runs), stop it first, or pass --force.\n`,
      );
      return 1;
    }
  }
  const logger = commandLogger(io);
  const scope = registry.scope({
    logger,
    metrics: new MetricsRegistry({ prefix: config.sluice.metrics.prefix, processMetrics: false }),
    clock: { now: () => Date.now() },
    dataSources: dataSourcesOf(config),
  });
  const [sink] = createGroupSinks(
    config,
    registry,
    scope,
    MappingIndex.of(config),
    { destination: home!.destination, groupId: home!.groupId },
    [outer],
  );
  const instance = sink!.instance;
  if (!instance.etl) {
    io.stderr(`sluice etl: the ${type} sink does not support ETL.\n`);
    return 1;
  }
  const started = Date.now();
  let total: number | undefined;
  const progress = progressDrawer(io, started);
  try {
    await instance.connect(signal);
    const outcome = await instance.etl(
      {
        mapping: toMappingFile(mapping),
        params,
        onTotal: (rows) => {
          total = rows;
        },
        onProgress: (rows) => progress.draw(rows, total),
      },
      signal,
    );
    progress.end(outcome.rows + outcome.errors.length, total);
    for (const e of outcome.errors) io.stderr(`error: ${e}\n`);
    io.stdout(
      `${type} ${owner.key} ${task}: ${outcome.rows} rows written, ${outcome.errors.length} errors, ${formatDuration((Date.now() - started) / 1000)}.\n`,
    );
    return outcome.errors.length === 0 ? 0 : 1;
  } catch (error) {
    io.stderr(`\nsluice etl: ${(error as Error).message}\n`);
    return 1;
  } finally {
    await instance.close(AbortSignal.timeout(10_000));
  }
}

/**
 * Whether the Sluice running `config` is up ("is running (pid … on …, admin API at …)"), if one answers on the
 * configuration's admin address within 1.5 s and reports the same configuration directory
 * (`GET /status`), or one answers there but refuses the token (it may be this configuration's,
 * started with SLUICE_ADMIN_TOKEN in its environment); undefined when nothing answers, the
 * admin API is disabled, or another configuration's Sluice answers. Blind to a Sluice started
 * with another admin port than the configuration's (`--admin-port`, `sluice.admin.enabled: false`).
 */
async function runningInstance(
  config: ResolvedConfig,
  token: string | undefined,
  signal: AbortSignal,
): Promise<string | undefined> {
  if (!config.sluice.admin.enabled) return undefined;
  const target = adminTargetOf(config, token ?? (process.env['SLUICE_ADMIN_TOKEN'] || undefined));
  let status: RuntimeStatus;
  try {
    const answer = await adminRequest<RuntimeStatus>(
      target,
      'GET',
      '/status',
      AbortSignal.any([signal, AbortSignal.timeout(1_500)]),
    );
    if (answer.status !== 200) return undefined;
    status = answer.body;
  } catch (error) {
    if (signal.aborted) throw error;
    // A Sluice that refuses our token may well be this configuration's, started with the token
    // in its environment: refuse rather than guess.
    if (error instanceof AdminRequestError && error.status === 401)
      return `may be running (a Sluice admin API at ${target.url} answers but refused the token, so it cannot say which configuration it runs; pass --token to let it)`;
    return undefined;
  }
  const instance = status.instance;
  if (!instance) return undefined;
  if (!(await sameConfigDir(instance.configDir, config.dir))) return undefined;
  return `is running (pid ${instance.pid} on ${instance.hostname}, admin API at ${target.url})`;
}

/** What `GET /etl/jobs/{id}` answers (core's EtlJobStatus). */
interface JobStatus {
  readonly id: string;
  readonly state: 'running' | 'succeeded' | 'failed' | 'cancelled';
  readonly rows: number;
  readonly rowsPerSecond: number;
  readonly errors: readonly string[];
}

/**
 * `sluice etl --remote/--url`: starts the ETL as a job in the running Sluice (`POST
 * /etl/{type}/{key}/{task}?async=true`), polls its status URL twice a second drawing progress,
 * and cancels it (`DELETE`) when this command is interrupted.
 */
async function remoteEtl(
  task: { type: string; key: string | undefined; task: string; params: string },
  options: { config: string; url?: string | undefined; token?: string | undefined },
  io: CliIo,
  signal: AbortSignal,
): Promise<number> {
  const target = await adminTarget('etl', options);
  const path = `/etl/${encodeURIComponent(task.type)}/${task.key ? `${encodeURIComponent(task.key)}/` : ''}${encodeURIComponent(task.task)}?async=true`;
  const started = Date.now();
  const progress = progressDrawer(io, started);
  let jobId: string | undefined;
  try {
    const answer = await adminRequest<{
      succeeded: boolean;
      jobId?: string;
      statusUrl?: string;
      errorMessage?: string;
      message?: string;
    }>(target, 'POST', path, signal, task.params ? { params: task.params } : undefined);
    if (answer.status === 409) {
      io.stderr(
        `sluice etl: another ETL of ${task.type} for this destination is running (in this or another Sluice or canal-adapter process sharing its ZooKeeper); try again later. (${answer.body.errorMessage ?? ''})\n`,
      );
      return 1;
    }
    if (answer.status !== 202 || !answer.body.statusUrl) {
      io.stderr(
        `sluice etl: ${answer.body.errorMessage ?? answer.body.message ?? `the admin API answered ${answer.status}`}\n`,
      );
      return 1;
    }
    jobId = answer.body.jobId;
    const statusUrl = answer.body.statusUrl;
    for (;;) {
      await new Promise((r) => setTimeout(r, 500));
      const job = (await adminRequest<JobStatus>(target, 'GET', statusUrl, signal)).body;
      if (job.state === 'running') {
        progress.draw(job.rows, undefined);
        continue;
      }
      progress.end(job.rows, undefined);
      for (const e of job.errors) io.stderr(`error: ${e}\n`);
      io.stdout(
        `${task.type} ${task.task}: ${job.state}, ${job.rows} rows written, ${job.errors.length} errors, ${formatDuration((Date.now() - started) / 1000)} (job ${job.id}).\n`,
      );
      return job.state === 'succeeded' ? 0 : 1;
    }
  } catch (error) {
    if (signal.aborted && jobId !== undefined) {
      await adminRequest(target, 'DELETE', `/etl/jobs/${jobId}`, AbortSignal.timeout(5_000)).catch(
        () => undefined,
      );
      io.stderr(`\nsluice etl: interrupted; job ${jobId} was asked to stop.\n`);
      return 1;
    }
    if (!(error instanceof AdminRequestError)) throw error;
    io.stderr(`sluice etl: ${error.message}\n`);
    return 1;
  }
}
