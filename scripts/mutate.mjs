#!/usr/bin/env node
// `pnpm mutate [group|file ...] [--force] | --ci`: mutation testing (StrykerJS + vitest) of
// the ordering core, the codecs and the sinks' conversion modules. See docs/testing.md.
//
//   pnpm mutate core              the ordering core (lanes, conflict keys, coalescing, ack, applier,
//                                 batch writer, commit coordination, retry)
//   pnpm mutate codecs            flat message, change events, typed values, partition hash
//   pnpm mutate protobuf          protobuf wire, checked path, entry events
//   pnpm mutate fastpath          the protobuf fast path (fastDecode.ts)
//   pnpm mutate sinks             sink-rdb, sink-es, sink-redis value conversion and statement building
//   pnpm mutate rdb|es|redis|logger  one sink
//   pnpm mutate api               plugin-api helpers sinks build statements with (ETL SQL)
//   pnpm mutate path/to/file.ts   any files (comma or space separated)
//   --force                       run every mutant (default: incremental, see below)
//   --ci                          every group, one after the other (the CI step)
//
// Runs of a group are incremental: Stryker reuses the results in the committed
// reports/stryker-incremental-<group>.json for every mutant whose code and covering tests did not
// change, runs only the others, and rewrites the file (commit it). A file list (`file` or
// `file:startLine-endLine`, Stryker's --mutate syntax) whose files all belong to one group uses
// that group's report and keeps the stored results of everything outside the list; any other
// list uses reports/stryker-incremental-files.json (not committed).
//
// Each group runs on its own (one Stryker process at a time). After a run, the per-file score is
// recomputed without the equivalent mutants listed in docs/mutation-equivalents.md, and the
// command fails when a file of the run is below 90 % (the only gate: Stryker's raw
// `thresholds.break` is off).
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

export const GROUPS = {
  core: [
    'packages/core/src/pipeline/laneScheduler.ts',
    'packages/core/src/pipeline/conflictKeys.ts',
    'packages/core/src/pipeline/coalesce.ts',
    'packages/core/src/pipeline/ackTracker.ts',
    'packages/core/src/pipeline/applier.ts',
    'packages/core/src/pipeline/batchWriter.ts',
    'packages/core/src/pipeline/commitCoordinator.ts',
    'packages/core/src/pipeline/retry.ts',
  ],
  codecs: [
    'packages/canal-protocol/src/flatMessage.ts',
    'packages/canal-protocol/src/toChangeEvents.ts',
    'packages/canal-protocol/src/partitionHash.ts',
    'packages/canal-protocol/src/values/typedValue.ts',
  ],
  // The protobuf codec but its fast path: about 630 mutants, so that the flat codec's group can be
  // completed (and checked in CI) without it.
  protobuf: [
    'packages/canal-protocol/src/protobuf/entryProtocol.ts',
    'packages/canal-protocol/src/protobuf/entryEvents.ts',
    'packages/canal-protocol/src/protobuf/toChangeEvents.ts',
    'packages/canal-protocol/src/protobuf/wire.ts',
  ],
  // The protobuf fast path on its own (about 800 mutants, 17 min at concurrency 2 from scratch);
  // many of its shortcuts' mutants only cost speed (listed in docs/mutation-equivalents.md).
  fastpath: ['packages/canal-protocol/src/protobuf/fastDecode.ts'],
  // Helpers of @sluice/plugin-api that build SQL for every sink's ETL.
  api: ['packages/plugin-api/src/etlSql.ts'],
  rdb: [
    'plugins/sink-rdb/src/convert.ts',
    'plugins/sink-rdb/src/plan.ts',
    'plugins/sink-rdb/src/timeZone.ts',
    'plugins/sink-rdb/src/fastConvert.ts',
    'plugins/sink-rdb/src/rowPlan.ts',
    'plugins/sink-rdb/src/route.ts',
    // dialect.ts's pure part; the driver part (pools, sessions) is left to the integration tests.
    'plugins/sink-rdb/src/statementSql.ts',
    'plugins/sink-rdb/src/errorClass.ts',
    'plugins/sink-rdb/src/catalog.ts',
    'plugins/sink-rdb/src/connectionSettings.ts',
    'plugins/sink-rdb/src/targetTypes.ts',
  ],
  es: [
    'plugins/sink-es/src/esValue.ts',
    'plugins/sink-es/src/document.ts',
    'plugins/sink-es/src/bulkAction.ts',
    'plugins/sink-es/src/fieldTypes.ts',
    'plugins/sink-es/src/singleTableSql.ts',
    'plugins/sink-es/src/joinQuery.ts',
    'plugins/sink-es/src/plan.ts',
    'plugins/sink-es/src/joinSql.ts',
  ],
  redis: [
    'plugins/sink-redis/src/rowValue.ts',
    'plugins/sink-redis/src/keyTemplate.ts',
    'plugins/sink-redis/src/plan.ts',
    'plugins/sink-redis/src/mapping.ts',
  ],
  // The logger sink's event → log line.
  logger: ['plugins/sink-logger/src/formatChange.ts'],
};
GROUPS.sinks = [...GROUPS.rdb, ...GROUPS.es, ...GROUPS.redis, ...GROUPS.logger];

const FILE_THRESHOLD = 90;

/**
 * The one-sink or core/codecs group holding every file of a list (`file` or `file:lines`), if
 * any. A file list inside one group runs against that group's incremental report: Stryker keeps
 * the stored results of the group's other files (and of the lines outside a `file:lines` range),
 * so a group's report can be built one file at a time and stays complete.
 */
