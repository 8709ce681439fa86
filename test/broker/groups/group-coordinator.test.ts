/**
 * The group coordinator's flows on a ManualScheduler: join and sync for one and many members,
 * the initial rebalance delay, session and rebalance timeouts, leaving, new partitions,
 * MEMBER_ID_REQUIRED, persistence and loading, deletion, server-side assignment. No test sleeps.
 */

import { describe, expect, it } from 'vitest';
import { decodeAssignment, encodeAssignment, encodeSubscription } from '../../../broker/groups/consumer-protocol.ts';
import type { GroupSnapshot } from '../../../broker/groups/group-snapshot.ts';
import { INITIAL_DELAY_MS, REBALANCE_TIMEOUT_MS, SESSION_TIMEOUT_MS, expectCode, flush, joinRequest, makeHarness, protocol, stableGroup, syncRequest, track } from './group-harness.ts';

describe('GroupCoordinator join and sync', () => {
  it('one member: JoinGroup waits for the initial delay, then the member leads generation 1 and gets its own assignment', async () => {
    const { coordinator, scheduler, snapshots } = makeHarness();
    const join = track(coordinator.joinGroup(joinRequest()));
    expect(snapshots.map((s) => s.state)).toEqual(['Empty']);
    scheduler.advance(INITIAL_DELAY_MS - 1);
    await flush();
    expect(join.settled).toBe(false);
    expect(coordinator.describeGroup('g').state).toBe('PreparingRebalance');
    scheduler.advance(1);
    await flush();
    const result = join.value!;
    expect(result).toMatchObject({ memberId: 'client-m1', generationId: 1, leaderId: 'client-m1', protocolType: 'consumer', protocolName: 'range' });
    expect(result.members).toEqual([{ memberId: 'client-m1', groupInstanceId: null, metadata: encodeSubscription({ topics: ['orders'] }) }]);
    expect(coordinator.describeGroup('g').state).toBe('CompletingRebalance');

    const sync = await coordinator.syncGroup(syncRequest('client-m1', 1, { 'client-m1': [{ topic: 'orders', partitions: [0, 1] }] }));
    expect(decodeAssignment(sync.assignment).assignedPartitions).toEqual([{ topic: 'orders', partitions: [0, 1] }]);
    expect(coordinator.describeGroup('g')).toMatchObject({ state: 'Stable', protocolName: 'range', generationId: 1, leaderId: 'client-m1' });
    expect(snapshots.at(-1)).toMatchObject({ groupId: 'g', state: 'Stable', generationId: 1, leaderId: 'client-m1', protocolName: 'range', members: [{ memberId: 'client-m1', assignment: sync.assignment }] });
  });

  for (const count of [2, 3, 5]) {
    it(`${count} members: all JoinGroups answer together; only the leader sees the subscriptions; followers wait in SyncGroup for the leader`, async () => {
      const { coordinator, scheduler } = makeHarness();
      const joins = Array.from({ length: count }, (_, i) => coordinator.joinGroup(joinRequest({ clientId: `c${i}`, protocols: [protocol('range', [`topic-${i}`])] })));
      scheduler.advance(INITIAL_DELAY_MS * 2);
      const results = await Promise.all(joins);
      const leaderId = results[0].leaderId;
      expect(new Set(results.map((r) => r.generationId))).toEqual(new Set([1]));
      expect(new Set(results.map((r) => r.leaderId))).toEqual(new Set([leaderId]));
      for (const result of results) expect(result.members.length).toBe(result.memberId === leaderId ? count : 0);

      // Followers may heartbeat as soon as they have the generation, before they sync.
      for (const r of results) coordinator.heartbeat({ groupId: 'g', memberId: r.memberId, generationId: 1 });
      const syncs = new Map(results.filter((r) => r.memberId !== leaderId).map((r) => [r.memberId, track(coordinator.syncGroup(syncRequest(r.memberId, 1)))]));
      await flush();
      expect([...syncs.values()].every((sync) => !sync.settled)).toBe(true);
      const assignments = Object.fromEntries(results.map((r, i) => [r.memberId, [{ topic: `topic-${i}`, partitions: [i] }]]));
      const leaderSync = await coordinator.syncGroup(syncRequest(leaderId, 1, assignments));
      await flush();
      for (const [i, r] of results.entries()) {
        const bytes = r.memberId === leaderId ? leaderSync.assignment : syncs.get(r.memberId)!.value!.assignment;
        expect(decodeAssignment(bytes).assignedPartitions).toEqual([{ topic: `topic-${i}`, partitions: [i] }]);
      }
      expect(coordinator.describeGroup('g').members.map((m) => m.clientId)).toEqual(Array.from({ length: count }, (_, i) => `c${i}`));
    });
  }

  it('a member the leader leaves out gets empty assignment bytes', async () => {
    const harness = makeHarness();
    const joins = [harness.coordinator.joinGroup(joinRequest({ clientId: 'a' })), harness.coordinator.joinGroup(joinRequest({ clientId: 'b' }))];
    harness.scheduler.advance(INITIAL_DELAY_MS * 2);
    const [a, b] = await Promise.all(joins);
    const follower = a.memberId === a.leaderId ? b : a;
    const followerSync = harness.coordinator.syncGroup(syncRequest(follower.memberId, 1));
    await harness.coordinator.syncGroup(syncRequest(a.leaderId, 1, { [a.leaderId]: [{ topic: 'orders', partitions: [0] }], ghost: [{ topic: 'orders', partitions: [1] }] }));
    expect((await followerSync).assignment).toEqual(Buffer.alloc(0));
  });

  it('a follower that rejoins a Stable group with the same protocols gets the current generation without a rebalance', async () => {
    const harness = makeHarness();
    const { memberIds, leaderId, generationId } = await stableGroup(harness, 2);
    const follower = memberIds.find((id) => id !== leaderId)!;
    const result = await harness.coordinator.joinGroup(joinRequest({ clientId: 'c1', memberId: follower }));
    expect(result).toMatchObject({ memberId: follower, generationId, leaderId, members: [] });
    expect(harness.coordinator.describeGroup('g').state).toBe('Stable');
  });

  it('SyncGroup refuses a wrong generation, an unknown member, other protocols, and answers REBALANCE_IN_PROGRESS while preparing', async () => {
    const harness = makeHarness();
    const { memberIds, leaderId, generationId } = await stableGroup(harness, 2);
    const { coordinator } = harness;
    await expectCode(coordinator.syncGroup(syncRequest(memberIds[1], generationId + 1)), 'ILLEGAL_GENERATION');
    await expectCode(coordinator.syncGroup(syncRequest('nobody', generationId)), 'UNKNOWN_MEMBER_ID');
    await expectCode(coordinator.syncGroup(syncRequest(memberIds[1], generationId, {}, 'no-such-group')), 'UNKNOWN_MEMBER_ID');
    await expectCode(coordinator.syncGroup({ ...syncRequest(memberIds[1], generationId), protocolName: 'sticky' }), 'INCONSISTENT_GROUP_PROTOCOL');
    coordinator.joinGroup(joinRequest({ memberId: leaderId })).catch(() => {});
    await expectCode(coordinator.syncGroup(syncRequest(memberIds[1], generationId)), 'REBALANCE_IN_PROGRESS');
  });

  it('refuses an empty group id, a session timeout outside the broker bounds, and a rejoin to a group that does not exist', async () => {
    const { coordinator } = makeHarness({ config: { minSessionTimeoutMs: 6_000, maxSessionTimeoutMs: 60_000 } });
    await expectCode(coordinator.joinGroup(joinRequest({ groupId: '' })), 'INVALID_GROUP_ID');
    await expectCode(coordinator.joinGroup(joinRequest({ sessionTimeoutMs: 5_999 })), 'INVALID_SESSION_TIMEOUT');
    await expectCode(coordinator.joinGroup(joinRequest({ sessionTimeoutMs: 60_001 })), 'INVALID_SESSION_TIMEOUT');
    await expectCode(coordinator.joinGroup(joinRequest({ memberId: 'client-old' })), 'UNKNOWN_MEMBER_ID');
    expect(coordinator.listGroups()).toEqual([]);
  });
});

