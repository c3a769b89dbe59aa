/**
 * Full sync (canal's ETL, behaviour reference §6.2, `ESEtlService`) of one es mapping: reads the
 * documents' rows from the mapping's `srcDataSources` entry page by page and indexes them with
 * `_bulk`, with per-item outcomes, progress, a checkpoint to resume from and the stream gate.
 *
 * - **What is read**: single-table mappings (§5.3 Case A) read the select columns of the table
 *   (`SELECT a.c1, a.c2 … FROM db.t AS a`); join/expression mappings (Case B) run the mapping SQL
 *   itself, as canal does. Values come through {@link SourceDb} in the forms the stream writes.
 * - **Paging**: keyset pagination on the document key column (`_id` field, else `pk` field; a
 *   plain column of the main table), selected first as `__sluice_k0`:
 *   `SELECT a.id AS __sluice_k0, … WHERE a.id > ? ORDER BY a.id LIMIT commitBatch`, never
 *   `LIMIT offset` (canal pages by offset without ORDER BY, §6.2). When a page is full, the rows
 *   of its last key are read again by `<key> = ?` (all of them, whatever the page size), so a key
 *   whose rows straddle two pages (a one-to-many LEFT JOIN) is written whole, once per run, and
 *   the next page starts after it. Rows whose key is NULL cannot be addressed: counted and
 *   reported as one error line.
 * - **etlCondition**: canal's WHERE fragment with `{}` placeholders; like canal it applies only
 *   when params are given, its leading `where` is dropped and every `{}` becomes a bound
 *   parameter (never spliced into the SQL text).
 * - **Writes**: one `_bulk` per page: `index` of the whole document (`update` + `doc_as_upsert`
 *   with `upsert: true`), without an external version (the document is the source's current
 *   state, not an event). In `pk` mode the documents are located by a `term` query on the pk
 *   field (one `_msearch` per page) and every hit is written, else the pk value is the `_id` —
 *   the stream's rule. A row that appears twice for one document (one-to-many join) is written
 *   once, with its last row, as canal's last write wins. Items answered 429/5xx, and a request
 *   that failed with a RetryableError (429/5xx, time-out), are re-sent with backoff (up to
 *   {@link ITEM_ATTEMPTS} times); other rejected items become error lines.
 * - **Resumable**: after every page a checkpoint (`<stateDir>/es--<key>--<task>.json`: the last
 *   key, rows done, and the SQL, condition and params it belongs to) is saved; a run with the
 *   same mapping SQL, index, condition and params resumes after it. A finished run removes it.
 *
 * Stale documents (rows deleted from the source before the ETL) are not deleted, as in canal.
 */
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import {
  FatalError,
  RetryableError,
  etlCondition,
  keysetPageSql,
  quoteMysqlName as quote,
  whereSql,
  type EtlRequest,
  type EtlResult,
  type EtlStreamGate,
  type MappingFile,
} from '@sluice/plugin-api';
import { DocumentError } from './document.js';
import type { EsJson } from './esValue.js';
import { documentFromRow, rowKey, rowRouting } from './joinQuery.js';
import type { EsMapping } from './mapping.js';
import type { EsPlan } from './plan.js';
import type { BulkItem, SearchApi } from './searchApi.js';
import { isSqlShapeProblem, parseSingleTableSelect } from './singleTableSql.js';
import type { SourceDb } from './sourceDb.js';

/** The ETL/stream gate's key of a document (the stream's writes and the ETL's build it alike). */
export const docKey = (index: string, id: string): string => `${index}\u0000${id}`;

/** Times a bulk item answered 429/5xx is sent before it becomes an error line. */
export const ITEM_ATTEMPTS = 8;

/** What {@link runEsEtl} needs from the sink instance. */
export interface EsEtlContext {
  /** `outerAdapters "<key>" (es8)`, for messages. */
  readonly where: string;
  /** The instance key (names the checkpoint file). */
  readonly key: string;
  /** The requests the ETL makes, with the sink's error classification. */
  readonly api: Pick<SearchApi, 'bulk' | 'msearch'>;
  readonly plan: EsPlan;
  /** The pool of `srcDataSources.<dataSourceKey>`. */
  readonly source: SourceDb;
  readonly gate: EtlStreamGate;
  /** Where checkpoints live; undefined: no checkpoint (the run cannot resume). */
  readonly stateDir: string | undefined;
  /** Milliseconds to wait before re-sending items answered 429/5xx (attempt 1, 2, …). */
  readonly backoffMs?: (attempt: number) => number;
  /**
   * Converts a document by the index's field types, as the stream does (absent: values as the
   * source holds them).
   *
   * @throws DocumentError for a value that cannot be converted.
   */
  readonly convert?: (doc: Record<string, EsJson>) => Record<string, EsJson>;
}

