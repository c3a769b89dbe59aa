import { formatPath } from '../../binding/bind.js';
import { JDBC_URL_FORMS, parseJdbcUrl } from '@sluice/plugin-api';
import { bag, CONF_PATH, num, originIn, str, type ValidationState } from './state.js';

/**
 * Pass 5: `srcDataSources`: parses each JDBC URL into host, port, database and parameters
 * (canal-adapter-behaviour.md §1.4). A bad URL is an error; its key still counts as declared
 * (mapping files naming it are not reported twice).
 */
export function parseDataSources(state: ValidationState): void {
  for (const [key, rawDs] of Object.entries(bag(state.conf['srcDataSources']))) {
    const ds = bag(rawDs);
    const url = str(ds['url']);
    if (url === '') continue; // reported as required
    const parsed = parseJdbcUrl(url);
    const urlPath = [...CONF_PATH, 'srcDataSources', key, 'url'];
    if (!parsed.ok) {
      state.problems.add({
        severity: 'error',
        code: 'jdbc-url',
        ...originIn(state, urlPath),
        path: formatPath(urlPath),
        message: parsed.message,
        expected: JDBC_URL_FORMS,
      });
      continue;
    }
    const u = parsed.url;
    const password = str(ds['password'], u.password ?? '');
    if (password) state.secrets.add(password);
    state.srcDataSources[key] = {
      key,
      kind: u.kind,
      host: u.host,
      port: u.port,
      database: u.database,
      user: str(ds['username'], u.user ?? ''),
      password,
      params: u.params,
      maxActive: num(ds['maxActive'], 3),
    };
  }
}
