import { describe, expect, it } from 'vitest';
import type { CliIo } from '../io.js';
import { progressDrawer, progressLine } from './etl.js';

function recorder(tty: boolean): { io: CliIo; text: () => string } {
  let err = '';
  return {
    io: { stdout: () => {}, stderr: (t) => void (err += t), stderrIsTTY: tty },
    text: () => err,
  };
}

describe('progressLine', () => {
  it('draws bar, percent, rows, rate and ETA when the total is known, else rows and rate', () => {
    expect(progressLine(500, 1000, 1000)).toBe(
      `[${'='.repeat(15)}>${' '.repeat(14)}] 50.0% 500/1,000 rows  500 rows/s  ETA 1s`,
    );
    expect(progressLine(1234, undefined, 2000)).toBe('1,234 rows  617 rows/s');
  });
});

describe('progressDrawer', () => {
  it('on a terminal redraws one line in place, at most every 200 ms, and ends it with a newline', () => {
    let t = 0;
    const r = recorder(true);
    const p = progressDrawer(r.io, 0, () => t);
    t = 100;
    p.draw(10, undefined); // too soon
    t = 250;
    p.draw(20, undefined);
    t = 300;
    p.draw(30, undefined); // too soon
    t = 1000;
    p.end(40, undefined);
    expect(r.text()).toBe('\r20 rows  80 rows/s\r40 rows  40 rows/s\n');
  });

  it('elsewhere prints whole lines without carriage returns, at most every 10 s, and the last one', () => {
    let t = 0;
    const r = recorder(false);
    const p = progressDrawer(r.io, 0, () => t);
    for (t = 200; t < 10_000; t += 200) p.draw(t, 20_000);
    t = 10_000;
    p.draw(10_000, 20_000);
    t = 12_000;
    p.draw(12_000, 20_000);
    t = 20_000;
    p.end(20_000, 20_000);
    expect(r.text()).not.toContain('\r');
    expect(r.text().trimEnd().split('\n')).toEqual([
      progressLine(10_000, 20_000, 10_000),
      progressLine(20_000, 20_000, 20_000),
    ]);
  });
});
