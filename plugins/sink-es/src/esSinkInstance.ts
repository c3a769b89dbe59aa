import {
  APPLIED,
  FatalError,
  NotConnectedError,
  PermanentEventError,
  RetryableError,
  SinkClosedError,
  failed,
  type DataSources,
  type MappingFile,
  type RowChangeEvent,
  type SinkInstance,
  type SinkRecord,
  type WriteOutcome,
  type WriteResult,
} from '@sluice/plugin-api';
import { DocumentError, buildDocument, fieldValue, keyText } from './document.js';
import type { EsJson } from './esValue.js';
import {
  MAX_KEYS_PER_QUERY,
  byJoinedRow,
  byMainKeys,
  documentFromRow,
  isTable,
  joinedValues,
  rowKey,
} from './joinQuery.js';
import { SourceDb } from './sourceDb.js';
import type { EsMapping } from './mapping.js';
import { planMapping, type EsPlan } from './plan.js';
import { connection, type EsSinkProperties } from './properties.js';
import { openSearchApi, SearchApiError, type BulkItem, type SearchApi } from './searchApi.js';
import { externalVersion } from './version.js';

/** One bulk action of a record. */
interface Action {
  readonly record: number;
  readonly op: 'index' | 'update' | 'delete';
  readonly index: string;
  readonly id: string;
  readonly version: string | undefined;
  readonly doc?: Record<string, EsJson>;
}

/** A pk-mode lookup: documents of `index` whose `field` is `value`. */
interface Lookup {
  readonly index: string;
  readonly field: string;
  readonly value: EsJson;
}

/** What {@link EsSink} needs from `create`. */
export interface EsSinkOptions {
  readonly key: string;
  readonly name: string;
  readonly hosts: string | undefined;
  readonly properties: EsSinkProperties;
  readonly configDir: string;
  /** `srcDataSources`, for join mappings' back-queries (absent: join mappings stop the sink). */
  readonly dataSources?: DataSources | undefined;
}

/** What the source says about the documents of one join-mapping record. */
interface JoinRows {
  /** Main-table INSERT/UPDATE: the current row of the document's key (undefined: gone). */
  main?: EsJson[] | undefined;
  /** Joined-table event: the current rows of every document that joins the changed row. */
  joined?: EsJson[][];
}

/**
 * One Elasticsearch sink instance (one `outerAdapters[]` entry): one client, created at the
 * first `connect` — `@elastic/elasticsearch` 8 for Elasticsearch, `@opensearch-project/opensearch`
 * for OpenSearch (picked by {@link openSearchApi}). Each `write` is one `_bulk` request (plus one
 * `_msearch` for `pk`-mode lookups), awaited, so `flush` has nothing to send; it refreshes the
 * written indices when the `refresh` property is set. Concurrent `write`s share the client.
 */
export class EsSink implements SinkInstance<EsMapping> {
  readonly #options: EsSinkOptions;
  readonly #where: string;
  readonly #plans = new WeakMap<EsMapping, EsPlan>();
  readonly #written = new Set<string>();
  #client: SearchApi | undefined;
  readonly #sources = new Map<string, SourceDb>();
  #closed = false;

  constructor(options: EsSinkOptions) {
    this.#options = options;
    this.#where = `outerAdapters "${options.key}" (${options.name})`;
  }

