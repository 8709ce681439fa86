/**
 * The group coordinator: every consumer group of the broker, driven by Kafka's classic protocol
 * (JoinGroup, SyncGroup, Heartbeat, LeaveGroup), with Kafka's rules and error codes
 * (GroupMetadataManager.java; kafka-facts §7.1, §7.2). Protocol-agnostic: the HTTP routes and
 * the Kafka protocol listener both call it.
 *
 * A rebalance, from the coordinator's side:
 * 1. JoinGroup parks every member's call (a promise) and moves the group to PreparingRebalance.
 *    It completes when every known member has rejoined, or when the rebalance timeout (the
 *    largest any member asked for) expires; members that did not rejoin are dropped. A new group
 *    instead waits `group.initial.rebalance.delay.ms`, again after each new joiner, up to the
 *    rebalance timeout, so that consumers started together share one rebalance.
 * 2. Then the generation is bumped, the assignor voted, and every JoinGroup answered at once; the
 *    leader's answer carries every member's subscription. Group: CompletingRebalance.
 * 3. SyncGroup: followers park; the leader brings the assignment. The coordinator persists the
 *    group (`onGroupMetadataChanged`), then answers every parked SyncGroup with that member's
 *    bytes. Group: Stable. A member that does not send SyncGroup within the rebalance timeout is
 *    dropped and the group rebalances.
 * 4. Heartbeats keep members alive: none within `session.timeout.ms` and the member is removed
 *    and the group rebalances. A heartbeat during PreparingRebalance is answered
 *    REBALANCE_IN_PROGRESS: "rejoin now".
 *
 * Time comes from the injected Scheduler, so every timeout is testable without sleeping. All
 * state changes happen synchronously inside a call or a timer callback; the only await is the
 * persistence of a completed sync, after which the group is checked again (it may have moved on).
 *
 * Not implemented: static membership (KIP-345). `group.instance.id` is kept and reported, but a
 * member that sends one is treated as a dynamic member. `group.max.size` is not enforced.
 */

import { randomUUID } from 'node:crypto';
import { MiniKafkaError } from '../../common/errors.ts';
import { createDeferred } from './deferred.ts';
import type { GroupCoordinatorConfig } from './group-coordinator-config.ts';
import { resolveGroupCoordinatorConfig } from './group-coordinator-config.ts';
import { coordinatorNotAvailable, groupNotFound, illegalGeneration, inconsistentProtocol, rebalanceInProgress, unknownMember, validateGroupId, validateJoinTimeouts } from './group-errors.ts';
import { GroupMember } from './group-member.ts';
import type {
  GroupDescription,
  HeartbeatRequest,
  JoinGroupRequest,
  JoinGroupResult,
  LeaveGroupRequest,
  ListedGroup,
  SyncGroupRequest,
  SyncGroupResult,
} from './group-requests.ts';
import type { GroupSnapshot } from './group-snapshot.ts';
import { GroupTimers } from './group-timers.ts';
import { Group, GroupState } from './group.ts';
import type { Scheduler } from './scheduler.ts';
import { systemScheduler } from './scheduler.ts';
import type { MemberAssignmentBytes } from './server-assignment.ts';
import { assignOnServer } from './server-assignment.ts';

export interface GroupCoordinatorOptions {
  readonly scheduler?: Scheduler;
  readonly config?: Partial<GroupCoordinatorConfig>;
  /**
   * Called with the group's new persisted form (group-snapshot.ts lists when). A completed sync
   * waits for the returned promise: only then do members get their assignments, and a rejection
   * fails the sync (COORDINATOR_NOT_AVAILABLE) and restarts the rebalance, as in Kafka.
   */
  readonly onGroupMetadataChanged?: (snapshot: GroupSnapshot) => void | Promise<void>;
  /** Where failed writes that nobody waits for go (a group becoming Empty). Default: a process warning. */
  readonly onPersistenceError?: (error: unknown, snapshot: GroupSnapshot) => void;
  /** The random part of new member ids (`clientId-<this>`); tests make it predictable. */
  readonly newMemberIdSuffix?: () => string;
}

