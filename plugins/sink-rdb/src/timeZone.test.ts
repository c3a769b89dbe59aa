import { describe, expect, it } from 'vitest';
import { isValidTimeZone, wallClockToUtc } from './timeZone.js';

describe('wallClockToUtc', () => {
  it('reads the text in the named zone (IANA names, offsets, UTC) and keeps the fraction', () => {
    expect(wallClockToUtc('2024-06-01 08:00:00.000001', 'Asia/Shanghai')).toBe(
      '2024-06-01 00:00:00.000001',
    );
    expect(wallClockToUtc('2024-06-01 08:00:00', '+08:00')).toBe('2024-06-01 00:00:00');
    expect(wallClockToUtc('2024-01-01 00:30:00', '-05:30')).toBe('2024-01-01 06:00:00');
    expect(wallClockToUtc('2024-06-01 08:00:00.5', 'UTC')).toBe('2024-06-01 08:00:00.5');
    expect(wallClockToUtc('0099-03-01 10:00:00', '+02:00')).toBe('0099-03-01 08:00:00');
    expect(wallClockToUtc('1000-01-01 10:00:00', 'Etc/GMT-2')).toBe('1000-01-01 08:00:00');
  });
  it('follows daylight saving time', () => {
    expect(wallClockToUtc('2024-07-01 12:00:00', 'America/New_York')).toBe('2024-07-01 16:00:00');
    expect(wallClockToUtc('2024-01-15 12:00:00', 'America/New_York')).toBe('2024-01-15 17:00:00');
  });
  it('leaves zero dates and other shapes alone', () => {
    expect(wallClockToUtc('0000-00-00 00:00:00', 'Asia/Shanghai')).toBe('0000-00-00 00:00:00');
    expect(wallClockToUtc('2024-00-10 00:00:00', 'Asia/Shanghai')).toBe('2024-00-10 00:00:00');
    expect(wallClockToUtc('not a date', 'Asia/Shanghai')).toBe('not a date');
  });
  it('tells zones from nonsense', () => {
    expect(isValidTimeZone('Asia/Shanghai')).toBe(true);
    expect(isValidTimeZone('+08:00')).toBe(true);
    expect(isValidTimeZone('Mars/Olympus')).toBe(false);
  });
});
