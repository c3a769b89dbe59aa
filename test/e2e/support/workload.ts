/**
 * A canal-like change stream on one table (`shop.items`, PK `id`) with a few hot keys: inserts,
 * updates, PK-changing updates and deletes, as multi-row FlatMessages split over partitions with
 * canal's `$pk$` partition hash (a row goes where its *new* PK hashes, like canal does).
 *
 * PK changes only move a row to an id that hashes to the same partition, so every event of a
 * key lives in one partition and the sequential result is well defined per key (across
 * partitions canal gives no order at all); inside that partition the engine must still treat a
 * PK change as touching both keys.
 */
import {
  encodeFlatMessage,
  flatMessagePartitions,
  parsePartitionHash,
  rowPartition,
  type FlatMessage,
  type FlatRow,
} from '@sluice/canal-protocol';

export interface Row {
  id: string;
  name: string;
  qty: string;
}

export interface Workload {
  /** Per partition, the payloads in order (a fresh topic: index = offset). */
  readonly partitions: string[][];
  /** Per partition, the number of rows of each message (row index range for positions). */
  readonly rowsPerMessage: number[][];
  /** The sequential result: key (`shop.items:<id>`) → final row, or null when deleted. */
  readonly expected: Map<string, Row | null>;
  /** Statements generated. */
  readonly statements: number;
}

/** A small deterministic PRNG (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const RULES = parsePartitionHash('shop.items:$pk$');
const DATABASE = 'shop';

export interface WorkloadOptions {
  readonly partitions: number;
  readonly statements: number;
  /** Ids 1..keySpace may be used; the first `hot` take most of the traffic. */
  readonly keySpace?: number;
  readonly hot?: number;
  readonly seed?: number;
}

/** Generates the stream and its sequential result. */
export function generateWorkload(options: WorkloadOptions): Workload {
  const n = options.partitions;
  const keySpace = options.keySpace ?? 48;
  const hot = options.hot ?? 8;
  const random = rng(options.seed ?? 7);
  const partitionCache = new Map<number, number>();
  const partitionOf = (id: number): number => {
    let p = partitionCache.get(id);
    if (p === undefined) {
      p = rowPartition(DATABASE, { id: String(id) }, ['id'], { partitions: n });
      partitionCache.set(id, p);
    }
    return p;
  };
  const model = new Map<number, Row>();
  const partitions: string[][] = Array.from({ length: n }, () => []);
  const rowsPerMessage: number[][] = Array.from({ length: n }, () => []);
  const touched = new Set<number>();
  let batchId = 0;
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  // Draws `count` distinct items as if by splicing them one by one out of a copy of `pool`
  // (same random numbers, same result), without copying the pool.
  const pickKeys = (pool: number[], count: number): number[] => {
    const out: number[] = [];
    const taken: number[] = []; // pool indices already drawn, ascending
    while (out.length < count && taken.length < pool.length) {
      let index = Math.floor(random() * (pool.length - taken.length));
      for (const t of taken) if (t <= index) index += 1;
      out.push(pool[index]!);
      taken.push(index);
      taken.sort((a, b) => a - b);
    }
    return out;
  };
  const hotFirst = (pool: number[]) => {
    const hotOnes = pool.filter((id) => id <= hot);
    return hotOnes.length > 0 && random() < 0.75 ? hotOnes : pool;
  };

  const emit = (type: 'INSERT' | 'UPDATE' | 'DELETE', data: FlatRow[], old: FlatRow[] | null) => {
    batchId += 1;
    const message: FlatMessage = {
      id: batchId,
      database: DATABASE,
      table: 'items',
      pkNames: ['id'],
      isDdl: false,
      type,
      es: 1_700_000_000_000 + batchId * 1000,
      ts: 1_700_000_000_000 + batchId * 1000 + 1,
      sql: '',
      sqlType: { id: -5, name: 12, qty: 4 },
      mysqlType: { id: 'bigint(20)', name: 'varchar(64)', qty: 'int(11)' },
      data,
      old,
      gtid: '',
    };
    for (const [p, part] of flatMessagePartitions(message, RULES, { partitions: n })) {
      partitions[p]!.push(encodeFlatMessage(part));
      rowsPerMessage[p]!.push(part.data?.length ?? 0);
    }
  };

  for (let s = 0; s < options.statements; s++) {
    const present = [...model.keys()];
    const absentIds = () =>
      Array.from({ length: keySpace }, (_, i) => i + 1).filter((id) => !model.has(id));
    const roll = random();
    const count = 1 + Math.floor(random() * 3);
    if (present.length < 3 || roll < 0.2) {
      const ids = pickKeys(hotFirst(absentIds()), count);
      if (ids.length === 0) continue;
      const rows = ids.map((id) => ({
        id: String(id),
        name: `n${id}-${s}`,
        qty: String(Math.floor(random() * 100)),
      }));
      rows.forEach((r) => model.set(Number(r.id), r));
      ids.forEach((id) => touched.add(id));
      emit('INSERT', rows, null);
    } else if (roll < 0.65) {
      const ids = pickKeys(hotFirst(present), count);
      const data: FlatRow[] = [];
      const old: FlatRow[] = [];
      for (const id of ids) {
        const before = model.get(id)!;
        const after = { ...before, qty: String(Number(before.qty) + 1 + Math.floor(random() * 5)) };
        if (random() < 0.3) after.name = `n${id}-${s}`;
        const changed: FlatRow = { qty: before.qty };
        if (after.name !== before.name) changed.name = before.name;
        model.set(id, after);
        data.push({ ...after });
        old.push(changed);
      }
      emit('UPDATE', data, old);
    } else if (roll < 0.82) {
      // PK change: move one row to a free id of the same partition
      const id = pick(hotFirst(present));
      const targets = absentIds().filter((t) => partitionOf(t) === partitionOf(id));
      if (targets.length === 0) continue;
      const to = pick(targets);
      const before = model.get(id)!;
      const after = { ...before, id: String(to), qty: String(Number(before.qty) + 1) };
      model.delete(id);
      model.set(to, after);
      touched.add(to);
      emit('UPDATE', [{ ...after }], [{ id: before.id, qty: before.qty }]);
    } else {
      const ids = pickKeys(hotFirst(present), count);
      const rows = ids.map((id) => ({ ...model.get(id)! }));
      ids.forEach((id) => model.delete(id));
      emit('DELETE', rows, null);
    }
  }
  const expected = new Map<string, Row | null>();
  for (const id of touched) expected.set(`shop.items:${id}`, model.get(id) ?? null);
  return { partitions, rowsPerMessage, expected, statements: options.statements };
}

/** Splits each partition's messages into `chunks` consecutive slices (for producing in steps). */
export function chunked(workload: Workload, chunks: number): string[][][] {
  return Array.from({ length: chunks }, (_, c) =>
    workload.partitions.map((msgs) => {
      const size = Math.ceil(msgs.length / chunks);
      return msgs.slice(c * size, (c + 1) * size);
    }),
  );
}
