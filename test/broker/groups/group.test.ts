/**
 * One group's rules: the state transition table, the protocol vote, and the commit fencing rules
 * of Kafka's ClassicGroup.validateOffsetCommit, case by case.
 */

import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Group, GroupState, isValidTransition } from '../../../broker/groups/group.ts';
import { GroupMember } from '../../../broker/groups/group-member.ts';
import { INITIAL_DELAY_MS, expectCode, joinRequest, makeHarness, protocol, stableGroup, syncRequest } from './group-harness.ts';

const STATES = Object.values(GroupState);

describe('the group state transition table', () => {
  // Kafka's ClassicGroupState valid previous states, written out pair by pair.
  const allowed = new Set([
    'Empty->PreparingRebalance',
    'PreparingRebalance->CompletingRebalance',
    'PreparingRebalance->Empty',
    'CompletingRebalance->Stable',
    'CompletingRebalance->PreparingRebalance',
    'Stable->PreparingRebalance',
    'Empty->Dead',
    'PreparingRebalance->Dead',
    'CompletingRebalance->Dead',
    'Stable->Dead',
    'Dead->Dead',
  ]);

  it('allows exactly the listed transitions', () => {
    for (const from of STATES) for (const to of STATES) expect(isValidTransition(from, to), `${from} -> ${to}`).toBe(allowed.has(`${from}->${to}`));
  });

  it('Group.transitionTo() crashes on a transition the table does not list', () => {
    const group = new Group('g', 0);
    expect(() => group.transitionTo(GroupState.Stable, 1)).toThrow(/illegal transition Empty -> Stable/);
    group.transitionTo(GroupState.PreparingRebalance, 1);
    expect(() => group.transitionTo(GroupState.PreparingRebalance, 2)).toThrow(/illegal transition/);
    expect(group.state).toBe(GroupState.PreparingRebalance);
    expect(group.previousState).toBe(GroupState.Empty);
  });

  it('documents the same transitions in the header of group.ts', () => {
    const source = fs.readFileSync(new URL('../../../broker/groups/group.ts', import.meta.url), 'utf8');
    for (const pair of allowed) {
      const [from, to] = pair.split('->');
      if (from === 'Dead' || (to === 'Dead' && from !== 'Empty')) continue; // the "any other -> Dead" row
      expect(source, pair).toMatch(new RegExp(`\\* \\| ${from}\\s+\\| ${to}\\s+\\|`));
    }
  });
});

describe('the protocol vote', () => {
  const member = (memberId: string, names: string[]): GroupMember => new GroupMember({ memberId, groupInstanceId: null, clientId: 'c', clientHost: 'h', rebalanceTimeoutMs: 1, sessionTimeoutMs: 1, protocolType: 'consumer', protocols: names.map((name) => protocol(name)) });
  const vote = (...preferences: string[][]): string => {
    const group = new Group('g', 0);
    preferences.forEach((names, i) => group.add(member(`m${i}`, names), null));
    return group.selectProtocol();
  };

  it('only names every member offers are candidates', () => {
    expect(vote(['roundrobin', 'range'], ['roundrobin', 'range'], ['range'])).toBe('range');
  });

  it('each member votes for its most preferred candidate; most votes win', () => {
    expect(vote(['range', 'roundrobin'], ['roundrobin', 'range'], ['roundrobin', 'range'])).toBe('roundrobin');
    expect(vote(['sticky', 'range'], ['range', 'sticky'], ['range', 'sticky'], ['sticky', 'range'], ['sticky', 'range'])).toBe('sticky');
  });

  it('a tie goes to the leader (first member) preference', () => {
    expect(vote(['range', 'roundrobin'], ['roundrobin', 'range'])).toBe('range');
    expect(vote(['roundrobin', 'range'], ['range', 'roundrobin'])).toBe('roundrobin');
  });

  it('the coordinator refuses a joiner with no shared assignor or another protocol type (INCONSISTENT_GROUP_PROTOCOL)', async () => {
    const harness = makeHarness();
    await stableGroup(harness, 2);
    await expectCode(harness.coordinator.joinGroup(joinRequest({ protocols: [protocol('sticky')] })), 'INCONSISTENT_GROUP_PROTOCOL');
    await expectCode(harness.coordinator.joinGroup(joinRequest({ protocolType: 'connect' })), 'INCONSISTENT_GROUP_PROTOCOL');
    await expectCode(harness.coordinator.joinGroup(joinRequest({ groupId: 'new', protocols: [] })), 'INCONSISTENT_GROUP_PROTOCOL');
    expect(harness.coordinator.listGroups().map((g) => g.groupId)).toEqual(['g']);
    expect(harness.coordinator.describeGroup('g').state).toBe('Stable');
  });

  it('the voted protocol is what JoinGroup answers and what the members are asked to assign with', async () => {
    const harness = makeHarness();
    const a = harness.coordinator.joinGroup(joinRequest({ clientId: 'a', protocols: [protocol('sticky'), protocol('range')] }));
    const b = harness.coordinator.joinGroup(joinRequest({ clientId: 'b', protocols: [protocol('range'), protocol('sticky')] }));
    const c = harness.coordinator.joinGroup(joinRequest({ clientId: 'c', protocols: [protocol('sticky'), protocol('roundrobin'), protocol('range')] }));
    harness.scheduler.advance(INITIAL_DELAY_MS * 3);
    const results = await Promise.all([a, b, c]);
    expect(results.map((r) => r.protocolName)).toEqual(['sticky', 'sticky', 'sticky']);
  });
});

