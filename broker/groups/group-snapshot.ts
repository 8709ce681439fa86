/**
 * The persisted form of a group: what the coordinator hands to `onGroupMetadataChanged` and takes
 * back in `loadGroup`. It is the content of Kafka's GroupMetadataValue record (the value under a
 * version-2 key in `__consumer_offsets`), as plain data so that the offsets store can encode it
 * however it likes. This shape is a contract with that store: add optional fields only.
 *
 * When Kafka writes it, and so when the coordinator calls the hook:
 * - a new group is created (state Empty, no members);
 * - the leader's SyncGroup completes a rebalance (state Stable, every member with its
 *   subscription and assignment) — the group becomes Stable only once this write succeeded;
 * - a rebalance ends with no member left (state Empty, generation bumped);
 * - the group is deleted (state Dead: the store writes a tombstone).
 *
 * Loading gives a group in the state written (Empty or Stable); a Stable group's members must
 * heartbeat within their session timeout after the load or are removed, which is how members
 * that died while the broker was down leave the group.
 */

export type PersistedGroupState = 'Empty' | 'Stable' | 'Dead';

/** Who a member is and its timeouts: what JoinGroup states and GroupMetadataValue keeps of it. */
export interface MemberIdentity {
  readonly memberId: string;
  readonly groupInstanceId: string | null;
  readonly clientId: string;
  readonly clientHost: string;
  readonly rebalanceTimeoutMs: number;
  readonly sessionTimeoutMs: number;
}

export interface GroupMemberSnapshot extends MemberIdentity {
  /** The member's Subscription bytes for the group's protocolName. */
  readonly subscription: Buffer;
  /** The member's Assignment bytes (empty when it got none). */
  readonly assignment: Buffer;
}

export interface GroupSnapshot {
  readonly groupId: string;
  readonly state: PersistedGroupState;
  /** null for a group that never had a member (offsets committed without group membership). */
  readonly protocolType: string | null;
  /** The chosen assignor; null when the group has no members. */
  readonly protocolName: string | null;
  readonly generationId: number;
  readonly leaderId: string | null;
  /** When the group entered `state` (ms since the epoch); offset retention counts from the moment a group became Empty. */
  readonly stateTimestampMs: number;
  readonly members: readonly GroupMemberSnapshot[];
}
