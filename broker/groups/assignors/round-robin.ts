/**
 * The `roundrobin` assignor (Kafka's RoundRobinAssignor).
 *
 * All partitions of all subscribed topics, topics sorted by name and partitions ascending, are
 * dealt one at a time to the members sorted by member id, going round in a circle. A member not
 * subscribed to a partition's topic is skipped for that partition, and the circle continues after
 * the member that took it. When every member subscribes to the same topics, member counts differ
 * by at most one; with different subscriptions there is no such bound (use `sticky`).
 *
 * KafkaJS's default assigner does the same dealing but under the name `RoundRobinAssigner`, so a
 * KafkaJS member and a member offering `roundrobin` share no protocol name (kafka-facts §7.1).
 */

import type { Assignor, AssignorSubscription, MemberAssignment } from './assignor.ts';
import { AssignmentBuilder, compareStrings, subscribedPartitions } from './assignor.ts';

function assign(subscriptions: ReadonlyMap<string, AssignorSubscription>, partitionCounts: ReadonlyMap<string, number>): Map<string, MemberAssignment> {
  const builder = new AssignmentBuilder(subscriptions.keys());
  const members = [...subscriptions.keys()].sort(compareStrings);
  const topicsByMember = new Map(members.map((memberId) => [memberId, new Set(subscriptions.get(memberId)!.topics)]));
  let next = 0;
  for (const { topic, partition } of subscribedPartitions(subscriptions, partitionCounts)) {
    // Some member subscribes to every topic listed, so this finds one within a full circle.
    let steps = 0;
    while (!topicsByMember.get(members[next])!.has(topic)) {
      next = (next + 1) % members.length;
      steps++;
      if (steps > members.length) throw new Error(`assignor bug: no member subscribes to ${topic}`);
    }
    builder.add(members[next], topic, partition);
    next = (next + 1) % members.length;
  }
  return builder.build();
}

export const roundRobinAssignor: Assignor = { name: 'roundrobin', assign };
