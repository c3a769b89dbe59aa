import { formatPath, type PathSegment } from '../../binding/bind.js';
import { findNode } from '../../binding/locate.js';
import { canonicalKey } from '../../binding/relaxed.js';
import type { YNode } from '../../binding/yamlTree.js';
import { DEPRECATED_CANAL_CONF_KEYS, LEGACY_TCP_KEYS } from '../canalSchemas.js';
import { str } from './state.js';
import { CONF_PATH, originIn, type ValidationState } from './state.js';

/**
 * canal-adapter 1.1.2's names for the adapter tree (and its stale README's), with today's names.
 * canal-adapter 1.1.3+ binds none of them, so a configuration written with them configures no
 * adapter at all (issue #10 item 7).
 */
export const LEGACY_ADAPTER_KEYS: Readonly<Record<string, string>> = {
  canalInstances: 'canalAdapters',
  mqTopics: 'canalAdapters (each topic is an instance)',
  adapterGroups: 'groups',
  outAdapters: 'outerAdapters',
};

const LEGACY = new Map(
  Object.entries(LEGACY_ADAPTER_KEYS).map(([k, v]) => [canonicalKey(k), [k, v] as const]),
);

/**
 * Pass 3: keys canal-adapter renamed. Deprecated `canal.conf` keys (bound, read by nothing) are
 * warnings; canal-adapter 1.1.2's adapter keys (`canalInstances`, `mqTopics`, `adapterGroups`,
 * `outAdapters`) are errors naming their current names, anywhere under `canal.conf`.
 */
export function checkRenamedKeys(state: ValidationState): void {
  const tcp = str(state.conf['mode'], 'tcp').toLowerCase() === 'tcp';
  for (const key of DEPRECATED_CANAL_CONF_KEYS) {
    const value = state.conf[key];
    const newKey = LEGACY_TCP_KEYS[key];
    if (value !== undefined && value !== null && value !== '' && tcp && newKey) {
      state.problems.add({
        severity: 'warning',
        code: 'deprecated-key',
        ...originIn(state, [...CONF_PATH, key]),
        path: formatPath([...CONF_PATH, key]),
        message: `canal-adapter 1.1.4's tcp setting: Sluice reads it as consumerProperties ${newKey} when that is not set (canal-adapter 1.1.5 and later ignore it)`,
        suggestion: `move it to canal.conf.consumerProperties."${newKey}"`,
      });
    } else if (value !== undefined && value !== null && value !== '') {
      state.problems.add({
        severity: 'warning',
        code: 'deprecated-key',
        ...originIn(state, [...CONF_PATH, key]),
        path: formatPath([...CONF_PATH, key]),
        message: 'deprecated: canal-adapter ignores it',
        suggestion:
          'move it to canal.conf.consumerProperties (e.g. kafka.bootstrap.servers, canal.tcp.server.host)',
      });
    }
  }
  const walk = (node: YNode | undefined, path: readonly PathSegment[]): void => {
    if (node === undefined) return;
    if (node.kind === 'seq') node.items.forEach((item, i) => walk(item, [...path, i]));
    if (node.kind !== 'map') return;
    for (const entry of node.entries) {
      const legacy = LEGACY.get(canonicalKey(entry.key));
      const entryPath = [...path, entry.key];
      if (legacy) {
        state.problems.add({
          severity: 'error',
          code: 'legacy-key',
          file: node.file,
          line: entry.line,
          path: formatPath(entryPath),
          message: `"${entry.key}" is canal-adapter 1.1.2's name; canal-adapter 1.1.3 and later (and Sluice) read ${legacy[1]}, so nothing under it is configured`,
          suggestion: `rename it to ${legacy[1].split(' ')[0]} (canal.conf.canalAdapters[].groups[].outerAdapters[]; see docs/configuration.md)`,
        });
      }
      walk(entry.value, entryPath);
    }
  };
  walk(findNode(state.root, CONF_PATH), CONF_PATH);
}