export function groupOf(files) {
  for (const g of ['core', 'codecs', 'protobuf', 'fastpath', 'api', 'rdb', 'es', 'redis', 'logger'])
    if (files.every((f) => GROUPS[g].includes(f.replace(/:[\d:-]+$/, '')))) return g;
  return undefined;
}

/** Equivalent mutants: rows of the table in docs/mutation-equivalents.md. */
function equivalents() {
  const path = join(root, 'docs/mutation-equivalents.md');
  if (!existsSync(path)) return [];
  const rows = [];
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const cells = line.split(/(?<!\\)\|/).map((c) => c.trim());
    // | file | mutator | code (original line contains) | replacement | reason |
    if (cells.length < 7 || !cells[1].includes('/') || cells[1].startsWith('-')) continue;
    const unquote = (s) => s.replace(/^`|`$/g, '').replace(/\\\|/g, '|');
    rows.push({
      file: unquote(cells[1]),
      mutator: unquote(cells[2]),
      code: unquote(cells[3]),
      replacement: unquote(cells[4]),
    });
  }
  return rows;
}

/** Per-file scores of a Stryker JSON report, without the listed equivalent mutants. */
export function scores(report, eq = equivalents()) {
  const out = [];
  for (const [file, result] of Object.entries(report.files)) {
    const lines = result.source.split('\n');
    let killed = 0;
    let total = 0;
    let equivalent = 0;
    const survivors = [];
    for (const m of result.mutants) {
      if (m.status === 'Ignored' || m.status === 'CompileError' || m.status === 'RuntimeError')
        continue;
      const line = lines[m.location.start.line - 1] ?? '';
      const isEq = eq.some(
        (e) =>
          file.endsWith(e.file) &&
          (e.mutator === '*' || e.mutator === m.mutatorName) &&
          line.includes(e.code) &&
          (e.replacement === '*' || (m.replacement ?? '').replace(/\s+/g, ' ') === e.replacement),
      );
      if (isEq) {
        equivalent += 1;
        continue;
      }
      total += 1;
      if (m.status === 'Killed' || m.status === 'Timeout') killed += 1;
      else survivors.push(`${file}:${m.location.start.line} ${m.mutatorName} → ${m.replacement}`);
    }
    out.push({
      file,
      killed,
      total,
      equivalent,
      score: total ? (100 * killed) / total : 100,
      survivors,
    });
  }
  return out;
}

function run(name, files, force) {
  const args = [
    join(root, 'node_modules/@stryker-mutator/core/bin/stryker.js'),
    'run',
    'stryker.config.mjs',
    '--mutate',
    files.join(','),
  ];
  args.push('--incremental', '--incrementalFile', `reports/stryker-incremental-${name}.json`);
  if (force) args.push('--force');
  const started = Date.now();
  const status =
    spawnSync(process.execPath, args, {
      cwd: root,
      stdio: 'inherit',
      env: { ...process.env, MUTATE_NAME: name },
    }).status ?? 1;
  const seconds = Math.round((Date.now() - started) / 1000);
  const reportPath = join(root, `reports/mutation/${name}.json`);
  if (!existsSync(reportPath)) {
    console.error(`mutate ${name}: no report (Stryker exited ${status}).`);
    return false;
  }
  const rows = scores(JSON.parse(readFileSync(reportPath, 'utf8')));
  let ok = status === 0;
  console.log(`\nmutate ${name}: ${seconds} s; score without equivalent mutants, per file:`);
  for (const r of rows) {
    const low = r.score < FILE_THRESHOLD;
    if (low) ok = false;
    console.log(
      `  ${low ? 'LOW ' : 'ok  '} ${r.score.toFixed(1).padStart(5)} %  ${r.killed}/${r.total} (+${r.equivalent} equivalent)  ${r.file}`,
    );
    if (process.env.MUTATE_SHOW_SURVIVORS)
      for (const s of r.survivors) console.log(`         ${s}`);
  }
  if (status !== 0)
    console.error(`mutate ${name}: Stryker exited ${status} (thresholds.break or an error).`);
  return ok;
}

const argv = process.argv.slice(2);
if (import.meta.url === `file://${process.argv[1]}`) {
  const force = argv.includes('--force');
  const targets = argv.filter((a) => !a.startsWith('--'));
  const jobs = [];
  if (argv.includes('--ci')) {
    // Only groups with a committed incremental report: without one every mutant would run
    // (hours on a 2-core machine), so a group joins CI once its report is committed.
    for (const g of [
      'core',
      'codecs',
      'protobuf',
      'fastpath',
      'api',
      'rdb',
      'es',
      'redis',
      'logger',
    ]) {
      if (existsSync(join(root, `reports/stryker-incremental-${g}.json`)))
        jobs.push([g, GROUPS[g]]);
      else
        console.log(
          `mutate --ci: group ${g} has no reports/stryker-incremental-${g}.json; skipped.`,
        );
    }
  } else if (targets.length === 0) {
    console.error(
      'usage: pnpm mutate <core|codecs|protobuf|fastpath|api|sinks|rdb|es|redis|logger|file ...> [--force] | --ci',
    );
    process.exit(2);
  }
  const files = [];
  for (const t of targets) {
    if (GROUPS[t]) jobs.push([t, GROUPS[t]]);
    else files.push(...t.split(',').filter(Boolean));
  }
  if (files.length) jobs.push([groupOf(files) ?? 'files', files]);
  let ok = true;
  for (const [name, list] of jobs) ok = run(name, list, force) && ok;
  process.exit(ok ? 0 : 1);
}
