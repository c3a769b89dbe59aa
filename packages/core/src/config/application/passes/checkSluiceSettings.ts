import { isLoopback, sluiceSettingsOf } from '../sluiceSettings.js';
import { num, originIn, type ValidationState } from './state.js';

/**
 * Pass 7: Sluice's own settings (`sluice:`), with the defaults of the one schema and the
 * defaults that depend on other keys (`deadLetter.type` on the mode). The admin API must not listen beyond loopback without a
 * token.
 */
export function checkSluiceSettings(state: ValidationState): void {
  const sluice = sluiceSettingsOf(
    state.bound['sluice'],
    state.serverPort,
    num(state.conf['syncBatchSize'], 1000),
    state.dir,
    state.mode,
  );
  state.sluice = sluice;
  if (sluice.admin.enabled && sluice.admin.token === undefined && !isLoopback(sluice.admin.host)) {
    state.problems.add({
      severity: 'error',
      code: 'invalid-value',
      ...originIn(state, ['sluice', 'admin', 'host']),
      path: 'sluice.admin.host',
      message: `the admin API would listen on "${sluice.admin.host}" without a token`,
      expected: 'a loopback address, or sluice.admin.token set',
      suggestion: 'set sluice.admin.token (e.g. from ${SLUICE_ADMIN_TOKEN})',
    });
  }
}