describe('GroupCoordinator initial rebalance delay', () => {
  it('extends the delay while members keep joining, so they share one generation', async () => {
    const { coordinator, scheduler } = makeHarness();
    const a = track(coordinator.joinGroup(joinRequest({ clientId: 'a' })));
    scheduler.advance(2_000);
    const b = track(coordinator.joinGroup(joinRequest({ clientId: 'b' })));
    scheduler.advance(1_000); // t = 3000: b joined during the delay, so it is extended
    await flush();
    expect(a.settled || b.settled).toBe(false);
    scheduler.advance(2_999); // t = 5999
    await flush();
    expect(a.settled).toBe(false);
    scheduler.advance(1); // t = 6000: nobody joined in the second delay
    await flush();
    expect(a.value!.generationId).toBe(1);
    expect(b.value!.generationId).toBe(1);
    expect(a.value!.leaderId).toBe(a.value!.memberId);
  });

  it('extends no further than the rebalance timeout', async () => {
    const { coordinator, scheduler } = makeHarness();
    const joins = [track(coordinator.joinGroup(joinRequest({ clientId: 'a', rebalanceTimeoutMs: 4_000 })))];
    // A new member every second: without the cap the delay would be extended forever.
    for (let t = 1; t <= 3; t++) {
      scheduler.advance(1_000);
      joins.push(track(coordinator.joinGroup(joinRequest({ clientId: `c${t}`, rebalanceTimeoutMs: 4_000 }))));
    }
    scheduler.advance(999); // t = 3999
    await flush();
    expect(joins.some((j) => j.settled)).toBe(false);
    scheduler.advance(1); // t = 4000 = 3000 + min(3000, 4000 - 3000)
    await flush();
    expect(joins.map((j) => j.value?.generationId)).toEqual([1, 1, 1, 1]);
  });

  it('with group.initial.rebalance.delay.ms = 0 the first rebalance completes as soon as the timer runs', async () => {
    const { coordinator, scheduler } = makeHarness({ config: { initialRebalanceDelayMs: 0 } });
    const join = track(coordinator.joinGroup(joinRequest()));
    scheduler.advance(0);
    await flush();
    expect(join.value!.generationId).toBe(1);
  });

  it('a later rebalance completes as soon as every member has rejoined, without a delay', async () => {
    const harness = makeHarness();
    const { memberIds, generationId } = await stableGroup(harness, 2);
    const rejoins = memberIds.map((memberId, i) => harness.coordinator.joinGroup(joinRequest({ clientId: `c${i}`, memberId, protocols: [protocol('range', ['orders', 'payments'])] })));
    const results = await Promise.all(rejoins);
    expect(results.map((r) => r.generationId)).toEqual([generationId + 1, generationId + 1]);
  });
});

