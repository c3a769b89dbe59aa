/**
 * Issue #10 item 1: canal instances (topics) that share a consumer group, in one process and
 * across two processes whose configurations differ. Every partition of every configured topic
 * must be consumed under each of its groups; `--once` must not exit before that, and must fail
 * when another member holds its topic.
 */
import { expect, it } from 'vitest';
import { kafkaBroker, redisUrl, uniqueName } from '../support/testbed.js';
import { SluiceProcess, writeKafkaConfig } from './support/sluice.js';
import { Recording, committedButNotApplied, stateDiff, useE2eServices } from './support/verify.js';
import { generateWorkload, type Workload } from './support/workload.js';

const e2e = useE2eServices();

interface Consumption {
  topic: string;
  groupId: string;
  prefix: string;
  workload: Workload;
}

async function topicWith(partitions: number, seed: number): Promise<[string, Workload]> {
  const topic = uniqueName('e2e_shared');
  await e2e.kafka.createTopic(topic, partitions);
  const workload = generateWorkload({ partitions, statements: 150 * partitions, seed });
  await e2e.kafka.produce(topic, workload.partitions);
  return [topic, workload];
}

/** Waits until every (topic, group) committed its topic's end (bounded), or a process ended. */
async function untilAllCommitted(
  consumptions: readonly Consumption[],
  running: () => boolean,
  deadlineMs = 60_000,
): Promise<string[]> {
  const until = Date.now() + deadlineMs;
  for (;;) {
    const behind: string[] = [];
    for (const c of consumptions) {
      const ends = await e2e.kafka.ends(c.topic);
      const committed = await e2e.kafka.committed(c.groupId, c.topic);
      if (!ends.every((end, p) => (committed[p] ?? 0n) >= end))
        behind.push(`${c.topic} in ${c.groupId}: committed ${committed} of ${ends}`);
    }
    if (behind.length === 0 || !running() || Date.now() > until) return behind;
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Everything each (topic, group) should have applied, and in the right order. */
async function notApplied(consumptions: readonly Consumption[]): Promise<string[]> {
  const problems: string[] = [];
  for (const c of consumptions) {
    const recording = new Recording(e2e.redis, c.prefix);
    const ends = c.workload.partitions.map((m) => BigInt(m.length));
    for (const p of await committedButNotApplied(recording, c.workload, ends))
      problems.push(`${c.topic} in ${c.groupId}: ${p}`);
    for (const d of stateDiff(
      c.workload.expected,
      await recording.state(c.workload.expected.keys()),
    ))
      problems.push(`${c.topic} in ${c.groupId}: ${d}`);
    for (const v of await recording.violations()) problems.push(`${c.topic} in ${c.groupId}: ${v}`);
  }
  return problems;
}

const consumption = (
  topic: string,
  groupId: string,
  workload: Workload,
  prefixes: Map<string, string>,
): Consumption => {
  const key = `${topic}/${groupId}`;
  if (!prefixes.has(key)) prefixes.set(key, uniqueName('rec'));
  return { topic, groupId, workload, prefix: prefixes.get(key)! };
};

it('two processes with different topics under one shared group (and a group of its own) consume every partition of every topic', async () => {
  const [a, wa] = await topicWith(3, 41);
  const [b, wb] = await topicWith(2, 42);
  const [c, wc] = await topicWith(2, 43);
  const shared = uniqueName('g_shared');
  const own = uniqueName('g_own');
  const prefixes = new Map<string, string>();
  // process 1: a and b in the shared group, b again in its own group; process 2: b and c shared
  const first = [
    consumption(a, shared, wa, prefixes),
    consumption(b, shared, wb, prefixes),
    consumption(b, own, wb, prefixes),
  ];
  const second = [consumption(b, shared, wb, prefixes), consumption(c, shared, wc, prefixes)];
  const config = async (list: Consumption[]) =>
    writeKafkaConfig({
      broker: kafkaBroker(),
      topic: a,
      groupId: shared,
      redis: redisUrl(),
      prefix: 'unused',
      adapters: list.map(({ topic, groupId, prefix }) => ({ topic, groupId, prefix })),
    });
  const processes = [
    SluiceProcess.start((await config(first)).dir),
    SluiceProcess.start((await config(second)).dir),
  ];
  let exited = false;
  for (const p of processes) void p.exited.then(() => (exited = true));
  try {
    const all = [...first, second[1]!];
    const behind = await untilAllCommitted(all, () => !exited);
    const tails = processes.map((p) => p.tail(15)).join('\n---\n');
    expect(behind, tails).toEqual([]);
    expect(await notApplied(all), tails).toEqual([]);
    for (const p of processes) expect(p.lines.filter((l) => /unsubscribed/i.test(l))).toEqual([]);
  } finally {
    for (const p of processes) p.kill('SIGTERM');
  }
  for (const p of processes) expect((await p.exited).code, p.tail()).toBe(0);
});

it('--once with several topics in one group exits 0 only after every partition was consumed', async () => {
  const [a, wa] = await topicWith(3, 51);
  const [b, wb] = await topicWith(2, 52);
  const [c, wc] = await topicWith(1, 53);
  const group = uniqueName('g_once');
  const prefixes = new Map<string, string>();
  const list = [
    consumption(a, group, wa, prefixes),
    consumption(b, group, wb, prefixes),
    consumption(c, group, wc, prefixes),
  ];
  const { dir } = await writeKafkaConfig({
    broker: kafkaBroker(),
    topic: a,
    groupId: group,
    redis: redisUrl(),
    prefix: 'unused',
    adapters: list.map(({ topic, groupId, prefix }) => ({ topic, groupId, prefix })),
  });
  const once = SluiceProcess.start(dir, { once: true });
  const exit = await once.exited;
  expect(exit.code, once.tail()).toBe(0);
  // checked after the exit: nothing may be left for later
  expect(await notApplied(list), once.tail()).toEqual([]);
  expect(await untilAllCommitted(list, () => false)).toEqual([]);
});

it('--once exits non-zero, naming the topic, when another member of the group holds all its partitions', async () => {
  const [topic] = await topicWith(1, 61);
  const group = uniqueName('g_held');
  const write = (clientId: string) =>
    writeKafkaConfig({
      broker: kafkaBroker(),
      topic,
      groupId: group,
      redis: redisUrl(),
      prefix: uniqueName('rec'),
      // range assignment orders members by id, which starts with the client id
      extraKafka: { 'kafka.client.id': clientId },
    });
  const holder = SluiceProcess.start((await write('a-holder')).dir);
  try {
    await holder.waitFor(/^(?=.*Joined the consumer group\.)(?=.*"assigned":\[0\])/);
    const once = SluiceProcess.start((await write('z-once')).dir, { once: true });
    const exit = await once.exited;
    expect(exit.code, once.tail()).not.toBe(0);
    expect(once.tail()).toMatch(new RegExp(`got no partition of topic .*${topic}`));
  } finally {
    holder.kill('SIGTERM');
  }
  expect((await holder.exited).code, holder.tail()).toBe(0);
});
