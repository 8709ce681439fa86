/**
 * One consumer group under Kafka's classic protocol: its members, generation, leader, chosen
 * protocol, and the state machine below (Kafka's ClassicGroupState). This file holds the group's
 * data and the rules that depend only on it (which transitions are legal, the protocol vote, the
 * commit fencing rules); group-coordinator.ts drives it from requests and timers.
 *
 * States and transitions. `transitionTo()` asserts that every transition is listed here, so a
 * coordinator bug that takes an unlisted one crashes instead of corrupting the group.
 *
 * | from                | to                  | when                                                                 |
 * |---------------------|---------------------|----------------------------------------------------------------------|
 * | Empty               | PreparingRebalance  | a member joins; the first rebalance of an empty group waits          |
 * |                     |                     | `group.initial.rebalance.delay.ms` for more joiners                  |
 * | PreparingRebalance  | CompletingRebalance | every member has (re)joined, or the rebalance timeout expired; those |
 * |                     |                     | that did not rejoin are dropped, generation + 1, protocol voted,     |
 * |                     |                     | every JoinGroup answered (the leader gets the subscriptions)         |
 * | PreparingRebalance  | Empty               | the join phase ends with no member left; generation + 1              |
 * | CompletingRebalance | Stable              | the leader's SyncGroup arrived and the group metadata was persisted; |
 * |                     |                     | every parked SyncGroup gets its member's assignment                  |
 * | CompletingRebalance | PreparingRebalance  | a member joins, leaves, times out or changes its protocols; a member |
 * |                     |                     | did not send SyncGroup within the rebalance timeout; a subscribed    |
 * |                     |                     | topic gained partitions; persisting the assignment failed. Parked    |
 * |                     |                     | SyncGroups get REBALANCE_IN_PROGRESS                                 |
 * | Stable              | PreparingRebalance  | a member joins, leaves or times out; the leader rejoins; a follower  |
 * |                     |                     | rejoins with other protocols; a subscribed topic gained partitions;  |
 * |                     |                     | a member did not send SyncGroup within the rebalance timeout         |
 * | Empty               | Dead                | the group is deleted                                                 |
 * | any other           | Dead                | the coordinator closes (the group is unloaded)                       |
 *
 * A group loaded from a snapshot starts in Empty (no members) or Stable (members) without a
 * transition. A Dead group is out of the coordinator's map; requests that still hold it get
 * COORDINATOR_NOT_AVAILABLE, which sends clients to find the coordinator again.
 */

import assert from 'node:assert';
import { MiniKafkaError } from '../../common/errors.ts';
import { CONSUMER_PROTOCOL_TYPE, decodeSubscription } from './consumer-protocol.ts';
import type { Deferred } from './deferred.ts';
import { coordinatorNotAvailable, illegalGeneration, rebalanceInProgress, unknownMember } from './group-errors.ts';
import { GroupMember } from './group-member.ts';
import type { GroupProtocol, JoinGroupResult, SyncGroupResult } from './group-requests.ts';
import type { GroupSnapshot, PersistedGroupState } from './group-snapshot.ts';

export const GroupState = {
  Empty: 'Empty',
  PreparingRebalance: 'PreparingRebalance',
  CompletingRebalance: 'CompletingRebalance',
  Stable: 'Stable',
  Dead: 'Dead',
} as const;
export type GroupState = (typeof GroupState)[keyof typeof GroupState];

/** The table above as data: for each state, the states it may be entered from. */
export const validPreviousStates: Readonly<Record<GroupState, readonly GroupState[]>> = {
  Empty: ['PreparingRebalance'],
  PreparingRebalance: ['Empty', 'CompletingRebalance', 'Stable'],
  CompletingRebalance: ['PreparingRebalance'],
  Stable: ['CompletingRebalance'],
  Dead: ['Empty', 'PreparingRebalance', 'CompletingRebalance', 'Stable', 'Dead'],
};

export function isValidTransition(from: GroupState, to: GroupState): boolean {
  return validPreviousStates[to].includes(from);
}