describe('GroupCoordinator timeouts and leaving', () => {
  it('removes a member whose session times out and rebalances the rest', async () => {
    const harness = makeHarness();
    const { coordinator, scheduler } = harness;
    const { memberIds, generationId } = await stableGroup(harness, 2);
    const [alive, silent] = memberIds;
    scheduler.advance(SESSION_TIMEOUT_MS - 1);
    coordinator.heartbeat({ groupId: 'g', memberId: alive, generationId });
    expect(coordinator.describeGroup('g')).toMatchObject({ state: 'Stable', members: [{ memberId: alive }, { memberId: silent }] });
    scheduler.advance(1);
    expect(coordinator.describeGroup('g')).toMatchObject({ state: 'PreparingRebalance', members: [{ memberId: alive }] });
    await expectCode(() => coordinator.heartbeat({ groupId: 'g', memberId: alive, generationId }), 'REBALANCE_IN_PROGRESS');
    await expectCode(() => coordinator.heartbeat({ groupId: 'g', memberId: silent, generationId }), 'UNKNOWN_MEMBER_ID');
    const rejoin = await coordinator.joinGroup(joinRequest({ clientId: 'c0', memberId: alive }));
    expect(rejoin).toMatchObject({ generationId: generationId + 1, leaderId: alive });
    expect(rejoin.members.map((m) => m.memberId)).toEqual([alive]);
  });

  it('drops a member that keeps heartbeating but does not rejoin within the rebalance timeout', async () => {
    const harness = makeHarness();
    const { coordinator, scheduler } = harness;
    const { memberIds, leaderId, generationId } = await stableGroup(harness, 2);
    const laggard = memberIds.find((id) => id !== leaderId)!;
    const rejoin = track(coordinator.joinGroup(joinRequest({ clientId: 'c0', memberId: leaderId })));
    for (let elapsedMs = 0; elapsedMs < REBALANCE_TIMEOUT_MS - 5_000; elapsedMs += 5_000) {
      scheduler.advance(5_000);
      await expectCode(() => coordinator.heartbeat({ groupId: 'g', memberId: laggard, generationId }), 'REBALANCE_IN_PROGRESS');
    }
    await flush();
    expect(rejoin.settled).toBe(false);
    scheduler.advance(5_000);
    await flush();
    expect(rejoin.value).toMatchObject({ generationId: generationId + 1, leaderId });
    expect(rejoin.value!.members.map((m) => m.memberId)).toEqual([leaderId]);
    await expectCode(() => coordinator.heartbeat({ groupId: 'g', memberId: laggard, generationId }), 'UNKNOWN_MEMBER_ID');
  });

  it('a new leader is chosen when the leader does not rejoin', async () => {
    const harness = makeHarness();
    const { memberIds, leaderId } = await stableGroup(harness, 2);
    const follower = memberIds.find((id) => id !== leaderId)!;
    const rejoin = track(harness.coordinator.joinGroup(joinRequest({ clientId: 'c1', memberId: follower, protocols: [protocol('range', ['other'])] })));
    harness.scheduler.advance(REBALANCE_TIMEOUT_MS);
    await flush();
    expect(rejoin.value).toMatchObject({ leaderId: follower });
  });

  it('drops members that do not send SyncGroup within the rebalance timeout, and rebalances', async () => {
    const harness = makeHarness();
    const { coordinator, scheduler } = harness;
    const joins = [coordinator.joinGroup(joinRequest({ clientId: 'a' })), coordinator.joinGroup(joinRequest({ clientId: 'b' }))];
    scheduler.advance(INITIAL_DELAY_MS * 2);
    const [a, b] = await Promise.all(joins);
    const leaderId = a.leaderId;
    const follower = a.memberId === leaderId ? b.memberId : a.memberId;
    await coordinator.syncGroup(syncRequest(leaderId, 1, { [leaderId]: [] }));
    expect(coordinator.describeGroup('g').state).toBe('Stable');
    // Both heartbeat, so no session expires; the follower just never sends SyncGroup.
    for (let elapsedMs = 5_000; elapsedMs < REBALANCE_TIMEOUT_MS; elapsedMs += 5_000) {
      scheduler.advance(5_000);
      for (const memberId of [leaderId, follower]) coordinator.heartbeat({ groupId: 'g', memberId, generationId: 1 });
    }
    expect(coordinator.describeGroup('g').state).toBe('Stable');
    scheduler.advance(5_000);
    expect(coordinator.describeGroup('g')).toMatchObject({ state: 'PreparingRebalance', members: [{ memberId: leaderId }] });
    await expectCode(() => coordinator.heartbeat({ groupId: 'g', memberId: leaderId, generationId: 1 }), 'REBALANCE_IN_PROGRESS');
    await expectCode(() => coordinator.heartbeat({ groupId: 'g', memberId: follower, generationId: 1 }), 'UNKNOWN_MEMBER_ID');
  });

  it('a new member whose JoinGroup stays parked past the new-member join timeout is dropped with UNKNOWN_MEMBER_ID', async () => {
    const harness = makeHarness({ config: { initialRebalanceDelayMs: INITIAL_DELAY_MS, newMemberJoinTimeoutMs: 5_000 } });
    const { coordinator, scheduler } = harness;
    const { memberIds, generationId } = await stableGroup(harness, 1);
    const newcomer = track(coordinator.joinGroup(joinRequest({ clientId: 'late' })));
    // The old member heartbeats but does not rejoin; the rebalance waits for it.
    for (let t = 0; t < 2; t++) {
      scheduler.advance(2_500);
      await expectCode(() => coordinator.heartbeat({ groupId: 'g', memberId: memberIds[0], generationId }), 'REBALANCE_IN_PROGRESS');
    }
    await flush();
    expect(newcomer.error).toMatchObject({ code: 'UNKNOWN_MEMBER_ID' });
    expect(coordinator.describeGroup('g').members.map((m) => m.memberId)).toEqual(memberIds);
  });

  it('LeaveGroup removes the member at once and rebalances; the last one out leaves the group Empty at the next generation', async () => {
    const harness = makeHarness();
    const { coordinator, snapshots } = harness;
    const { memberIds, generationId } = await stableGroup(harness, 2);
    coordinator.leaveGroup({ groupId: 'g', memberId: memberIds[1] });
    expect(coordinator.describeGroup('g').state).toBe('PreparingRebalance');
    await expectCode(() => coordinator.leaveGroup({ groupId: 'g', memberId: memberIds[1] }), 'UNKNOWN_MEMBER_ID');
    const rejoin = await coordinator.joinGroup(joinRequest({ clientId: 'c0', memberId: memberIds[0] }));
    expect(rejoin.generationId).toBe(generationId + 1);
    await coordinator.syncGroup(syncRequest(memberIds[0], rejoin.generationId));
    coordinator.leaveGroup({ groupId: 'g', memberId: memberIds[0] });
    expect(coordinator.describeGroup('g')).toMatchObject({ state: 'Empty', generationId: generationId + 2, members: [], leaderId: null });
    expect(snapshots.at(-1)).toMatchObject({ state: 'Empty', generationId: generationId + 2, protocolName: null, members: [] });
    await expectCode(() => coordinator.leaveGroup({ groupId: 'nope', memberId: 'x' }), 'UNKNOWN_MEMBER_ID');
  });

  it('a member leaving during the rebalance answers its own parked JoinGroup with UNKNOWN_MEMBER_ID and lets the others complete', async () => {
    const harness = makeHarness();
    const { memberIds, generationId } = await stableGroup(harness, 3);
    const rejoins = memberIds.slice(0, 2).map((memberId) => track(harness.coordinator.joinGroup(joinRequest({ memberId, protocols: [protocol('range', ['x'])] }))));
    await flush();
    expect(rejoins.some((r) => r.settled)).toBe(false);
    harness.coordinator.leaveGroup({ groupId: 'g', memberId: memberIds[1] });
    await flush();
    expect(rejoins[1].error).toMatchObject({ code: 'UNKNOWN_MEMBER_ID' });
    expect(rejoins[0].settled).toBe(false); // member 2 has not rejoined yet
    await harness.coordinator.joinGroup(joinRequest({ memberId: memberIds[2] }));
    await flush();
    expect(rejoins[0].value!.generationId).toBe(generationId + 1);
  });
});

