import { describe, expect, it } from 'vitest';
import { MAX_OFFSET, externalVersion } from './version.js';

const pos = (offset: string, index = 0) => ({ source: 's', partition: '0', offset, index });

describe('externalVersion', () => {
  it('is offset · 2^20 + index, increasing with the position', () => {
    expect(externalVersion(pos('0'))).toEqual({ version: '0' });
    expect(externalVersion(pos('1', 3))).toEqual({ version: String(2 ** 20 + 3) });
    const a = BigInt((externalVersion(pos('5', 1048575)) as { version: string }).version);
    const b = BigInt((externalVersion(pos('6', 0)) as { version: string }).version);
    expect(b > a).toBe(true);
  });
  it('fits a signed 63-bit long at the largest offset and refuses beyond', () => {
    const top = externalVersion(pos(MAX_OFFSET.toString(), 1048575)) as { version: string };
    expect(BigInt(top.version)).toBe(2n ** 63n - 1n);
    expect(externalVersion(pos((MAX_OFFSET + 1n).toString()))).toMatchObject({
      reason: expect.stringMatching(/does not fit/),
    });
    expect(externalVersion(pos('1', 1048576))).toMatchObject({
      reason: expect.stringMatching(/index/),
    });
    expect(externalVersion(pos('x'))).toMatchObject({
      reason: expect.stringMatching(/not an integer/),
    });
  });
});
