/** Problems found while reading a configuration directory, and how they are reported. */

/** `error` stops Sluice from starting; `warning` is printed (canal-adapter would silently ignore it). */
export type Severity = 'error' | 'warning';

/** What kind of problem; stable, for tests and tooling. */
export type ProblemCode =
  | 'file-unreadable'
  | 'yaml-syntax'
  | 'unknown-key'
  | 'duplicate-key'
  | 'deprecated-key'
  | 'invalid-value'
  | 'required'
  | 'placeholder-unresolved'
  | 'unknown-adapter'
  | 'plugin-missing'
  | 'unknown-mode'
  | 'duplicate-adapter'
  | 'jdbc-url'
  | 'missing-data-source'
  | 'missing-adapter-key'
  | 'unowned-mapping'
  | 'mapping-invalid'
  | 'ignored-file'
  | 'path-missing'
  | 'no-adapters'
  | 'legacy-key'
  | 'unsupported-mode'
  | 'plugin-rejected';

/** One problem: where, what, what was expected, and a suggestion when there is one. */
export interface ConfigProblem {
  readonly severity: Severity;
  readonly code: ProblemCode;
  /** File relative to the configuration directory (`application.yml`, `rdb/mytest_user.yml`), or `environment variable X`. */
  readonly file: string;
  /** 1-based line; 0 when the problem has no line (a missing file, an environment variable). */
  readonly line: number;
  /** Key path inside the file (`canal.conf.canalAdapters[0].groups[0].outerAdapters[1].name`); empty for the whole file. */
  readonly path: string;
  readonly message: string;
  /** What a valid value looks like. */
  readonly expected?: string;
  /** A fix, e.g. `did you mean "es7" or "es8"?`. */
  readonly suggestion?: string;
}

/** Collects problems; order of discovery is kept and duplicates are dropped. */
export class ProblemCollector {
  readonly #problems: ConfigProblem[] = [];
  readonly #seen = new Set<string>();

  /** Adds a problem. */
  add(problem: ConfigProblem): void {
    const id = `${problem.severity}|${problem.file}|${problem.line}|${problem.path}|${problem.message}`;
    if (this.#seen.has(id)) return;
    this.#seen.add(id);
    this.#problems.push(problem);
  }

  /** Every problem so far. */
  get problems(): readonly ConfigProblem[] {
    return this.#problems;
  }

  /** True when at least one problem is an error. */
  get hasErrors(): boolean {
    return this.#problems.some((p) => p.severity === 'error');
  }
}

/** `file:line` (without `:line` when there is none). */
export function problemLocation(p: Pick<ConfigProblem, 'file' | 'line'>): string {
  return p.line > 0 ? `${p.file}:${p.line}` : p.file;
}

/** One problem as one line: `rdb/a.yml:3: error: dbMapping.table: … (expected …); did you mean …?`. */
export function formatProblem(p: ConfigProblem): string {
  const where = p.path ? `${p.path}: ` : '';
  const expected = p.expected ? ` (expected ${p.expected})` : '';
  const suggestion = p.suggestion ? `; ${p.suggestion}` : '';
  // A message written as a sentence loses its full stop when more follows ("….; use …").
  const message = expected || suggestion ? p.message.replace(/\.$/, '') : p.message;
  return `${problemLocation(p)}: ${p.severity}: ${where}${message}${expected}${suggestion}`;
}

/**
 * The report `sluice validate` prints: problems sorted by file and line (application.yml first),
 * then a summary line.
 */
export function formatReport(problems: readonly ConfigProblem[]): string {
  const sorted = [...problems].sort(
    (a, b) =>
      fileRank(a.file) - fileRank(b.file) || a.file.localeCompare(b.file) || a.line - b.line,
  );
  const errors = problems.filter((p) => p.severity === 'error').length;
  const warnings = problems.length - errors;
  const summary = `${errors} error${errors === 1 ? '' : 's'}, ${warnings} warning${warnings === 1 ? '' : 's'}`;
  return [...sorted.map(formatProblem), summary].join('\n') + '\n';
}

function fileRank(file: string): number {
  if (file.startsWith('environment')) return 0;
  if (file === 'application.yml') return 1;
  return 2;
}