describe('GroupCoordinator rebalances when a subscribed topic gains partitions', () => {
  it('rebalances Stable groups subscribed to the topic and leaves the others alone', async () => {
    const harness = makeHarness();
    await stableGroup(harness, 2, { protocols: [protocol('range', ['orders'])] });
    await stableGroup(harness, 1, { groupId: 'h', protocols: [protocol('range', ['payments'])] });
    harness.coordinator.onTopicPartitionsChanged('unrelated');
    expect(harness.coordinator.listGroups().map((g) => g.state)).toEqual(['Stable', 'Stable']);
    harness.coordinator.onTopicPartitionsChanged('orders');
    expect(harness.coordinator.listGroups()).toEqual([
      { groupId: 'g', protocolType: 'consumer', state: 'PreparingRebalance' },
      { groupId: 'h', protocolType: 'consumer', state: 'Stable' },
    ]);
  });

  it('rebalances a consumer group on any topic when its subscriptions cannot be read', async () => {
    const harness = makeHarness();
    await stableGroup(harness, 1, { protocols: [{ name: 'range', metadata: Buffer.from([0xff]) }] });
    harness.coordinator.onTopicPartitionsChanged('anything');
    expect(harness.coordinator.describeGroup('g').state).toBe('PreparingRebalance');
  });

  it('interrupts a group completing a rebalance: parked SyncGroups get REBALANCE_IN_PROGRESS', async () => {
    const harness = makeHarness();
    const joins = [harness.coordinator.joinGroup(joinRequest({ clientId: 'a' })), harness.coordinator.joinGroup(joinRequest({ clientId: 'b' }))];
    harness.scheduler.advance(INITIAL_DELAY_MS * 2);
    const [a, b] = await Promise.all(joins);
    const follower = a.memberId === a.leaderId ? b : a;
    const parked = harness.coordinator.syncGroup(syncRequest(follower.memberId, 1));
    harness.coordinator.onTopicPartitionsChanged('orders');
    await expectCode(parked, 'REBALANCE_IN_PROGRESS');
    expect(harness.coordinator.describeGroup('g').state).toBe('PreparingRebalance');
  });
});