export class Group {
  readonly groupId: string;
  #state: GroupState;
  #previousState: GroupState;
  #stateTimestampMs: number;
  #protocolType: string | null = null;
  #protocolName: string | null = null;
  #generationId = 0;
  #leaderId: string | null = null;
  /** Insertion order: when the leader goes, the longest-standing member takes over. */
  readonly #members = new Map<string, GroupMember>();
  /** Member ids handed out with MEMBER_ID_REQUIRED whose JoinGroup has not come back yet. */
  readonly #pendingJoinMembers = new Set<string>();
  /** Members of the current generation that have not sent SyncGroup yet. */
  readonly #pendingSyncMembers = new Set<string>();
  /** The topics the members subscribe to, from their consumer-protocol bytes; null when unknown. */
  #subscribedTopics: ReadonlySet<string> | null = null;
  /** A member joined during the initial delay, so the delay is extended once more. */
  newMemberAdded = false;

  constructor(groupId: string, nowMs: number, initialState: 'Empty' | 'Stable' = 'Empty') {
    this.groupId = groupId;
    this.#state = initialState;
    this.#previousState = GroupState.Dead;
    this.#stateTimestampMs = nowMs;
  }

  get state(): GroupState {
    return this.#state;
  }

  get previousState(): GroupState {
    return this.#previousState;
  }

  get stateTimestampMs(): number {
    return this.#stateTimestampMs;
  }

  get protocolType(): string | null {
    return this.#protocolType;
  }

  get protocolName(): string | null {
    return this.#protocolName;
  }

  get generationId(): number {
    return this.#generationId;
  }

  get leaderId(): string | null {
    return this.#leaderId;
  }

  get size(): number {
    return this.#members.size;
  }

  get subscribedTopics(): ReadonlySet<string> | null {
    return this.#subscribedTopics;
  }

  is(state: GroupState): boolean {
    return this.#state === state;
  }

