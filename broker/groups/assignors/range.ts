/**
 * The `range` assignor (Kafka's RangeAssignor, the Java client's first default).
 *
 * Topic by topic: the members subscribed to the topic, sorted by member id, each take a
 * contiguous run of its partitions in numeric order. With P partitions and N members, every
 * member gets floor(P / N) and the first P mod N members one more. Topics are handled
 * independently, so with many topics of few partitions the first members get more in total;
 * that is range's known imbalance, and why `roundrobin` exists. Its upside: partition i of
 * every co-subscribed topic with the same count lands on the same member (co-partitioning).
 */

import type { Assignor, AssignorSubscription, MemberAssignment } from './assignor.ts';
import { AssignmentBuilder, compareStrings } from './assignor.ts';

function assign(subscriptions: ReadonlyMap<string, AssignorSubscription>, partitionCounts: ReadonlyMap<string, number>): Map<string, MemberAssignment> {
  const builder = new AssignmentBuilder(subscriptions.keys());
  const membersByTopic = new Map<string, string[]>();
  for (const [memberId, subscription] of subscriptions) {
    for (const topic of new Set(subscription.topics)) {
      let members = membersByTopic.get(topic);
      if (members === undefined) membersByTopic.set(topic, (members = []));
      members.push(memberId);
    }
  }
  for (const [topic, members] of membersByTopic) {
    const partitionCount = partitionCounts.get(topic) ?? 0;
    members.sort(compareStrings);
    const perMember = Math.floor(partitionCount / members.length);
    const withExtra = partitionCount % members.length;
    members.forEach((memberId, i) => {
      const start = perMember * i + Math.min(i, withExtra);
      const length = perMember + (i < withExtra ? 1 : 0);
      for (let partition = start; partition < start + length; partition++) builder.add(memberId, topic, partition);
    });
  }
  return builder.build();
}

export const rangeAssignor: Assignor = { name: 'range', assign };