describe('GroupCoordinator MEMBER_ID_REQUIRED (KIP-394)', () => {
  it('hands out a member id, then accepts the join that brings it back', async () => {
    const { coordinator, scheduler } = makeHarness();
    const first = coordinator.joinGroup(joinRequest({ requireKnownMemberId: true }));
    await expect(first).rejects.toMatchObject({ code: 'MEMBER_ID_REQUIRED', kafkaCode: 79, details: { memberId: 'client-m1' } });
    expect(coordinator.describeGroup('g').members).toEqual([]);
    const second = track(coordinator.joinGroup(joinRequest({ memberId: 'client-m1', requireKnownMemberId: true })));
    scheduler.advance(INITIAL_DELAY_MS);
    await flush();
    expect(second.value).toMatchObject({ memberId: 'client-m1', generationId: 1, leaderId: 'client-m1' });
  });

  it('forgets a handed-out id that does not come back within the session timeout', async () => {
    const harness = makeHarness();
    const { coordinator, scheduler } = harness;
    const { memberIds, generationId } = await stableGroup(harness, 1);
    await expectCode(coordinator.joinGroup(joinRequest({ clientId: 'x', requireKnownMemberId: true })), 'MEMBER_ID_REQUIRED');
    // A pending member holds up a rebalance until it comes back or expires.
    const rejoin = track(coordinator.joinGroup(joinRequest({ clientId: 'c0', memberId: memberIds[0], protocols: [protocol('range', ['t2'])] })));
    scheduler.advance(SESSION_TIMEOUT_MS - 1);
    await flush();
    expect(rejoin.settled).toBe(false);
    scheduler.advance(1);
    await flush();
    expect(rejoin.value!.generationId).toBe(generationId + 1);
    await expectCode(coordinator.joinGroup(joinRequest({ clientId: 'x', memberId: 'x-m2' })), 'UNKNOWN_MEMBER_ID');
  });

  it('without the flag a new member is added at once with a generated id', async () => {
    const { coordinator, scheduler } = makeHarness();
    const join = track(coordinator.joinGroup(joinRequest({ clientId: 'kafkajs' })));
    scheduler.advance(INITIAL_DELAY_MS);
    await flush();
    expect(join.value!.memberId).toBe('kafkajs-m1');
  });
});

