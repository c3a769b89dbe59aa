import type { DataSources } from '@sluice/plugin-api';
import type { ResolvedConfig } from './types.js';

/** The `srcDataSources` of a configuration as the {@link DataSources} service plugins ask for. */
export function dataSourcesOf(config: ResolvedConfig): DataSources {
  const all = config.canal.srcDataSources;
  return {
    get: (key) => all[key],
    keys: () => Object.keys(all),
  };
}
