import type { PipelineStatus, RuntimeStatus } from '@sluice/core';
import type { CliIo } from '../io.js';
import { AdminRequestError, adminRequest, adminTarget, sameConfigDir } from './adminClient.js';
import { parseCommandArgs } from './parse.js';

export const statusHelp = `Usage: sluice status [--config DIR | --url URL] [--token T] [--json] [--interval S]

Prints what a running Sluice is doing, from its admin API (GET /status): per pipeline the
sync switch, source connection, lag (now minus the binlog time of the newest applied event),
events in flight, dead letters waiting in the queue (DLQ: file, kafka, rabbitmq and rocketmq
queues; '-' while not yet counted), and per sink instance events applied, applied per second and
dead-lettered.

With --config, the answering process must run that configuration directory: when another
Sluice answers on the port (a port clash), a warning names both and the exit code is 1.

Options:
  -c, --config DIR    configuration directory of the running Sluice (default: config); the
                      admin address and token are read from its application.yml
      --url URL       the admin API's address instead (http://127.0.0.1:8081)
      --token T       bearer token (default: SLUICE_ADMIN_TOKEN, then sluice.admin.token)
      --interval S    seconds between the two samples the rates come from (default 1; 0: no rates)
      --json          print the raw /status JSON (the second sample)
  -h, --help          show this help

Exit codes: 0 every pipeline runs, 1 a pipeline stopped, the API cannot be reached, or
another configuration's Sluice answered.
`;

function duration(seconds: number): string {
  if (seconds < 60) return `${seconds}s`;
  if (seconds < 3600)
    return `${Math.floor(seconds / 60)}m${String(seconds % 60).padStart(2, '0')}s`;
  const h = Math.floor(seconds / 3600);
  return `${h}h${String(Math.floor((seconds % 3600) / 60)).padStart(2, '0')}m`;
}

const number = (n: number) => Math.round(n).toLocaleString('en-US');

/** Lays out rows as columns separated by two spaces. */
function table(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows
    .map((r) =>
      r
        .map((c, i) => c.padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/**
 * The status report: a header line, then one row per sink instance of each pipeline. Rates are
 * per second between `before` and `after` (`undefined` before: no rate column values).
 */
export function formatStatus(
  after: RuntimeStatus,
  before: RuntimeStatus | undefined,
  seconds: number,
): string {
  const applied = new Map<string, number>();
  for (const p of before?.pipelines ?? [])
    for (const s of p.sinks)
      applied.set(`${p.destination}\u0000${p.groupId}\u0000${s.key}`, s.applied);
  const rows: string[][] = [
    [
      'DESTINATION',
      'GROUP',
      'SWITCH',
      'SOURCE',
      'LAG',
      'IN-FLIGHT',
      'DLQ',
      'SINK',
      'APPLIED',
      'RATE/S',
      'DEAD-LETTERED',
    ],
  ];
  const state = (p: PipelineStatus) =>
    p.stopped ? 'stopped' : p.sourceConnected ? 'connected' : 'connecting';
  for (const p of after.pipelines) {
    const sinks = p.sinks.length > 0 ? p.sinks : [undefined];
    for (const s of sinks) {
      const prev = s && applied.get(`${p.destination}\u0000${p.groupId}\u0000${s.key}`);
      rows.push([
        p.destination,
        p.groupId,
        p.syncSwitch,
        state(p),
        p.lagSeconds === null ? '-' : `${p.lagSeconds}s`,
        number(p.inFlight),
        p.deadLetterDepth === null || p.deadLetterDepth === undefined
          ? '-'
          : number(p.deadLetterDepth),
        s ? `${s.key}${s.connected ? '' : ' (not connected)'}` : '-',
        s ? number(s.applied) : '-',
        s && prev !== undefined && seconds > 0 ? number((s.applied - prev) / seconds) : '-',
        s ? number(s.deadLettered) : '-',
      ]);
    }
  }
  const errors = after.pipelines
    .filter((p) => p.error !== undefined)
    .map((p) => `${p.destination}/${p.groupId} stopped: ${p.error}`);
  return (
    [
      `Sluice ${after.version}, up ${duration(after.uptimeSeconds)}; dead letters go to ${after.deadLetterQueue}`,
      table(rows),
      ...errors,
    ].join('\n') + '\n'
  );
}

/** `sluice status`: reads GET /status of a running Sluice (twice, for rates) and prints it. */
export async function statusCommand(
  args: readonly string[],
  io: CliIo,
  signal: AbortSignal,
): Promise<number> {
  const { values } = parseCommandArgs('status', args, {
    config: { type: 'string', short: 'c', default: 'config' },
    url: { type: 'string' },
    token: { type: 'string' },
    interval: { type: 'string', default: '1' },
    json: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  });
  if (values.help) {
    io.stdout(statusHelp);
    return 0;
  }
  const interval = Number(values.interval);
  if (!Number.isFinite(interval) || interval < 0 || interval > 60) {
    io.stderr(`sluice status: --interval must be 0 to 60 seconds, not "${values.interval}".\n`);
    return 2;
  }
  const target = await adminTarget('status', values);
  try {
    const first = (await adminRequest<RuntimeStatus>(target, 'GET', '/status', signal)).body;
    const clash =
      values.url === undefined && target.configDir !== undefined
        ? await identityMismatch(target.configDir, first)
        : undefined;
    if (clash) io.stderr(`sluice status: warning: ${clash}\n`);
    let second = first;
    if (interval > 0) {
      await new Promise((r) => setTimeout(r, interval * 1000));
      second = (await adminRequest<RuntimeStatus>(target, 'GET', '/status', signal)).body;
    }
    io.stdout(
      values.json
        ? JSON.stringify(second, null, 2) + '\n'
        : formatStatus(second, interval > 0 ? first : undefined, interval),
    );
    return second.pipelines.some((p) => p.stopped) || clash ? 1 : 0;
  } catch (error) {
    if (!(error instanceof AdminRequestError)) throw error;
    io.stderr(`sluice status: ${error.message}\n`);
    return 1;
  }
}

/**
 * Why the process that answered is not the one running `configDir` (another Sluice took the
 * port), or undefined when it is (or when it is too old to say).
 */
async function identityMismatch(
  configDir: string,
  status: RuntimeStatus,
): Promise<string | undefined> {
  const instance = status.instance;
  if (!instance) return undefined;
  if (await sameConfigDir(instance.configDir, configDir)) return undefined;
  return `the Sluice answering at this address (pid ${instance.pid} on ${instance.hostname}) runs ${instance.configDir}, not ${configDir}: another instance holds the admin port; the status below is ITS status. Give each instance its own sluice.admin.port (or pass --url).`;
}
