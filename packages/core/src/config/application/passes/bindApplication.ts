import { bindNode, formatPath } from '../../binding/bind.js';
import {
  environmentName,
  resolveSpringPlaceholders,
  springLookup,
} from '../../binding/placeholders.js';
import { syntheticScalar } from '../../binding/yamlTree.js';
import { applicationSchema } from '../canalSchemas.js';
import { bag, num, type ValidationState } from './state.js';

/**
 * Pass 2: binds `application.yml` to canal's schema with Spring's rules: relaxed keys,
 * `${VAR:default}` placeholders, environment overrides (`CANAL_CONF_MODE`), empty = default,
 * and paths resolved against the configuration directory. Reports unknown keys, bad values and
 * unresolvable placeholders.
 */
export function bindApplication(state: ValidationState): void {
  const { env, problems } = state;
  const lookup = springLookup(env, state.root);
  state.lookup = lookup;
  state.bound = bag(
    bindNode(
      applicationSchema,
      state.root,
      [],
      {
        problems,
        secrets: state.secrets,
        configDir: state.dir,
        resolveText: (text, node, path) => {
          const r = resolveSpringPlaceholders(text, lookup);
          for (const name of r.missing) {
            problems.add({
              severity: 'error',
              code: 'placeholder-unresolved',
              file: node.file,
              line: node.line,
              path: formatPath(path),
              message: `the placeholder \${${name}} has no value and no default`,
              suggestion: `set the environment variable ${/^[A-Z0-9_]+$/.test(name) ? name : environmentName(name)} or write \${${name}:default}`,
            });
          }
          // An unresolved value counts as empty (its default applies), so it is reported once.
          return r.missing.length > 0 ? '' : r.text;
        },
        hasOverridesUnder: (path) => {
          const prefix = `${environmentName(path.join('.'))}_`;
          return Object.keys(env).some((name) => name.startsWith(prefix));
        },
        override: (path) => {
          const name = environmentName(path.join('.'));
          const value = env[name];
          return value === undefined
            ? undefined
            : syntheticScalar(value, { file: `environment variable ${name}`, line: 0 });
        },
      },
      [],
    ),
  );
  state.conf = bag(bag(state.bound['canal'])['conf']);
  state.serverPort = num(bag(state.bound['server'])['port'], 8081);
}
