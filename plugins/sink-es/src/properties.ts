import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { FatalError, type Infer } from '@sluice/plugin-api';

/**
 * `outerAdapters[].properties` of canal's es adapters (canal-adapter-behaviour.md §1.5, §5.8):
 * es6/es7 read `mode` and `cluster.name` (transport client), all read `security.auth`, es8 reads
 * `security.ca.path`. The addresses are the entry's `hosts`. Sluice always talks REST; `apiKey`,
 * `requestTimeoutMs` and `refresh` are Sluice additions.
 */
export const esPropertiesSchema = {
  type: 'object',
  properties: {
    'security.auth': {
      type: 'string',
      secret: true,
      description: 'user:password for HTTP basic authentication.',
    },
    apiKey: {
      type: 'string',
      secret: true,
      description:
        'Elasticsearch API key (the base64 "id:key" credential); instead of security.auth.',
    },
    'security.ca.path': {
      type: 'string',
      path: 'existing',
      description: 'PEM CA file for TLS (es8), relative to the configuration directory.',
    },
    mode: {
      type: 'string',
      enum: ['transport', 'rest', 'http'],
      caseInsensitive: true,
      description: 'es6/es7 client: Sluice always uses REST; transport is canal-only.',
    },
    'cluster.name': {
      type: 'string',
      description: 'Cluster name (es6/es7 transport mode); accepted and ignored.',
    },
    requestTimeoutMs: {
      type: 'integer',
      minimum: 1,
      default: 30_000,
      description: 'Timeout of one Elasticsearch request, ms.',
    },
    server: {
      type: 'string',
      enum: ['auto', 'elasticsearch', 'opensearch'],
      caseInsensitive: true,
      default: 'auto',
      description:
        'Client library: auto asks the server once at connect (x-elastic-product: Elasticsearch → @elastic/elasticsearch 8, otherwise @opensearch-project/opensearch).',
    },
    refresh: {
      type: 'boolean',
      default: false,
      description:
        'Refresh the written indices at every flush (before offsets are committed), so what was committed is searchable. Costs a refresh per commit.',
    },
  },
} as const;

/** Validated properties. */
export type EsSinkProperties = Infer<typeof esPropertiesSchema>;

/**
 * The node URLs of `hosts`: comma-separated `host:port` or `http(s)://host:port`, `http://`
 * added when there is no scheme (canal's REST mode accepts both forms).
 *
 * @throws FatalError when `hosts` is missing or empty.
 */
export function nodeUrls(hosts: string | undefined, where: string): string[] {
  const list = (hosts ?? '')
    .split(',')
    .map((h) => h.trim())
    .filter((h) => h !== '');
  if (list.length === 0)
    throw new FatalError(`${where}: "hosts" is required (e.g. http://127.0.0.1:9200).`);
  const urls = list.map((h) => (/^[a-z][a-z0-9+.-]*:\/\//i.test(h) ? h : `http://${h}`));
  // A host written twice (with and without scheme) is one node (the OpenSearch client refuses duplicates).
  return [...new Set(urls.map((u) => u.replace(/\/+$/, '')))];
}

/** What a client needs to reach the server, resolved from `hosts` and the properties. */
export interface EsConnection {
  /** `outerAdapters "<key>"`, for messages. */
  readonly where: string;
  readonly nodes: readonly string[];
  readonly requestTimeoutMs: number;
  readonly auth: { readonly username: string; readonly password: string } | undefined;
  readonly apiKey: string | undefined;
  /** PEM text of `security.ca.path`. */
  readonly ca: string | undefined;
  /** Which client library: `auto` probes the server (see `openSearchApi`). */
  readonly server: 'auto' | 'elasticsearch' | 'opensearch';
}

/**
 * The connection settings of an instance. Reads the CA file (call it from `connect`, not
 * `create`). Retries are left to the core.
 *
 * @throws FatalError for `security.auth` without a colon, both `security.auth` and `apiKey`, or an
 *   unreadable CA file.
 */
export function connection(
  hosts: string | undefined,
  props: EsSinkProperties,
  configDir: string,
  where: string,
): EsConnection {
  const auth = props['security.auth'];
  if (auth !== undefined && props.apiKey !== undefined)
    throw new FatalError(`${where}: set either security.auth or apiKey, not both.`);
  let basic: EsConnection['auth'];
  if (auth !== undefined) {
    const colon = auth.indexOf(':');
    if (colon < 0)
      throw new FatalError(`${where}: security.auth must be user:password (no colon found).`);
    basic = { username: auth.slice(0, colon), password: auth.slice(colon + 1) };
  }
  let ca: string | undefined;
  const caPath = props['security.ca.path'];
  if (caPath !== undefined) {
    const file = isAbsolute(caPath) ? caPath : resolve(configDir, caPath);
    try {
      ca = readFileSync(file, 'utf8');
    } catch (e) {
      throw new FatalError(
        `${where}: cannot read security.ca.path ${file}: ${(e as Error).message}`,
      );
    }
  }
  return {
    where,
    nodes: nodeUrls(hosts, where),
    requestTimeoutMs: props.requestTimeoutMs,
    auth: basic,
    apiKey: props.apiKey,
    ca,
    server: props.server.toLowerCase() as EsConnection['server'],
  };
}
