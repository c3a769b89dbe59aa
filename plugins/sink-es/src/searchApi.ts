import { Client as ElasticClient, errors as elasticErrors } from '@elastic/elasticsearch';
import {
  Client as OpenSearchClient,
  errors as openSearchErrors,
  type ClientOptions as OpenSearchOptions,
} from '@opensearch-project/opensearch';
import { FatalError } from '@sluice/plugin-api';
import type { EsConnection } from './properties.js';

/** One item of a `_bulk` answer. */
export interface BulkItem {
  readonly status: number;
  readonly error?: { readonly type?: string; readonly reason?: string | null };
}

/**
 * The parts of a `_bulk` answer the sink reads: each item's status and error. Elasticsearch
 * leaves out `_index`, `_id`, `_version`, `_shards`, `_seq_no`… of every item, which made
 * parsing the answer a tenth of the sink's CPU time (es-sink benchmark profile).
 */
const BULK_FILTER = 'errors,items.*.status,items.*.error';

/**
 * The NDJSON body of a `_bulk`/`_msearch` as UTF-8 bytes: strings as they are, objects
 * JSON-encoded, each line ended by `\n`, encoded straight into one buffer. The clients' own
 * serializer concatenated line by line, and both the rope's byte length (for `content-length`)
 * and the socket write then walked it again — a fifth of the sink's CPU time in the es-sink
 * benchmark profile.
 */
export function ndjsonBody(lines: readonly (string | object)[]): Buffer {
  const text = lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l)));
  let units = 0;
  for (const t of text) units += t.length + 1;
  // A UTF-16 code unit takes at most 3 UTF-8 bytes (a surrogate pair, two units, takes 4).
  const out = Buffer.allocUnsafe(units * 3);
  let at = 0;
  for (const t of text) {
    at += out.write(t, at, 'utf8');
    out[at++] = 0x0a;
  }
  return out.subarray(0, at);
}

/** One hit of a search. */
export interface SearchHit {
  readonly _id?: string;
  readonly _source?: Record<string, unknown>;
}

/** One answer of an `_msearch`: the hits, or the error of that search. */
export type MsearchAnswer =
  | { readonly hits: { readonly hits: readonly SearchHit[] } }
  | {
      readonly error: { readonly type: string; readonly reason?: string | null };
      readonly status?: number;
    };

/** One top-level field of an index mapping (`GET <index>/_mapping`), as the server returns it. */
export interface FieldMapping {
  readonly type?: string;
  readonly format?: string;
  readonly properties?: Record<string, unknown>;
  readonly [key: string]: unknown;
}

/** The answer of `GET <index>/_mapping`: concrete index → its mappings. */
type MappingAnswer = Record<string, { mappings?: { properties?: Record<string, FieldMapping> } }>;

/** The top-level properties of the first concrete index of an answer (an alias may name several). */
function firstProperties(r: MappingAnswer): Record<string, FieldMapping> {
  const first = Object.keys(r).sort()[0];
  return (first === undefined ? undefined : r[first]?.mappings?.properties) ?? {};
}

/** Which server product answers (decides the client library). */
export type SearchProduct = 'Elasticsearch' | 'OpenSearch';

