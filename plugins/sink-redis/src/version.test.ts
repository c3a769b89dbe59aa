import { comparePositions, type EventPosition } from '@sluice/plugin-api';
import calculateSlot from 'cluster-key-slot';
import { describe, expect, it } from 'vitest';
import { VERSION_TAIL, encodeVersion, versionKeyOf } from './version.js';

const pos = (offset: string, index = 0): EventPosition => ({
  source: 'topic',
  partition: '3',
  offset,
  index,
});

describe('versions', () => {
  it('order like comparePositions, beyond 2^53 too', () => {
    const list = [
      pos('0'),
      pos('0', 1),
      pos('9', 2),
      pos('10'),
      pos('9007199254740993'),
      pos('9007199254740993', 12),
      pos('18446744073709551615'),
    ];
    for (const a of list)
      for (const b of list) {
        const [va, vb] = [encodeVersion(a), encodeVersion(b)];
        const tail = (v: string) => v.slice(-VERSION_TAIL);
        expect(Math.sign(tail(va).localeCompare(tail(vb))), `${a.offset}/${b.offset}`).toBe(
          Math.sign(comparePositions(a, b)),
        );
      }
    expect(encodeVersion(pos('5', 1))).toBe('topic/3@000000000000000000050000000001');
  });

  it('rejects positions it cannot encode', () => {
    expect(() => encodeVersion(pos('-1'))).toThrow(RangeError);
    expect(() => encodeVersion(pos('123456789012345678901'))).toThrow(RangeError);
    expect(() => encodeVersion(pos('1', 1.5))).toThrow(RangeError);
  });

  it('puts the version key in the value key slot', () => {
    for (const key of ['user:1', 'p:{user:1}:profile', 'orders:by_user:77'])
      expect(calculateSlot(versionKeyOf(key))).toBe(calculateSlot(key));
  });
});
