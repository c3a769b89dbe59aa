/**
 * The operations of one row event (INSERT/UPDATE → upsert, DELETE → delete by key, an UPDATE that
 * moves the key → delete old + upsert new), planned through a compiled row shape.
 *
 * {@link planRowReference} is the definition: it resolves every column of every row by name
 * (route.ts) and converts every value with {@link toParam}. {@link planRow} returns the same
 * operations, but resolves the columns once per row shape — the same route, target table, image
 * keys (in order), column types and key names — and converts with compiled converters
 * (fastConvert.ts). Whenever the fast path meets something it does not cover (a shape that cannot
 * be compiled, a value a converter rejects, a non-text value, images of different shapes), it
 * hands the event to the reference, which returns the result or throws the error the row gets.
 */
import type { ColumnMeta, RowChangeEvent, RowImage } from '@sluice/plugin-api';
import type { ConvertOptions } from './convert.js';
import { converterFor, type Converter } from './fastConvert.js';
import type { Operation } from './plan.js';
import {
  keyId,
  looseKeyId,
  sourceKeyText,
  targetKey,
  targetRow,
  type Route,
  type TargetKey,
  type TargetRow,
} from './route.js';
import type { Param } from './statementSql.js';
import type { TargetColumn, TargetTable } from './targetTypes.js';

/** The operations of one row event, resolved by name for every row (the definition). */
export function planRowReference(
  event: RowChangeEvent,
  route: Route,
  table: TargetTable,
  name: string,
  o: ConvertOptions,
): Operation[] {
  const upsert = (image: NonNullable<RowChangeEvent['after']>): Operation => {
    const key = targetKey(event, image, route, table, o);
    const row = targetRow(event, image, route, table, o);
    // The key columns must be in the INSERT even when targetColumns leaves them out.
    const columns = [...row.columns];
    const values = [...row.values];
    key.columns.forEach((c, i) => {
      if (!columns.includes(c)) {
        columns.push(c);
        values.push(key.values[i]!);
      }
    });
    return { kind: 'upsert', table: name, row: { columns, values }, key };
  };
  switch (event.type) {
    case 'INSERT':
      return [upsert(event.after ?? {})];
    case 'DELETE':
      return [
        { kind: 'delete', table: name, key: targetKey(event, event.before ?? {}, route, table, o) },
      ];
    case 'UPDATE': {
      const after = event.after ?? {};
      const before = event.before ?? after;
      if (sourceKeyText(event, before, route) !== sourceKeyText(event, after, route))
        return [
          { kind: 'delete', table: name, key: targetKey(event, before, route, table, o) },
          upsert(after),
        ];
      return [upsert(after)];
    }
  }
}

/* ------------------------------------------------------------------ compiled shapes */

const hasOwn = (o: object, k: string): boolean => Object.prototype.hasOwnProperty.call(o, k);

/** route.ts `lookup`, over an image's key list. */
function lookupIn(keys: readonly string[], source: string, ci: boolean): string | undefined {
  if (keys.includes(source)) return source;
  if (!ci) return undefined;
  const lower = source.toLowerCase();
  for (const k of keys) if (k.toLowerCase() === lower) return k;
  return undefined;
}

interface KeyPart {
  /** Image key the value comes from. */
  readonly source: string;
  readonly convert: Converter;
  /** Index of the same (source, target column) in the row's values, or -1. */
  readonly rowIndex: number;
}

interface RowPart {
  readonly columns: readonly string[];
  /** Image key per column; for key columns appended to the row, the key part's source. */
  readonly sources: readonly string[];
  readonly converters: readonly Converter[];
  /** Number of row entries converted from the image (the rest are key columns appended). */
  readonly converted: number;
  /** Key part index of each appended column. */
  readonly appended: readonly number[];
}

/** One compiled row shape (see the module comment). */
interface Shape {
  readonly keys: readonly string[];
  /** The event column map it was compiled for (identity; contents compared when it differs). */
  columnsMeta: Readonly<Record<string, ColumnMeta>>;
  /** mysqlType/sqlType of each image key (undefined when the event has no entry). */
  readonly metaOfKey: readonly (ColumnMeta | undefined)[];
  /** The event's pkNames it was compiled for (only matters without targetPk). */
  pkNames: readonly string[];
  readonly keyColumns: readonly string[];
  readonly keyParts: readonly KeyPart[];
  /** The row part, or undefined when the reference's targetRow throws for this shape. */
  readonly row: RowPart | undefined;
}

