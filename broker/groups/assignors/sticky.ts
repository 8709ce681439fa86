/**
 * The `sticky` assignor: as balanced as `roundrobin`, while moving as few partitions as possible
 * from the members that held them before the rebalance (the goal of Kafka's StickyAssignor,
 * KIP-54; this is minikafka's own algorithm, not a port of Java's).
 *
 * Why it matters: a partition that moves is revoked from one member and handed to another, so
 * records processed but not yet committed by the old owner are processed again by the new one,
 * and any local state the old owner built for it is lost. Fewer moves, fewer duplicates.
 *
 * Previous ownership comes from each subscription's `ownedPartitions` (Subscription v1, or the
 * assignment the coordinator last gave the member). A claim is honoured only if the member is
 * still subscribed to the topic and the partition still exists; a partition claimed by two
 * members (stale data from a zombie) is treated as unowned.
 *
 * Three steps:
 * 1. every member keeps what it owned and may still own;
 * 2. each unowned partition, in (topic, partition) order, goes to the least-loaded member
 *    subscribed to its topic (ties: smallest member id);
 * 3. while some partition sits on a member with at least two more partitions than another member
 *    subscribed to its topic, move it there, preferring partitions the holder did not own before.
 *    Each move lowers the sum of squared member loads by at least 2, so step 3 ends.
 *
 * With equal subscriptions the result has member loads within one of each other, and a member
 * either keeps all it owned or ends with only partitions it owned (it gave some away because it
 * had more than its share). With unequal subscriptions no partition can move to a member with
 * two fewer partitions that could take it.
 */

import assert from 'node:assert';
import type { Assignor, AssignorSubscription, MemberAssignment, TopicPartition } from './assignor.ts';
import { AssignmentBuilder, compareStrings, subscribedPartitions } from './assignor.ts';

const keyOf = (topic: string, partition: number): string => JSON.stringify([topic, partition]);

function assign(subscriptions: ReadonlyMap<string, AssignorSubscription>, partitionCounts: ReadonlyMap<string, number>): Map<string, MemberAssignment> {
  const members = [...subscriptions.keys()].sort(compareStrings);
  const topicsByMember = new Map(members.map((memberId) => [memberId, new Set(subscriptions.get(memberId)!.topics)]));
  const all = subscribedPartitions(subscriptions, partitionCounts);
  const partitionByKey = new Map(all.map((tp) => [keyOf(tp.topic, tp.partition), tp]));

  // Step 1: valid, uncontested claims.
  const claimants = new Map<string, string[]>();
  for (const memberId of members) {
    for (const { topic, partitions } of subscriptions.get(memberId)!.ownedPartitions ?? []) {
      if (!topicsByMember.get(memberId)!.has(topic)) continue;
      for (const partition of new Set(partitions)) {
        const key = keyOf(topic, partition);
        if (!partitionByKey.has(key)) continue;
        const list = claimants.get(key);
        if (list === undefined) claimants.set(key, [memberId]);
        else list.push(memberId);
      }
    }
  }
  const ownerByKey = new Map<string, string>();
  const previousOwnerByKey = new Map<string, string>();
  const heldByMember = new Map<string, Set<string>>(members.map((memberId) => [memberId, new Set()]));
  const give = (key: string, memberId: string): void => {
    const previous = ownerByKey.get(key);
    if (previous !== undefined) heldByMember.get(previous)!.delete(key);
    ownerByKey.set(key, memberId);
    heldByMember.get(memberId)!.add(key);
  };
  for (const [key, list] of claimants) {
    if (list.length !== 1) continue;
    previousOwnerByKey.set(key, list[0]);
    give(key, list[0]);
  }

  const load = (memberId: string): number => heldByMember.get(memberId)!.size;
  /** The least-loaded member subscribed to `topic` (ties: smallest id), or undefined. */
  const lightest = (topic: string): string | undefined => {
    let best: string | undefined;
    for (const memberId of members) {
      if (!topicsByMember.get(memberId)!.has(topic)) continue;
      if (best === undefined || load(memberId) < load(best)) best = memberId;
    }
    return best;
  };

  // Step 2: unowned partitions to the least loaded.
  for (const { topic, partition } of all) {
    const key = keyOf(topic, partition);
    if (ownerByKey.has(key)) continue;
    const memberId = lightest(topic);
    assert(memberId !== undefined, `assignor bug: no member subscribes to ${topic}`);
    give(key, memberId);
  }

  // Step 3: move from heavy to light until no move helps.
  const moveLimit = all.length * all.length + 1;
  for (let moves = 0; ; moves++) {
    assert(moves <= moveLimit, 'sticky assignor bug: balancing did not converge');
    const move = findMove(members, heldByMember, previousOwnerByKey, partitionByKey, lightest, load);
    if (move === undefined) break;
    give(move.key, move.to);
  }

  const builder = new AssignmentBuilder(members);
  for (const [key, memberId] of ownerByKey) {
    const { topic, partition } = partitionByKey.get(key)!;
    builder.add(memberId, topic, partition);
  }
  return builder.build();
}

function findMove(
  members: readonly string[],
  heldByMember: ReadonlyMap<string, ReadonlySet<string>>,
  previousOwnerByKey: ReadonlyMap<string, string>,
  partitionByKey: ReadonlyMap<string, TopicPartition>,
  lightest: (topic: string) => string | undefined,
  load: (memberId: string) => number,
): { key: string; to: string } | undefined {
  const heaviestFirst = [...members].sort((a, b) => load(b) - load(a) || compareStrings(a, b));
  for (const from of heaviestFirst) {
    const held = [...heldByMember.get(from)!];
    // Partitions this member did not own before the rebalance move first: moving them costs nothing.
    const ordered = [...held.filter((key) => previousOwnerByKey.get(key) !== from), ...held.filter((key) => previousOwnerByKey.get(key) === from)];
    for (const key of ordered) {
      const to = lightest(partitionByKey.get(key)!.topic)!;
      if (load(to) + 2 <= load(from)) return { key, to };
    }
  }
  return undefined;
}

export const stickyAssignor: Assignor = { name: 'sticky', assign };
