// JDBC URLs as canal-adapter configurations write them (`srcDataSources.*.url`, rdb
// `properties.jdbc.url`): parsed once here for the core and for sink plugins, which may not
// import the core.

/** The connection options Sluice can read from a JDBC URL. */
export interface JdbcUrl {
  readonly kind: 'mysql' | 'mariadb' | 'postgresql';
  readonly host: string;
  readonly port: number;
  /** Empty when the URL names no database. */
  readonly database: string;
  /** URL parameters, decoded, in order. */
  readonly params: Readonly<Record<string, string>>;
  /** `user:password@` credentials or the `user`/`password` parameters, when present. */
  readonly user: string | undefined;
  readonly password: string | undefined;
}

/** A successfully parsed URL, or why it could not be parsed. */
export type JdbcUrlResult =
  { readonly ok: true; readonly url: JdbcUrl } | { readonly ok: false; readonly message: string };

const DEFAULT_PORT: Record<JdbcUrl['kind'], number> = {
  mysql: 3306,
  mariadb: 3306,
  postgresql: 5432,
};

/** What {@link parseJdbcUrl} accepts, for error messages. */
export const JDBC_URL_FORMS =
  'jdbc:mysql://host[:port]/database[?k=v&…], jdbc:mariadb://… or jdbc:postgresql://host[:port]/database[?…]';

function decode(text: string): string {
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {
    return text;
  }
}

/**
 * Parses `jdbc:mysql://…`, `jdbc:mariadb://…` and `jdbc:postgresql://…` URLs (including MySQL's
 * `user:password@host`, several hosts — the first is used —, IPv6 `[::1]`, and PostgreSQL's
 * `jdbc:postgresql:database` short form).
 */
export function parseJdbcUrl(input: string): JdbcUrlResult {
  const url = input.trim();
  const m = /^jdbc:([a-z0-9]+)(?::([a-z]+))?:(.*)$/i.exec(url);
  if (!m) return { ok: false, message: `"${url}" is not a JDBC URL` };
  const sub = (m[1] ?? '').toLowerCase();
  if (sub !== 'mysql' && sub !== 'mariadb' && sub !== 'postgresql') {
    return {
      ok: false,
      message: `the JDBC driver "${sub}" is not supported (Sluice reads MySQL, MariaDB and PostgreSQL)`,
    };
  }
  const kind: JdbcUrl['kind'] = sub;
  let rest = m[3] ?? '';
  if (!rest.startsWith('//')) {
    if (kind === 'postgresql' && /^[^/?]+(\?.*)?$/.test(rest)) rest = `//localhost/${rest}`;
    else if (kind === 'postgresql' && rest.startsWith('/')) rest = `//localhost${rest}`;
    else return { ok: false, message: `"${url}" has no "//host" part` };
  }
  rest = rest.slice(2);
  const queryAt = rest.indexOf('?');
  const query = queryAt < 0 ? '' : rest.slice(queryAt + 1);
  const beforeQuery = queryAt < 0 ? rest : rest.slice(0, queryAt);
  const slash = beforeQuery.indexOf('/');
  let authority = slash < 0 ? beforeQuery : beforeQuery.slice(0, slash);
  const database = slash < 0 ? '' : decode(beforeQuery.slice(slash + 1));
  if (database.includes('/'))
    return { ok: false, message: `"${url}" has a database name with "/" in it` };
  let user: string | undefined;
  let password: string | undefined;
  const at = authority.lastIndexOf('@');
  if (at >= 0) {
    const credentials = authority.slice(0, at);
    authority = authority.slice(at + 1);
    const colon = credentials.indexOf(':');
    user = decode(colon < 0 ? credentials : credentials.slice(0, colon));
    if (colon >= 0) password = decode(credentials.slice(colon + 1));
  }
  const firstHost = authority.split(',')[0] ?? '';
  const hp = /^(\[[0-9a-fA-F:.]+\]|[^:[\]]*)(?::(.*))?$/.exec(firstHost);
  if (!hp || (hp[1] ?? '') === '') return { ok: false, message: `"${url}" names no host` };
  const host = (hp[1] ?? '').replace(/^\[(.*)\]$/, '$1');
  let port = DEFAULT_PORT[kind];
  if (hp[2] !== undefined) {
    if (!/^\d{1,5}$/.test(hp[2]) || Number(hp[2]) < 1 || Number(hp[2]) > 65535) {
      return { ok: false, message: `"${hp[2]}" is not a port number (in "${url}")` };
    }
    port = Number(hp[2]);
  }
  const params: Record<string, string> = {};
  for (const part of query.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    params[decode(eq < 0 ? part : part.slice(0, eq))] = eq < 0 ? '' : decode(part.slice(eq + 1));
  }
  user ??= params['user'];
  password ??= params['password'];
  return { ok: true, url: { kind, host, port, database, params, user, password } };
}

/** A URL with its credentials (`user:password@`, `password=…`) replaced by `******`. */
export function redactUrl(url: string): string {
  return url
    .replace(/(\/\/[^/@:?#]*):[^/@?#]*@/g, '$1:******@')
    .replace(/([?&;](?:password|pwd|passwd|secret|token)=)[^&;]*/gi, '$1******');
}
