import { AssignerProtocol } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import type { Logger } from '@sluice/plugin-api';
import { assignRange, subscriptionAwareAssigner } from './rangeAssigner.js';

const parts = (entries: Record<string, number>) =>
  new Map(Object.entries(entries).map(([t, n]) => [t, Array.from({ length: n }, (_, i) => i)]));

describe('assignRange', () => {
  it('gives each topic only to the members that subscribed to it', () => {
    const a = assignRange(
      [
        { memberId: 'm-b', topics: ['orders'] },
        { memberId: 'm-a', topics: ['users'] },
      ],
      parts({ orders: 3, users: 2 }),
    );
    expect(Object.fromEntries(a)).toEqual({
      'm-a': { users: [0, 1] },
      'm-b': { orders: [0, 1, 2] },
    });
  });

  it('splits a shared topic in consecutive ranges, the first members taking the remainder', () => {
    const a = assignRange(
      [
        { memberId: 'c', topics: ['t', 'u'] },
        { memberId: 'a', topics: ['t'] },
        { memberId: 'b', topics: ['t', 'u'] },
      ],
      parts({ t: 5, u: 1 }),
    );
    expect(Object.fromEntries(a)).toEqual({
      a: { t: [0, 1] },
      b: { t: [2, 3], u: [0] },
      c: { t: [4] },
    });
  });

  it('covers every partition of every subscribed topic exactly once, for any mix of members', () => {
    const topics = ['t0', 't1', 't2', 't3'];
    const partitions = parts({ t0: 1, t1: 2, t2: 5, t3: 8 });
    for (let seed = 1; seed <= 200; seed++) {
      let x = seed;
      const rand = () => ((x = (x * 1103515245 + 12345) % 2 ** 31), x / 2 ** 31);
      const members = Array.from({ length: 1 + Math.floor(rand() * 6) }, (_, i) => ({
        memberId: `m${Math.floor(rand() * 1000)}-${i}`,
        topics: topics.filter(() => rand() < 0.5),
      }));
      const assignment = assignRange(members, partitions);
      expect([...assignment.keys()].sort()).toEqual(members.map((m) => m.memberId).sort());
      for (const topic of topics) {
        const owners = members.filter((m) => m.topics.includes(topic));
        const got = members.flatMap((m) => assignment.get(m.memberId)![topic] ?? []);
        expect(got.sort((p, q) => p - q)).toEqual(owners.length ? partitions.get(topic) : []);
        for (const m of members)
          if (!m.topics.includes(topic)) expect(assignment.get(m.memberId)![topic]).toBeUndefined();
      }
    }
  });

  it('leaves a topic without partition metadata (it does not exist) unassigned', () => {
    const a = assignRange([{ memberId: 'a', topics: ['gone', 't'] }], parts({ t: 1 }));
    expect(Object.fromEntries(a)).toEqual({ a: { t: [0] } });
  });
});

describe('subscriptionAwareAssigner', () => {
  const logger: Logger = {
    debug: () => {},
    info: () => {},
    warn: () => {},
    error: () => {},
    child: () => logger,
  };

  it('reads every member subscription (Kafka consumer protocol) and encodes the assignment', async () => {
    const looked: string[][] = [];
    const assigner = subscriptionAwareAssigner(
      'range',
      async (topics) => {
        looked.push([...topics].sort());
        return parts({ a: 2, b: 2 });
      },
      logger,
    )({} as never);
    expect(assigner.name).toBe('range');
    const protocol = assigner.protocol({ topics: ['a'] });
    expect(AssignerProtocol.MemberMetadata.decode(protocol.metadata)?.topics).toEqual(['a']);
    const result = await assigner.assign({
      members: [
        { memberId: 'x', memberMetadata: protocol.metadata },
        {
          memberId: 'y',
          memberMetadata: AssignerProtocol.MemberMetadata.encode({
            version: 0,
            topics: ['b'],
            userData: Buffer.alloc(0),
          }),
        },
      ],
      topics: ['a'], // kafkajs passes only the leader's own topics: not enough
    });
    expect(looked).toEqual([['a', 'b']]);
    const decoded = Object.fromEntries(
      result.map((r) => [
        r.memberId,
        AssignerProtocol.MemberAssignment.decode(r.memberAssignment)?.assignment,
      ]),
    );
    expect(decoded).toEqual({ x: { a: [0, 1] }, y: { b: [0, 1] } });
  });
});
