/**
 * What the sink knows about a target table: its columns and their types, read from the target's
 * catalog (`information_schema.columns`), never guessed from the source.
 */

/**
 * How a target column takes values. MySQL/MariaDB `DATA_TYPE` and PostgreSQL `data_type` are
 * mapped onto these (`mysqlFamily` and `pgFamily` in catalog.ts).
 */
export type TargetFamily =
  | 'integer'
  | 'boolean'
  | 'decimal'
  | 'float'
  | 'bit'
  | 'enum'
  | 'set'
  | 'date'
  | 'datetime'
  /** An instant: MySQL TIMESTAMP, PostgreSQL timestamptz. */
  | 'timestamp'
  | 'time'
  | 'interval'
  | 'year'
  | 'json'
  | 'text'
  | 'binary'
  | 'other';

/** One column of a target table. */
export interface TargetColumn {
  /** The name as the catalog spells it (used, quoted, in every statement). */
  readonly name: string;
  /** The catalog's type name, lower case (`tinyint`, `character varying`). */
  readonly dataType: string;
  readonly family: TargetFamily;
  /** BIT(n)/bit(n) width; 0 when not a bit type or unknown. */
  readonly bitWidth: number;
  /** PostgreSQL `bit(n)` (fixed width, padded) rather than `bit varying`. */
  readonly fixedBits: boolean;
}

/** A target table as the catalog describes it. */
export interface TargetTable {
  readonly schema: string;
  readonly table: string;
  readonly columns: readonly TargetColumn[];
  /** Finds a column: exact name first, then a unique case-insensitive match. */
  column(name: string): TargetColumn | undefined;
}

/** Builds a {@link TargetTable} from its columns. */
export function targetTable(
  schema: string,
  table: string,
  columns: readonly TargetColumn[],
): TargetTable {
  const exact = new Map<string, TargetColumn>();
  const folded = new Map<string, TargetColumn | null>();
  for (const c of columns) {
    exact.set(c.name, c);
    const lower = c.name.toLowerCase();
    folded.set(lower, folded.has(lower) ? null : c);
  }
  return {
    schema,
    table,
    columns,
    column(name) {
      return exact.get(name) ?? folded.get(name.toLowerCase()) ?? undefined;
    },
  };
}