  transitionTo(state: GroupState, nowMs: number): void {
    assert(isValidTransition(this.#state, state), `group ${this.groupId}: illegal transition ${this.#state} -> ${state}`);
    this.#previousState = this.#state;
    this.#state = state;
    this.#stateTimestampMs = nowMs;
  }

  /** Empty, CompletingRebalance and Stable may start a rebalance; PreparingRebalance is one. */
  get canRebalance(): boolean {
    return validPreviousStates.PreparingRebalance.includes(this.#state);
  }

  // ---- members ------------------------------------------------------------------------------

  has(memberId: string): boolean {
    return this.#members.has(memberId);
  }

  member(memberId: string): GroupMember {
    const member = this.#members.get(memberId);
    assert(member !== undefined, `group ${this.groupId} has no member ${memberId}`);
    return member;
  }

  get members(): IterableIterator<GroupMember> {
    return this.#members.values();
  }

  isLeader(memberId: string): boolean {
    return this.#leaderId === memberId;
  }

  add(member: GroupMember, join: Deferred<JoinGroupResult> | null): void {
    assert(!this.#members.has(member.memberId), `group ${this.groupId} already has member ${member.memberId}`);
    if (this.#members.size === 0) this.#protocolType = member.protocolType;
    assert(member.protocolType === this.#protocolType, `group ${this.groupId}: member ${member.memberId} has protocol type ${member.protocolType}, the group ${this.#protocolType}`);
    assert(this.supportsProtocols(member.protocolType, member.protocols), `group ${this.groupId}: member ${member.memberId} supports none of the group's protocols`);
    if (this.#leaderId === null) this.#leaderId = member.memberId;
    this.#members.set(member.memberId, member);
    member.awaitingJoin = join;
    this.#pendingJoinMembers.delete(member.memberId);
  }

  /** Takes a member out; its parked calls must have been answered already. */
  remove(memberId: string): void {
    const member = this.#members.get(memberId);
    if (member !== undefined) {
      assert(!member.isAwaitingJoin && !member.isAwaitingSync, `group ${this.groupId}: member ${memberId} removed with a parked request`);
      this.#members.delete(memberId);
    }
    if (this.#leaderId === memberId) this.#leaderId = this.#members.keys().next().value ?? null;
    this.#pendingJoinMembers.delete(memberId);
    this.#pendingSyncMembers.delete(memberId);
  }

  updateMember(member: GroupMember, protocols: readonly GroupProtocol[], rebalanceTimeoutMs: number, sessionTimeoutMs: number, join: Deferred<JoinGroupResult>): void {
    assert(!member.isAwaitingJoin, `group ${this.groupId}: member ${member.memberId} already has a parked JoinGroup`);
    member.protocols = protocols;
    member.rebalanceTimeoutMs = rebalanceTimeoutMs;
    member.sessionTimeoutMs = sessionTimeoutMs;
    member.awaitingJoin = join;
  }

  isPendingMember(memberId: string): boolean {
    return this.#pendingJoinMembers.has(memberId);
  }

  addPendingMember(memberId: string): void {
    assert(!this.#members.has(memberId), `group ${this.groupId}: pending member ${memberId} is already a member`);
    this.#pendingJoinMembers.add(memberId);
  }

  addPendingSyncMember(memberId: string): void {
    assert(this.#members.has(memberId), `group ${this.groupId}: pending sync member ${memberId} is not a member`);
    this.#pendingSyncMembers.add(memberId);
  }

  removePendingSyncMember(memberId: string): void {
    this.#pendingSyncMembers.delete(memberId);
  }

  get pendingSyncMembers(): ReadonlySet<string> {
    return this.#pendingSyncMembers;
  }

  clearPendingSyncMembers(): void {
    this.#pendingSyncMembers.clear();
  }

  /** Every member has a parked JoinGroup and no handed-out member id is still to come back. */
  get hasAllMembersJoined(): boolean {
    for (const member of this.#members.values()) if (!member.isAwaitingJoin) return false;
    return this.#pendingJoinMembers.size === 0;
  }

  notYetRejoinedMembers(): GroupMember[] {
    return [...this.#members.values()].filter((member) => !member.isAwaitingJoin);
  }

  /**
   * If the leader did not rejoin, hands leadership to a member that did. False when there is no
   * leader (no members) or no member rejoined: the rebalance cannot produce a generation.
   */
  maybeElectNewJoinedLeader(): boolean {
    if (this.#leaderId === null) return false;
    if (this.member(this.#leaderId).isAwaitingJoin) return true;
    for (const member of this.#members.values()) {
      if (member.isAwaitingJoin) {
        this.#leaderId = member.memberId;
        return true;
      }
    }
    return false;
  }

  /** The longest rebalance timeout any member asked for: how long a rebalance waits for rejoins. */
  get rebalanceTimeoutMs(): number {
    let max = 0;
    for (const member of this.#members.values()) max = Math.max(max, member.rebalanceTimeoutMs);
    return max;
  }

  // ---- protocols --------------------------------------------------------------------------------

  /**
   * Whether a member offering `protocols` may (re)join: an empty group takes any non-empty type
   * and list; otherwise the type must be the group's and at least one name must be offered by
   * every other member. (Kafka counts the rejoining member's old protocols too, so a group's
   * only member cannot switch assignors by rejoining; minikafka leaves the member itself out.)
   */
  supportsProtocols(protocolType: string, protocols: readonly GroupProtocol[], rejoiningMemberId?: string): boolean {
    if (protocolType === '' || protocols.length === 0) return false;
    if (this.#state === GroupState.Empty) return true;
    if (protocolType !== this.#protocolType) return false;
    const others = [...this.#members.values()].filter((member) => member.memberId !== rejoiningMemberId);
    return protocols.some((protocol) => others.every((member) => member.supportsProtocol(protocol.name)));
  }

  /**
   * Kafka's vote: the candidates are the names every member offers; each member votes for its
   * most preferred candidate; most votes wins. Kafka leaves a tie to hash-map order; minikafka
   * breaks it by the leader's order of preference, so the outcome is reproducible.
   */
  selectProtocol(): string {
    assert(this.#members.size > 0 && this.#leaderId !== null, `group ${this.groupId}: cannot select a protocol without members`);
    const members = [...this.#members.values()];
    const candidates = new Set(members[0].protocols.map((protocol) => protocol.name).filter((name) => members.every((member) => member.supportsProtocol(name))));
    assert(candidates.size > 0, `group ${this.groupId}: members share no protocol`);
    const votes = new Map<string, number>();
    for (const member of members) {
      const choice = member.vote(candidates);
      votes.set(choice, (votes.get(choice) ?? 0) + 1);
    }
    let winner: string | undefined;
    for (const { name } of this.member(this.#leaderId).protocols) {
      const count = votes.get(name) ?? 0;
      if (count > 0 && (winner === undefined || count > votes.get(winner)!)) winner = name;
    }
    assert(winner !== undefined);
    return winner;
  }

  /** Starts the next generation: bump it, vote the protocol, and go to CompletingRebalance (or Empty). */
  initNextGeneration(nowMs: number): void {
    assert(this.#state === GroupState.PreparingRebalance, `group ${this.groupId}: a generation starts only from PreparingRebalance, not ${this.#state}`);
    this.#generationId += 1;
    if (this.#members.size > 0) {
      this.#protocolName = this.selectProtocol();
      this.#subscribedTopics = this.#computeSubscribedTopics();
      this.transitionTo(GroupState.CompletingRebalance, nowMs);
    } else {
      this.#protocolName = null;
      this.#subscribedTopics = this.#computeSubscribedTopics();
      this.transitionTo(GroupState.Empty, nowMs);
    }
    this.#pendingSyncMembers.clear();
  }

  /**
   * The union of the members' subscribed topics, read from the v0 prefix that every version of
   * the consumer protocol's Subscription starts with. null when the group is not a consumer group
   * or some member's bytes do not parse: then the coordinator cannot tell which topics matter.
   */
  #computeSubscribedTopics(): ReadonlySet<string> | null {
    if (this.#protocolType !== CONSUMER_PROTOCOL_TYPE) return null;
    if (this.#members.size === 0) return new Set();
    if (this.#protocolName === null) return null;
    const topics = new Set<string>();
    try {
      for (const member of this.#members.values()) for (const topic of decodeSubscription(member.metadata(this.#protocolName)).topics) topics.add(topic);
    } catch {
      return null;
    }
    return topics;
  }

  /** Kafka's rule: when the topics are unknown, a consumer group counts as subscribed to everything. */
  isSubscribedToTopic(topic: string): boolean {
    return this.#subscribedTopics === null ? this.#protocolType === CONSUMER_PROTOCOL_TYPE : this.#subscribedTopics.has(topic);
  }

  // ---- parked requests --------------------------------------------------------------------------

  /** Answers the member's parked JoinGroup, if it has one. */
  completeJoin(member: GroupMember, result: JoinGroupResult | MiniKafkaError): boolean {
    const join = member.awaitingJoin;
    if (join === null) return false;
    member.awaitingJoin = null;
    if (result instanceof MiniKafkaError) join.reject(result);
    else join.resolve(result);
    return true;
  }

  /** Answers the member's parked SyncGroup, if it has one. */
  completeSync(member: GroupMember, result: SyncGroupResult | MiniKafkaError): boolean {
    const sync = member.awaitingSync;
    if (sync === null) return false;
    member.awaitingSync = null;
    if (result instanceof MiniKafkaError) sync.reject(result);
    else sync.resolve(result);
    return true;
  }

  /** The JoinGroup answer of the current generation for one member. */
  joinResult(memberId: string): JoinGroupResult {
    assert(this.#state === GroupState.CompletingRebalance || this.#state === GroupState.Stable, `group ${this.groupId}: no generation to answer with in ${this.#state}`);
    const protocolName = this.#protocolName!;
    return {
      memberId,
      generationId: this.#generationId,
      protocolType: this.#protocolType!,
      protocolName,
      leaderId: this.#leaderId!,
      members: this.isLeader(memberId)
        ? [...this.#members.values()].map((member) => ({ memberId: member.memberId, groupInstanceId: member.groupInstanceId, metadata: member.metadata(protocolName) }))
        : [],
    };
  }

  // ---- commit fencing -------------------------------------------------------------------------

  /**
   * Kafka's ClassicGroup.validateOffsetCommit (kafka-facts §7.2), rule for rule:
   * 1. a Dead group: COORDINATOR_NOT_AVAILABLE (the client looks for the coordinator again);
   * 2. generation < 0 and the group Empty: accepted — a consumer that assigns itself partitions,
   *    or an admin tool, commits without membership;
   * 3. a generation ≥ 0 or a member id: the member must be in the group (UNKNOWN_MEMBER_ID) and
   *    the generation the group's (ILLEGAL_GENERATION). This fences a zombie: a consumer that was
   *    removed (say after a long GC pause) and whose partitions now belong to someone else;
   * 4. neither, while the group has members: UNKNOWN_MEMBER_ID;
   * 5. CompletingRebalance: REBALANCE_IN_PROGRESS (retriable) — the generation is new and its
   *    assignment not yet handed out.
   */
  validateOffsetCommit(memberId: string, generationId: number): void {
    if (this.#state === GroupState.Dead) throw coordinatorNotAvailable(this.groupId, 'the group is being removed from the coordinator; find the coordinator again and retry the commit');
    if (generationId < 0 && this.#state === GroupState.Empty) return;
    if (generationId >= 0 || memberId !== '') {
      if (!this.#members.has(memberId)) throw unknownMember(this.groupId, memberId);
      if (generationId !== this.#generationId) throw illegalGeneration(this.groupId, memberId, generationId, this.#generationId);
    } else if (this.#state !== GroupState.Empty) {
      throw new MiniKafkaError('UNKNOWN_MEMBER_ID', `group ${this.groupId} has members, so a commit must name a member and its generation`, { groupId: this.groupId, state: this.#state });
    }
    if (this.#state === GroupState.CompletingRebalance) {
      throw rebalanceInProgress(this.groupId, this.#generationId, `is completing a rebalance to generation ${this.#generationId}; commit again once SyncGroup has answered`);
    }
  }

  // ---- snapshots ------------------------------------------------------------------------------

  /** The group as it is to be persisted, with `assignments` in place of the members' current ones when given. */
  toSnapshot(state: PersistedGroupState, stateTimestampMs: number, assignments?: ReadonlyMap<string, Buffer>): GroupSnapshot {
    const protocolName = this.#protocolName;
    return {
      groupId: this.groupId,
      state,
      protocolType: this.#protocolType,
      protocolName,
      generationId: this.#generationId,
      leaderId: this.#leaderId,
      stateTimestampMs,
      members:
        state === 'Dead' || protocolName === null
          ? []
          : [...this.#members.values()].map((member) => ({
              memberId: member.memberId,
              groupInstanceId: member.groupInstanceId,
              clientId: member.clientId,
              clientHost: member.clientHost,
              rebalanceTimeoutMs: member.rebalanceTimeoutMs,
              sessionTimeoutMs: member.sessionTimeoutMs,
              subscription: member.metadata(protocolName),
              assignment: assignments?.get(member.memberId) ?? member.assignment,
            })),
    };
  }

  /** Rebuilds a group from a snapshot: Empty without members, Stable with them. */
  static fromSnapshot(snapshot: GroupSnapshot): Group {
    assert(snapshot.state !== 'Dead', `group ${snapshot.groupId}: a Dead snapshot is a deletion, not a group`);
    assert(Number.isSafeInteger(snapshot.generationId) && snapshot.generationId >= 0, `group ${snapshot.groupId}: generation ${snapshot.generationId}`);
    const hasMembers = snapshot.members.length > 0;
    assert(hasMembers === (snapshot.state === 'Stable'), `group ${snapshot.groupId}: a ${snapshot.state} snapshot with ${snapshot.members.length} members`);
    const group = new Group(snapshot.groupId, snapshot.stateTimestampMs, hasMembers ? 'Stable' : 'Empty');
    group.#protocolType = snapshot.protocolType;
    group.#protocolName = snapshot.protocolName;
    group.#generationId = snapshot.generationId;
    if (hasMembers) {
      assert(snapshot.protocolType !== null && snapshot.protocolName !== null, `group ${snapshot.groupId}: members without a protocol`);
      for (const member of snapshot.members) {
        group.#members.set(
          member.memberId,
          new GroupMember({
            memberId: member.memberId,
            groupInstanceId: member.groupInstanceId,
            clientId: member.clientId,
            clientHost: member.clientHost,
            rebalanceTimeoutMs: member.rebalanceTimeoutMs,
            sessionTimeoutMs: member.sessionTimeoutMs,
            protocolType: snapshot.protocolType,
            protocols: [{ name: snapshot.protocolName, metadata: member.subscription }],
            assignment: member.assignment,
          }),
        );
      }
      assert(snapshot.leaderId !== null && group.#members.has(snapshot.leaderId), `group ${snapshot.groupId}: leader ${snapshot.leaderId} is not a member`);
      group.#leaderId = snapshot.leaderId;
    }
    group.#subscribedTopics = group.#computeSubscribedTopics();
    return group;
  }
}
