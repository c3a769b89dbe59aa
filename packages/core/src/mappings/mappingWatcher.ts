import { watch, type FSWatcher } from 'node:fs';
import { join } from 'node:path';
import { loadMappingFiles, type MappingContext } from './mappingFiles.js';
import type { ConfigProblem } from '../config/binding/problems.js';
import type { ConfiguredMapping, ResolvedConfig, SinkRef } from '../config/application/types.js';
import { mappingContextOf, type Environment } from '../config/application/validateConfig.js';
import type { PluginSchemaSource } from './sinkCatalog.js';

/** How one sink instance's mapping files changed. */
export interface SinkMappingChanges {
  readonly sink: SinkRef;
  readonly added: readonly ConfiguredMapping[];
  readonly changed: readonly ConfiguredMapping[];
  /** The mappings as they were before removal. */
  readonly removed: readonly ConfiguredMapping[];
}

/** The outcome of re-reading the mapping files. */
export interface MappingReload {
  /** The mapping set now in force: every valid file, with rejected files kept at their old version. */
  readonly mappings: readonly ConfiguredMapping[];
  /** Per sink instance, what to swap in at the next batch boundary. Empty when nothing changed. */
  readonly changes: readonly SinkMappingChanges[];
  /** Problems of the files read (errors of rejected files, warnings). */
  readonly problems: readonly ConfigProblem[];
  /** Files whose new version was rejected (the old version keeps running, or the file stays absent). */
  readonly rejected: readonly string[];
}

const sinkId = (sink: SinkRef) => `${sink.name}\u0000${sink.key}`;
const ownerSet = (m: ConfiguredMapping) => m.owners.map(sinkId).sort().join('|');

/** Per sink instance, which mapping files were added, changed or removed between two sets. */
export function diffMappings(
  before: readonly ConfiguredMapping[],
  after: readonly ConfiguredMapping[],
): SinkMappingChanges[] {
  const bySink = new Map<
    string,
    {
      sink: SinkRef;
      added: ConfiguredMapping[];
      changed: ConfiguredMapping[];
      removed: ConfiguredMapping[];
    }
  >();
  const slot = (sink: SinkRef) => {
    const id = sinkId(sink);
    let entry = bySink.get(id);
    if (!entry) {
      entry = { sink: { name: sink.name, key: sink.key }, added: [], changed: [], removed: [] };
      bySink.set(id, entry);
    }
    return entry;
  };
  const old = new Map(before.map((m) => [m.file, m]));
  const next = new Map(after.map((m) => [m.file, m]));
  for (const [file, m] of next) {
    const prev = old.get(file);
    const prevOwners = new Set(prev?.owners.map(sinkId) ?? []);
    for (const owner of m.owners) {
      if (!prevOwners.has(sinkId(owner))) slot(owner).added.push(m);
      else if (
        prev &&
        (prev.digest !== m.digest ||
          ownerSet(prev) !== ownerSet(m) ||
          JSON.stringify(prev.config) !== JSON.stringify(m.config))
      ) {
        slot(owner).changed.push(m);
      }
    }
    if (prev) {
      const nowOwners = new Set(m.owners.map(sinkId));
      for (const owner of prev.owners)
        if (!nowOwners.has(sinkId(owner))) slot(owner).removed.push(prev);
    }
  }
  for (const [file, prev] of old) {
    if (next.has(file)) continue;
    for (const owner of prev.owners) slot(owner).removed.push(prev);
  }
  const byFile = (a: ConfiguredMapping, b: ConfiguredMapping) => a.file.localeCompare(b.file);
  return [...bySink.values()]
    .filter((c) => c.added.length + c.changed.length + c.removed.length > 0)
    .map((c) => ({
      sink: c.sink,
      added: c.added.sort(byFile),
      changed: c.changed.sort(byFile),
      removed: c.removed.sort(byFile),
    }));
}

/**
 * Re-reads every mapping file and validates it. A file with errors is rejected: its previous
 * version (if any) stays in force. Returns the new set and what changed per sink instance.
 */
