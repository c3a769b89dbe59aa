import type { ObjectSchema } from '@sluice/plugin-api';
import { bindNode, flattenEntries, type PathSegment } from '../../binding/bind.js';
import { findNode } from '../../binding/locate.js';
import { ProblemCollector } from '../../binding/problems.js';
import type { YMap } from '../../binding/yamlTree.js';
import { originIn, type ValidationState } from './state.js';

/**
 * Binds a flat, verbatim-keyed property map of application.yml (`outerAdapters[].properties`,
 * `consumerProperties`) to a plugin's schema, reporting problems with file and line: exact keys,
 * values already resolved (placeholders), `path` values checked against the configuration
 * directory. With `unknownKeys: 'near-misses'` an unknown key is reported only when it is close
 * to a key of the schema (`file.pth` → `file.path`): `consumerProperties` holds every mode's keys
 * (canal's shipped file has tcp, kafka, rocketMQ and rabbitMQ keys side by side).
 *
 * @returns true when an error was found.
 */
export function checkPluginProperties(
  state: ValidationState,
  schema: ObjectSchema,
  path: readonly PathSegment[],
  values: Readonly<Record<string, string>>,
  unknownKeys: 'all' | 'near-misses' = 'all',
): boolean {
  const node = findNode(state.root, path);
  if (
    node !== undefined &&
    node.kind !== 'map' &&
    !(node.kind === 'scalar' && (node.text ?? '') === '')
  )
    return true; // a type error, already reported by bindApplication
  const origin = node ?? originIn(state, path);
  const flat: YMap =
    node?.kind === 'map'
      ? { kind: 'map', file: node.file, line: node.line, entries: flattenEntries(node) }
      : { kind: 'map', file: origin.file, line: origin.line, entries: [] };
  // Values are already resolved (placeholders, environment); bind the resolved text.
  const resolved: YMap = {
    ...flat,
    entries: flat.entries.map((e) => ({
      ...e,
      value:
        e.value.kind === 'scalar' ? { ...e.value, text: values[e.key] ?? e.value.text } : e.value,
    })),
  };
  const found = new ProblemCollector();
  bindNode(schema, resolved, path, {
    problems: found,
    secrets: state.secrets,
    exactKeys: true,
    configDir: state.dir,
    resolveText: (t) => t,
  });
  for (const p of found.problems) {
    if (unknownKeys === 'near-misses' && p.code === 'unknown-key' && p.suggestion === undefined)
      continue;
    state.problems.add(p);
  }
  return found.hasErrors;
}
