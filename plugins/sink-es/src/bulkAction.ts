import type { EsJson } from './esValue.js';

/** One `_bulk` action of a sink record: index, update (upsert) or delete of one document. */
export interface Action {
  readonly record: number;
  readonly op: 'index' | 'update' | 'delete';
  readonly index: string;
  readonly id: string;
  readonly version: string | undefined;
  /** The shard routing (a child document's parent id), if any. */
  readonly routing: string | undefined;
  readonly doc: Record<string, EsJson> | undefined;
}

/**
 * The action line of `a` in a `_bulk` body: `{"<op>":{"_index":…,"_id":…[,"routing":…]
 * [,"version":N,"version_type":"external"]}}`. The version is written as a raw JSON number: it
 * may exceed 2^53.
 */
export function actionLine(a: Action): string {
  const routing = a.routing === undefined ? '' : `,"routing":${JSON.stringify(a.routing)}`;
  const version =
    a.version === undefined ? '' : `,"version":${a.version},"version_type":"external"`;
  return `{"${a.op}":{"_index":${JSON.stringify(a.index)},"_id":${JSON.stringify(a.id)}${routing}${version}}}`;
}

/** What every action of one record shares. */
export interface ActionBase {
  readonly record: number;
  readonly index: string;
  readonly version: string | undefined;
}

/**
 * One action, every field set in one order (one object shape: spreading `base` into each action
 * cost more than building its document in the es-sink benchmark profile).
 */
export function action(
  base: ActionBase,
  op: Action['op'],
  id: string,
  routing: string | undefined,
  doc?: Record<string, EsJson>,
): Action {
  return { record: base.record, op, index: base.index, id, version: base.version, routing, doc };
}