export async function reloadMappings(
  current: readonly ConfiguredMapping[],
  context: MappingContext,
): Promise<MappingReload> {
  const results = await loadMappingFiles(context);
  const previous = new Map(current.map((m) => [m.file, m]));
  const mappings: ConfiguredMapping[] = [];
  const rejected: string[] = [];
  const problems: ConfigProblem[] = [];
  for (const r of results) {
    problems.push(...r.problems);
    if (r.mapping) mappings.push(r.mapping);
    else if (r.problems.some((p) => p.severity === 'error')) {
      rejected.push(r.file);
      const old = previous.get(r.file);
      if (old) mappings.push(old);
    }
  }
  return { mappings, changes: diffMappings(current, mappings), problems, rejected };
}

/** Options of {@link MappingWatcher}. */
export interface MappingWatcherOptions {
  /** Called after a reload that changed something or found new problems. */
  readonly onReload: (reload: MappingReload) => void;
  /** Called when a reload itself failed (I/O). */
  readonly onError?: (error: unknown) => void;
  /** Quiet time after the last file event before reloading, ms. Default 300. */
  readonly debounceMs?: number;
  /** Poll every N ms instead of using fs.watch (network file systems). */
  readonly pollMs?: number;
  readonly env?: Environment;
  readonly plugins?: PluginSchemaSource;
}

/**
 * Watches the mapping directories of a configuration (fs.watch with a debounce, or polling) and
 * reports validated changes per sink instance. The pipeline swaps them in at a batch boundary.
 */
export class MappingWatcher {
  readonly #context: MappingContext;
  readonly #options: MappingWatcherOptions;
  readonly #watchers = new Map<string, FSWatcher>();
  #mappings: readonly ConfiguredMapping[];
  #timer: ReturnType<typeof setTimeout> | undefined;
  #poller: ReturnType<typeof setInterval> | undefined;
  #running: Promise<MappingReload> | undefined;
  #again = false;
  #closed = false;
  #lastProblems = '';

  constructor(config: ResolvedConfig, options: MappingWatcherOptions) {
    this.#context = mappingContextOf(config, {
      ...(options.env ? { env: options.env } : {}),
      ...(options.plugins ? { plugins: options.plugins } : {}),
    });
    this.#options = options;
    this.#mappings = config.mappings;
  }

  /** The mapping set currently in force. */
  get mappings(): readonly ConfiguredMapping[] {
    return this.#mappings;
  }

  /** Starts watching. */
  start(): void {
    if (this.#closed) return;
    if (this.#options.pollMs !== undefined) {
      this.#poller = setInterval(() => this.#trigger(0), this.#options.pollMs);
      this.#poller.unref?.();
      return;
    }
    this.#attach();
  }

  #attach(): void {
    const dirs = [
      this.#context.dir,
      ...[...this.#context.catalog.mappingDirectories().keys()].map((d) =>
        join(this.#context.dir, d),
      ),
    ];
    for (const dir of dirs) {
      if (this.#watchers.has(dir)) continue;
      try {
        const w = watch(dir, { persistent: false }, () =>
          this.#trigger(this.#options.debounceMs ?? 300),
        );
        w.on('error', () => {
          w.close();
          this.#watchers.delete(dir);
        });
        this.#watchers.set(dir, w);
      } catch {
        // the directory does not exist (yet); the watch on the configuration directory sees it appear
      }
    }
  }

  #trigger(delay: number): void {
    if (this.#closed) return;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.reload().catch((error: unknown) => this.#options.onError?.(error));
    }, delay);
    this.#timer.unref?.();
  }

  /** Re-reads the mapping files now (calls are serialized) and reports what changed. */
  async reload(): Promise<MappingReload> {
    if (this.#running) {
      this.#again = true;
      return this.#running;
    }
    this.#running = (async () => {
      let result: MappingReload;
      do {
        this.#again = false;
        result = await reloadMappings(this.#mappings, this.#context);
        this.#mappings = result.mappings;
        const signature = JSON.stringify(result.problems);
        if (!this.#closed && (result.changes.length > 0 || signature !== this.#lastProblems))
          this.#options.onReload(result);
        this.#lastProblems = signature;
      } while (this.#again && !this.#closed);
      if (this.#options.pollMs === undefined && !this.#closed) this.#attach();
      return result;
    })();
    try {
      return await this.#running;
    } finally {
      this.#running = undefined;
    }
  }

  /** Stops watching. */
  close(): void {
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    if (this.#poller) clearInterval(this.#poller);
    for (const w of this.#watchers.values()) w.close();
    this.#watchers.clear();
  }
}
