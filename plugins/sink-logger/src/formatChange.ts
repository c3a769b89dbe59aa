import {
  currentImage,
  type ChangeEvent,
  type ColumnMeta,
  type ColumnValue,
} from '@sluice/plugin-api';

/** BLOB/BINARY/VARBINARY/GEOMETRY columns: canal sends their bytes as latin-1 text. */
const BINARY_TYPE = /blob|binary|geometry/i;

function show(value: ColumnValue | undefined, meta: ColumnMeta | undefined): string {
  if (value === null || value === undefined) return 'NULL';
  if (meta && BINARY_TYPE.test(meta.mysqlType))
    return `0x${Buffer.from(value, 'latin1').toString('hex')}`;
  return JSON.stringify(value);
}

/**
 * One readable line per change: `database.table TYPE [key] changes`. Binary columns print as hex.
 *
 *     mytest.user INSERT [id=1] name="Alice" role_id="2" avatar=0x89504e47
 *     mytest.user UPDATE [id=1] name: "Alice" → "Alicia"
 *     mytest.user UPDATE [id=3→30] id: "3" → "30"
 *     mytest.user DELETE [id=1]
 *     mytest.user ALTER ALTER TABLE user ADD COLUMN ...
 *     mytest CREATE CREATE DATABASE mytest
 */
export function formatChange(event: ChangeEvent): string {
  // Database-level DDL (CREATE DATABASE, DROP DATABASE) has no table: `shop`, not `shop.`.
  const where = event.table ? `${event.database}.${event.table}` : event.database || '-';
  if (event.kind === 'ddl') return `${where} ${event.type} ${event.sql}`;
  const image = currentImage(event);
  const cell = (k: string, v: ColumnValue | undefined) => show(v, event.columns[k]);
  const keyPart = (k: string) => {
    const now = cell(k, image[k]).replace(/^"(.*)"$/, '$1');
    const was =
      event.type === 'UPDATE' && event.changed.includes(k)
        ? cell(k, event.before?.[k]).replace(/^"(.*)"$/, '$1')
        : undefined;
    return was === undefined ? `${k}=${now}` : `${k}=${was}→${now}`;
  };
  const key = event.pkNames.length > 0 ? event.pkNames.map(keyPart).join(',') : 'no key';
  let detail = '';
  if (event.type === 'INSERT') {
    detail = Object.entries(image)
      .filter(([k]) => !event.pkNames.includes(k))
      .map(([k, v]) => `${k}=${cell(k, v)}`)
      .join(' ');
  } else if (event.type === 'UPDATE') {
    detail = event.changed
      .map((k) => `${k}: ${cell(k, event.before?.[k])} → ${cell(k, event.after?.[k])}`)
      .join(', ');
  }
  return `${where} ${event.type} [${key}]${detail ? ' ' + detail : ''}`;
}
