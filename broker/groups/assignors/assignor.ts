/**
 * What a partition assignor is: a pure function from the members' subscriptions and the topics'
 * partition counts to one assignment per member. The three assignors are registered under the
 * protocol names Kafka's clients use (`range`, `roundrobin`, `sticky`), so that a group can mix
 * members that connect over HTTP with members that speak the Kafka protocol: the name a member
 * offers in JoinGroup is the name the coordinator votes on (kafka-facts §7.1).
 *
 * Every assignor keeps these invariants, which test/broker/groups/assignors.test.ts checks on
 * random inputs:
 * - every partition of every topic that some member subscribes to (and whose partition count is
 *   known) is assigned to exactly one member;
 * - a partition goes only to a member subscribed to its topic;
 * - every member appears in the result, with an empty list when it gets nothing;
 * - the result depends only on the input (members are ordered by member id, topics by name),
 *   never on Map insertion order or on chance.
 *
 * Ordering is UTF-16 code unit order (`<` on strings), the order of Java's String.compareTo,
 * so the same inputs give the same assignment as Kafka's Java assignors where they agree.
 */

import type { TopicPartitions } from '../consumer-protocol.ts';

export interface AssignorSubscription {
  readonly topics: readonly string[];
  /**
   * What the member held before this rebalance: Subscription v1's ownedPartitions, or the
   * assignment the coordinator last gave it. Only `sticky` reads it.
   */
  readonly ownedPartitions?: readonly TopicPartitions[];
}

/** Topics in name order, partitions ascending; a member with nothing has an empty list. */
export type MemberAssignment = TopicPartitions[];

export interface Assignor {
  /** The protocol name members offer in JoinGroup. */
  readonly name: string;
  assign(subscriptions: ReadonlyMap<string, AssignorSubscription>, partitionCounts: ReadonlyMap<string, number>): Map<string, MemberAssignment>;
}

/** Java's String.compareTo order. */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export interface TopicPartition {
  readonly topic: string;
  readonly partition: number;
}

/** Every partition of every subscribed topic with a known partition count, topics in name order. */
export function subscribedPartitions(subscriptions: ReadonlyMap<string, AssignorSubscription>, partitionCounts: ReadonlyMap<string, number>): TopicPartition[] {
  const topics = new Set<string>();
  for (const subscription of subscriptions.values()) for (const topic of subscription.topics) topics.add(topic);
  const partitions: TopicPartition[] = [];
  for (const topic of [...topics].sort(compareStrings)) {
    // A topic the broker does not know (deleted, not yet created) is left out, as Kafka's assignors do.
    const count = partitionCounts.get(topic) ?? 0;
    for (let partition = 0; partition < count; partition++) partitions.push({ topic, partition });
  }
  return partitions;
}

/** Collects (member, topic, partition) triples into one sorted MemberAssignment per member. */
export class AssignmentBuilder {
  readonly #byMember = new Map<string, Map<string, number[]>>();

  constructor(memberIds: Iterable<string>) {
    for (const memberId of memberIds) this.#byMember.set(memberId, new Map());
  }

  add(memberId: string, topic: string, partition: number): void {
    const topics = this.#byMember.get(memberId);
    if (topics === undefined) throw new Error(`assignor bug: member ${memberId} is not in the group`);
    let partitions = topics.get(topic);
    if (partitions === undefined) topics.set(topic, (partitions = []));
    partitions.push(partition);
  }

  build(): Map<string, MemberAssignment> {
    const result = new Map<string, MemberAssignment>();
    for (const memberId of [...this.#byMember.keys()].sort(compareStrings)) {
      const topics = this.#byMember.get(memberId)!;
      result.set(
        memberId,
        [...topics.keys()].sort(compareStrings).map((topic) => ({ topic, partitions: [...topics.get(topic)!].sort((a, b) => a - b) })),
      );
    }
    return result;
  }
}
