/**
 * Assignment on the broker, for clients that ask for it. In Kafka's classic protocol the group
 * leader (a client) runs the assignor and sends the result in SyncGroup; an HTTP client that does
 * not want to carry assignors can instead ask the broker to run one for it. The broker then does
 * exactly what a leader would: decode every member's Subscription for the chosen protocol, run
 * the assignor, encode one Assignment (v0) per member. The result goes into the leader's
 * SyncGroup unchanged, so members over HTTP and over the Kafka protocol see the same bytes.
 *
 * Previous ownership, for `sticky`: a member's Subscription v1 ownedPartitions when it lists any,
 * else the assignment the coordinator last handed that member.
 */

import { MiniKafkaError } from '../../common/errors.ts';
import type { AssignorSubscription } from './assignors/assignor.ts';
import { findAssignor } from './assignors/assignor-registry.ts';
import type { TopicPartitions } from './consumer-protocol.ts';
import { decodeAssignment, decodeSubscription, encodeAssignment } from './consumer-protocol.ts';
import type { Group } from './group.ts';

export interface MemberAssignmentBytes {
  readonly memberId: string;
  readonly assignment: Buffer;
}

/**
 * Runs `assignorName` over the members of a group that is in CompletingRebalance.
 * Throws INVALID_REQUEST for an assignor the broker does not have or a member whose Subscription
 * does not parse, REBALANCE_IN_PROGRESS when the group is not waiting for an assignment.
 */
export function assignOnServer(group: Group, assignorName: string, partitionCounts: ReadonlyMap<string, number>): MemberAssignmentBytes[] {
  const assignor = findAssignor(assignorName);
  if (!group.is('CompletingRebalance') || group.protocolName === null) {
    throw new MiniKafkaError('REBALANCE_IN_PROGRESS', `group ${group.groupId} is ${group.state}, not waiting for an assignment; rejoin and ask again once JoinGroup has answered`, { groupId: group.groupId, state: group.state });
  }
  const subscriptions = new Map<string, AssignorSubscription>();
  for (const member of group.members) {
    let topics: readonly string[];
    let ownedPartitions: readonly TopicPartitions[];
    try {
      const subscription = decodeSubscription(member.metadata(group.protocolName));
      topics = subscription.topics;
      ownedPartitions = subscription.ownedPartitions;
    } catch (error) {
      throw new MiniKafkaError('INVALID_REQUEST', `group ${group.groupId}: member ${member.memberId} sent a Subscription for ${group.protocolName} that does not parse, so the broker cannot assign for it: ${(error as Error).message}`, { groupId: group.groupId, memberId: member.memberId }, { cause: error });
    }
    if (ownedPartitions.length === 0) ownedPartitions = previousAssignment(member.assignment);
    subscriptions.set(member.memberId, { topics, ownedPartitions });
  }
  return [...assignor.assign(subscriptions, partitionCounts)].map(([memberId, partitions]) => ({ memberId, assignment: encodeAssignment(partitions) }));
}

function previousAssignment(bytes: Buffer): readonly TopicPartitions[] {
  try {
    return decodeAssignment(bytes).assignedPartitions;
  } catch {
    // A leader may hand out bytes of its own making; they only guide stickiness, so ignore them.
    return [];
  }
}
