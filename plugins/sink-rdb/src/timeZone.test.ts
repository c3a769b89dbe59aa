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

describe('time zones: offsets and names', () => {
  it('reads ±H:MM, ±HHMM, UTC±, GMT± and Z forms, east positive', () => {
    expect(wallClockToUtc('2024-06-01 08:00:00', '+0800')).toBe('2024-06-01 00:00:00');
    expect(wallClockToUtc('2024-06-01 08:00:00', 'UTC+8:00')).toBe('2024-06-01 00:00:00');
    expect(wallClockToUtc('2024-06-01 08:00:00', 'GMT-01:00')).toBe('2024-06-01 09:00:00');
    expect(wallClockToUtc('2024-06-01 08:00:00', 'Z')).toBe('2024-06-01 08:00:00');
    expect(wallClockToUtc('2024-06-01 08:00:00', 'gmt')).toBe('2024-06-01 08:00:00');
    expect(wallClockToUtc('2024-06-01T08:00:00', '+01:00')).toBe('2024-06-01 07:00:00');
    expect(wallClockToUtc('2024-01-01 00:10:00', '+00:30')).toBe('2023-12-31 23:40:00');
  });

  it('crosses day, month and year boundaries and pads every part', () => {
    expect(wallClockToUtc('2024-03-01 01:02:03', 'Asia/Tokyo')).toBe('2024-02-29 16:02:03');
    expect(wallClockToUtc('2023-12-31 23:59:59', 'America/Los_Angeles')).toBe(
      '2024-01-01 07:59:59',
    );
    expect(wallClockToUtc('0001-01-01 00:00:00', '-01:00')).toBe('0001-01-01 01:00:00');
  });

  it('reads a wall clock in a zone with an offset of minutes and seconds history', () => {
    expect(wallClockToUtc('2024-06-01 12:00:00', 'Asia/Kolkata')).toBe('2024-06-01 06:30:00');
    expect(wallClockToUtc('2024-06-01 12:00:00', 'Asia/Kathmandu')).toBe('2024-06-01 06:15:00');
  });

  it('validates zones', () => {
    for (const z of ['UTC', 'utc', 'GMT', 'Z', '-05:30', '+0800', 'UTC+8:00', 'Europe/Paris'])
      expect(isValidTimeZone(z), z).toBe(true);
    for (const z of ['', '+8', 'UTC+', 'Nowhere', '12:00'])
      expect(isValidTimeZone(z), z).toBe(false);
  });
});

describe('time zones: edges', () => {
  it('a year, month or day of 0 is not an instant: left as written', () => {
    expect(wallClockToUtc('0000-01-01 10:00:00', '+08:00')).toBe('0000-01-01 10:00:00');
    expect(wallClockToUtc('2024-01-00 10:00:00', '+08:00')).toBe('2024-01-00 10:00:00');
    expect(wallClockToUtc('2024-00-01 10:00:00', '+08:00')).toBe('2024-00-01 10:00:00');
  });

  it('a wall clock just after a daylight-saving jump uses the offset in force then', () => {
    // New York jumped from 02:00 EST to 03:00 EDT on 2024-03-10 (07:00 UTC).
    expect(wallClockToUtc('2024-03-10 03:30:00', 'America/New_York')).toBe('2024-03-10 07:30:00');
    expect(wallClockToUtc('2024-03-10 01:30:00', 'America/New_York')).toBe('2024-03-10 06:30:00');
    // Berlin jumped from 02:00 CET to 03:00 CEST on 2024-03-31 (01:00 UTC).
    expect(wallClockToUtc('2024-03-31 03:30:00', 'Europe/Berlin')).toBe('2024-03-31 01:30:00');
  });

  it('only UTC, GMT and Z exactly are the zero offset; an unknown zone is a RangeError', () => {
    expect(isValidTimeZone('NotUTC')).toBe(false);
    expect(isValidTimeZone('XGMT')).toBe(false);
    expect(() => wallClockToUtc('2024-06-01 08:00:00', 'NotUTC')).toThrow(RangeError);
  });
});
