/**
 * Issue 7, rebalance and two-process scale-out: two `sluice` processes in one consumer group
 * split a topic's partitions; when one exits (SIGTERM, then kill -9 of the other side) the
 * survivor takes over without losing anything, and re-applies nothing below the last commit.
 */
import { expect, it } from 'vitest';
import { kafkaBroker, redisUrl, uniqueName } from '../support/testbed.js';
import { SluiceProcess, writeKafkaConfig } from './support/sluice.js';
import { useE2eServices, Recording, committedButNotApplied, stateDiff } from './support/verify.js';
import { chunked, generateWorkload } from './support/workload.js';

const e2e = useE2eServices();

/** The partitions a process was assigned last, from its "Joined the consumer group." lines. */
function assignment(sluice: SluiceProcess): number[] {
  const line = [...sluice.lines].reverse().find((l) => l.includes('Joined the consumer group.'));
  return line ? ((JSON.parse(line) as { assigned?: number[] }).assigned ?? []) : [];
}

it('two processes split the partitions; SIGTERM and kill -9 hand them over without loss or replays below the last commit', async () => {
  const partitions = 4;
  const workload = generateWorkload({ partitions, statements: 2400, seed: 31 });
  const [first, second, third, fourth] = chunked(workload, 4) as [
    string[][],
    string[][],
    string[][],
    string[][],
  ];
  const topic = uniqueName('e2e_scale');
  await e2e.kafka.createTopic(topic, partitions);
  const prefix = uniqueName('rec');
  const groupId = uniqueName('g');
  const config = await writeKafkaConfig({
    broker: kafkaBroker(),
    topic,
    groupId,
    redis: redisUrl(),
    prefix,
    lanes: 8,
    syncBatchSize: 50,
  });
  const recording = new Recording(e2e.redis, prefix);
  const running = new Set<SluiceProcess>();
  const start = () => {
    const p = SluiceProcess.start(config.dir);
    running.add(p);
    void p.exited.then(() => running.delete(p));
    return p;
  };
  const dups = async () => {
    const out: bigint[][] = [];
    for (let p = 0; p < partitions; p++) out.push(await recording.dups(p));
    return out;
  };

  try {
    // A alone, then B joins: the group splits the partitions between them
    await e2e.kafka.produce(topic, first);
    const a = start();
    await a.waitFor(/"assigned":\[0,1,2,3\].*"msg":"Joined the consumer group\."/);
    await e2e.kafka.untilCommittedToEnd(groupId, topic, () => running.size > 0);
    let mark = a.lines.length;
    const b = start();
    await b.waitFor(/"assigned":\[\d.*"msg":"Joined the consumer group\."/);
    await a.waitFor(/Joined the consumer group\./, mark);
    await e2e.kafka.produce(topic, second);
    await e2e.kafka.untilCommittedToEnd(groupId, topic, () => running.size > 0);
    const split = [...assignment(a), ...assignment(b)].sort();
    expect(split, `${a.tail(5)}\n${b.tail(5)}`).toEqual([0, 1, 2, 3]);
    expect(assignment(a).length).toBeGreaterThan(0);
    expect(assignment(b).length).toBeGreaterThan(0);

    // SIGTERM B: it drains, commits and leaves; A takes everything without any replay
    mark = a.lines.length;
    b.kill('SIGTERM');
    expect((await b.exited).code, b.tail()).toBe(0);
    await a.waitFor(/"assigned":\[0,1,2,3\].*"msg":"Joined the consumer group\."/, mark);
    await e2e.kafka.produce(topic, third);
    await e2e.kafka.untilCommittedToEnd(groupId, topic, () => running.size > 0);
    expect(assignment(a)).toEqual([0, 1, 2, 3]);
    expect((await dups()).flat(), 'replays after a graceful handover').toEqual([]);

    // C joins, then A is killed: C takes over after A's session expires, from A's last commits
    mark = a.lines.length;
    const c = start();
    await c.waitFor(/"assigned":\[\d.*"msg":"Joined the consumer group\."/);
    await a.waitFor(/Joined the consumer group\./, mark);
    await e2e.kafka.untilCommittedToEnd(groupId, topic, () => running.size > 0);
    await e2e.kafka.produce(topic, fourth);
    a.kill('SIGKILL');
    await a.exited;
    const committedAtKill = await e2e.kafka.committed(groupId, topic);
    expect(await committedButNotApplied(recording, workload, committedAtKill)).toEqual([]);
    await c.waitFor(/"assigned":\[0,1,2,3\].*"msg":"Joined the consumer group\."/);
    await e2e.kafka.untilCommittedToEnd(groupId, topic, () => running.size > 0);
    const replays = await dups();
    for (let p = 0; p < partitions; p++) {
      const belowCommit = replays[p]!.filter((pos) => pos / 10000n < committedAtKill[p]!);
      expect(
        belowCommit,
        `partition ${p} re-applied below its last commit ${committedAtKill[p]}`,
      ).toEqual([]);
    }
    c.kill('SIGTERM');
    expect((await c.exited).code, c.tail()).toBe(0);

    const committed = await e2e.kafka.committed(groupId, topic);
    expect(committed).toEqual(await e2e.kafka.ends(topic));
    expect(await committedButNotApplied(recording, workload, committed)).toEqual([]);
    expect(await recording.violations()).toEqual([]);
    expect(stateDiff(workload.expected, await recording.state(workload.expected.keys()))).toEqual(
      [],
    );
  } finally {
    for (const p of running) p.kill('SIGKILL');
    await recording.clear();
  }
}, 90_000);
