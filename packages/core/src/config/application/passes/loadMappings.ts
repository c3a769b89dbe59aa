import { loadMappingFiles, type MappingContext } from '../../../mappings/mappingFiles.js';
import type { PropertyLookup } from '../../binding/placeholders.js';
import { bag, type ValidationState } from './state.js';

/**
 * Pass 8: every mapping file under the adapters' directories (`rdb/`, `es7/`, …, from the
 * sinks' `MappingSpec`s): validated against the sink's schema and checks, tables and owners
 * worked out (canal-adapter-behaviour.md §3). A file no configured adapter owns is reported as
 * warnings only: canal-adapter ignores it too.
 */
export async function loadMappings(state: ValidationState): Promise<void> {
  const lookup: PropertyLookup = (name) => state.env[name] ?? state.lookup(name);
  const context: MappingContext = {
    dir: state.dir,
    catalog: state.catalog,
    adapters: state.adapters,
    dataSources: state.srcDataSources,
    declaredDataSourceKeys: Object.keys(bag(state.conf['srcDataSources'])),
    lookup,
    mappingKeyScheme: mappingKeySchemeOf(state),
    secrets: state.secrets,
  };
  for (const r of await loadMappingFiles(context)) {
    for (const p of r.problems) state.problems.add(p);
    if (r.mapping) state.mappings.push(r.mapping);
  }
}

/** canal's mapping-key rule (§3.4): `tcp` only when the mode is explicitly tcp. */
export function mappingKeySchemeOf(
  state: Pick<ValidationState, 'mode' | 'modeConfigured'>,
): 'tcp' | 'mq' {
  return state.modeConfigured && state.mode === 'tcp' ? 'tcp' : 'mq';
}