export class GroupCoordinator {
  readonly #scheduler: Scheduler;
  readonly #config: GroupCoordinatorConfig;
  readonly #onGroupMetadataChanged: (snapshot: GroupSnapshot) => void | Promise<void>;
  readonly #onPersistenceError: (error: unknown, snapshot: GroupSnapshot) => void;
  readonly #newMemberIdSuffix: () => string;
  readonly #groups = new Map<string, Group>();
  readonly #timers: GroupTimers;
  #isClosed = false;

  constructor(options: GroupCoordinatorOptions = {}) {
    this.#scheduler = options.scheduler ?? systemScheduler;
    this.#config = resolveGroupCoordinatorConfig(options.config);
    this.#onGroupMetadataChanged = options.onGroupMetadataChanged ?? (() => {});
    this.#onPersistenceError =
      options.onPersistenceError ??
      ((error, snapshot) => process.emitWarning(`group ${snapshot.groupId}: persisting its ${snapshot.state} metadata failed: ${(error as Error)?.message ?? error}`, 'MiniKafkaGroupCoordinator'));
    this.#newMemberIdSuffix = options.newMemberIdSuffix ?? randomUUID;
    this.#timers = new GroupTimers(this.#scheduler);
  }

  get config(): GroupCoordinatorConfig {
    return this.#config;
  }

  // ---- JoinGroup ----------------------------------------------------------------------------

  /**
   * Joins (or rejoins) a member. Resolves when the rebalance completes, with the generation, the
   * leader and, for the leader, every member's subscription. Rejects with MEMBER_ID_REQUIRED
   * (details.memberId: the id to rejoin with) when `requireKnownMemberId` and the id is empty;
   * INVALID_GROUP_ID, INVALID_SESSION_TIMEOUT, INCONSISTENT_GROUP_PROTOCOL, UNKNOWN_MEMBER_ID.
   */
  async joinGroup(request: JoinGroupRequest): Promise<JoinGroupResult> {
    this.#assertOpen();
    validateGroupId(request.groupId);
    validateJoinTimeouts(request, this.#config);
    validateJoinStrings(request);
    let group = this.#groups.get(request.groupId);
    const isNewMember = request.memberId === '';
    if (group === undefined) {
      if (!isNewMember) throw unknownMember(request.groupId, request.memberId);
      // Refuse before creating, so a bad request leaves no empty group behind.
      if (request.protocolType === '' || request.protocols.length === 0) throw inconsistentProtocol(request);
      group = this.#createGroup(request.groupId);
    }
    return isNewMember ? this.#joinNewMember(group, request) : this.#joinExistingMember(group, request);
  }

  #joinNewMember(group: Group, request: JoinGroupRequest): Promise<JoinGroupResult> {
    if (!group.supportsProtocols(request.protocolType, request.protocols)) throw inconsistentProtocol(request);
    const memberId = `${request.groupInstanceId ?? request.clientId}-${this.#newMemberIdSuffix()}`;
    if (request.requireKnownMemberId) {
      // KIP-394: hand out the id and remember it; the member has one session timeout to come back.
      group.addPendingMember(memberId);
      this.#timers.schedule(group, `heartbeat:${memberId}`, request.sessionTimeoutMs, () => this.#expireHeartbeat(group, memberId));
      throw new MiniKafkaError('MEMBER_ID_REQUIRED', `group ${group.groupId}: join again with member id ${memberId}`, { groupId: group.groupId, memberId });
    }
    return this.#addMemberThenRebalanceOrCompleteJoin(group, request, memberId);
  }

