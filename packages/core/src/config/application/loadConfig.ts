import { ErrorCodes, SluiceError } from '@sluice/plugin-api';
import { formatReport, type ConfigProblem } from '../binding/problems.js';
import type { ResolvedConfig } from './types.js';
import { validateConfigDir, type ValidateOptions } from './validateConfig.js';

/** A configuration directory has errors; `problems` holds all of them (and the warnings). */
export class ConfigError extends SluiceError {
  readonly problems: readonly ConfigProblem[];
  constructor(dir: string, problems: readonly ConfigProblem[]) {
    const errors = problems.filter((p) => p.severity === 'error').length;
    super(
      ErrorCodes.config,
      `The configuration in "${dir}" has ${errors} error${errors === 1 ? '' : 's'}:\n${formatReport(problems).trimEnd()}`,
    );
    this.problems = problems;
  }
}

/**
 * Reads a canal-adapter configuration directory (`application.yml` and the mapping files) into a
 * {@link ResolvedConfig}. Warnings are ignored here; use {@link validateConfigDir} to see them.
 *
 * @throws ConfigError (`SLUICE_ERR_CONFIG_INVALID`) listing every problem when there is an error.
 */
export async function loadConfig(
  dir: string,
  options: ValidateOptions = {},
): Promise<ResolvedConfig> {
  const result = await validateConfigDir(dir, options);
  if (!result.ok || result.config === undefined) throw new ConfigError(dir, result.problems);
  return result.config;
}
