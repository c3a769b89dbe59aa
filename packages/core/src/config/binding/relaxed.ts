/**
 * Spring Boot's relaxed binding as canal-adapter sees it: bean property names match ignoring case,
 * `-` and `_` (`syncBatchSize`, `sync-batch-size`, `SYNC_BATCH_SIZE` are one key).
 */
export function canonicalKey(key: string): string {
  return key.replace(/[-_]/g, '').toLowerCase();
}

/** True when two keys are the same under relaxed binding. */
export function sameKey(a: string, b: string): boolean {
  return canonicalKey(a) === canonicalKey(b);
}

/** Edit distance counting an adjacent transposition as one edit (`kafak` → `kafka` is 1). */
export function editDistance(a: string, b: string): number {
  if (a === b) return 0;
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  const at = (i: number, j: number) => d[i]?.[j] ?? 0;
  for (let i = 1; i <= a.length; i++) {
    const row = d[i] as number[];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        best = Math.min(best, at(i - 2, j - 2) + 1);
      row[j] = best;
    }
  }
  return at(a.length, b.length);
}

/**
 * The candidates closest to `word` (compared in canonical form), best first; empty when nothing is
 * close enough to be a plausible typo. A candidate that starts with `word` (or the other way
 * round) always counts as close.
 */
export function closestMatches(word: string, candidates: Iterable<string>, max = 2): string[] {
  const w = canonicalKey(word);
  if (w === '') return [];
  const scored: Array<{ c: string; d: number }> = [];
  const seen = new Set<string>();
  for (const c of candidates) {
    if (seen.has(c)) continue;
    seen.add(c);
    const cc = canonicalKey(c);
    const d = editDistance(w, cc);
    const limit = Math.max(1, Math.floor(Math.max(w.length, cc.length) / 3));
    const prefix =
      cc.length > 0 && (cc.startsWith(w) || w.startsWith(cc)) && Math.min(w.length, cc.length) >= 2;
    if (d <= limit || prefix) scored.push({ c, d: prefix ? Math.min(d, limit) : d });
  }
  scored.sort((a, b) => a.d - b.d || a.c.localeCompare(b.c));
  const best = scored[0]?.d;
  return scored
    .filter((s) => s.d === best)
    .slice(0, max)
    .map((s) => s.c);
}

/** `did you mean a or b?`, or undefined when there is nothing to suggest. */
export function didYouMean(options: readonly string[]): string | undefined {
  if (options.length === 0) return undefined;
  const quoted = options.map((o) => `"${o}"`);
  const text =
    quoted.length === 1
      ? quoted[0]
      : `${quoted.slice(0, -1).join(', ')} or ${quoted[quoted.length - 1]}`;
  return `did you mean ${text}?`;
}