describe('GroupCoordinator persistence', () => {
  it('members get their assignment only once the persistence hook resolves', async () => {
    let release!: () => void;
    const persisted: GroupSnapshot[] = [];
    const harness = makeHarness({
      onGroupMetadataChanged: (snapshot) => {
        persisted.push(snapshot);
        return snapshot.state === 'Stable' ? new Promise<void>((resolve) => (release = resolve)) : undefined;
      },
    });
    const joins = [harness.coordinator.joinGroup(joinRequest({ clientId: 'a' })), harness.coordinator.joinGroup(joinRequest({ clientId: 'b' }))];
    harness.scheduler.advance(INITIAL_DELAY_MS * 2);
    const [a, b] = await Promise.all(joins);
    const syncs = [a, b].map((r) => track(harness.coordinator.syncGroup(syncRequest(r.memberId, 1, r.memberId === r.leaderId ? { [a.memberId]: [{ topic: 'orders', partitions: [0] }], [b.memberId]: [{ topic: 'orders', partitions: [1] }] } : {}))));
    await flush();
    expect(syncs.some((s) => s.settled)).toBe(false);
    expect(harness.coordinator.describeGroup('g').state).toBe('CompletingRebalance');
    expect(persisted.at(-1)!.members.map((m) => decodeAssignment(m.assignment).assignedPartitions[0].partitions)).toEqual([[0], [1]]);
    release();
    await flush();
    expect(syncs.map((s) => decodeAssignment(s.value!.assignment).assignedPartitions[0].partitions)).toEqual([[0], [1]]);
    expect(harness.coordinator.describeGroup('g').state).toBe('Stable');
  });

  it('a failed write fails every parked SyncGroup with COORDINATOR_NOT_AVAILABLE and restarts the rebalance', async () => {
    const harness = makeHarness({ onGroupMetadataChanged: (snapshot) => (snapshot.state === 'Stable' ? Promise.reject(new Error('disk full')) : undefined) });
    const joins = [harness.coordinator.joinGroup(joinRequest({ clientId: 'a' })), harness.coordinator.joinGroup(joinRequest({ clientId: 'b' }))];
    harness.scheduler.advance(INITIAL_DELAY_MS * 2);
    const [a, b] = await Promise.all(joins);
    const follower = a.memberId === a.leaderId ? b : a;
    const followerSync = harness.coordinator.syncGroup(syncRequest(follower.memberId, 1));
    await expectCode(harness.coordinator.syncGroup(syncRequest(a.leaderId, 1)), 'COORDINATOR_NOT_AVAILABLE');
    await expectCode(followerSync, 'COORDINATOR_NOT_AVAILABLE');
    expect(harness.coordinator.describeGroup('g').state).toBe('PreparingRebalance');
  });

  it('a loaded Stable group serves its members, and removes those that do not heartbeat after the load', async () => {
    const first = makeHarness();
    const { memberIds, generationId, leaderId } = await stableGroup(first, 2);
    const snapshot = first.snapshots.at(-1)!;
    expect(snapshot).toMatchObject({ state: 'Stable', generationId, leaderId });

    const second = makeHarness();
    second.coordinator.loadGroup(snapshot);
    expect(second.coordinator.describeGroup('g')).toMatchObject({ state: 'Stable', generationId, leaderId, protocolName: 'range' });
    const sync = await second.coordinator.syncGroup(syncRequest(memberIds[0], generationId));
    expect(sync.assignment).toEqual(snapshot.members.find((m) => m.memberId === memberIds[0])!.assignment);
    second.coordinator.validateCommit('g', generationId, memberIds[1]);
    // Only member 0 heartbeats after the restart.
    second.scheduler.advance(SESSION_TIMEOUT_MS / 2);
    second.coordinator.heartbeat({ groupId: 'g', memberId: memberIds[0], generationId });
    second.scheduler.advance(SESSION_TIMEOUT_MS / 2);
    expect(second.coordinator.describeGroup('g').members.map((m) => m.memberId)).toEqual([memberIds[0]]);
    expect(second.coordinator.describeGroup('g').state).toBe('PreparingRebalance');
  });

  it('loads Empty snapshots as Empty groups and Dead snapshots as deletions', () => {
    const { coordinator } = makeHarness();
    coordinator.loadGroup({ groupId: 'g', state: 'Empty', protocolType: 'consumer', protocolName: null, generationId: 4, leaderId: null, stateTimestampMs: 1, members: [] });
    expect(coordinator.describeGroup('g')).toMatchObject({ state: 'Empty', generationId: 4, protocolType: 'consumer' });
    coordinator.loadGroup({ groupId: 'g', state: 'Dead', protocolType: null, protocolName: null, generationId: 4, leaderId: null, stateTimestampMs: 2, members: [] });
    expect(coordinator.listGroups()).toEqual([]);
  });
});

