import {
  APPLIED,
  FatalError,
  NotConnectedError,
  PermanentEventError,
  RetryableError,
  EtlStreamGate,
  SinkClosedError,
  failed,
  type DataSources,
  type EtlRequest,
  type EtlResult,
  type MappingFile,
  type RowChangeEvent,
  type SinkInstance,
  type SinkRecord,
  type TargetCount,
  type WriteOutcome,
  type WriteResult,
} from '@sluice/plugin-api';
import { DocumentError, buildDocument, fieldValue, keyText, routingOf } from './document.js';
import type { EsJson } from './esValue.js';
import { docKey, runEsEtl } from './etl.js';
import {
  MAX_KEYS_PER_QUERY,
  byJoinedRow,
  byMainKeys,
  documentFromRow,
  isTable,
  idColumnTexts,
  idEvaluation,
  joinedValues,
  mainKeyValues,
  rowKey,
  rowRouting,
} from './joinQuery.js';
import { convertDocument, fieldTypes, type FieldType } from './fieldTypes.js';
import { SourceDb } from './sourceDb.js';
import type { EsMapping } from './mapping.js';
import { planMapping, type EsPlan } from './plan.js';
import { connection, type EsSinkProperties } from './properties.js';
import {
  openSearchApi,
  SearchApiError,
  type BulkItem,
  type FieldMapping,
  type SearchApi,
} from './searchApi.js';
import { externalVersion } from './version.js';
import { action, actionLine, type Action } from './bulkAction.js';

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
  /** `srcDataSources`, for join mappings' back-queries and ETL (absent: those stop with a FatalError). */
  readonly dataSources?: DataSources | undefined;
  /** Where ETL checkpoints are kept (absent: an interrupted ETL starts over). */
  readonly etlStateDir?: string | undefined;
}

/** What the source says about the documents of one join-mapping record. */
interface JoinRows {
  /** Main-table INSERT/UPDATE: the current row of the document's key (undefined: gone). */
  main?: EsJson[] | undefined;
  /** Joined-table event: the current rows of every document that joins the changed row. */
  joined?: EsJson[][];
  /** Computed `_id`: the ids of the event's images, as the source computed them. */
  keys?: { before?: string; after?: string };
  /** The record already failed (its outcome is set). */
  failed?: boolean;
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
  #opening: Promise<SearchApi> | undefined;
  readonly #sources = new Map<string, SourceDb>();
  /** Coordinates ETL bulks with stream writes (see etlGate.ts). */
  readonly #gate = new EtlStreamGate();
  /** Top-level field mappings by index, read once (again after a mapping error). */
  readonly #indexFields = new Map<string, Record<string, FieldMapping>>();
  readonly #indexTypes = new Map<string, Map<string, FieldType>>();
  /** Per plan: the fields whose values the mapping file shapes (objFields, relations). */
  readonly #keep = new WeakMap<EsPlan, Set<string>>();
  #closed = false;

  constructor(options: EsSinkOptions) {
    this.#options = options;
    this.#where = `outerAdapters "${options.key}" (${options.name})`;
  }

  async connect(signal: AbortSignal): Promise<void> {
    const client = await this.#open(signal);
    await this.#call(() => client.health(signal), 'cluster health');
  }

