import { setFlagsFromString } from 'node:v8';

/**
 * The V8 old-generation growing percent `sluice` runs with unless told otherwise: after a full
 * (mark-compact) GC, the next one starts when the old generation has grown to
 * (1 + percent/100) × what survived. V8's own choice is dynamic, up to 4× on a small heap.
 *
 * Why Sluice sets it: `JSON.parse` internalizes string values of up to 10 characters (V8's
 * `JsonParser`, `kMaxInternalizedStringValueLength`), and canal's ids, amounts, states and
 * short dates are that short. Each becomes an entry of V8's string table, allocated in the old
 * generation; dead ones leave only at a full GC. With 4× growth the table holds ~3× more dead
 * entries between full GCs and every lookup gets slower (`StringTable::LookupKey`, perf: 1 253
 * samples in Sluice against 768 in the ceiling over the same 1M rows). At 100 % the Kafka →
 * no-op benchmark ran 18–23 % more rows/s on a 1M-row backlog, with less CPU and 26–32 % less
 * peak RSS; on 200k rows, the same rows/s (BENCHMARKS.md, "The string table"). Kafka → rdb
 * (MariaDB, PostgreSQL) ran at the same rows/s with 40–70 MiB less peak RSS.
 */
export const SLUICE_HEAP_GROWING_PERCENT = 100;

/** The environment variable that overrides {@link SLUICE_HEAP_GROWING_PERCENT}. */
export const HEAP_GROWING_PERCENT_ENV = 'SLUICE_HEAP_GROWING_PERCENT';

/** What {@link tuneHeapGrowth} decided. */
export interface HeapGrowth {
  /** The percent in force; 0 means V8's own dynamic factor. */
  readonly percent: number;
  /**
   * `node`: the process was started with its own `--heap-growing-percent`, left alone;
   * `env`: {@link HEAP_GROWING_PERCENT_ENV}; `sluice`: {@link SLUICE_HEAP_GROWING_PERCENT}.
   */
  readonly setBy: 'node' | 'env' | 'sluice';
  /**
   * The {@link HEAP_GROWING_PERCENT_ENV} value that node's own flag overrode (`setBy: 'node'`
   * only), for a warning.
   */
  readonly ignoredEnv?: string;
}

const FLAG = /^--heap[-_]growing[-_]percent(?:=(.*))?$/;

/**
 * The `--heap-growing-percent=N` node was started with (`process.execArgv`), or undefined. V8
 * accepts `-` and `_` in flag names alike; node refuses the flag without `=N` and in
 * `NODE_OPTIONS`, so neither reaches here. A value V8 does not take as a count reads as 0 (V8's
 * own choice).
 */
export function heapGrowingPercentOf(execArgv: readonly string[]): number | undefined {
  for (const arg of execArgv) {
    const match = FLAG.exec(arg);
    if (match) return countOf(match[1] ?? '') ?? 0;
  }
  return undefined;
}

/** `text` as a count when it is digits only (no sign, exponent, hex or fraction), else undefined. */
function countOf(text: string): number | undefined {
  return /^\d+$/.test(text) ? Number(text) : undefined;
}

/**
 * Sets V8's old-generation growing percent for this process, once, at start-up (the binary
 * calls it before any command runs; V8 reads the flag at every full GC, so setting it after
 * start is effective — the test in heapGrowth.test.ts checks that on the running Node).
 * Precedence: node's own `--heap-growing-percent` (left alone; the environment variable is then
 * reported as `ignoredEnv`), then `SLUICE_HEAP_GROWING_PERCENT` (digits, 0–10000; 0 restores
 * V8's dynamic factor), then {@link SLUICE_HEAP_GROWING_PERCENT}.
 *
 * @throws RangeError when the environment variable is set to anything else, whether or not node's
 *   flag wins (the binary prints it and exits 2, except for `--help` and `--version`).
 */
export function tuneHeapGrowth(
  execArgv: readonly string[] = process.execArgv,
  env: NodeJS.ProcessEnv = process.env,
  setFlags: (flags: string) => void = setFlagsFromString,
): HeapGrowth {
  // Checked even when node's flag wins: a typo must not wait for the day the flag goes away.
  const raw = env[HEAP_GROWING_PERCENT_ENV]?.trim() || undefined;
  const fromEnv = raw === undefined ? undefined : countOf(raw);
  if (raw !== undefined && !(fromEnv !== undefined && fromEnv <= 10_000))
    throw new RangeError(
      `${HEAP_GROWING_PERCENT_ENV} must be an integer from 0 to 10000 (0: V8's own choice), got "${raw}".`,
    );
  const own = heapGrowingPercentOf(execArgv);
  const growth: HeapGrowth =
    own !== undefined
      ? { percent: own, setBy: 'node', ...(raw === undefined ? {} : { ignoredEnv: raw }) }
      : fromEnv !== undefined
        ? { percent: fromEnv, setBy: 'env' }
        : { percent: SLUICE_HEAP_GROWING_PERCENT, setBy: 'sluice' };
  if (growth.setBy !== 'node') setFlags(`--heap-growing-percent=${growth.percent}`);
  applied = growth;
  return growth;
}

let applied: HeapGrowth | undefined;

/** What {@link tuneHeapGrowth} set in this process; undefined when it was not called. */
export function appliedHeapGrowth(): HeapGrowth | undefined {
  return applied;
}