  async connect(signal: AbortSignal): Promise<void> {
    if (this.#closed) throw new SinkClosedError(`${this.#where} is closed`);
    if (!this.#client) {
      const conn = connection(
        this.#options.hosts,
        this.#options.properties,
        this.#options.configDir,
        this.#where,
      );
      this.#client = await this.#call(() => openSearchApi(conn, signal), 'connect');
    }
    await this.#call(() => this.#client!.health(signal), 'cluster health');
  }

  async healthcheck(signal: AbortSignal): Promise<void> {
    await this.#call(() => this.#ready().health(signal), 'cluster health');
  }

  async write(batch: readonly SinkRecord<EsMapping>[], signal: AbortSignal): Promise<WriteResult> {
    const client = this.#ready();
    const outcomes: (WriteOutcome | undefined)[] = batch.map(() => undefined);
    const fail = (i: number, message: string) => {
      outcomes[i] ??= failed(new PermanentEventError(message));
    };
    // Join mappings: ask the source for the documents' current rows first.
    const rows = await this.#joinRows(batch, fail);
    // pk mode: locate the documents (one _msearch for the whole batch).
    const hits = await this.#lookups(client, batch, rows, signal);
    const actions: Action[] = [];
    batch.forEach((record, i) => {
      if (outcomes[i]) return;
      try {
        const made = this.#actions(record, i, hits, rows.get(i));
        if (made.length === 0) outcomes[i] = APPLIED;
        actions.push(...made);
      } catch (e) {
        if (e instanceof DocumentError) fail(i, `${this.#where}: ${e.message}`);
        else throw e;
      }
    });
    if (actions.length === 0) return outcomes.map((o) => o ?? APPLIED);
    const operations: string[] = [];
    for (const a of actions) {
      const meta: Record<string, unknown> = { _index: a.index, _id: a.id };
      let line = JSON.stringify({ [a.op]: meta });
      if (a.version !== undefined)
        // The version is written as a raw JSON number: it may exceed 2^53.
        line = `${line.slice(0, -2)},"version":${a.version},"version_type":"external"}}`;
      operations.push(line);
      if (a.op === 'index') operations.push(JSON.stringify(a.doc));
      if (a.op === 'update') operations.push(JSON.stringify({ doc: a.doc, doc_as_upsert: true }));
      this.#written.add(a.index);
    }
    const items = await this.#call(() => client.bulk(operations, signal), 'bulk request');
    if (items.length !== actions.length)
      throw new RetryableError(
        `${this.#where}: Elasticsearch answered ${items.length} bulk items for ${actions.length} actions`,
      );
    let retry: string | undefined;
    items.forEach((entry, n) => {
      const action = actions[n]!;
      const item = Object.values(entry)[0] as BulkItem;
      const s = item.status;
      if (s < 300) return;
      if (s === 404 && action.op === 'delete') return; // already gone
      if (s === 409 && action.version !== undefined) return; // a newer event already won
      const reason = `${item.error?.type ?? s}: ${item.error?.reason ?? ''}`;
      if (s === 429 || s >= 500) {
        retry ??= reason;
        return;
      }
      if (item.error?.type === 'index_not_found_exception')
        throw new FatalError(`${this.#where}: index "${action.index}" does not exist (${reason})`);
      fail(
        action.record,
        `${this.#where}: Elasticsearch rejected ${action.op} of ${action.index}/${action.id} (status ${s}) ${reason}`,
      );
    });
    if (retry !== undefined)
      throw new RetryableError(
        `${this.#where}: Elasticsearch asked to retry a bulk item: ${retry}`,
      );
    return outcomes.map((o) => o ?? APPLIED);
  }

  async flush(signal: AbortSignal): Promise<void> {
    const client = this.#ready();
    if (!this.#options.properties.refresh || this.#written.size === 0) return;
    const indices = [...this.#written];
    await this.#call(() => client.refresh(indices, signal), 'refresh');
    for (const i of indices) this.#written.delete(i);
  }

  async count(mapping: MappingFile<EsMapping>, signal: AbortSignal): Promise<number> {
    const client = this.#ready();
    const index = mapping.config.esMapping._index;
    return this.#call(() => client.count(index, signal), 'count');
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const client = this.#client;
    this.#client = undefined;
    await client?.close();
    for (const source of this.#sources.values()) await source.close();
    this.#sources.clear();
  }

  #ready(): SearchApi {
    if (this.#closed) throw new SinkClosedError(`${this.#where} is closed`);
    if (!this.#client) throw new NotConnectedError(`${this.#where}: connect() was not called`);
    return this.#client;
  }

  /** Runs one request, turning client errors into the sink contract's error classes. */
  async #call<T>(fn: () => Promise<T>, what: string): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      if (this.#closed) throw new SinkClosedError(`${this.#where} is closed`);
      if (!(e instanceof SearchApiError)) throw e;
      const message = `${this.#where}: Elasticsearch ${what} failed: ${e.message}`;
      if (e.kind === 'connection') throw new NotConnectedError(message, { cause: e });
      if (e.kind === 'response') {
        const s = e.status ?? 0;
        const withStatus = `${message} (HTTP ${s})`;
        if (s === 401 || s === 403)
          throw new FatalError(`${withStatus}; check security.auth / apiKey`, { cause: e });
        if (s === 429 || s >= 500) throw new RetryableError(withStatus, { cause: e });
        // Too large a bulk: the core splits the batch and writes the halves.
        if (s === 413) throw new PermanentEventError(withStatus, { cause: e });
        throw new FatalError(withStatus, { cause: e });
      }
      throw new RetryableError(message, { cause: e });
    }
  }

  #plan(mapping: MappingFile<EsMapping> | undefined): EsPlan {
    if (!mapping) throw new FatalError(`${this.#where}: a record arrived without its es mapping`);
    let plan = this.#plans.get(mapping.config);
    if (!plan) {
      const p = planMapping(mapping.config);
      if (Array.isArray(p))
        throw new FatalError(
          `${this.#where}: ${mapping.file}: ${p.map((x) => `${x.path.join('.')}: ${x.message}`).join('; ')}`,
        );
      plan = p;
      this.#plans.set(mapping.config, plan);
    }
    return plan;
  }

  /** The pk-mode lookups of a record: its current pk value, and the old one if it changed. */
  #lookupsOf(record: SinkRecord<EsMapping>): Lookup[] {
    const event = record.event;
    if (event.kind !== 'row') return [];
    const plan = this.#plan(record.mapping);
    const pk = plan.pkField;
    if (!pk) return [];
    if (plan.join && !isTable(event, plan.join.select.main)) return [];
    const out: Lookup[] = [];
    for (const image of event.type === 'UPDATE' ? (['after', 'before'] as const) : [undefined]) {
      const which = image ?? (event.type === 'DELETE' ? 'before' : 'after');
      try {
        const value = fieldValue(plan, event, pk, which);
        if (value !== null && typeof value !== 'object')
          out.push({ index: plan.index, field: pk.name, value });
      } catch {
        // reported when the record's actions are built
      }
    }
    return out;
  }

  async #lookups(
    client: SearchApi,
    batch: readonly SinkRecord<EsMapping>[],
    rows: ReadonlyMap<number, JoinRows>,
    signal: AbortSignal,
  ): Promise<Map<string, string[]>> {
    const wanted = new Map<string, Lookup>();
    batch.forEach((record, i) => {
      for (const l of this.#lookupsOf(record)) wanted.set(lookupKey(l), l);
      // Join mappings in pk mode: the documents of re-queried rows too.
      const plan = record.event.kind === 'row' ? this.#plan(record.mapping) : undefined;
      const pk = plan?.pkField;
      if (!plan?.join || !pk) return;
      const r = rows.get(i);
      for (const row of [...(r?.joined ?? []), ...(r?.main ? [r.main] : [])]) {
        const value = row[plan.join.positions.get(pk.name)!];
        if (value !== null && value !== undefined && typeof value !== 'object')
          wanted.set(lookupKey({ index: plan.index, field: pk.name, value }), {
            index: plan.index,
            field: pk.name,
            value,
          });
      }
    });
    const found = new Map<string, string[]>();
    if (wanted.size === 0) return found;
    const list = [...wanted.values()];
    const searches = list.flatMap((l) => [
      { index: l.index, ignore_unavailable: true },
      { query: { term: { [l.field]: l.value } }, size: 10_000, _source: false },
    ]);
    const responses = await this.#call(() => client.msearch(searches, signal), 'pk lookup');
    responses.forEach((r, n) => {
      const l = list[n]!;
      if ('error' in r) {
        const s = r.status ?? 500;
        const reason = `${r.error.type}: ${r.error.reason ?? ''}`;
        if (s === 429 || s >= 500)
          throw new RetryableError(`${this.#where}: pk lookup in ${l.index} failed: ${reason}`);
        throw new FatalError(
          `${this.#where}: pk lookup of ${l.field} in ${l.index} failed: ${reason}`,
        );
      }
      found.set(
        lookupKey(l),
        r.hits.hits.map((h) => h._id).filter((id): id is string => typeof id === 'string'),
      );
    });
    return found;
  }

  /** The bulk actions of one record (none for DDL). */
  #actions(
    record: SinkRecord<EsMapping>,
    i: number,
    hits: ReadonlyMap<string, readonly string[]>,
    rows: JoinRows | undefined,
  ): Action[] {
    const event = record.event;
    // canal-adapter's es adapters ignore DDL (the index mapping is managed in Elasticsearch).
    if (event.kind !== 'row') return [];
    const plan = this.#plan(record.mapping);
    if (plan.join) return this.#joinActions(plan, event, i, hits, rows ?? {});
    let version: string | undefined;
    if (!plan.upsert) {
      const v = externalVersion(event.position);
      if ('reason' in v) throw new DocumentError(v.reason);
      version = v.version;
    }
    const base = { record: i, index: plan.index, version };
    const idsOf = (image: 'before' | 'after'): string[] => this.#ids(plan, event, image, hits);
    const out: Action[] = [];
    if (event.type === 'DELETE') {
      for (const id of idsOf('before')) out.push({ ...base, op: 'delete', id });
      return out;
    }
    const doc = buildDocument(plan, event);
    const ids = idsOf('after');
    if (event.type === 'UPDATE' && event.before) {
      const field = plan.idField ?? plan.pkField!;
      const oldKey = keyText(plan, event, field, 'before');
      const newKey = keyText(plan, event, field, 'after');
      if (oldKey !== newKey)
        for (const id of idsOf('before'))
          if (!ids.includes(id)) out.push({ ...base, op: 'delete', id });
    }
    for (const id of ids)
      out.push({ ...base, op: plan.upsert ? 'update' : 'index', id, doc: { ...doc } });
    return out;
  }