/** What a checkpoint file holds. */
interface Checkpoint {
  readonly sql: string;
  readonly index: string;
  readonly condition: string;
  readonly params: readonly string[];
  /** The keyset values of the last row written. */
  readonly lastKey: readonly EsJson[];
  readonly rows: number;
}

/**
 * How the source is read: the base SELECT, whose first columns are the keyset columns
 * (`__sluice_k0`, …), then the mapping's select fields.
 */
export interface EtlSelect {
  /** `SELECT <key columns>, <select fields> FROM …` without WHERE. */
  readonly sql: string;
  /** The keyset columns, qualified and quoted (`` `a`.`id` ``), in ORDER BY order. */
  readonly keys: readonly string[];
  /** Position of each select field in a result row, by field name (after the key columns). */
  readonly positions: ReadonlyMap<string, number>;
}

/** Where the checkpoint of one task lives. */
export function checkpointFile(stateDir: string, key: string, task: string): string {
  const safe = (s: string): string => s.replace(/[^A-Za-z0-9_.-]/g, '_');
  return join(stateDir, `es--${safe(key)}--${safe(task)}.json`);
}

/**
 * The SELECT an ETL of `mapping` pages through (see the module comment): the keyset columns
 * (the main-table column of the `_id`/`pk` field) first, then the select fields — the mapping
 * SQL itself for a join mapping, the select columns of the table for a single-table one.
 *
 * @throws FatalError when the mapping SQL cannot be read (the sink refuses such mappings at load).
 */
export function etlSelect(mapping: EsMapping, plan: EsPlan): EtlSelect {
  const keyField = plan.idField ?? plan.pkField;
  if (!keyField) throw new FatalError('the mapping has neither _id nor pk');
  let alias: string;
  let columns: readonly string[];
  let body: string;
  let fields: readonly string[];
  if (plan.join) {
    alias = plan.join.select.main.alias;
    // A computed _id pages on the main-table columns it reads.
    columns = plan.join.idExpression?.columns ?? [keyField.column];
    body = plan.join.select.text.replace(/^select\b\s*/i, '');
    fields = [...plan.join.positions.keys()];
    if (body === plan.join.select.text) throw new FatalError('the mapping SQL is not a SELECT');
  } else {
    const single = parseSingleTableSelect(mapping.esMapping.sql);
    if (isSqlShapeProblem(single)) throw new FatalError(single.reason);
    alias = single.alias ?? single.table;
    columns = [keyField.column];
    const from =
      (single.database !== undefined ? `${quote(single.database)}.` : '') + quote(single.table);
    body = `${single.fields.map((f) => `${quote(alias)}.${quote(f.column)}`).join(', ')} FROM ${from} AS ${quote(alias)}`;
    fields = single.fields.map((f) => f.name);
  }
  if (columns.some((c) => c === ''))
    throw new FatalError(`the key field "${keyField.name}" is not a column of the main table`);
  const keys = columns.map((c) => `${quote(alias)}.${quote(c)}`);
  return {
    sql: `SELECT ${keys.map((k, i) => `${k} AS ${quote(`__sluice_k${i}`)}`).join(', ')}, ${body}`,
    keys,
    positions: new Map(fields.map((f, i) => [f, keys.length + i])),
  };
}

/** A key as compared across a page boundary: case and trailing blanks folded (MySQL's `_ci`/PAD). */
const sameKey = (key: readonly EsJson[]): string =>
  JSON.stringify(key.map((v) => (typeof v === 'string' ? v.toLowerCase().trimEnd() : v)));

/** One bulk action of the ETL. */
interface Action {
  readonly id: string;
  /** The key field's value as read (the `term` value of a pk-mode lookup). */
  readonly value: EsJson;
  readonly doc: Record<string, EsJson>;
  /** The shard routing (a child document's parent id, `relations`), if any. */
  readonly routing: string | undefined;
}

const defaultBackoff = (attempt: number): number => Math.min(5_000, 100 * 2 ** attempt);

