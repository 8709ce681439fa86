/**
 * The coordinator's requests and answers, protocol-agnostic: the HTTP routes and the Kafka
 * protocol listener translate their own messages into these shapes (JoinGroup, SyncGroup,
 * Heartbeat, LeaveGroup, DescribeGroups, ListGroups) and errors come back as MiniKafkaError with
 * Kafka's error codes. Bytes (`metadata`, `assignment`) are the embedded consumer protocol,
 * relayed as the client sent them (consumer-protocol.ts decodes them where the broker must look).
 */

import type { GroupState } from './group.ts';

export interface GroupProtocol {
  /** The assignor name (`range`, `roundrobin`, `sticky`, …). */
  readonly name: string;
  /** The member's Subscription for this assignor. */
  readonly metadata: Buffer;
}

export interface JoinGroupRequest {
  readonly groupId: string;
  /** Empty for a member joining for the first time. */
  readonly memberId: string;
  /** Static membership id (`group.instance.id`); kept and reported, see docs/consumer-groups.md. */
  readonly groupInstanceId?: string | null;
  readonly clientId: string;
  readonly clientHost: string;
  readonly sessionTimeoutMs: number;
  /** How long the coordinator waits for this member to rejoin in a rebalance (Kafka's JoinGroup v0 has none: pass the session timeout). */
  readonly rebalanceTimeoutMs: number;
  /** "consumer" for consumers; every member of a group must send the same type. */
  readonly protocolType: string;
  /** In the member's order of preference; at least one. */
  readonly protocols: readonly GroupProtocol[];
  /**
   * Answer an empty member id with MEMBER_ID_REQUIRED and a fresh member id to rejoin with
   * (KIP-394, JoinGroup v4+), instead of adding the member at once. Clients that can retry
   * with the id set this; it keeps a client that times out and retries from leaving a trail
   * of ghost members.
   */
  readonly requireKnownMemberId: boolean;
}

export interface JoinGroupMember {
  readonly memberId: string;
  readonly groupInstanceId: string | null;
  /** The member's Subscription for the chosen protocol. */
  readonly metadata: Buffer;
}

export interface JoinGroupResult {
  readonly memberId: string;
  readonly generationId: number;
  readonly protocolType: string;
  readonly protocolName: string;
  readonly leaderId: string;
  /** Every member with its subscription for the leader; empty for the others. */
  readonly members: readonly JoinGroupMember[];
}

export interface SyncGroupRequest {
  readonly groupId: string;
  readonly memberId: string;
  readonly generationId: number;
  readonly groupInstanceId?: string | null;
  /** SyncGroup v5+ sends these; when present they must match the group's. */
  readonly protocolType?: string | null;
  readonly protocolName?: string | null;
  /** The leader's assignment, one entry per member; followers send none. */
  readonly assignments: readonly { readonly memberId: string; readonly assignment: Buffer }[];
}

export interface SyncGroupResult {
  readonly protocolType: string;
  readonly protocolName: string;
  /** This member's Assignment bytes; empty when the leader gave it none. */
  readonly assignment: Buffer;
}

export interface HeartbeatRequest {
  readonly groupId: string;
  readonly memberId: string;
  readonly generationId: number;
  readonly groupInstanceId?: string | null;
}

export interface LeaveGroupRequest {
  readonly groupId: string;
  readonly memberId: string;
  readonly groupInstanceId?: string | null;
}

export interface ListedGroup {
  readonly groupId: string;
  /** "" for a group that has never had a member (offsets committed without membership). */
  readonly protocolType: string;
  readonly state: GroupState;
}

export interface DescribedMember {
  readonly memberId: string;
  readonly groupInstanceId: string | null;
  readonly clientId: string;
  readonly clientHost: string;
  /** The member's Subscription for the chosen protocol; empty unless the group is Stable (as Kafka). */
  readonly metadata: Buffer;
  /** The member's Assignment bytes from the last completed sync; empty when it has none. */
  readonly assignment: Buffer;
}

export interface GroupDescription {
  readonly groupId: string;
  readonly state: GroupState;
  readonly protocolType: string;
  /** The chosen assignor; "" unless the group is Stable (as Kafka's DescribeGroups). */
  readonly protocolName: string;
  readonly generationId: number;
  readonly leaderId: string | null;
  readonly members: readonly DescribedMember[];
}
