import { currentImage, type ChangeEvent, type ColumnValue } from '@sluice/plugin-api';

const show = (v: ColumnValue | undefined): string => (v === null || v === undefined ? 'NULL' : JSON.stringify(v));

/**
 * One readable line per change: `database.table TYPE [key] changes`.
 *
 *     mytest.user INSERT [id=1] name="Alice" role_id="2"
 *     mytest.user UPDATE [id=1] name: "Alice" → "Alicia"
 *     mytest.user DELETE [id=1]
 *     mytest.user ALTER ALTER TABLE user ADD COLUMN ...
 */
export function formatChange(event: ChangeEvent): string {
  const where = `${event.database}.${event.table}`;
  if (event.kind === 'ddl') return `${where} ${event.type} ${event.sql}`;
  const image = currentImage(event);
  const key = event.pkNames.length > 0 ? event.pkNames.map((k) => `${k}=${show(image[k]).replace(/^"(.*)"$/, '$1')}`).join(',') : 'no key';
  let detail = '';
  if (event.type === 'INSERT') {
    detail = Object.entries(image)
      .filter(([k]) => !event.pkNames.includes(k))
      .map(([k, v]) => `${k}=${show(v)}`)
      .join(' ');
  } else if (event.type === 'UPDATE') {
    detail = event.changed.map((k) => `${k}: ${show(event.before?.[k])} → ${show(event.after?.[k])}`).join(', ');
  }
  return `${where} ${event.type} [${key}]${detail ? ' ' + detail : ''}`;
}