  /** The source pool of a join mapping's `dataSourceKey`. */
  #source(key: string): SourceDb {
    let source = this.#sources.get(key);
    if (!source) {
      const options = this.#options.dataSources?.get(key);
      if (!options)
        throw new FatalError(
          `${this.#where}: dataSourceKey "${key}" names no srcDataSources entry; join mappings re-query the source`,
        );
      source = new SourceDb(options, this.#where);
      this.#sources.set(key, source);
    }
    return source;
  }

  /**
   * Re-queries the source for the join-mapping records of a batch: one query per mapping for the
   * main-table INSERT/UPDATEs (`WHERE a.<key> IN (…)`, in chunks of {@link MAX_KEYS_PER_QUERY}),
   * one per joined-table event (`WHERE a.<join column> = ?` with the old and new values). A record
   * whose event cannot be read fails alone (`fail`).
   */
  async #joinRows(
    batch: readonly SinkRecord<EsMapping>[],
    fail: (i: number, message: string) => void,
  ): Promise<Map<number, JoinRows>> {
    const out = new Map<number, JoinRows>();
    const mainKeys = new Map<EsPlan, Map<string, { value: EsJson; records: number[] }>>();
    for (const [i, record] of batch.entries()) {
      const event = record.event;
      if (event.kind !== 'row') continue;
      const plan = this.#plan(record.mapping);
      const join = plan.join;
      if (!join) continue;
      const entry: JoinRows = {};
      out.set(i, entry);
      try {
        if (isTable(event, join.select.main) && event.type !== 'DELETE') {
          const keyField = plan.idField ?? plan.pkField!;
          const text = keyText(plan, event, keyField, 'after');
          const value = fieldValue(plan, event, keyField, 'after');
          let keys = mainKeys.get(plan);
          if (!keys) mainKeys.set(plan, (keys = new Map()));
          const k = keys.get(text) ?? { value, records: [] };
          k.records.push(i);
          keys.set(text, k);
        }
        for (const joined of join.select.joins) {
          if (!isTable(event, joined)) continue;
          const values = joinedValues(event, joined);
          if (values.length === 0) continue;
          const q = byJoinedRow(join, joined, values);
          const found = await this.#source(join.dataSourceKey).rows(q.sql, q.params);
          entry.joined = [...(entry.joined ?? []), ...found];
        }
      } catch (e) {
        if (e instanceof DocumentError) fail(i, `${this.#where}: ${e.message}`);
        else throw e;
      }
    }
    for (const [plan, keys] of mainKeys) {
      const join = plan.join!;
      const keyField = plan.idField ?? plan.pkField!;
      const list = [...keys.values()];
      for (let n = 0; n < list.length; n += MAX_KEYS_PER_QUERY) {
        const chunk = list.slice(n, n + MAX_KEYS_PER_QUERY);
        const q = byMainKeys(
          join,
          keyField.column,
          chunk.map((k) => k.value),
        );
        const found = await this.#source(join.dataSourceKey).rows(q.sql, q.params);
        const byKey = new Map<string, EsJson[]>();
        for (const row of found) {
          const key = rowKey(plan, join, row);
          if (key !== undefined) byKey.set(key, row);
        }
        for (const [text, k] of keys)
          if (chunk.includes(k)) for (const i of k.records) out.get(i)!.main = byKey.get(text);
      }
    }
    return out;
  }

  /**
   * The bulk actions of a join-mapping record. Documents are written whole from the source's
   * current rows and carry no external version: a replay re-queries and writes the current
   * state again. Main table: DELETE deletes the document; INSERT/UPDATE index the re-queried
   * row (deleted when the source no longer has it), a key change deletes the old id first.
   * Joined table: every document that joins the changed row (old and new join values) is
   * written again.
   */
  #joinActions(
    plan: EsPlan,
    event: RowChangeEvent,
    i: number,
    hits: ReadonlyMap<string, readonly string[]>,
    rows: JoinRows,
  ): Action[] {
    const join = plan.join!;
    const base = { record: i, index: plan.index, version: undefined };
    const op = plan.upsert ? ('update' as const) : ('index' as const);
    const out: Action[] = [];
    const written = new Set<string>();
    const write = (id: string, row: readonly EsJson[]) => {
      if (written.has(id)) return;
      written.add(id);
      out.push({ ...base, op, id, doc: documentFromRow(plan, join, row) });
    };
    if (isTable(event, join.select.main)) {
      if (event.type === 'DELETE') {
        for (const id of this.#ids(plan, event, 'before', hits))
          out.push({ ...base, op: 'delete', id });
      } else {
        const ids = this.#ids(plan, event, 'after', hits);
        if (event.type === 'UPDATE' && event.before) {
          const field = plan.idField ?? plan.pkField!;
          if (keyText(plan, event, field, 'before') !== keyText(plan, event, field, 'after'))
            for (const id of this.#ids(plan, event, 'before', hits))
              if (!ids.includes(id)) out.push({ ...base, op: 'delete', id });
        }
        const row = rows.main;
        for (const id of ids)
          if (row) write(id, row);
          else out.push({ ...base, op: 'delete', id });
      }
    }
    for (const row of rows.joined ?? []) {
      const key = rowKey(plan, join, row);
      if (key === undefined) continue;
      if (plan.idField) write(key, row);
      else {
        const pk = plan.pkField!;
        const value = row[join.positions.get(pk.name)!] ?? null;
        const found = hits.get(lookupKey({ index: plan.index, field: pk.name, value })) ?? [];
        for (const id of found.length > 0 ? found : [key]) write(id, row);
      }
    }
    return out;
  }

  /**
   * The document ids a record addresses in `image`. `_id` mode: the id field's value. `pk` mode:
   * the documents whose pk field holds the value (found by the batch's lookup), and, for
   * deletes, also the id equal to the pk value (the document Sluice creates when none is found,
   * which a search may not see yet); for writes, that id when no document was found.
   */
  #ids(
    plan: EsPlan,
    event: RowChangeEvent,
    image: 'before' | 'after',
    hits: ReadonlyMap<string, readonly string[]>,
  ): string[] {
    if (plan.idField) return [keyText(plan, event, plan.idField, image)];
    const pk = plan.pkField!;
    const key = keyText(plan, event, pk, image);
    const value = fieldValue(plan, event, pk, image);
    const found = hits.get(lookupKey({ index: plan.index, field: pk.name, value })) ?? [];
    if (image === 'before' || event.type === 'DELETE')
      return found.includes(key) ? [...found] : [...found, key];
    return found.length > 0 ? [...found] : [key];
  }
}

const lookupKey = (l: Lookup): string =>
  `${l.index}\u0000${l.field}\u0000${JSON.stringify(l.value)}`;
