import { describe, expect, it } from 'vitest';
import { EtlStreamGate } from './etlGate.js';

const docKey = (index: string, id: string): string => `${index}\u0000${id}`;

describe('EtlStreamGate', () => {
  it('an ETL write skips the documents the stream touched since the ETL started', async () => {
    const gate = new EtlStreamGate();
    await gate.streamWrite([docKey('i', 'before')]); // no ETL yet: not recorded
    const end = gate.beginEtl();
    await gate.streamWrite([docKey('i', '2')]);
    const kept = await gate.etlWrite(
      ['1', '2', 'before'],
      (id) => docKey('i', id),
      async (k) => k,
    );
    expect(kept).toEqual(['1', 'before']);
    end();
    // After the last ETL ended, nothing is remembered.
    const end2 = gate.beginEtl();
    expect(
      await gate.etlWrite(
        ['2'],
        (id) => docKey('i', id),
        async (k) => k,
      ),
    ).toEqual(['2']);
    end2();
    end2(); // idempotent
    expect(gate.active).toBe(false);
  });

  it('a stream write that arrives during an ETL write waits for its answer, then wins', async () => {
    const gate = new EtlStreamGate();
    const end = gate.beginEtl();
    const order: string[] = [];
    let answer!: () => void;
    const bulk = gate.etlWrite(
      ['1'],
      (id) => docKey('i', id),
      async (k) => {
        order.push(`etl ${k.join(',')}`);
        await new Promise<void>((r) => (answer = r));
        order.push('etl answered');
      },
    );
    await Promise.resolve();
    const stream = gate.streamWrite([docKey('i', '1')]).then(() => order.push('stream'));
    await new Promise((r) => setTimeout(r, 10));
    expect(order).toEqual(['etl 1']);
    answer();
    await Promise.all([bulk, stream]);
    expect(order).toEqual(['etl 1', 'etl answered', 'stream']);
    // The next ETL write of that document leaves it to the stream.
    expect(
      await gate.etlWrite(
        ['1'],
        (id) => docKey('i', id),
        async (k) => k,
      ),
    ).toEqual([]);
    end();
  });
});