  /**
   * The client, created at the first call (by `connect`, or by `etl`/`count` when the admin API
   * asks before the stream wrote anything: the core connects a sink at its first batch).
   * Concurrent callers share one creation.
   */
  async #open(signal: AbortSignal): Promise<SearchApi> {
    if (this.#closed) throw new SinkClosedError(`${this.#where} is closed`);
    if (this.#client) return this.#client;
    this.#opening ??= (async () => {
      const conn = connection(
        this.#options.hosts,
        this.#options.properties,
        this.#options.configDir,
        this.#where,
      );
      return this.#call(() => openSearchApi(conn, signal), 'connect');
    })().finally(() => {
      this.#opening = undefined;
    });
    const client = await this.#opening;
    if (this.#closed) {
      await client.close();
      throw new SinkClosedError(`${this.#where} is closed`);
    }
    this.#client ??= client;
    return this.#client;
  }

  async healthcheck(signal: AbortSignal): Promise<void> {
    await this.#call(() => this.#ready().health(signal), 'cluster health');
  }

  async write(batch: readonly SinkRecord<EsMapping>[], signal: AbortSignal): Promise<WriteResult> {
    return this.#write(batch, signal, false);
  }

  /**
   * One attempt at a batch. When Elasticsearch rejects an item with a mapping error, the index
   * mapping is read again; if it changed since it was read, the whole batch is written once more
   * with values converted by the new mapping (every write is idempotent: versioned, current
   * source state, or lookups made again). Otherwise the item fails to the dead-letter queue.
   */
  async #write(
    batch: readonly SinkRecord<EsMapping>[],
    signal: AbortSignal,
    again: boolean,
  ): Promise<WriteResult> {
    const client = this.#ready();
    const outcomes: (WriteOutcome | undefined)[] = batch.map(() => undefined);
    const fail = (i: number, message: string) => {
      outcomes[i] ??= failed(new PermanentEventError(message));
    };
    const plans = new Set<EsPlan>();
    for (const record of batch)
      if (record.event.kind === 'row') plans.add(this.#plan(record.mapping));
    await this.#readMappings(client, plans, signal);
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
      operations.push(actionLine(a));
      if (a.op === 'index') operations.push(JSON.stringify(a.doc));
      if (a.op === 'update') operations.push(JSON.stringify({ doc: a.doc, doc_as_upsert: true }));
      this.#written.add(a.index);
    }
    if (this.#gate.active) await this.#gate.streamWrite(actions.map((a) => docKey(a.index, a.id)));
    const items = await this.#call(() => client.bulk(operations, signal), 'bulk request');
    if (items.length !== actions.length)
      throw new RetryableError(
        `${this.#where}: Elasticsearch answered ${items.length} bulk items for ${actions.length} actions`,
      );
    let retry: string | undefined;
    let pressureOnly = true;
    const mappingErrors = new Set<string>();
    items.forEach((entry, n) => {
      const action = actions[n]!;
      const item = Object.values(entry)[0] as BulkItem;
      const s = item.status;
      if (s < 300) return;
      if (s === 404 && action.op === 'delete') return; // already gone
      if (s === 409 && action.version !== undefined) return; // a newer event already won
      const reason = `${item.error?.type ?? s}: ${item.error?.reason ?? ''}`;
      const pressure = isBackPressure(s, item.error?.type);
      if (pressure || s >= 500) {
        retry ??= reason;
        pressureOnly &&= pressure;
        return;
      }
      if (item.error?.type === 'index_not_found_exception')
        throw new FatalError(`${this.#where}: index "${action.index}" does not exist (${reason})`);
      if (MAPPING_ERRORS.has(item.error?.type ?? '')) mappingErrors.add(action.index);
      fail(
        action.record,
        `${this.#where}: Elasticsearch rejected ${action.op} of ${action.index}/${action.id} (status ${s}) ${reason}`,
      );
    });
    // Back-pressure (429, es_rejected_execution_exception) says nothing about the documents: it
    // is retried until it passes without using up canal's `retries`, so a busy cluster never
    // dead-letters good documents. A 5xx item counts as an attempt.
    if (retry !== undefined)
      throw new RetryableError(
        `${this.#where}: Elasticsearch asked to retry a bulk item: ${retry}`,
        { countsAsAttempt: !pressureOnly },
      );
    if (mappingErrors.size > 0 && !again) {
      let changed = false;
      for (const index of mappingErrors) {
        const before = JSON.stringify([...(this.#indexTypes.get(index) ?? new Map())]);
        this.#indexFields.delete(index);
        this.#indexTypes.delete(index);
        await this.#mappingOf(client, index, signal);
        changed ||= JSON.stringify([...(this.#indexTypes.get(index) ?? new Map())]) !== before;
      }
      if (changed) return this.#write(batch, signal, true);
    }
    return outcomes.map((o) => o ?? APPLIED);
  }

  async flush(signal: AbortSignal): Promise<void> {
    const client = this.#ready();
    if (!this.#options.properties.refresh || this.#written.size === 0) return;
    const indices = [...this.#written];
    await this.#call(() => client.refresh(indices, signal), 'refresh');
    for (const i of indices) this.#written.delete(i);
  }

  /** Documents in the mapping's index, answered as canal's es adapters do: `{esIndex, count}`. */
  async count(mapping: MappingFile<EsMapping>, signal: AbortSignal): Promise<TargetCount> {
    const client = await this.#open(signal);
    const index = mapping.config.esMapping._index;
    const count = await this.#call(() => client.count(index, signal), 'count');
    return { count, fields: { esIndex: index } };
  }

  /**
   * Full sync of one mapping from its `srcDataSources` entry (`sluice etl es8 …`, `POST
   * /etl/es8/…`): keyset pages of `commitBatch` rows, one `_bulk` per page, progress and a
   * checkpoint (see etl.ts). Safe while `write` runs: documents the stream touched since the
   * ETL started are left to the stream (etlGate.ts).
   *
   * @throws FatalError for a dataSourceKey that names no MySQL/MariaDB source, a missing index
   *   (auto-creation off), an etlCondition whose `{}` count differs from the params, or SQL the
   *   source refuses; RetryableError/NotConnectedError for an unreachable source or server (a
   *   new run resumes after the last page written).
   */
  async etl(request: EtlRequest<EsMapping>, signal: AbortSignal): Promise<EtlResult> {
    const api = await this.#open(signal);
    const plan = this.#plan(request.mapping);
    const source = this.#source(request.mapping.config.dataSourceKey);
    // The index's field types, as the stream converts by them (and its relations check).
    await this.#readMappings(api, [plan], signal);
    return runEsEtl(
      {
        where: this.#where,
        key: this.#options.key,
        api: {
          bulk: (lines, s) => this.#call(() => api.bulk(lines, s), 'ETL bulk request'),
          msearch: (lines, s) => this.#call(() => api.msearch(lines, s), 'ETL pk lookup'),
        },
        plan,
        source,
        gate: this.#gate,
        stateDir: this.#options.etlStateDir,
        convert: (doc) => this.#convert(plan, doc),
      },
      request,
      signal,
    );
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

  /**
   * Reads the mapping of every index the plans write that is not known yet (`GET
   * <index>/_mapping`, once per index), and checks that each `relations` field is a `join` field
   * there: without it Elasticsearch would map `{name, parent}` as a plain object and routing
   * would relate nothing.
   *
   * @throws FatalError when a relation's field is missing or not of type `join` (e.g.
   *   Elasticsearch without the parent-join module).
   */
  async #readMappings(
    client: SearchApi,
    plans: Iterable<EsPlan>,
    signal: AbortSignal,
  ): Promise<void> {
    for (const plan of plans) {
      const fields = await this.#mappingOf(client, plan.index, signal);
      for (const r of plan.relations) {
        const type = fields?.[r.field]?.type;
        if (type !== 'join')
          throw new FatalError(
            `${this.#where}: relations: index "${plan.index}" ${fields ? `has ${type === undefined ? 'no field' : `a ${type} field`} "${r.field}"` : 'does not exist'}; parent/child documents need "${r.field}" mapped with type join (create the index with it; Elasticsearch needs its parent-join module, which the integ-test-zip distribution lacks)`,
          );
      }
    }
  }

  /** The cached mapping of `index`, read when not known (an index that does not exist: undefined, asked again next time). */
  async #mappingOf(
    client: SearchApi,
    index: string,
    signal: AbortSignal,
  ): Promise<Record<string, FieldMapping> | undefined> {
    let fields = this.#indexFields.get(index);
    if (!fields) {
      fields = await this.#call(() => client.mapping(index, signal), 'mapping read');
      if (fields) {
        this.#indexFields.set(index, fields);
        this.#indexTypes.set(index, fieldTypes(fields));
      }
    }
    return fields;
  }

  /** `doc` with its values converted by the index's field types (see {@link convertDocument}). */
  #convert(plan: EsPlan, doc: Record<string, EsJson>): Record<string, EsJson> {
    const types = this.#indexTypes.get(plan.index);
    if (!types) return doc;
    let keep = this.#keep.get(plan);
    if (!keep) {
      keep = new Set([...plan.objFields.keys(), ...plan.relations.map((r) => r.field)]);
      this.#keep.set(plan, keep);
    }
    return convertDocument(doc, types, keep);
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
        if (s === 429 || s >= 500)
          throw new RetryableError(withStatus, {
            cause: e,
            countsAsAttempt: !isBackPressure(s, errorType(e.cause)),
          });
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
          throw new RetryableError(`${this.#where}: pk lookup in ${l.index} failed: ${reason}`, {
            countsAsAttempt: !isBackPressure(s, r.error.type),
          });
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
      const routing = routingOf(plan, event, 'before');
      for (const id of idsOf('before')) out.push(action(base, 'delete', id, routing));
      return out;
    }
    const doc = this.#convert(plan, buildDocument(plan, event));
    const ids = idsOf('after');
    const routing = routingOf(plan, event, 'after');
    // Deletes of the old copy: another id, or the same id under another routing (a child that
    // changed parent lives on the parent's shard). With an external version the same-id delete
    // goes after the write: on the same shard it meets the new version and gets a 409 (applied),
    // on another shard it removes the old copy. Without a version it must go first.
    const before: Action[] = [];
    const after: Action[] = [];
    if (event.type === 'UPDATE' && event.before) {
      const field = plan.idField ?? plan.pkField!;
      const oldKey = keyText(plan, event, field, 'before');
      const newKey = keyText(plan, event, field, 'after');
      const oldRouting = routingOf(plan, event, 'before');
      if (oldKey !== newKey) {
        for (const id of idsOf('before'))
          if (!ids.includes(id)) before.push(action(base, 'delete', id, oldRouting));
      } else if (oldRouting !== routing)
        for (const id of ids)
          (version === undefined ? before : after).push(action(base, 'delete', id, oldRouting));
    }
    out.push(...before);
    for (const id of ids)
      out.push(
        action(
          base,
          plan.upsert ? 'update' : 'index',
          id,
          routing,
          ids.length === 1 ? doc : { ...doc },
        ),
      );
    out.push(...after);
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
   * one per joined-table event (`WHERE a.<join column> = ?` with the old and new values). For a
   * computed `_id`, one query per mapping first has the source compute the id of every
   * main-table event image ({@link idEvaluation}). A record whose event cannot be read fails
   * alone (`fail`).
   */
  async #joinRows(
    batch: readonly SinkRecord<EsMapping>[],
    fail: (i: number, message: string) => void,
  ): Promise<Map<number, JoinRows>> {
    const out = new Map<number, JoinRows>();
    const failed = (i: number, e: unknown) => {
      if (e instanceof DocumentError) fail(i, `${this.#where}: ${e.message}`);
      else throw e;
    };
    await this.#computeIds(batch, out, failed);
    const mainKeys = new Map<EsPlan, Map<string, { value: EsJson[]; records: number[] }>>();
    for (const [i, record] of batch.entries()) {
      const event = record.event;
      if (event.kind !== 'row') continue;
      const plan = this.#plan(record.mapping);
      const join = plan.join;
      if (!join) continue;
      let entry = out.get(i);
      if (!entry) out.set(i, (entry = {}));
      try {
        if (isTable(event, join.select.main) && event.type !== 'DELETE' && !entry.failed) {
          const text = this.#key(plan, event, 'after', entry);
          const value = join.idExpression
            ? mainKeyValues(join.idExpression.columns, event, 'after')
            : [fieldValue(plan, event, plan.idField ?? plan.pkField!, 'after')];
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
        failed(i, e);
      }
    }
    for (const [plan, keys] of mainKeys) {
      const join = plan.join!;
      const columns = join.idExpression?.columns ?? [(plan.idField ?? plan.pkField!).column];
      const list = [...keys.values()];
      for (let n = 0; n < list.length; n += MAX_KEYS_PER_QUERY) {
        const chunk = list.slice(n, n + MAX_KEYS_PER_QUERY);
        const q = byMainKeys(
          join,
          columns,
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
   * Computed `_id`s: for every main-table event of a mapping with `idExpression`, the ids of its
   * images (DELETE: before; INSERT: after; UPDATE: both), computed by the source in one query
   * per mapping and chunk, into `out[i].keys`.
   */
  async #computeIds(
    batch: readonly SinkRecord<EsMapping>[],
    out: Map<number, JoinRows>,
    failed: (i: number, e: unknown) => void,
  ): Promise<void> {
    const wanted = new Map<
      EsPlan,
      { record: number; image: 'before' | 'after'; values: (string | null)[] }[]
    >();
    for (const [i, record] of batch.entries()) {
      const event = record.event;
      if (event.kind !== 'row') continue;
      const plan = this.#plan(record.mapping);
      const join = plan.join;
      if (!join?.idExpression || !isTable(event, join.select.main)) continue;
      const entry: JoinRows = { keys: {} };
      out.set(i, entry);
      const images: ('before' | 'after')[] =
        event.type === 'DELETE'
          ? ['before']
          : event.type === 'UPDATE' && event.before
            ? ['before', 'after']
            : ['after'];
      try {
        const list = wanted.get(plan) ?? [];
        wanted.set(plan, list);
        const mine = images.map((image) => ({
          record: i,
          image,
          values: idColumnTexts(join, event, image),
        }));
        list.push(...mine);
      } catch (e) {
        entry.failed = true;
        failed(i, e);
      }
    }
    for (const [plan, list] of wanted) {
      const join = plan.join!;
      for (let n = 0; n < list.length; n += MAX_KEYS_PER_QUERY) {
        const chunk = list.slice(n, n + MAX_KEYS_PER_QUERY);
        const q = idEvaluation(
          join,
          chunk.map((c) => c.values),
        );
        const found = await this.#source(join.dataSourceKey).rows(q.sql, q.params);
        for (const row of found) {
          const c = chunk[Number(row[0])];
          const v = row[1];
          if (!c || v === null || v === undefined || v === '' || typeof v === 'object') continue;
          out.get(c.record)!.keys![c.image] = String(v);
        }
      }
    }
  }

  /**
   * The text of a record's key (`_id` or `pk` field) in `image`: the computed id for mappings
   * with `idExpression`, else the field's value in the event.
   *
   * @throws DocumentError when it is NULL, empty or missing.
   */
  #key(plan: EsPlan, event: RowChangeEvent, image: 'before' | 'after', rows?: JoinRows): string {
    const id = plan.join?.idExpression;
    if (!id) return keyText(plan, event, plan.idField ?? plan.pkField!, image);
    const key = rows?.keys?.[image];
    if (key === undefined)
      throw new DocumentError(
        `the computed _id "${plan.idField!.name}" (${id.sql}) is NULL or empty for the ${image} image; the document cannot be addressed`,
      );
    return key;
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
      out.push(
        action(
          base,
          op,
          id,
          rowRouting(plan, join, row),
          this.#convert(plan, documentFromRow(plan, join, row)),
        ),
      );
    };
    if (isTable(event, join.select.main)) {
      if (event.type === 'DELETE') {
        const routing = routingOf(plan, event, 'before');
        for (const id of this.#ids(plan, event, 'before', hits, rows))
          out.push(action(base, 'delete', id, routing));
      } else {
        const ids = this.#ids(plan, event, 'after', hits, rows);
        const routing = routingOf(plan, event, 'after');
        if (event.type === 'UPDATE' && event.before) {
          const oldRouting = routingOf(plan, event, 'before');
          // No version here: the old copy (another id, or the same id under the old parent's
          // routing) is deleted before the document is written again.
          if (this.#key(plan, event, 'before', rows) !== this.#key(plan, event, 'after', rows)) {
            for (const id of this.#ids(plan, event, 'before', hits, rows))
              if (!ids.includes(id)) out.push(action(base, 'delete', id, oldRouting));
          } else if (oldRouting !== routing)
            for (const id of ids) out.push(action(base, 'delete', id, oldRouting));
        }
        const row = rows.main;
        for (const id of ids)
          if (row) write(id, row);
          else out.push(action(base, 'delete', id, routing));
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
    rows?: JoinRows,
  ): string[] {
    if (plan.idField) return [this.#key(plan, event, image, rows)];
    const pk = plan.pkField!;
    const key = keyText(plan, event, pk, image);
    const value = fieldValue(plan, event, pk, image);
    const found = hits.get(lookupKey({ index: plan.index, field: pk.name, value })) ?? [];
    if (image === 'before' || event.type === 'DELETE')
      return found.includes(key) ? [...found] : [...found, key];
    return found.length > 0 ? [...found] : [key];
  }
}

/**
 * Whether an answer is Elasticsearch's back-pressure: HTTP 429 (a full write/search thread pool
 * queue, a tripped circuit breaker) or an `es_rejected_execution_exception` item, whatever its
 * status. Such failures are retried without using up an attempt (`countsAsAttempt: false`).
 */
export function isBackPressure(status: number, type: string | undefined): boolean {
  return status === 429 || type === 'es_rejected_execution_exception';
}

/** The `error.type` of a client's ResponseError body, if any. */
function errorType(e: unknown): string | undefined {
  const body = (e as { meta?: { body?: unknown } } | undefined)?.meta?.body;
  const t = (body as { error?: { type?: unknown } } | undefined)?.error?.type;
  return typeof t === 'string' ? t : undefined;
}
/** Bulk item errors that say a value does not fit the index mapping. */
const MAPPING_ERRORS = new Set([
  'mapper_parsing_exception',
  'document_parsing_exception',
  'strict_dynamic_mapping_exception',
  'illegal_argument_exception',
]);

const lookupKey = (l: Lookup): string =>
  `${l.index}\u0000${l.field}\u0000${JSON.stringify(l.value)}`;
