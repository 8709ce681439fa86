/**
 * Shared set-up for the group coordinator tests: a coordinator on a ManualScheduler whose
 * persistence hook records snapshots, predictable member ids, request builders, and a way to
 * look at a promise without waiting on it.
 */

import { expect } from 'vitest';
import { encodeAssignment, encodeSubscription } from '../../../broker/groups/consumer-protocol.ts';
import type { TopicPartitions } from '../../../broker/groups/consumer-protocol.ts';
import type { GroupCoordinatorOptions } from '../../../broker/groups/group-coordinator.ts';
import { GroupCoordinator } from '../../../broker/groups/group-coordinator.ts';
import type { GroupProtocol, JoinGroupRequest, SyncGroupRequest } from '../../../broker/groups/group-requests.ts';
import type { GroupSnapshot } from '../../../broker/groups/group-snapshot.ts';
import { ManualScheduler } from '../../../broker/groups/scheduler.ts';

export const SESSION_TIMEOUT_MS = 10_000;
export const REBALANCE_TIMEOUT_MS = 30_000;
export const INITIAL_DELAY_MS = 3_000;

export interface Harness {
  readonly scheduler: ManualScheduler;
  readonly coordinator: GroupCoordinator;
  readonly snapshots: GroupSnapshot[];
}

export function makeHarness(options: Partial<GroupCoordinatorOptions> = {}): Harness {
  const scheduler = new ManualScheduler();
  const snapshots: GroupSnapshot[] = [];
  let next = 0;
  const coordinator = new GroupCoordinator({
    scheduler,
    config: { initialRebalanceDelayMs: INITIAL_DELAY_MS },
    onGroupMetadataChanged: (snapshot) => void snapshots.push(snapshot),
    newMemberIdSuffix: () => `m${++next}`,
    ...options,
  });
  return { scheduler, coordinator, snapshots };
}

export function protocol(name: string, topics: string[] = ['orders']): GroupProtocol {
  return { name, metadata: encodeSubscription({ topics }) };
}

export function joinRequest(overrides: Partial<JoinGroupRequest> = {}): JoinGroupRequest {
  return {
    groupId: 'g',
    memberId: '',
    clientId: 'client',
    clientHost: '/127.0.0.1',
    sessionTimeoutMs: SESSION_TIMEOUT_MS,
    rebalanceTimeoutMs: REBALANCE_TIMEOUT_MS,
    protocolType: 'consumer',
    protocols: [protocol('range')],
    requireKnownMemberId: false,
    ...overrides,
  };
}

export function syncRequest(memberId: string, generationId: number, assignments: Record<string, TopicPartitions[]> = {}, groupId = 'g'): SyncGroupRequest {
  return { groupId, memberId, generationId, assignments: Object.entries(assignments).map(([id, partitions]) => ({ memberId: id, assignment: encodeAssignment(partitions) })) };
}

/** Lets promise callbacks run; no timer, no sleep. */
export const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export interface Tracked<T> {
  readonly settled: boolean;
  readonly value: T | undefined;
  readonly error: unknown;
}

/** Watches a promise so a test can ask whether it has settled yet. */
export function track<T>(promise: Promise<T>): Tracked<T> {
  const state: { settled: boolean; value: T | undefined; error: unknown } = { settled: false, value: undefined, error: undefined };
  promise.then(
    (value) => Object.assign(state, { settled: true, value }),
    (error: unknown) => Object.assign(state, { settled: true, error }),
  );
  return state;
}

/** Asserts that a call throws, or a promise rejects, with a catalogue code. */
export async function expectCode(action: (() => unknown) | Promise<unknown>, code: string): Promise<void> {
  if (typeof action === 'function') {
    let result: unknown;
    try {
      result = action();
    } catch (error) {
      expect(error).toMatchObject({ code });
      return;
    }
    await expect(result as Promise<unknown>).rejects.toMatchObject({ code });
    return;
  }
  await expect(action).rejects.toMatchObject({ code });
}

/** Brings up a Stable group of `count` members (joined during the initial delay), the leader assigning `assignments(memberIds)`. */
export async function stableGroup(harness: Harness, count: number, requestOverrides: Partial<JoinGroupRequest> = {}): Promise<{ memberIds: string[]; leaderId: string; generationId: number }> {
  const joins = Array.from({ length: count }, (_, i) => harness.coordinator.joinGroup(joinRequest({ clientId: `c${i}`, ...requestOverrides })));
  // Joined together: the delay is extended once (someone joined during it), then the join completes.
  harness.scheduler.advance(INITIAL_DELAY_MS * 2);
  const results = await Promise.all(joins);
  const { generationId, leaderId } = results[0];
  const memberIds = results.map((result) => result.memberId);
  const syncs = results.map((result) => harness.coordinator.syncGroup(syncRequest(result.memberId, generationId, result.memberId === leaderId ? Object.fromEntries(memberIds.map((id) => [id, []])) : {}, requestOverrides.groupId ?? 'g')));
  await Promise.all(syncs);
  return { memberIds, leaderId, generationId };
}