function compile(
  event: RowChangeEvent,
  keys: readonly string[],
  route: Route,
  table: TargetTable,
  o: ConvertOptions,
): Shape | undefined {
  const meta = event.columns;
  const metaOf = (k: string): ColumnMeta | undefined => (hasOwn(meta, k) ? meta[k] : undefined);
  const column = (target: string): TargetColumn | undefined => table.column(target);

  // Key (route.ts targetKey).
  const pairs: readonly (readonly [string, string])[] =
    route.key.length > 0 ? route.key : event.pkNames.map((n) => [n, n] as const);
  if (pairs.length === 0) return undefined;
  const keyCi = route.caseInsensitive || route.key.length === 0;
  const keyColumns: string[] = [];
  const keyTargets: { source: string; col: TargetColumn }[] = [];
  for (const [target, source] of pairs) {
    const k = lookupIn(keys, source, keyCi);
    if (k === undefined) return undefined;
    const col = column(target);
    if (!col) return undefined;
    keyColumns.push(col.name);
    keyTargets.push({ source: k, col });
  }

  // Row (route.ts targetRow), when it can be built.
  let row: RowPart | undefined;
  const columns: string[] = [];
  const sources: string[] = [];
  const converters: Converter[] = [];
  let rowOk = true;
  const seen = new Set<string>();
  const add = (target: string, source: string): void => {
    const k = lookupIn(keys, source, route.caseInsensitive);
    if (k === undefined || !rowOk) return;
    const col = column(target);
    if (!col) {
      rowOk = false;
      return;
    }
    if (seen.has(col.name)) return;
    seen.add(col.name);
    columns.push(col.name);
    sources.push(k);
    converters.push(converterFor(metaOf(k), col, o, k));
  };
  for (const [target, source] of route.columns) add(target, source);
  if (route.mapAll) {
    const explicit = new Set(
      route.columns.map(([, s]) => (route.caseInsensitive ? s.toLowerCase() : s)),
    );
    for (const source of keys) {
      if (explicit.has(route.caseInsensitive ? source.toLowerCase() : source)) continue;
      add(source, source);
    }
  }
  if (columns.length === 0) rowOk = false;

  const keyParts: KeyPart[] = keyTargets.map(({ source, col }) => {
    // (Also when the row cannot be built: its converter is the one a key needs all the same.)
    const rowIndex = columns.findIndex((c, i) => c === col.name && sources[i] === source);
    return {
      source,
      convert: rowIndex >= 0 ? converters[rowIndex]! : converterFor(metaOf(source), col, o, source),
      rowIndex,
    };
  });

  if (rowOk) {
    const converted = columns.length;
    const appended: number[] = [];
    // planRowReference: key columns the row lacks are appended with the key's values.
    keyColumns.forEach((c, i) => {
      if (!columns.includes(c)) {
        columns.push(c);
        sources.push(keyParts[i]!.source);
        appended.push(i);
      }
    });
    row = { columns, sources, converters, converted, appended };
  }
  return {
    keys,
    columnsMeta: meta,
    metaOfKey: keys.map(metaOf),
    pkNames: event.pkNames,
    keyColumns,
    keyParts,
    row,
  };
}

function sameStrings(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Whether `shape` was compiled for rows like `image` of `event` (keys, types, key names). */
function fits(shape: Shape, event: RowChangeEvent, keys: readonly string[], route: Route): boolean {
  if (!sameStrings(shape.keys, keys)) return false;
  if (shape.columnsMeta !== event.columns) {
    const meta = event.columns;
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i]!;
      const m = hasOwn(meta, k) ? meta[k] : undefined;
      const s = shape.metaOfKey[i];
      if (m === s) continue;
      if (
        m === undefined ||
        s === undefined ||
        m.mysqlType !== s.mysqlType ||
        m.sqlType !== s.sqlType
      )
        return false;
    }
    shape.columnsMeta = meta;
  }
  if (route.key.length === 0 && shape.pkNames !== event.pkNames) {
    if (!sameStrings(shape.pkNames, event.pkNames)) return false;
    shape.pkNames = event.pkNames;
  }
  return true;
}

/** Thrown inside the fast path to hand the event to the reference (allocated once). */
const BAIL = new Error('rowPlan: the reference plans this event');

function value(image: RowImage, source: string, convert: Converter): Param {
  const raw = image[source];
  if (raw === null || raw === undefined) return null;
  if (typeof raw !== 'string') throw BAIL;
  return convert(raw);
}

function keyOf(shape: Shape, image: RowImage, rowValues: readonly Param[] | undefined): TargetKey {
  const parts = shape.keyParts;
  const values: Param[] = new Array<Param>(parts.length);
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i]!;
    values[i] =
      rowValues !== undefined && p.rowIndex >= 0
        ? rowValues[p.rowIndex]!
        : value(image, p.source, p.convert);
  }
  const id = keyId(values);
  return { columns: shape.keyColumns, values, id, looseId: looseKeyId(values, id) };
}

function upsertOf(shape: Shape, image: RowImage, name: string): Operation {
  const r = shape.row;
  if (r === undefined) throw BAIL;
  const values: Param[] = new Array<Param>(r.columns.length);
  for (let i = 0; i < r.converted; i++) values[i] = value(image, r.sources[i]!, r.converters[i]!);
  // Reference order: the key's values are converted before the row's; both are pure, so the
  // values are the same; a value that fails makes the reference run (and throw) anyway.
  const key = keyOf(shape, image, values);
  for (let j = 0; j < r.appended.length; j++) values[r.converted + j] = key.values[r.appended[j]!]!;
  const row: TargetRow = { columns: r.columns, values };
  return { kind: 'upsert', table: name, row, key };
}