describe('GroupCoordinator admin', () => {
  it('deletes only Empty groups, and writes a Dead snapshot', async () => {
    const harness = makeHarness();
    const { coordinator, snapshots } = harness;
    const { memberIds } = await stableGroup(harness, 1);
    await expectCode(coordinator.deleteGroup('g'), 'NON_EMPTY_GROUP');
    await expectCode(coordinator.deleteGroup('missing'), 'GROUP_ID_NOT_FOUND');
    coordinator.leaveGroup({ groupId: 'g', memberId: memberIds[0] });
    await coordinator.deleteGroup('g');
    expect(snapshots.at(-1)).toMatchObject({ groupId: 'g', state: 'Dead', members: [] });
    expect(coordinator.listGroups()).toEqual([]);
    await expectCode(() => coordinator.describeGroup('g'), 'GROUP_ID_NOT_FOUND');
  });

  it('lists groups with their state, filtered by state', async () => {
    const harness = makeHarness();
    await stableGroup(harness, 1);
    harness.coordinator.validateCommit('admin-only', -1, '');
    expect(harness.coordinator.listGroups()).toEqual([
      { groupId: 'admin-only', protocolType: '', state: 'Empty' },
      { groupId: 'g', protocolType: 'consumer', state: 'Stable' },
    ]);
    expect(harness.coordinator.listGroups(['Stable']).map((g) => g.groupId)).toEqual(['g']);
  });

  it('describes members with client id, host and assignment; subscriptions and protocol only when Stable', async () => {
    const harness = makeHarness();
    const { leaderId } = await stableGroup(harness, 2, { clientHost: '/10.0.0.7' });
    const stable = harness.coordinator.describeGroup('g');
    expect(stable.members[0]).toMatchObject({ memberId: leaderId, clientId: 'c0', clientHost: '/10.0.0.7', metadata: encodeSubscription({ topics: ['orders'] }), assignment: encodeAssignment([]) });
    harness.coordinator.joinGroup(joinRequest({ memberId: leaderId, clientId: 'c0' })).catch(() => {});
    const preparing = harness.coordinator.describeGroup('g');
    expect(preparing).toMatchObject({ state: 'PreparingRebalance', protocolName: '' });
    expect(preparing.members[0].metadata).toEqual(Buffer.alloc(0));
  });

  it('close() answers parked calls with COORDINATOR_NOT_AVAILABLE and refuses new ones', async () => {
    const { coordinator } = makeHarness();
    const join = coordinator.joinGroup(joinRequest());
    coordinator.close();
    await expectCode(join, 'COORDINATOR_NOT_AVAILABLE');
    await expectCode(coordinator.joinGroup(joinRequest()), 'COORDINATOR_NOT_AVAILABLE');
  });
});