/** A failed request, classified for the sink's error contract. */
export class SearchApiError extends Error {
  override readonly name = 'SearchApiError';
  constructor(
    message: string,
    /** `connection`: not reached / timed out; `response`: the server answered `status`. */
    readonly kind: 'connection' | 'response' | 'other',
    readonly status: number | undefined,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * The few REST calls the Elasticsearch sink makes, over the client library that fits the server:
 * `@elastic/elasticsearch` 8 for Elasticsearch, `@opensearch-project/opensearch` for OpenSearch
 * (the Elastic client refuses servers without the `x-elastic-product` header). Every method
 * rejects with {@link SearchApiError}. Safe to call concurrently.
 */
export interface SearchApi {
  readonly product: SearchProduct;
  /** `GET _cluster/health`. */
  health(signal: AbortSignal): Promise<void>;
  /** `POST _bulk` with NDJSON `lines` (strings are sent as they are): the items, in order. */
  bulk(
    lines: readonly (string | object)[],
    signal: AbortSignal,
  ): Promise<Record<string, BulkItem>[]>;
  /** `POST _msearch` with header/body pairs in `lines`. */
  msearch(lines: readonly object[], signal: AbortSignal): Promise<MsearchAnswer[]>;
  /** `POST <indices>/_refresh` (unavailable indices ignored). */
  refresh(indices: readonly string[], signal: AbortSignal): Promise<void>;
  /** `GET <index>/_count` (0 when the index does not exist). */
  count(index: string, signal: AbortSignal): Promise<number>;
  /**
   * `GET <index>/_mapping`: the top-level `properties` of the index (of the alphabetically first
   * concrete index of an alias); undefined when the index does not exist.
   */
  mapping(index: string, signal: AbortSignal): Promise<Record<string, FieldMapping> | undefined>;
  close(): Promise<void>;
}

const elasticKind = (e: unknown): SearchApiError['kind'] =>
  e instanceof elasticErrors.ConnectionError ||
  e instanceof elasticErrors.TimeoutError ||
  e instanceof elasticErrors.NoLivingConnectionsError
    ? 'connection'
    : e instanceof elasticErrors.ResponseError
      ? 'response'
      : 'other';

const openSearchKind = (e: unknown): SearchApiError['kind'] =>
  e instanceof openSearchErrors.ConnectionError ||
  e instanceof openSearchErrors.TimeoutError ||
  e instanceof openSearchErrors.NoLivingConnectionsError
    ? 'connection'
    : e instanceof openSearchErrors.ResponseError
      ? 'response'
      : 'other';

function wrap(e: unknown, kind: SearchApiError['kind']): SearchApiError {
  if (e instanceof SearchApiError) return e;
  const status = (e as { statusCode?: number; meta?: { statusCode?: number } }).statusCode;
  return new SearchApiError((e as Error).message, kind, kind === 'response' ? status : undefined, {
    cause: e,
  });
}

/** {@link SearchApi} over `@elastic/elasticsearch` 8. */
class ElasticApi implements SearchApi {
  readonly product = 'Elasticsearch';
  constructor(private readonly client: ElasticClient) {}

  async #do<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      throw wrap(e, elasticKind(e));
    }
  }
  health(signal: AbortSignal) {
    return this.#do(async () => {
      await this.client.cluster.health({}, { signal });
    });
  }
  bulk(lines: readonly (string | object)[], signal: AbortSignal) {
    return this.#do(async () => {
      const r = await this.client.transport.request<{ items: Record<string, BulkItem>[] }>(
        {
          method: 'POST',
          path: '/_bulk',
          querystring: { filter_path: BULK_FILTER },
          bulkBody: ndjsonBody(lines),
        },
        { signal },
      );
      return r.items;
    });
  }
  msearch(lines: readonly object[], signal: AbortSignal) {
    return this.#do(async () => {
      const r = await this.client.msearch({ searches: [...lines] }, { signal });
      return r.responses as unknown as MsearchAnswer[];
    });
  }
  refresh(indices: readonly string[], signal: AbortSignal) {
    return this.#do(async () => {
      await this.client.indices.refresh(
        { index: [...indices], ignore_unavailable: true },
        { signal },
      );
    });
  }
  count(index: string, signal: AbortSignal) {
    return this.#do(async () => {
      const r = await this.client.count({ index, ignore_unavailable: true }, { signal });
      return r.count;
    });
  }
  mapping(index: string, signal: AbortSignal) {
    return this.#do(async () => {
      try {
        const r = await this.client.indices.getMapping({ index }, { signal });
        return firstProperties(r as unknown as MappingAnswer);
      } catch (e) {
        if (e instanceof elasticErrors.ResponseError && e.statusCode === 404) return undefined;
        throw e;
      }
    });
  }
  async close() {
    await this.client.close().catch(() => undefined);
  }
}

/** {@link SearchApi} over `@opensearch-project/opensearch` (raw transport requests). */
class OpenSearchApi implements SearchApi {
  readonly product = 'OpenSearch';
  constructor(private readonly client: OpenSearchClient) {}