/** Runs one ETL (see the module comment). */
export async function runEsEtl(
  ctx: EsEtlContext,
  request: EtlRequest<EsMapping>,
  signal: AbortSignal,
): Promise<EtlResult> {
  const { plan, source } = ctx;
  const mapping: MappingFile<EsMapping> = request.mapping;
  const es = mapping.config.esMapping;
  const select = etlSelect(mapping.config, plan);
  const keyField = plan.idField ?? plan.pkField!;
  const rowsPlan = { positions: select.positions };
  const cond = etlCondition(es.etlCondition, request.params, mapping.file);
  const condTerms = cond ? [cond.sql] : [];
  const condParams: EsJson[] = cond ? [...cond.params] : [];
  const whereOf = (extra: string[]): string => whereSql([...condTerms, ...extra]);
  const pageSize = Math.max(1, es.commitBatch ?? 1000);
  const backoff = ctx.backoffMs ?? defaultBackoff;
  const op = plan.upsert ? 'update' : 'index';

  const file = ctx.stateDir ? checkpointFile(ctx.stateDir, ctx.key, mapping.name) : undefined;
  const identity = {
    sql: select.sql,
    index: plan.index,
    condition: cond?.text ?? '',
    params: cond?.params ?? [],
  };
  let lastKey: readonly EsJson[] | undefined;
  let rows = 0;
  if (file) {
    const saved = await readFile(file, 'utf8')
      .then((t) => JSON.parse(t) as Checkpoint)
      .catch(() => undefined);
    if (
      saved &&
      saved.sql === identity.sql &&
      saved.index === identity.index &&
      saved.condition === identity.condition &&
      JSON.stringify(saved.params) === JSON.stringify(identity.params)
    ) {
      lastKey = saved.lastKey;
      rows = saved.rows;
    }
  }

  const errors: string[] = [];
  /** Source rows (or documents) that were not written. */
  const failed = { n: 0 };
  const endGate = ctx.gate.beginEtl();
  try {
    if (request.onTotal) {
      // canal's count (§6.2). A derived table refuses duplicate column names (a.id, b.id): then
      // the progress bar goes without a total.
      const counted = await source
        .rows(`SELECT COUNT(1) FROM (${select.sql}${whereOf([])}) _CNT`, condParams)
        .catch(() => undefined);
      if (counted) request.onTotal(Number(counted[0]?.[0] ?? 0));
    }
    const k = select.keys;
    if (lastKey === undefined) {
      const nulls = await source.rows(
        `${select.sql}${whereOf([`(${k.map((c) => `${c} IS NULL`).join(' OR ')})`])}`,
        condParams,
      );
      const n = nulls.length;
      if (n > 0) {
        errors.push(
          `${n} source row(s) have a NULL ${plan.idField ? '_id' : 'pk'} field "${keyField.name}" (${k.join(', ')}): not indexed`,
        );
        rows += n;
        failed.n += n;
      }
    }
    request.onProgress?.(rows);
    for (;;) {
      signal.throwIfAborted();
      let page = await source.rows(
        keysetPageSql({
          select: select.sql,
          keys: k,
          where: [...condTerms, ...k.map((c) => `${c} IS NOT NULL`)],
          after: lastKey !== undefined,
          limit: pageSize,
        }),
        [...condParams, ...(lastKey ?? [])],
      );
      if (page.length === 0) break;
      const full = page.length >= pageSize;
      const keyAt = (row: readonly EsJson[]): EsJson[] => row.slice(0, k.length);
      const last = keyAt(page[page.length - 1]!);
      if (full) {
        // The last key's rows may go on in the next page: read them all again (the column's
        // collation decides which keys are equal; the text comparison below only drops them).
        const group = await source.rows(`${select.sql}${whereOf(k.map((c) => `${c} = ?`))}`, [
          ...condParams,
          ...last,
        ]);
        const lastText = sameKey(last);
        page = [...page.filter((r) => sameKey(keyAt(r)) !== lastText), ...group];
      }
      const actions = new Map<string, Action>();
      for (const row of page) {
        const key = rowKey(plan, rowsPlan, row);
        if (key === undefined) {
          errors.push(`a row with an empty ${plan.idField ? '_id' : 'pk'} field: not indexed`);
          failed.n += 1;
          continue;
        }
        try {
          const built = documentFromRow(plan, rowsPlan, row);
          const doc = ctx.convert ? ctx.convert(built) : built;
          const routing = rowRouting(plan, rowsPlan, row);
          actions.delete(key); // the last row of a key wins, written at its place in order
          actions.set(key, {
            id: key,
            value: row[select.positions.get(keyField.name)!] ?? null,
            doc,
            routing,
          });
        } catch (e) {
          if (!(e instanceof DocumentError)) throw e;
          errors.push(`${plan.index}/${key}: ${e.message}`);
          failed.n += 1;
        }
      }
      let list = [...actions.values()];
      if (!plan.idField && list.length > 0) list = await locate(ctx, list, keyField.name, signal);
      failed.n += await writePage(ctx, list, op, errors, backoff, signal);
      rows += page.length;
      lastKey = last;
      if (file)
        await saveCheckpoint(file, {
          ...identity,
          lastKey,
          rows,
        });
      request.onProgress?.(rows);
      if (!full) break;
    }
    if (file) await rm(file, { force: true });
    return { rows: Math.max(0, rows - failed.n), errors };
  } finally {
    endGate();
  }
}