  #joinExistingMember(group: Group, request: JoinGroupRequest): Promise<JoinGroupResult> {
    const { memberId } = request;
    if (!group.supportsProtocols(request.protocolType, request.protocols, memberId)) throw inconsistentProtocol(request);
    if (group.isPendingMember(memberId)) return this.#addMemberThenRebalanceOrCompleteJoin(group, request, memberId);
    if (!group.has(memberId)) throw unknownMember(group.groupId, memberId);
    const member = group.member(memberId);
    switch (group.state) {
      case GroupState.PreparingRebalance:
        return this.#updateMemberThenRebalanceOrCompleteJoin(group, member, request);
      case GroupState.CompletingRebalance:
        // Same protocols: the member lost the JoinGroup answer; give it again.
        if (member.matches(request.protocols)) return Promise.resolve(group.joinResult(memberId));
        return this.#updateMemberThenRebalanceOrCompleteJoin(group, member, request);
      case GroupState.Stable:
        // The leader rejoins to trigger a rebalance (it saw topic metadata change); a follower
        // rejoining with the same protocols just wants the current generation.
        if (group.isLeader(memberId) || !member.matches(request.protocols)) return this.#updateMemberThenRebalanceOrCompleteJoin(group, member, request);
        return Promise.resolve(group.joinResult(memberId));
      default:
        throw unknownMember(group.groupId, memberId);
    }
  }

  #addMemberThenRebalanceOrCompleteJoin(group: Group, request: JoinGroupRequest, memberId: string): Promise<JoinGroupResult> {
    const member = new GroupMember({
      memberId,
      groupInstanceId: request.groupInstanceId ?? null,
      clientId: request.clientId,
      clientHost: request.clientHost,
      rebalanceTimeoutMs: request.rebalanceTimeoutMs,
      sessionTimeoutMs: request.sessionTimeoutMs,
      protocolType: request.protocolType,
      protocols: request.protocols,
    });
    member.isNew = true;
    if (group.is(GroupState.PreparingRebalance) && group.previousState === GroupState.Empty) group.newMemberAdded = true;
    const join = createDeferred<JoinGroupResult>();
    group.add(member, join);
    // A new member cannot heartbeat (it has no generation) and its JoinGroup is parked: bound how
    // long it may stay so, or a client that went away would hold up every rebalance.
    this.#timers.schedule(group, `heartbeat:${memberId}`, this.#config.newMemberJoinTimeoutMs, () => this.#expireHeartbeat(group, memberId));
    this.#maybePrepareRebalanceOrCompleteJoin(group);
    return join.promise;
  }

  #updateMemberThenRebalanceOrCompleteJoin(group: Group, member: GroupMember, request: JoinGroupRequest): Promise<JoinGroupResult> {
    // A second JoinGroup from the same member replaces the first (a client that timed out and
    // retried); the first caller gets an answer too, so no promise is left hanging.
    group.completeJoin(member, rebalanceInProgress(group.groupId, group.generationId, `got a newer JoinGroup from member ${member.memberId}, which replaces this one`));
    const join = createDeferred<JoinGroupResult>();
    group.updateMember(member, request.protocols, request.rebalanceTimeoutMs, request.sessionTimeoutMs, join);
    this.#maybePrepareRebalanceOrCompleteJoin(group);
    return join.promise;
  }

  // ---- the join phase -------------------------------------------------------------------------

  #maybePrepareRebalanceOrCompleteJoin(group: Group): void {
    if (group.canRebalance) this.#prepareRebalance(group);
    else this.#maybeCompleteJoinPhase(group);
  }

  /** During the initial delay the join phase ends only by its timer, however many have joined. */
  #maybeCompleteJoinPhase(group: Group): void {
    if (!group.is(GroupState.PreparingRebalance) || group.previousState === GroupState.Empty || !group.hasAllMembersJoined) return;
    this.#completeJoin(group);
  }

  #prepareRebalance(group: Group): void {
    if (group.is(GroupState.CompletingRebalance)) this.#resetAndPropagateAssignmentError(group, rebalanceInProgress(group.groupId, group.generationId));
    group.clearPendingSyncMembers();
    this.#timers.cancel(group, 'sync');
    const isInitialRebalance = group.is(GroupState.Empty);
    if (isInitialRebalance) {
      const delayMs = this.#config.initialRebalanceDelayMs;
      const remainingMs = Math.max(group.rebalanceTimeoutMs - delayMs, 0);
      this.#timers.schedule(group, 'join', delayMs, () => this.#tryCompleteInitialRebalance(group, delayMs, remainingMs));
    }
    group.transitionTo(GroupState.PreparingRebalance, this.#scheduler.nowMs());
    if (isInitialRebalance) return;
    if (group.hasAllMembersJoined) this.#completeJoin(group);
    else this.#timers.schedule(group, 'join', group.rebalanceTimeoutMs, () => this.#completeJoin(group));
  }

  /**
   * Kafka's InitialDelayedJoin: when the delay ends and someone joined during it, wait another
   * delay, until the rebalance timeout is used up; otherwise complete the join phase.
   */
  #tryCompleteInitialRebalance(group: Group, delayMs: number, remainingMs: number): void {
    if (group.newMemberAdded && remainingMs !== 0) {
      group.newMemberAdded = false;
      const nextDelayMs = Math.min(this.#config.initialRebalanceDelayMs, remainingMs);
      const nextRemainingMs = Math.max(remainingMs - delayMs, 0);
      this.#timers.schedule(group, 'join', nextDelayMs, () => this.#tryCompleteInitialRebalance(group, nextDelayMs, nextRemainingMs));
      return;
    }
    this.#completeJoin(group);
  }

  /** Ends the join phase: drop who did not rejoin, start the next generation, answer every JoinGroup. */
  #completeJoin(group: Group): void {
    this.#timers.cancel(group, 'join');
    for (const member of group.notYetRejoinedMembers()) this.#dropMember(group, member);
    if (!group.maybeElectNewJoinedLeader() && group.size > 0) {
      // Nobody rejoined yet members remain (cannot happen while every member is dynamic, as they
      // were all just dropped); wait another rebalance timeout, as Kafka does.
      this.#timers.schedule(group, 'join', group.rebalanceTimeoutMs, () => this.#completeJoin(group));
      return;
    }
    const nowMs = this.#scheduler.nowMs();
    group.initNextGeneration(nowMs);
    if (group.is(GroupState.Empty)) {
      this.#persistInBackground(group.toSnapshot('Empty', nowMs));
      return;
    }
    for (const member of group.members) {
      group.completeJoin(member, group.joinResult(member.memberId));
      member.isNew = false;
      this.#scheduleHeartbeatExpiry(group, member);
      group.addPendingSyncMember(member.memberId);
    }
    const generationId = group.generationId;
    this.#timers.schedule(group, 'sync', group.rebalanceTimeoutMs, () => this.#expirePendingSync(group, generationId));
  }

  /** Members that got the JoinGroup answer but sent no SyncGroup within the rebalance timeout are dropped. */
  #expirePendingSync(group: Group, generationId: number): void {
    if (generationId !== group.generationId || !(group.is(GroupState.CompletingRebalance) || group.is(GroupState.Stable))) return;
    if (group.pendingSyncMembers.size === 0) return;
    for (const memberId of [...group.pendingSyncMembers]) this.#dropMember(group, group.member(memberId));
    this.#prepareRebalance(group);
  }

  // ---- SyncGroup ----------------------------------------------------------------------------

  /**
   * Resolves with this member's assignment once the leader has sent it (the leader's own call
   * included) and it is persisted. Rejects with UNKNOWN_MEMBER_ID, ILLEGAL_GENERATION,
   * INCONSISTENT_GROUP_PROTOCOL, REBALANCE_IN_PROGRESS (rejoin), COORDINATOR_NOT_AVAILABLE.
   */
  async syncGroup(request: SyncGroupRequest): Promise<SyncGroupResult> {
    this.#assertOpen();
    const group = this.#groups.get(request.groupId);
    if (group === undefined || group.is(GroupState.Empty) || !group.has(request.memberId)) throw unknownMember(request.groupId, request.memberId);
    if (request.generationId !== group.generationId) throw illegalGeneration(group.groupId, request.memberId, request.generationId, group.generationId);
    if ((request.protocolType != null && request.protocolType !== group.protocolType) || (request.protocolName != null && request.protocolName !== group.protocolName)) {
      throw new MiniKafkaError('INCONSISTENT_GROUP_PROTOCOL', `group ${group.groupId} uses protocol ${group.protocolType}/${group.protocolName}, the SyncGroup names ${request.protocolType}/${request.protocolName}`, { groupId: group.groupId });
    }
    const member = group.member(request.memberId);
    switch (group.state) {
      case GroupState.PreparingRebalance:
        throw rebalanceInProgress(group.groupId, group.generationId);
      case GroupState.Stable:
        this.#removePendingSyncMember(group, member.memberId);
        return { protocolType: group.protocolType!, protocolName: group.protocolName!, assignment: member.assignment };
      case GroupState.CompletingRebalance: {
        group.completeSync(member, rebalanceInProgress(group.groupId, group.generationId, `got a newer SyncGroup from member ${member.memberId}, which replaces this one`));
        const sync = createDeferred<SyncGroupResult>();
        member.awaitingSync = sync;
        this.#removePendingSyncMember(group, member.memberId);
        if (group.isLeader(member.memberId)) this.#storeLeaderAssignment(group, request);
        return sync.promise;
      }
      default:
        throw unknownMember(group.groupId, request.memberId);
    }
  }

  /** Persists the leader's assignment, then hands it out and makes the group Stable. */
  #storeLeaderAssignment(group: Group, request: SyncGroupRequest): void {
    const assignments = new Map<string, Buffer>();
    for (const { memberId, assignment } of request.assignments) if (group.has(memberId)) assignments.set(memberId, assignment);
    // Members the leader left out get empty bytes, as in Kafka.
    for (const member of group.members) if (!assignments.has(member.memberId)) assignments.set(member.memberId, Buffer.alloc(0));
    const generationId = group.generationId;
    const isStillCurrent = (): boolean => this.#groups.get(group.groupId) === group && group.is(GroupState.CompletingRebalance) && group.generationId === generationId;
    this.#persistThen(
      group.toSnapshot('Stable', this.#scheduler.nowMs(), assignments),
      () => {
        if (!isStillCurrent()) return;
        for (const member of group.members) member.assignment = assignments.get(member.memberId)!;
        this.#propagateAssignment(group, null);
        group.transitionTo(GroupState.Stable, this.#scheduler.nowMs());
      },
      (error) => {
        if (!isStillCurrent()) return;
        this.#resetAndPropagateAssignmentError(group, coordinatorNotAvailable(group.groupId, `storing the assignment of generation ${generationId} failed; rejoin`, { generationId }, error));
        this.#maybePrepareRebalanceOrCompleteJoin(group);
      },
    );
  }

  #resetAndPropagateAssignmentError(group: Group, error: MiniKafkaError): void {
    for (const member of group.members) member.assignment = Buffer.alloc(0);
    this.#propagateAssignment(group, error);
  }

  /** Answers every parked SyncGroup; the session timer restarts for those answered. */
  #propagateAssignment(group: Group, error: MiniKafkaError | null): void {
    for (const member of group.members) {
      const answer = error ?? { protocolType: group.protocolType!, protocolName: group.protocolName!, assignment: member.assignment };
      if (group.completeSync(member, answer)) this.#scheduleHeartbeatExpiry(group, member);
    }
  }

  #removePendingSyncMember(group: Group, memberId: string): void {
    group.removePendingSyncMember(memberId);
    if (group.pendingSyncMembers.size === 0) this.#timers.cancel(group, 'sync');
  }

  // ---- Heartbeat, LeaveGroup, session expiry ----------------------------------------------------

  /**
   * Keeps a member alive for another session timeout. Throws REBALANCE_IN_PROGRESS while the
   * group is preparing a rebalance (the member must rejoin), UNKNOWN_MEMBER_ID, ILLEGAL_GENERATION.
   */
  heartbeat(request: HeartbeatRequest): void {
    this.#assertOpen();
    const group = this.#groups.get(request.groupId);
    if (group === undefined || !group.has(request.memberId)) throw unknownMember(request.groupId, request.memberId);
    if (request.generationId !== group.generationId) throw illegalGeneration(group.groupId, request.memberId, request.generationId, group.generationId);
    this.#scheduleHeartbeatExpiry(group, group.member(request.memberId));
    if (group.is(GroupState.PreparingRebalance)) throw rebalanceInProgress(group.groupId, group.generationId);
  }

  /** Removes a member at once (a clean shutdown); the group rebalances. Throws UNKNOWN_MEMBER_ID. */
  leaveGroup(request: LeaveGroupRequest): void {
    this.#assertOpen();
    const group = this.#groups.get(request.groupId);
    if (group === undefined) throw unknownMember(request.groupId, request.memberId);
    if (group.isPendingMember(request.memberId)) {
      this.#removePendingMember(group, request.memberId);
      return;
    }
    if (!group.has(request.memberId)) throw unknownMember(group.groupId, request.memberId);
    this.#removeMemberAndUpdateGroup(group, group.member(request.memberId));
  }

  #scheduleHeartbeatExpiry(group: Group, member: GroupMember): void {
    this.#timers.schedule(group, `heartbeat:${member.memberId}`, member.sessionTimeoutMs, () => this.#expireHeartbeat(group, member.memberId));
  }

  #expireHeartbeat(group: Group, memberId: string): void {
    if (group.isPendingMember(memberId)) {
      this.#removePendingMember(group, memberId);
      return;
    }
    if (!group.has(memberId)) return;
    const member = group.member(memberId);
    // A member with a parked JoinGroup or SyncGroup has shown it is alive; its timer restarts
    // when that call is answered.
    if (!member.hasSatisfiedHeartbeat) this.#removeMemberAndUpdateGroup(group, member);
  }

  #removePendingMember(group: Group, memberId: string): void {
    this.#timers.cancel(group, `heartbeat:${memberId}`);
    group.remove(memberId);
    if (group.is(GroupState.PreparingRebalance) && group.hasAllMembersJoined) this.#completeJoin(group);
  }

  #removeMemberAndUpdateGroup(group: Group, member: GroupMember): void {
    this.#dropMember(group, member);
    if (group.is(GroupState.Stable) || group.is(GroupState.CompletingRebalance)) this.#maybePrepareRebalanceOrCompleteJoin(group);
    else if (group.is(GroupState.PreparingRebalance) && group.hasAllMembersJoined) this.#completeJoin(group);
  }

  /** Takes a member out of the group, answering its parked calls with UNKNOWN_MEMBER_ID so the client starts over. */
  #dropMember(group: Group, member: GroupMember): void {
    const gone = unknownMember(group.groupId, member.memberId);
    group.completeJoin(member, gone);
    group.completeSync(member, gone);
    this.#timers.cancel(group, `heartbeat:${member.memberId}`);
    group.remove(member.memberId);
  }

  // ---- commits, topics, admin ---------------------------------------------------------------

  /**
   * Kafka's commit fencing (Group.validateOffsetCommit has the rules). Call before writing a
   * commit; throws COORDINATOR_NOT_AVAILABLE, UNKNOWN_MEMBER_ID, ILLEGAL_GENERATION,
   * REBALANCE_IN_PROGRESS. Like Kafka, a commit with generation < 0 to a group that does not exist
   * creates it (Empty, no protocol): offsets always belong to a group that ListGroups shows. A
   * commit with a generation ≥ 0 to a group that does not exist is ILLEGAL_GENERATION.
   */
  validateCommit(groupId: string, generationId: number, memberId: string): void {
    this.#assertOpen();
    validateGroupId(groupId);
    const group = this.#groups.get(groupId);
    if (group === undefined) {
      if (generationId < 0) {
        this.#createGroup(groupId);
        return;
      }
      throw new MiniKafkaError('ILLEGAL_GENERATION', `group ${groupId} does not exist, so generation ${generationId} is not its generation; rejoin before committing`, { groupId, generationId, memberId });
    }
    group.validateOffsetCommit(memberId, generationId);
  }

  /**
   * A subscribed topic gained partitions: rebalance every Stable or CompletingRebalance group
   * whose members subscribe to it (or whose subscriptions cannot be read), so the new partitions
   * get an owner. Groups already rebalancing pick them up in the assignment they are making.
   */
  onTopicPartitionsChanged(topic: string): void {
    if (this.#isClosed) return;
    for (const group of this.#groups.values()) {
      if ((group.is(GroupState.Stable) || group.is(GroupState.CompletingRebalance)) && group.isSubscribedToTopic(topic)) this.#prepareRebalance(group);
    }
  }

  listGroups(states?: readonly GroupState[]): ListedGroup[] {
    return [...this.#groups.values()]
      .filter((group) => states === undefined || states.includes(group.state))
      .map((group) => ({ groupId: group.groupId, protocolType: group.protocolType ?? '', state: group.state }))
      .sort((a, b) => (a.groupId < b.groupId ? -1 : a.groupId > b.groupId ? 1 : 0));
  }

  /**
   * The group as DescribeGroups shows it: subscriptions and the protocol name only when Stable,
   * as in Kafka. Throws GROUP_ID_NOT_FOUND for an unknown group (Kafka's DescribeGroups below v6
   * answers that with state Dead and no error; the Kafka protocol adapter does that translation).
   */
  describeGroup(groupId: string): GroupDescription {
    const group = this.#groups.get(groupId);
    if (group === undefined) throw groupNotFound(groupId);
    const isStable = group.is(GroupState.Stable);
    return {
      groupId,
      state: group.state,
      protocolType: group.protocolType ?? '',
      protocolName: isStable ? group.protocolName! : '',
      generationId: group.generationId,
      leaderId: group.leaderId,
      members: [...group.members].map((member) => ({
        memberId: member.memberId,
        groupInstanceId: member.groupInstanceId,
        clientId: member.clientId,
        clientHost: member.clientHost,
        metadata: isStable ? member.metadata(group.protocolName!) : Buffer.alloc(0),
        assignment: member.assignment,
      })),
    };
  }

  /**
   * Deletes an Empty group (its committed offsets are the offsets store's to delete). Throws
   * GROUP_ID_NOT_FOUND, NON_EMPTY_GROUP. The group is gone at once; the returned promise settles
   * when its Dead snapshot is persisted.
   */
  async deleteGroup(groupId: string): Promise<void> {
    this.#assertOpen();
    validateGroupId(groupId);
    const group = this.#groups.get(groupId);
    if (group === undefined) throw groupNotFound(groupId);
    if (!group.is(GroupState.Empty)) {
      throw new MiniKafkaError('NON_EMPTY_GROUP', `group ${groupId} is ${group.state} with ${group.size} members; only an Empty group can be deleted: stop its consumers first`, { groupId, state: group.state, members: group.size });
    }
    const nowMs = this.#scheduler.nowMs();
    this.#unload(group);
    await this.#onGroupMetadataChanged(group.toSnapshot('Dead', nowMs));
  }

  /** Server-side assignment for a group in CompletingRebalance (server-assignment.ts). */
  assignOnServer(groupId: string, assignorName: string, partitionCounts: ReadonlyMap<string, number>): MemberAssignmentBytes[] {
    const group = this.#groups.get(groupId);
    if (group === undefined) throw groupNotFound(groupId);
    return assignOnServer(group, assignorName, partitionCounts);
  }

  // ---- loading and closing ----------------------------------------------------------------------

  /**
   * Installs a group from its persisted form, replacing any group of that id; a Dead snapshot
   * removes the group. Meant for startup, when the offsets store replays `__consumer_offsets`.
   * Loaded members must heartbeat within their session timeout or are removed.
   */
  loadGroup(snapshot: GroupSnapshot): void {
    this.#assertOpen();
    const existing = this.#groups.get(snapshot.groupId);
    if (existing !== undefined) this.#unload(existing);
    if (snapshot.state === 'Dead') return;
    const group = Group.fromSnapshot(snapshot);
    this.#groups.set(group.groupId, group);
    for (const member of group.members) this.#scheduleHeartbeatExpiry(group, member);
  }

  /** Stops every timer and answers every parked call with COORDINATOR_NOT_AVAILABLE. */
  close(): void {
    if (this.#isClosed) return;
    for (const group of [...this.#groups.values()]) this.#unload(group);
    this.#isClosed = true;
  }

  /** Takes a group out of the coordinator: Dead, parked calls answered, timers stopped. */
  #unload(group: Group): void {
    const gone = coordinatorNotAvailable(group.groupId, 'the group was removed from the coordinator; find the coordinator again and rejoin');
    for (const member of group.members) {
      group.completeJoin(member, gone);
      group.completeSync(member, gone);
    }
    group.transitionTo(GroupState.Dead, this.#scheduler.nowMs());
    this.#timers.cancelAll(group);
    this.#groups.delete(group.groupId);
  }

  // ---- helpers --------------------------------------------------------------------------------

  #createGroup(groupId: string): Group {
    const nowMs = this.#scheduler.nowMs();
    const group = new Group(groupId, nowMs);
    this.#groups.set(groupId, group);
    this.#persistInBackground(group.toSnapshot('Empty', nowMs));
    return group;
  }

  #assertOpen(): void {
    if (this.#isClosed) throw new MiniKafkaError('COORDINATOR_NOT_AVAILABLE', 'the group coordinator is closed (the broker is stopping)');
  }

  #persistInBackground(snapshot: GroupSnapshot): void {
    this.#persistThen(snapshot, () => {}, (error) => this.#onPersistenceError(error, snapshot));
  }

  /** Calls the persistence hook; continues synchronously when it returns no promise. */
  #persistThen(snapshot: GroupSnapshot, onDone: () => void, onError: (error: unknown) => void): void {
    let result: void | Promise<void>;
    try {
      result = this.#onGroupMetadataChanged(snapshot);
    } catch (error) {
      onError(error);
      return;
    }
    // Any thenable counts: the hook may come from code that builds its own promises.
    if (result !== undefined && typeof (result as Promise<void>).then === 'function') (result as Promise<void>).then(onDone, onError);
    else onDone();
  }
}

/**
 * Every string of a join is stored in `__consumer_offsets` as a Kafka string (int16 length): a
 * longer one would make every later save of the group fail, and the group rebalance forever.
 */
function validateJoinStrings(request: JoinGroupRequest): void {
  const strings = [request.memberId, request.clientId, request.clientHost, request.protocolType, request.groupInstanceId ?? '', ...request.protocols.map((p) => p.name)];
  for (const value of strings) {
    if (Buffer.byteLength(value) > KAFKA_STRING_MAX_BYTES) {
      throw new MiniKafkaError('INVALID_REQUEST', `group ${request.groupId}: a join field of ${Buffer.byteLength(value)} bytes is longer than a Kafka string holds (${KAFKA_STRING_MAX_BYTES})`, { groupId: request.groupId });
    }
  }
}

const KAFKA_STRING_MAX_BYTES = 0x7fff;
