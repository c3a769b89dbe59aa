/**
 * Wall-clock text in a named zone → the same instant as UTC wall-clock text. Used for MySQL
 * TIMESTAMP targets when `sourceTimeZone` is set (the session then runs at `+00:00`).
 */

const OFFSET = /^(?:UTC|GMT|Z)?([+-])(\d{1,2}):?(\d{2})$/i;
const WALL = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(\.\d+)?$/;

/** True when `zone` is a zone this module understands (IANA name, `UTC`, or `±HH:MM`). */
export function isValidTimeZone(zone: string): boolean {
  if (OFFSET.test(zone) || /^(UTC|GMT|Z)$/i.test(zone)) return true;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

const formatters = new Map<string, Intl.DateTimeFormat>();

/** Offset of `zone` from UTC at instant `utcMs`, in ms (east positive). */
function offsetAt(zone: string, utcMs: number): number {
  if (/^(UTC|GMT|Z)$/i.test(zone)) return 0;
  const m = OFFSET.exec(zone);
  if (m) return (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3])) * 60_000;
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(zone, f);
  }
  const parts: Record<string, number> = {};
  for (const p of f.formatToParts(new Date(utcMs))) parts[p.type] = Number(p.value);
  const asUtc =
    new Date(0).setUTCFullYear(parts['year']!, parts['month']! - 1, parts['day']!) +
    ((parts['hour']! * 60 + parts['minute']!) * 60 + parts['second']!) * 1000;
  // `utcMs` is whole seconds (wallClockToUtc keeps the fraction as text), like the parts.
  return asUtc - utcMs;
}

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

/**
 * Converts `YYYY-MM-DD HH:MM:SS[.f…]` read in `zone` into UTC text of the same shape (the
 * fraction is kept as written). Zero dates and text of another shape are returned unchanged:
 * they are not instants, and the target decides what to do with them.
 */
export function wallClockToUtc(text: string, zone: string): string {
  const m = WALL.exec(text);
  if (!m) return text;
  const [y, mo, d, h, mi, s] = [m[1], m[2], m[3], m[4], m[5], m[6]].map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  if (y === 0 || mo === 0 || d === 0) return text;
  // Date.UTC maps years 0–99 to 1900–1999; setUTCFullYear does not.
  const wall = new Date(0).setUTCFullYear(y, mo - 1, d) + ((h * 60 + mi) * 60 + s) * 1000;
  let utc = wall - offsetAt(zone, wall);
  utc = wall - offsetAt(zone, utc);
  const t = new Date(utc);
  return (
    `${pad(t.getUTCFullYear(), 4)}-${pad(t.getUTCMonth() + 1)}-${pad(t.getUTCDate())} ` +
    `${pad(t.getUTCHours())}:${pad(t.getUTCMinutes())}:${pad(t.getUTCSeconds())}${m[7] ?? ''}`
  );
}
