import {
  PermanentEventError,
  type ChangeEvent,
  type ColumnValue,
  type RowImage,
} from '@sluice/plugin-api';

/** A row as a target holds it: column → value (text or null, like canal's values). */
export type Row = Readonly<Record<string, ColumnValue>>;

/** The state of one table: primary-key value(s) → row. Composite keys are joined with `,`. */
export type TableState = Map<string, Row>;

/**
 * The key of a row image under `pkNames`: the values joined with `,`.
 *
 * @throws PermanentEventError when there is no primary key or a key column is missing/NULL.
 */
export function rowKey(pkNames: readonly string[], image: RowImage | undefined): string {
  if (pkNames.length === 0)
    throw new PermanentEventError('The table has no primary key, so rows cannot be addressed.');
  return pkNames
    .map((k) => {
      const v = image?.[k];
      if (v === null || v === undefined)
        throw new PermanentEventError(`The primary-key column "${k}" is missing or NULL.`);
      return v;
    })
    .join(',');
}

/**
 * Applies one event to `tables` (`database.table` → state) with upsert/delete-by-key semantics:
 * the reference model the contract suite compares targets with. INSERT and UPDATE store the after
 * image (an UPDATE that changes the key removes the old key), DELETE removes the key, TRUNCATE
 * empties the table, other DDL changes nothing.
 *
 * @throws PermanentEventError for a row event that has no usable primary key.
 */
export function applyEvent(tables: Map<string, TableState>, event: ChangeEvent): void {
  const name = `${event.database}.${event.table}`;
  let table = tables.get(name);
  if (event.kind === 'ddl') {
    if (event.type === 'TRUNCATE') table?.clear();
    return;
  }
  if (event.type === 'DELETE') {
    table?.delete(rowKey(event.pkNames, event.before));
    return;
  }
  const key = rowKey(event.pkNames, event.after);
  const oldKey =
    event.type === 'UPDATE' && event.before ? rowKey(event.pkNames, event.before) : undefined;
  if (!table) tables.set(name, (table = new Map()));
  if (oldKey !== undefined && oldKey !== key) table.delete(oldKey);
  table.set(key, { ...event.after });
}
