import { AssignerProtocol, type PartitionAssigner } from 'kafkajs';
import type { Logger } from '@sluice/plugin-api';

/** One member of a consumer group as the group leader sees it. */
export interface GroupMemberSubscription {
  readonly memberId: string;
  /** The topics this member subscribed to (from its JoinGroup metadata). */
  readonly topics: readonly string[];
}

/** Partitions per topic, per member id. Every member appears, possibly with no partition. */
export type GroupAssignment = Map<string, Record<string, number[]>>;

/**
 * Kafka's range assignment (the Java client's `RangeAssignor`), which honours each member's
 * subscription: for each topic, only the members that subscribed to it share its partitions,
 * members sorted by id, consecutive partition ranges, the first `partitions % members` members
 * getting one more. A topic nobody subscribed to is not assigned; a member never gets a topic it
 * did not subscribe to.
 *
 * kafkajs' own (and only) assigner, `RoundRobinAssigner`, ignores the members' subscriptions: it
 * deals out the partitions of the *leader's* topics to every member, and a member drops the topics
 * it did not subscribe to ("received unsubscribed topics"). With two topics in one group that
 * loses data: part of the leader's topic and all of the other topics are consumed by nobody.
 *
 * Pure; `partitions` gives the partition ids of each topic (a topic missing from it, e.g. one
 * that does not exist, is not assigned).
 */
export function assignRange(
  members: readonly GroupMemberSubscription[],
  partitions: ReadonlyMap<string, readonly number[]>,
): GroupAssignment {
  const sorted = [...members].sort((a, b) =>
    a.memberId < b.memberId ? -1 : a.memberId > b.memberId ? 1 : 0,
  );
  const assignment: GroupAssignment = new Map(sorted.map((m) => [m.memberId, {}]));
  const topics = [...new Set(sorted.flatMap((m) => m.topics))].sort();
  for (const topic of topics) {
    const ids = [...(partitions.get(topic) ?? [])].sort((a, b) => a - b);
    const consumers = sorted.filter((m) => m.topics.includes(topic));
    if (ids.length === 0 || consumers.length === 0) continue;
    const each = Math.floor(ids.length / consumers.length);
    const extra = ids.length % consumers.length;
    consumers.forEach((member, i) => {
      const start = each * i + Math.min(i, extra);
      const length = each + (i < extra ? 1 : 0);
      if (length > 0) assignment.get(member.memberId)![topic] = ids.slice(start, start + length);
    });
  }
  return assignment;
}

/**
 * The protocol names this assigner answers to, in order of preference. `range` is the Java
 * consumer's default, so Sluice members can share a group with canal-adapter's Java consumers
 * (the broker picks a protocol every member supports); `RoundRobinAssigner` is the name kafkajs
 * (and earlier Sluice versions) use, so a group can be upgraded one member at a time — while such
 * an older member leads the group, its assignment still ignores subscriptions.
 */
export const ASSIGNER_PROTOCOLS = ['range', 'RoundRobinAssigner'] as const;

/**
 * A kafkajs partition assigner doing {@link assignRange} under `name`. Only the group leader
 * calls `assign`, once per rebalance; `partitionsOf` looks up the partitions of every topic the
 * members subscribed to (the leader's client only knows its own topics). Topics it cannot find
 * are left unassigned and logged.
 */
export function subscriptionAwareAssigner(
  name: (typeof ASSIGNER_PROTOCOLS)[number],
  partitionsOf: (topics: readonly string[]) => Promise<Map<string, number[]>>,
  logger: Logger,
): PartitionAssigner {
  return () => ({
    name,
    version: 0,
    async assign({ members }) {
      const subscriptions = members.map(({ memberId, memberMetadata }) => {
        const decoded = AssignerProtocol.MemberMetadata.decode(memberMetadata);
        return { memberId, topics: decoded?.topics ?? [] };
      });
      const topics = [...new Set(subscriptions.flatMap((m) => m.topics))];
      const partitions = await partitionsOf(topics);
      const missing = topics.filter((t) => !partitions.has(t));
      if (missing.length > 0)
        logger.warn(
          'Members of the consumer group subscribe to topics that do not exist; nobody consumes them.',
          { topics: missing },
        );
      const assignment = assignRange(subscriptions, partitions);
      logger.debug('Assigned the group partitions (leader).', {
        assignment: Object.fromEntries(assignment),
      });
      return [...assignment].map(([memberId, byTopic]) => ({
        memberId,
        memberAssignment: AssignerProtocol.MemberAssignment.encode({
          version: 0,
          assignment: byTopic,
          userData: Buffer.alloc(0),
        }),
      }));
    },
    protocol({ topics }) {
      return {
        name,
        metadata: AssignerProtocol.MemberMetadata.encode({
          version: 0,
          topics,
          userData: Buffer.alloc(0),
        }),
      };
    },
  });
}
