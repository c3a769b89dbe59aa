import { formatPath, type PathSegment } from '../../binding/bind.js';
import { closestMatches, didYouMean } from '../../binding/relaxed.js';
import { autoAdapterKey } from '../../../mappings/mappingFiles.js';
import { ADAPTER_NAME_HINTS } from '../knownAdapters.js';
import type { AdapterGroupConfig, CanalAdapterConfig, OuterAdapterConfig } from '../types.js';
import { checkPluginProperties } from './pluginProperties.js';
import {
  bag,
  CONF_PATH,
  list,
  originIn,
  str,
  stringRecord,
  type ValidationState,
} from './state.js';

const ADAPTERS_SHAPE =
  'canal.conf.canalAdapters: [{ instance: <topic>, groups: [{ groupId: <group>, outerAdapters: [{ name: logger }] }] }]';

/**
 * Pass 6: `canalAdapters`: every `outerAdapters[]` entry names a known adapter with a loaded
 * plugin, keys are unique, `properties` match the plugin's schema. A configuration that
 * configures no adapter at all is an error (canal-adapter would start and do nothing), and so
 * is a group without `outerAdapters` (it would consume its topic and apply nothing).
 */
export function checkAdapters(state: ValidationState): void {
  const { problems, catalog, options } = state;
  const seenGroups = new Map<string, string>();
  const seenAdapters = new Map<string, string>();
  const at = (path: readonly PathSegment[]) => originIn(state, path);
  let emptyReported = false;

  const checkName = (name: string, outerPath: readonly PathSegment[]): void => {
    const entry = catalog.get(name);
    const path = [...outerPath, 'name'];
    if (entry === undefined) {
      const usable = catalog.usableNames();
      const hint = ADAPTER_NAME_HINTS[name.toLowerCase()];
      const exactCase = catalog.names().find((n) => n.toLowerCase() === name.toLowerCase());
      const choices = hint ?? (exactCase ? [exactCase] : closestMatches(name, usable));
      const suggestion = didYouMean(choices);
      problems.add({
        severity: 'error',
        code: 'unknown-adapter',
        ...at(path),
        path: formatPath(path),
        message: `unknown adapter "${name}"`,
        expected: `one of ${usable.join(', ')}`,
        ...(suggestion ? { suggestion } : {}),
      });
      return;
    }
    if (!entry.registered) {
      problems.add({
        severity: options.requirePlugins ? 'error' : 'warning',
        code: 'plugin-missing',
        ...at(path),
        path: formatPath(path),
        message: entry.sluice
          ? `no plugin providing the "${name}" sink is loaded`
          : `canal-adapter's "${name}" adapter has no Sluice implementation`,
        suggestion: `add a plugin named "${name}" to sluice.plugins`,
      });
    }
  };

  const checkProperties = (
    name: string,
    outerPath: readonly PathSegment[],
    properties: Record<string, string>,
  ): boolean => {
    const schema = catalog.get(name)?.propertiesSchema;
    if (!schema) return false;
    const path = [...outerPath, 'properties'];
    const failed = checkPluginProperties(state, schema, path, properties);
    return failed;
  };

  state.canalAdapters = list(state.conf['canalAdapters']).map(
    (rawAdapter, ai): CanalAdapterConfig => {
      const adapter = bag(rawAdapter);
      const instance = str(adapter['instance']).trim();
      const adapterPath = [...CONF_PATH, 'canalAdapters', ai];
      const rawGroups = list(adapter['groups']);
      if (rawGroups.length === 0 && instance !== '') {
        emptyReported = true;
        problems.add({
          severity: 'error',
          code: 'no-adapters',
          ...at([...adapterPath, 'groups']),
          path: formatPath([...adapterPath, 'groups']),
          message: `instance "${instance}" has no groups, so nothing consumes it`,
          expected: ADAPTERS_SHAPE,
        });
      }
      const groups = rawGroups.map((rawGroup, gi): AdapterGroupConfig => {
        const group = bag(rawGroup);
        const groupId = str(group['groupId'], 'default');
        const groupPath = [...adapterPath, 'groups', gi];
        const groupKey = `${instance}\u0000${groupId}`;
        const previous = seenGroups.get(groupKey);
        if (previous !== undefined) {
          problems.add({
            severity: 'error',
            code: 'duplicate-adapter',
            ...at([...groupPath, 'groupId']),
            path: formatPath([...groupPath, 'groupId']),
            message: `instance "${instance}" has group "${groupId}" twice (also at ${previous}); canal-adapter would never feed the second one`,
            suggestion: 'merge the two outerAdapters lists into one group',
          });
        } else seenGroups.set(groupKey, formatPath(groupPath));
        const rawOuters = list(group['outerAdapters']);
        if (rawOuters.length === 0) {
          emptyReported = true;
          problems.add({
            severity: 'error',
            code: 'no-adapters',
            ...at([...groupPath, 'outerAdapters']),
            path: formatPath([...groupPath, 'outerAdapters']),
            message: `group "${groupId}" of instance "${instance}" has no outerAdapters: it would consume and apply nothing`,
            expected: ADAPTERS_SHAPE,
          });
        }
        const outerAdapters = rawOuters.map((rawOuter, oi): OuterAdapterConfig => {
          const outer = bag(rawOuter);
          const outerPath = [...groupPath, 'outerAdapters', oi];
          const name = str(outer['name']);
          const configuredKey = str(outer['key']);
          const key = configuredKey || autoAdapterKey(instance, groupId, oi);
          const properties = stringRecord(outer['properties']);
          if (name !== '') {
            checkName(name, outerPath);
            const id = `${name}\u0000${key}`;
            const prior = seenAdapters.get(id);
            if (prior !== undefined && configuredKey) {
              problems.add({
                severity: 'warning',
                code: 'duplicate-adapter',
                ...at([...outerPath, 'key']),
                path: formatPath([...outerPath, 'key']),
                message: `"${name}" with key "${key}" is also defined at ${prior}: both entries share one sink instance`,
              });
            } else seenAdapters.set(id, formatPath(outerPath));
            if (checkProperties(name, outerPath, properties)) state.adaptersWithErrors.add(id);
            state.adapters.push({ name, key, instance, groupId });
            state.adapterOrigins.set(id, {
              origin: at([...outerPath, 'name']),
              path: [...outerPath, 'name'],
            });
          }
          return {
            name,
            key,
            keyGenerated: configuredKey === '',
            hosts: str(outer['hosts']) || undefined,
            properties,
          };
        });
        return { groupId, outerAdapters };
      });
      return { instance, groups };
    },
  );

  if (state.adapters.length === 0 && !emptyReported) {
    problems.add({
      severity: 'error',
      code: 'no-adapters',
      ...at([...CONF_PATH, 'canalAdapters']),
      path: formatPath([...CONF_PATH, 'canalAdapters']),
      message:
        state.canalAdapters.length === 0
          ? 'no adapter is configured (canal.conf.canalAdapters is missing or empty), so there is nothing to run'
          : 'no adapter is configured (no outerAdapters entry has a name), so there is nothing to run',
      expected: ADAPTERS_SHAPE,
    });
  }
}