describe('commit fencing (validateCommit)', () => {
  it('a group that does not exist: generation -1 creates it Empty and accepts; a generation >= 0 is ILLEGAL_GENERATION', async () => {
    const { coordinator, snapshots } = makeHarness();
    await expectCode(() => coordinator.validateCommit('standalone', 3, 'someone'), 'ILLEGAL_GENERATION');
    expect(coordinator.listGroups()).toEqual([]);
    coordinator.validateCommit('standalone', -1, '');
    expect(coordinator.listGroups()).toEqual([{ groupId: 'standalone', protocolType: '', state: 'Empty' }]);
    expect(snapshots.at(-1)).toMatchObject({ groupId: 'standalone', state: 'Empty', protocolType: null, members: [] });
    await expectCode(() => coordinator.validateCommit('', -1, ''), 'INVALID_GROUP_ID');
  });

  it('an Empty group accepts generation < 0 with or without a member id, and nothing else', async () => {
    const { coordinator } = makeHarness();
    coordinator.validateCommit('g', -1, '');
    coordinator.validateCommit('g', -1, 'leftover-member');
    await expectCode(() => coordinator.validateCommit('g', 0, ''), 'UNKNOWN_MEMBER_ID');
    await expectCode(() => coordinator.validateCommit('g', 0, 'x'), 'UNKNOWN_MEMBER_ID');
  });

  it('a Stable group accepts only a current member at the current generation', async () => {
    const harness = makeHarness();
    const { memberIds, generationId } = await stableGroup(harness, 2);
    const { coordinator } = harness;
    coordinator.validateCommit('g', generationId, memberIds[1]);
    await expectCode(() => coordinator.validateCommit('g', generationId - 1, memberIds[1]), 'ILLEGAL_GENERATION');
    await expectCode(() => coordinator.validateCommit('g', generationId + 1, memberIds[1]), 'ILLEGAL_GENERATION');
    await expectCode(() => coordinator.validateCommit('g', generationId, 'zombie'), 'UNKNOWN_MEMBER_ID');
    await expectCode(() => coordinator.validateCommit('g', -1, ''), 'UNKNOWN_MEMBER_ID');
    await expectCode(() => coordinator.validateCommit('g', -1, memberIds[0]), 'ILLEGAL_GENERATION');
  });

  it('PreparingRebalance still accepts the old generation (members commit before they rejoin); CompletingRebalance answers REBALANCE_IN_PROGRESS', async () => {
    const harness = makeHarness();
    const { memberIds, generationId, leaderId } = await stableGroup(harness, 2);
    const { coordinator } = harness;
    const rejoin = coordinator.joinGroup(joinRequest({ memberId: leaderId }));
    expect(coordinator.describeGroup('g').state).toBe('PreparingRebalance');
    coordinator.validateCommit('g', generationId, memberIds[0]);
    coordinator.validateCommit('g', generationId, memberIds[1]);
    const follower = memberIds.find((id) => id !== leaderId)!;
    const followerRejoin = coordinator.joinGroup(joinRequest({ memberId: follower }));
    const [leaderResult] = await Promise.all([rejoin, followerRejoin]);
    expect(coordinator.describeGroup('g').state).toBe('CompletingRebalance');
    await expectCode(() => coordinator.validateCommit('g', leaderResult.generationId, follower), 'REBALANCE_IN_PROGRESS');
    await expectCode(() => coordinator.validateCommit('g', generationId, follower), 'ILLEGAL_GENERATION');
    await coordinator.syncGroup(syncRequest(leaderId, leaderResult.generationId));
    coordinator.validateCommit('g', leaderResult.generationId, follower);
  });

  it('a zombie (removed after its session timed out) is fenced with UNKNOWN_MEMBER_ID', async () => {
    const harness = makeHarness();
    const { memberIds, generationId } = await stableGroup(harness, 2);
    for (let t = 0; t < 3; t++) {
      harness.scheduler.advance(4_000);
      try {
        harness.coordinator.heartbeat({ groupId: 'g', memberId: memberIds[0], generationId });
      } catch {
        // REBALANCE_IN_PROGRESS once the zombie is gone
      }
    }
    await expectCode(() => harness.coordinator.validateCommit('g', generationId, memberIds[1]), 'UNKNOWN_MEMBER_ID');
  });

  it('a Dead group answers COORDINATOR_NOT_AVAILABLE', () => {
    const group = new Group('g', 0);
    group.transitionTo(GroupState.Dead, 1);
    expect(() => group.validateOffsetCommit('', -1)).toThrow(expect.objectContaining({ code: 'COORDINATOR_NOT_AVAILABLE' }));
  });
});