  async #request<T>(
    params: {
      method: string;
      path: string;
      bulkBody?: readonly (string | object)[];
      querystring?: Record<string, unknown>;
    },
    signal: AbortSignal,
  ): Promise<T> {
    const { bulkBody, ...rest } = params;
    const p = this.client.transport.request(
      bulkBody ? { ...rest, bulkBody: ndjsonBody(bulkBody) } : rest,
    );
    const abort = () => p.abort();
    signal.addEventListener('abort', abort, { once: true });
    try {
      const r = await p;
      return r.body as T;
    } catch (e) {
      throw wrap(e, openSearchKind(e));
    } finally {
      signal.removeEventListener('abort', abort);
    }
  }
  async health(signal: AbortSignal) {
    await this.#request({ method: 'GET', path: '/_cluster/health' }, signal);
  }
  async bulk(lines: readonly (string | object)[], signal: AbortSignal) {
    const r = await this.#request<{ items: Record<string, BulkItem>[] }>(
      {
        method: 'POST',
        path: '/_bulk',
        bulkBody: lines,
        querystring: { filter_path: BULK_FILTER },
      },
      signal,
    );
    return r.items;
  }
  async msearch(lines: readonly object[], signal: AbortSignal) {
    const r = await this.#request<{ responses: MsearchAnswer[] }>(
      { method: 'POST', path: '/_msearch', bulkBody: lines },
      signal,
    );
    return r.responses;
  }
  async refresh(indices: readonly string[], signal: AbortSignal) {
    await this.#request(
      {
        method: 'POST',
        path: `/${indices.map(encodeURIComponent).join(',')}/_refresh`,
        querystring: { ignore_unavailable: true },
      },
      signal,
    );
  }
  async count(index: string, signal: AbortSignal) {
    const r = await this.#request<{ count: number }>(
      {
        method: 'GET',
        path: `/${encodeURIComponent(index)}/_count`,
        querystring: { ignore_unavailable: true },
      },
      signal,
    );
    return r.count;
  }
  async mapping(index: string, signal: AbortSignal) {
    try {
      const r = await this.#request<MappingAnswer>(
        { method: 'GET', path: `/${encodeURIComponent(index)}/_mapping` },
        signal,
      );
      return firstProperties(r);
    } catch (e) {
      if (e instanceof SearchApiError && e.status === 404) return undefined;
      throw e;
    }
  }
  async close() {
    await this.client.close().catch(() => undefined);
  }
}

/**
 * Connects to the server and picks the client library for it. `server: auto` (the default)
 * asks `GET _cluster/health` with the OpenSearch client, which has no product check: an answer
 * with the `x-elastic-product: Elasticsearch` header (every Elasticsearch ≥ 7.14 sends it) picks
 * `@elastic/elasticsearch`, any other answer `@opensearch-project/opensearch`. `server:
 * elasticsearch|opensearch` skips the probe.
 *
 * @throws SearchApiError when the probe fails; FatalError for an API key with OpenSearch.
 */
export async function openSearchApi(conn: EsConnection, signal: AbortSignal): Promise<SearchApi> {
  let os: OpenSearchClient;
  try {
    os = new OpenSearchClient(openSearchOptions(conn));
  } catch (e) {
    throw new FatalError(`${conn.where}: bad client settings: ${(e as Error).message}`, {
      cause: e,
    });
  }
  let product: SearchProduct;
  if (conn.server === 'opensearch') product = 'OpenSearch';
  else if (conn.server === 'elasticsearch') product = 'Elasticsearch';
  else {
    const p = os.transport.request({ method: 'GET', path: '/_cluster/health' });
    const abort = () => p.abort();
    signal.addEventListener('abort', abort, { once: true });
    try {
      const r = await p;
      product =
        r.headers?.['x-elastic-product'] === 'Elasticsearch' ? 'Elasticsearch' : 'OpenSearch';
    } catch (e) {
      await os.close().catch(() => undefined);
      throw wrap(e, openSearchKind(e));
    } finally {
      signal.removeEventListener('abort', abort);
    }
  }
  if (product === 'OpenSearch') {
    if (conn.apiKey !== undefined)
      throw new FatalError(
        `${conn.where}: apiKey is an Elasticsearch feature; OpenSearch answers at ${conn.nodes.join(', ')} (use security.auth)`,
      );
    return new OpenSearchApi(os);
  }
  await os.close().catch(() => undefined);
  return new ElasticApi(
    new ElasticClient({
      nodes: [...conn.nodes],
      maxRetries: 0,
      requestTimeout: conn.requestTimeoutMs,
      name: `sluice:${conn.where}`,
      ...(conn.auth ? { auth: conn.auth } : {}),
      ...(conn.apiKey !== undefined ? { auth: { apiKey: conn.apiKey } } : {}),
      ...(conn.ca !== undefined ? { tls: { ca: conn.ca } } : {}),
    }),
  );
}

function openSearchOptions(conn: EsConnection): OpenSearchOptions {
  return {
    nodes: [...conn.nodes],
    maxRetries: 0,
    requestTimeout: conn.requestTimeoutMs,
    name: `sluice:${conn.where}`,
    ...(conn.auth ? { auth: conn.auth } : {}),
    ...(conn.ca !== undefined ? { ssl: { ca: conn.ca } } : {}),
  };
}
