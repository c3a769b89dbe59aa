import type { PathSegment } from './bind.js';
import { canonicalKey } from './relaxed.js';
import type { Origin, YNode } from './yamlTree.js';

/**
 * The node at a bound key path (relaxed keys, dotted YAML keys such as `canal.conf:` expanded);
 * the last one wins when a key is repeated. Undefined when the path is not in the file.
 */
export function findNode(root: YNode | undefined, path: readonly PathSegment[]): YNode | undefined {
  if (root === undefined || path.length === 0) return root;
  const [head, ...rest] = path;
  if (typeof head === 'number')
    return root.kind === 'seq' ? findNode(root.items[head], rest) : undefined;
  if (root.kind !== 'map') return undefined;
  let found: YNode | undefined;
  for (const entry of root.entries) {
    if (entry.key === head || canonicalKey(entry.key) === canonicalKey(head ?? '')) {
      found = findNode(entry.value, rest) ?? found;
      continue;
    }
    const parts = entry.key.split('.');
    if (parts.length < 2) continue;
    // `canal.conf:` holds `canal` → `conf` → …
    let i = 0;
    while (
      i < parts.length &&
      i < path.length &&
      typeof path[i] === 'string' &&
      canonicalKey(parts[i] ?? '') === canonicalKey(String(path[i]))
    )
      i++;
    if (i === parts.length) found = findNode(entry.value, path.slice(i)) ?? found;
  }
  return found;
}

/** The origin of the node at `path`, else of its nearest ancestor that is in the file. */
export function originOf(
  root: YNode | undefined,
  path: readonly PathSegment[],
  file: string,
): Origin {
  for (let n = path.length; n >= 0; n--) {
    const node = findNode(root, path.slice(0, n));
    if (node) return { file: node.file, line: node.line };
  }
  return { file, line: 0 };
}