/**
 * Whether two raw key values are the same key (route.ts `sourceKeyText`: NULL and absent alike).
 * Values that are not text differ here even when their texts are equal: the fast path then plans
 * a key move, converts them, and hands the event to the reference, which decides.
 */
const sameRaw = (a: unknown, b: unknown): boolean => (a ?? null) === (b ?? null);

/** Compiled shapes of one (route, target table, name, options). */
class Planner {
  readonly #route: Route;
  readonly #table: TargetTable;
  readonly #name: string;
  readonly #o: ConvertOptions;
  #shapes: Shape[] = [];

  constructor(route: Route, table: TargetTable, name: string, o: ConvertOptions) {
    this.#route = route;
    this.#table = table;
    this.#name = name;
    this.#o = { kind: o.kind, instantsFromZone: o.instantsFromZone };
  }

  matches(name: string, o: ConvertOptions): boolean {
    return (
      this.#name === name &&
      this.#o.kind === o.kind &&
      this.#o.instantsFromZone === o.instantsFromZone
    );
  }

  #shape(event: RowChangeEvent, image: RowImage): Shape | undefined {
    const keys = Object.keys(image);
    const shapes = this.#shapes;
    for (let i = 0; i < shapes.length; i++) {
      const s = shapes[i]!;
      if (fits(s, event, keys, this.#route)) {
        if (i > 0) {
          shapes.splice(i, 1);
          shapes.unshift(s);
        }
        return s;
      }
    }
    const s = compile(event, keys, this.#route, this.#table, this.#o);
    if (s === undefined) return undefined;
    shapes.unshift(s);
    if (shapes.length > 8) shapes.pop();
    return s;
  }

  /** The operations, or undefined when the reference must decide. */
  plan(event: RowChangeEvent): Operation[] | undefined {
    try {
      switch (event.type) {
        case 'INSERT': {
          const after = event.after ?? {};
          const s = this.#shape(event, after);
          return s === undefined ? undefined : [upsertOf(s, after, this.#name)];
        }
        case 'DELETE': {
          const before = event.before ?? {};
          const s = this.#shape(event, before);
          if (s === undefined) return undefined;
          return [{ kind: 'delete', table: this.#name, key: keyOf(s, before, undefined) }];
        }
        case 'UPDATE': {
          const after = event.after ?? {};
          const before = event.before ?? after;
          const s = this.#shape(event, after);
          if (s === undefined) return undefined;
          if (before !== after) {
            // canal's before image is the after image with `old` laid over it: same keys.
            if (!sameStrings(Object.keys(before), s.keys)) return undefined;
            let moved = false;
            for (const p of s.keyParts)
              if (!sameRaw(before[p.source], after[p.source])) {
                moved = true;
                break;
              }
            if (moved)
              return [
                { kind: 'delete', table: this.#name, key: keyOf(s, before, undefined) },
                upsertOf(s, after, this.#name),
              ];
          }
          return [upsertOf(s, after, this.#name)];
        }
        default:
          return undefined;
      }
    } catch {
      // BAIL, or a value a converter rejected: the reference gives the result or the error.
      return undefined;
    }
  }
}

const planners = new WeakMap<TargetTable, Map<Route, Planner[]>>();

function plannerFor(route: Route, table: TargetTable, name: string, o: ConvertOptions): Planner {
  let byRoute = planners.get(table);
  if (byRoute === undefined) planners.set(table, (byRoute = new Map()));
  let list = byRoute.get(route);
  if (list === undefined) byRoute.set(route, (list = []));
  for (const p of list) if (p.matches(name, o)) return p;
  const p = new Planner(route, table, name, o);
  list.push(p);
  return p;
}

/**
 * The operations of one row event: the same as {@link planRowReference} (see the module
 * comment). Throws what the reference throws (MappingError, ValueError, DecodeError).
 */
export function planRow(
  event: RowChangeEvent,
  route: Route,
  table: TargetTable,
  name: string,
  o: ConvertOptions,
): Operation[] {
  return (
    plannerFor(route, table, name, o).plan(event) ?? planRowReference(event, route, table, name, o)
  );
}

/**
 * {@link planRow} bound to one route, target table, quoted name and options (its compiled
 * shapes are shared with planRow's for the same arguments): for callers that plan many rows.
 */
export function rowPlanner(
  route: Route,
  table: TargetTable,
  name: string,
  o: ConvertOptions,
): (event: RowChangeEvent) => Operation[] {
  const planner = plannerFor(route, table, name, o);
  const options: ConvertOptions = { kind: o.kind, instantsFromZone: o.instantsFromZone };
  return (event) => planner.plan(event) ?? planRowReference(event, route, table, name, options);
}
