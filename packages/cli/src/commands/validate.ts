import {
  formatReport,
  loadConfiguredPlugins,
  printConfig,
  validateConfigDir,
  type ConfigProblem,
  type PluginRegistry,
  type ValidationResult,
} from '@sluice/core';
import {
  createBuiltinRegistry,
  registerRemainingBuiltins,
  registersAll,
  usedPluginNames,
} from '../builtins.js';
import type { CliIo } from '../io.js';
import { parseCommandArgs } from './parse.js';

export const validateHelp = `Usage: sluice validate [--config DIR] [--print]

Checks a canal-adapter configuration directory exactly as \`sluice start\` does before it runs:
application.yml (canal.conf, srcDataSources, canalAdapters, sluice), the mapping files under
rdb/, es6/, es7/, es8/ and redis/, the plugins the configuration needs and what each of them
checks. Prints every problem with file, line and key path. Unknown keys are warnings
(canal-adapter ignores them).

Options:
  -c, --config DIR  configuration directory holding application.yml (default: config)
      --print       also print the resolved configuration (secrets redacted)
  -h, --help        show this help

Exit codes: 0 valid (warnings allowed), 1 errors, 2 usage error.
`;

/** A plugin that could not be loaded or registered, as a problem of `sluice.plugins`. */
function pluginProblem(error: Error): ConfigProblem {
  return {
    severity: 'error',
    code: 'plugin-missing',
    file: 'application.yml',
    line: 0,
    path: 'sluice.plugins',
    message: error.message,
  };
}

/** A validated configuration and the registry holding the built-in and configured plugins. */
export interface CheckedConfiguration {
  readonly result: ValidationResult;
  readonly registry: PluginRegistry;
}

/**
 * Every check `sluice start` makes before it runs, and nothing else: validates a configuration
 * directory against the built-in plugins it uses (only those are imported) plus those listed
 * under `sluice.plugins` (loaded into the returned registry), with plugin availability required
 * and each configured source and sink created once through its plugin. `sluice validate` prints
 * the result; `sluice start` runs it when it has no error. A plugin that fails to load, or takes
 * the name of a built-in one (used or not), is an error of the result.
 */
export async function checkConfiguration(dir: string): Promise<CheckedConfiguration> {
  // What the configuration uses, read from application.yml alone; only those built-in plugins are
  // imported (all of them when it cannot be read: the final pass then reports why).
  const names = await validateConfigDir(dir, { requirePlugins: false, mappings: false });
  const config = names.config;
  const used = config ? await usedPluginNames(config, dir) : undefined;
  const registry = await createBuiltinRegistry(used);
  const loadProblems: ConfigProblem[] = [];
  if (config !== undefined && config.sluice.plugins.length > 0) {
    try {
      await loadConfiguredPlugins(registry, config);
    } catch (error) {
      loadProblems.push(pluginProblem(error as Error));
    }
  }
  // The built-ins a configured plugin took a name of, or every one when a used name is still
  // unknown (a typo, a plugin not listed: its error then names every built-in).
  if (used !== undefined) {
    const clashes = await registerRemainingBuiltins(registry, !registersAll(registry, used));
    for (const clash of clashes) loadProblems.push(pluginProblem(clash));
  }
  const result = await validateConfigDir(dir, { plugins: registry, requirePlugins: true });
  if (loadProblems.length === 0) return { result, registry };
  return {
    result: { ...result, ok: false, problems: [...loadProblems, ...result.problems] },
    registry,
  };
}

/** `sluice validate`: prints the report; exit 0 with warnings only, 1 on errors. */
export async function validateCommand(args: readonly string[], io: CliIo): Promise<number> {
  const { values } = parseCommandArgs('validate', args, {
    config: { type: 'string', short: 'c', default: 'config' },
    print: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  });
  if (values.help) {
    io.stdout(validateHelp);
    return 0;
  }
  const { result } = await checkConfiguration(values.config);
  if (result.problems.length > 0) io.stdout(formatReport(result.problems));
  if (result.ok) {
    const mappings = result.config?.mappings.length ?? 0;
    io.stdout(`${values.config}: valid (${mappings} mapping file${mappings === 1 ? '' : 's'}).\n`);
  } else {
    io.stdout(`${values.config}: invalid.\n`);
  }
  if (values.print && result.config) io.stdout(printConfig(result.config, result.secrets));
  return result.ok ? 0 : 1;
}