/** pk mode: the documents whose pk field holds each action's key (the key itself when none). */
async function locate(
  ctx: EsEtlContext,
  list: readonly Action[],
  field: string,
  signal: AbortSignal,
): Promise<Action[]> {
  const searches = list.flatMap((a) => [
    { index: ctx.plan.index, ignore_unavailable: true },
    { query: { term: { [field]: a.value } }, size: 10_000, _source: false },
  ]);
  const answers = await ctx.api.msearch(searches, signal);
  const out: Action[] = [];
  list.forEach((a, n) => {
    const r = answers[n];
    if (!r || 'error' in r)
      throw new FatalError(
        `${ctx.where}: pk lookup of ${field} in ${ctx.plan.index} failed: ${r && 'error' in r ? `${r.error.type}: ${r.error.reason ?? ''}` : 'no answer'}`,
      );
    const ids = r.hits.hits.map((h) => h._id).filter((id): id is string => typeof id === 'string');
    for (const id of ids.length > 0 ? ids : [a.id]) out.push({ ...a, id });
  });
  return out;
}

/**
 * Indexes one page's actions through the gate, re-sending items answered 429/5xx; returns how
 * many items were rejected (each one also an error line).
 */
async function writePage(
  ctx: EsEtlContext,
  list: readonly Action[],
  op: 'index' | 'update',
  errors: string[],
  backoff: (attempt: number) => number,
  signal: AbortSignal,
): Promise<number> {
  const index = ctx.plan.index;
  let rejected = 0;
  let pending = list;
  for (let attempt = 1; pending.length > 0; attempt++) {
    const retry: Action[] = [];
    await ctx.gate.etlWrite(
      pending,
      (a) => docKey(index, a.id),
      async (kept) => {
        if (kept.length === 0) return;
        const lines: string[] = [];
        for (const a of kept) {
          lines.push(
            JSON.stringify({
              [op]: {
                _index: index,
                _id: a.id,
                ...(a.routing !== undefined ? { routing: a.routing } : {}),
              },
            }),
          );
          lines.push(JSON.stringify(op === 'index' ? a.doc : { doc: a.doc, doc_as_upsert: true }));
        }
        let items;
        try {
          items = await ctx.api.bulk(lines, signal);
        } catch (e) {
          // A whole request refused for the moment (429, 5xx, time-out): the page again.
          if (!(e instanceof RetryableError) || attempt >= ITEM_ATTEMPTS) throw e;
          retry.push(...kept);
          return;
        }
        if (items.length !== kept.length)
          throw new Error(
            `${ctx.where}: Elasticsearch answered ${items.length} bulk items for ${kept.length} actions`,
          );
        items.forEach((entry, n) => {
          const item = Object.values(entry)[0] as BulkItem;
          const s = item.status;
          if (s < 300) return;
          const why = `${item.error?.type ?? s}: ${item.error?.reason ?? ''}`;
          if (item.error?.type === 'index_not_found_exception')
            throw new FatalError(`${ctx.where}: index "${index}" does not exist (${why})`);
          if ((s === 429 || s >= 500) && attempt < ITEM_ATTEMPTS) {
            retry.push(kept[n]!);
            return;
          }
          rejected += 1;
          errors.push(`${index}/${kept[n]!.id}: Elasticsearch rejected ${op} (status ${s}) ${why}`);
        });
      },
    );
    pending = retry;
    if (pending.length > 0) await sleep(backoff(attempt), signal);
  }
  return rejected;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason as Error);
    const t = setTimeout(() => {
      signal.removeEventListener('abort', abort);
      resolve();
    }, ms);
    const abort = () => {
      clearTimeout(t);
      reject(signal.reason as Error);
    };
    signal.addEventListener('abort', abort, { once: true });
  });
}

async function saveCheckpoint(file: string, checkpoint: Checkpoint): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const tmp = `${file}.tmp`;
  await writeFile(tmp, JSON.stringify(checkpoint));
  await rename(tmp, file);
}
