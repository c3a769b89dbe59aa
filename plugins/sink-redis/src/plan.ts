/**
 * What one event does to Redis, as a list of commands (pure: no I/O). The sink pipelines the
 * commands of a whole batch.
 *
 * - evict mode: UNLINK every key rendered from the `before` image and from the `after` image (an
 *   UPDATE that changed a key column evicts both the old and the new keys; DELETE the old ones;
 *   INSERT the new ones, which clears negative-cache entries).
 * - write mode: the `after` image's `keys` are written (versioned, see scripts.ts); keys of the
 *   `before` image that the `after` image no longer renders (a key-column change, a DELETE) get a
 *   versioned tombstone. `evictKeys` are UNLINKed from both images in both modes.
 * - with `delayedEviction`, every UNLINKed or tombstoned key is also scheduled for a second
 *   eviction (ZADD to the schedule; member {@link scheduleMember}). A tombstoned key's second
 *   eviction is conditional: it deletes the value only while the key's version is still the
 *   tombstone's, so it never removes a value a newer event wrote meanwhile.
 */
import { PermanentEventError, type RowChangeEvent, type RowImage } from '@sluice/plugin-api';
import { DecodeError } from '@sluice/canal-protocol';
import { renderKey, type KeyTemplate } from './keyTemplate.js';
import type { CompiledMapping } from './mapping.js';
import { MissingColumnError, hashValue, jsonValue } from './rowValue.js';
import { encodeVersion, versionKeyOf } from './version.js';

/** One Redis command of a plan. `key` decides the Cluster slot. */
export type Command =
  | { readonly kind: 'unlink'; readonly key: string }
  | {
      readonly kind: 'apply';
      readonly key: string;
      readonly versionKey: string;
      /** op, version, valueTtlMs, versionTtlMs, ...payload (see APPLY_SCRIPT). */
      readonly args: readonly (string | number)[];
    }
  | {
      readonly kind: 'schedule';
      readonly key: string;
      readonly member: string;
      readonly dueMs: number;
    }
  /** Deletes `key` only while `versionKey` holds `version` (a delayed eviction of a tombstone). */
  | {
      readonly kind: 'evictIf';
      readonly key: string;
      readonly versionKey: string;
      readonly version: string;
    };

/**
 * A schedule member: `<dueMs>|<JSON [key]>` for an UNLINK, `<dueMs>|<JSON [key, version]>` for a
 * conditional eviction of a tombstoned key. The due time keeps members of the same key at
 * different times apart, so removing a drained member never removes a later one.
 */
export function scheduleMember(dueMs: number, key: string, version?: string): string {
  return `${dueMs}|${JSON.stringify(version === undefined ? [key] : [key, version])}`;
}

/** Parses a {@link scheduleMember}; `undefined` for a malformed one. */
export function parseScheduleMember(
  member: string,
): { readonly key: string; readonly version: string | undefined } | undefined {
  try {
    const parsed: unknown = JSON.parse(member.slice(member.indexOf('|') + 1));
    if (!Array.isArray(parsed) || typeof parsed[0] !== 'string') return undefined;
    return { key: parsed[0], version: typeof parsed[1] === 'string' ? parsed[1] : undefined };
  } catch {
    return undefined;
  }
}

/** Whether an UPDATE touches the cache under the mapping's `condition`. */
export function updateActs(event: RowChangeEvent, mapping: CompiledMapping): boolean {
  if (event.type !== 'UPDATE' || event.changed.length === 0) return true;
  if (event.changed.some((c) => mapping.keyColumns.has(c))) return true;
  if (mapping.changedColumns.size > 0)
    return event.changed.some((c) => mapping.changedColumns.has(c));
  if (mapping.ignoredColumns.size > 0)
    return !event.changed.every((c) => mapping.ignoredColumns.has(c));
  return true;
}

function render(
  templates: readonly KeyTemplate[],
  image: RowImage | undefined,
  which: 'before' | 'after',
  prefix: string,
  into: Set<string>,
): void {
  if (!image) return;
  for (const t of templates) {
    const key = renderKey(t, image, prefix);
    if (typeof key === 'string') into.add(key);
    else if ('missing' in key)
      throw new PermanentEventError(
        `Column "${key.missing}" of key template "${t.source}" is not in the ${which} image of the event, so the key cannot be computed.`,
      );
  }
}

/** Options of {@link planEvent}. */
export interface PlanOptions {
  readonly prefix: string;
  /** The delayed-eviction schedule key. */
  readonly scheduleKey: string;
  /** Now, ms since the epoch. */
  readonly now: number;
}

/**
 * The commands for one row event.
 *
 * @throws PermanentEventError when a key or the value cannot be computed from the event (a key
 *   column or projected column missing from the image, a value that does not fit its type, a
 *   position that cannot be encoded).
 */
export function planEvent(
  event: RowChangeEvent,
  mapping: CompiledMapping,
  options: PlanOptions,
): Command[] {
  if (!updateActs(event, mapping)) return [];
  const { prefix } = options;
  const before = event.type === 'INSERT' ? undefined : event.before;
  const after = event.type === 'DELETE' ? undefined : event.after;
  const out: Command[] = [];
  const evicted = new Set<string>();
  render(mapping.evictKeys, before, 'before', prefix, evicted);
  render(mapping.evictKeys, after, 'after', prefix, evicted);
  const delayed: Array<readonly [key: string, version?: string]> = [];
  if (mapping.mode === 'evict') {
    render(mapping.keys, before, 'before', prefix, evicted);
    render(mapping.keys, after, 'after', prefix, evicted);
  } else {
    const oldKeys = new Set<string>();
    const newKeys = new Set<string>();
    render(mapping.keys, before, 'before', prefix, oldKeys);
    render(mapping.keys, after, 'after', prefix, newKeys);
    let version: string;
    let payload: string[];
    try {
      version = encodeVersion(event.position);
      payload =
        after === undefined
          ? []
          : mapping.format === 'json'
            ? [jsonValue(after, event.columns, mapping.fields)]
            : hashValue(after, mapping.fields);
    } catch (error) {
      if (
        error instanceof MissingColumnError ||
        error instanceof DecodeError ||
        error instanceof RangeError
      )
        throw new PermanentEventError(`The value cannot be built: ${error.message}`, {
          cause: error,
        });
      throw error;
    }
    for (const key of oldKeys) {
      if (newKeys.has(key)) continue;
      out.push({
        kind: 'apply',
        key,
        versionKey: versionKeyOf(key),
        args: ['del', version, 0, mapping.tombstoneTtlMs],
      });
      delayed.push([key, version]);
    }
    const versionTtl = mapping.ttlMs > 0 ? Math.max(mapping.ttlMs, mapping.tombstoneTtlMs) : 0;
    for (const key of newKeys) {
      out.push({
        kind: 'apply',
        key,
        versionKey: versionKeyOf(key),
        args: [mapping.format, version, mapping.ttlMs, versionTtl, ...payload],
      });
    }
  }
  for (const key of evicted) {
    out.push({ kind: 'unlink', key });
    delayed.push([key]);
  }
  if (mapping.delayMs > 0) {
    const dueMs = options.now + mapping.delayMs;
    for (const [key, version] of delayed)
      out.push({
        kind: 'schedule',
        key: options.scheduleKey,
        member: scheduleMember(dueMs, key, version),
        dueMs,
      });
  }
  return out;
}