describe('GroupCoordinator server-side assignment', () => {
  it('assigns with the named assignor from the members subscriptions, for the leader to send in SyncGroup', async () => {
    const { coordinator, scheduler } = makeHarness();
    const joins = [coordinator.joinGroup(joinRequest({ clientId: 'a', protocols: [protocol('roundrobin', ['orders'])] })), coordinator.joinGroup(joinRequest({ clientId: 'b', protocols: [protocol('roundrobin', ['orders'])] }))];
    scheduler.advance(INITIAL_DELAY_MS * 2);
    const [a, b] = await Promise.all(joins);
    const assignments = coordinator.assignOnServer('g', 'roundrobin', new Map([['orders', 4]]));
    expect(assignments.map((x) => [x.memberId, decodeAssignment(x.assignment).assignedPartitions])).toEqual([
      [a.memberId, [{ topic: 'orders', partitions: [0, 2] }]],
      [b.memberId, [{ topic: 'orders', partitions: [1, 3] }]],
    ]);
    const follower = a.memberId === a.leaderId ? b : a;
    const followerSync = coordinator.syncGroup(syncRequest(follower.memberId, 1));
    await coordinator.syncGroup({ groupId: 'g', memberId: a.leaderId, generationId: 1, assignments });
    expect((await followerSync).assignment).toEqual(assignments.find((x) => x.memberId === follower.memberId)!.assignment);
  });

  it('sticky on the server keeps what members held in the previous generation', async () => {
    const harness = makeHarness();
    const { coordinator, scheduler } = harness;
    const first = [coordinator.joinGroup(joinRequest({ clientId: 'a', protocols: [protocol('sticky')] })), coordinator.joinGroup(joinRequest({ clientId: 'b', protocols: [protocol('sticky')] }))];
    scheduler.advance(INITIAL_DELAY_MS * 2);
    const [a, b] = await Promise.all(first);
    const previous = coordinator.assignOnServer('g', 'sticky', new Map([['orders', 6]]));
    const followerSync = coordinator.syncGroup(syncRequest(a.memberId === a.leaderId ? b.memberId : a.memberId, 1));
    await coordinator.syncGroup({ groupId: 'g', memberId: a.leaderId, generationId: 1, assignments: previous });
    await followerSync;
    // A third member arrives, then the two old ones rejoin (had they rejoined first, the
    // rebalance would have completed without the newcomer).
    const rejoins = [coordinator.joinGroup(joinRequest({ clientId: 'c', protocols: [protocol('sticky')] })), coordinator.joinGroup(joinRequest({ memberId: a.memberId, protocols: [protocol('sticky')] })), coordinator.joinGroup(joinRequest({ memberId: b.memberId, protocols: [protocol('sticky')] }))];
    const results = await Promise.all(rejoins);
    expect(results.map((r) => r.generationId)).toEqual([2, 2, 2]);
    const next = coordinator.assignOnServer('g', 'sticky', new Map([['orders', 6]]));
    const held = (list: typeof previous, memberId: string): number[] => decodeAssignment(list.find((x) => x.memberId === memberId)!.assignment).assignedPartitions.flatMap((tp) => [...tp.partitions]);
    for (const memberId of [a.memberId, b.memberId]) {
      expect(held(next, memberId)).toHaveLength(2);
      for (const partition of held(next, memberId)) expect(held(previous, memberId)).toContain(partition);
    }
  });

  it('refuses when the group is not waiting for an assignment, or the assignor is unknown', async () => {
    const harness = makeHarness();
    await stableGroup(harness, 1);
    await expectCode(() => harness.coordinator.assignOnServer('g', 'range', new Map()), 'REBALANCE_IN_PROGRESS');
    await expectCode(() => harness.coordinator.assignOnServer('g', 'cooperative-sticky', new Map()), 'INVALID_REQUEST');
    await expectCode(() => harness.coordinator.assignOnServer('nope', 'range', new Map()), 'GROUP_ID_NOT_FOUND');
  });
});
