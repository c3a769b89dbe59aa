import { closestMatches, didYouMean } from '../../binding/relaxed.js';
import { findNode } from '../../binding/locate.js';
import { environmentName } from '../../binding/placeholders.js';
import { CANAL_MODES, FIRST_PARTY_SOURCE_MODES, SLUICE_MODES } from '../canalSchemas.js';
import { checkPluginProperties } from './pluginProperties.js';
import { CONF_PATH, originIn, str, stringRecord, type ValidationState } from './state.js';

/** What to do instead of a canal mode Sluice has no source for (issue #10 item 11). */
export const KAFKA_INSTEAD =
  'run canal-server in Kafka mode (canal.serverMode = kafka and kafka.bootstrap.servers in canal.properties, canal.mq.flatMessage = true) and set canal.conf.mode: kafka with kafka.bootstrap.servers under canal.conf.consumerProperties';

/**
 * Pass 4: `canal.conf.mode` names a source. A mode no loaded plugin provides says what Sluice
 * supports today and what to use instead; canal's default `tcp` (also when `mode` is not set) is
 * not one of them. For a provided mode, `consumerProperties` are checked against the source's
 * schema with file and line.
 */
export function checkMode(state: ValidationState): void {
  const { env, problems, options } = state;
  const modeRaw = str(state.conf['mode'], 'tcp');
  const mode = modeRaw.toLowerCase();
  state.mode = mode;
  state.modeConfigured =
    findNode(state.root, [...CONF_PATH, 'mode']) !== undefined ||
    env[environmentName('canal.conf.mode')] !== undefined;
  const sources = [...(options.plugins?.sourceNames?.() ?? [])];
  state.modeUsable = sources.includes(mode);
  const origin =
    env['CANAL_CONF_MODE'] !== undefined
      ? { file: 'environment variable CANAL_CONF_MODE', line: 0 }
      : originIn(state, [...CONF_PATH, 'mode']);
  const supported = (sources.length > 0 ? sources : FIRST_PARTY_SOURCE_MODES).join(', ');
  const severity = options.requirePlugins ? 'error' : 'warning';
  if (!state.modeUsable) {
    if ((FIRST_PARTY_SOURCE_MODES as readonly string[]).includes(mode)) {
      problems.add({
        severity,
        code: 'plugin-missing',
        ...origin,
        path: 'canal.conf.mode',
        message: `no source plugin for mode "${modeRaw}" is loaded`,
        suggestion: `add @sluice/source-${mode} to sluice.plugins`,
      });
    } else if ((CANAL_MODES as readonly string[]).includes(mode)) {
      problems.add({
        severity,
        code: 'unsupported-mode',
        ...origin,
        path: 'canal.conf.mode',
        message: state.modeConfigured
          ? `mode "${modeRaw}" is not supported by this version of Sluice, which reads canal messages with mode ${supported}`
          : `canal.conf.mode is not set, so canal's default "tcp" applies, which this version of Sluice does not support (it reads canal messages with mode ${supported})`,
        suggestion: KAFKA_INSTEAD,
      });
    } else {
      const hint = didYouMean(
        closestMatches(modeRaw, [...new Set([...sources, ...CANAL_MODES, ...SLUICE_MODES])]),
      );
      problems.add({
        severity: 'error',
        code: 'unknown-mode',
        ...origin,
        path: 'canal.conf.mode',
        message: `unknown mode "${modeRaw}"`,
        expected: `a mode Sluice supports today: ${supported}`,
        ...(hint ? { suggestion: hint } : {}),
      });
    }
    return;
  }
  const schema = options.plugins?.source?.(mode)?.propertiesSchema;
  if (schema) {
    state.sourcePropertiesInvalid = checkPluginProperties(
      state,
      schema,
      [...CONF_PATH, 'consumerProperties'],
      stringRecord(state.conf['consumerProperties']),
      'near-misses',
    );
  }
}
