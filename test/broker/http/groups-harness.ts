/**
 * Consumer-group HTTP tests share this: a real broker (http-harness.ts) whose group coordinator
 * runs on a ManualScheduler, so session and rebalance timeouts pass when a test says so and never
 * by sleeping, and request helpers for the membership routes. `group.initial.rebalance.delay.ms`
 * is 0: a join phase ends at the next `scheduler.advance(0)` once every member has joined.
 */

import type { LightMyRequestResponse } from 'fastify';
import { expect } from 'vitest';
import { ManualScheduler } from '../../../broker/groups/scheduler.ts';
import type { HarnessOptions, HttpHarness } from './http-harness.ts';
import { eventually, startHarness } from './http-harness.ts';

export const SESSION_TIMEOUT_MS = 10_000;
export const REBALANCE_TIMEOUT_MS = 30_000;

export interface GroupHarness extends HttpHarness {
  readonly scheduler: ManualScheduler;
}

export async function startGroupHarness(options: HarnessOptions = {}): Promise<GroupHarness> {
  const scheduler = new ManualScheduler();
  const harness = await startHarness({
    ...options,
    core: {
      scheduler,
      // Few partitions of __consumer_offsets: each is a directory created on the first commit.
      groups: { offsetsTopicPartitions: 3, offsetsRetentionCheckIntervalMs: 2 ** 31 - 1, coordinator: { initialRebalanceDelayMs: 0 } },
      ...options.core,
    },
  });
  return Object.assign(harness, { scheduler });
}

export function post(h: HttpHarness, url: string, payload: unknown): Promise<LightMyRequestResponse> {
  return h.app.inject({ method: 'POST', url, headers: { 'content-type': 'application/json' }, payload: JSON.stringify(payload) });
}

/** A JoinGroup in the topics form; `body` overrides any field. */
export function join(h: HttpHarness, group: string, body: Record<string, unknown> = {}): Promise<LightMyRequestResponse> {
  return post(h, `/groups/${encodeURIComponent(group)}/members`, { client_id: 'client', session_timeout_ms: SESSION_TIMEOUT_MS, rebalance_timeout_ms: REBALANCE_TIMEOUT_MS, topics: ['t'], ...body });
}

export function sync(h: HttpHarness, group: string, memberId: string, body: Record<string, unknown>): Promise<LightMyRequestResponse> {
  return post(h, `/groups/${encodeURIComponent(group)}/members/${encodeURIComponent(memberId)}/sync`, body);
}

export function heartbeat(h: HttpHarness, group: string, memberId: string, generationId: number): Promise<LightMyRequestResponse> {
  return post(h, `/groups/${encodeURIComponent(group)}/members/${encodeURIComponent(memberId)}/heartbeat`, { generation_id: generationId });
}

export function commit(h: HttpHarness, group: string, body: Record<string, unknown>): Promise<LightMyRequestResponse> {
  return post(h, `/groups/${encodeURIComponent(group)}/offsets`, body);
}

/** Members the coordinator holds for `group` right now (0 for an unknown group). */
export function memberCount(h: HttpHarness, group: string): number {
  return h.core.groups.coordinator.listGroups().some((g) => g.groupId === group) ? h.core.groups.coordinator.describeGroup(group).members.length : 0;
}

/** Waits until the coordinator holds `count` members of `group`: joins sent with inject() have reached it. */
export function untilMembers(h: HttpHarness, group: string, count: number): Promise<void> {
  return eventually(() => memberCount(h, group) === count, `group ${group} to have ${count} members`);
}

export interface StableMember {
  readonly memberId: string;
  readonly generationId: number;
  readonly isLeader: boolean;
  readonly assigned: Array<{ topic: string; partitions: number[] }>;
}

/**
 * Makes a new group Stable: joins one member per client id at once, ends the join phase, and
 * syncs them all, the leader asking the broker to assign with `assignor`. Returns the members in
 * client-id order.
 */
export async function stableGroup(h: GroupHarness, group: string, clientIds: string[], assignor = 'range', topics = ['t']): Promise<StableMember[]> {
  const joins = clientIds.map((clientId) => join(h, group, { client_id: clientId, topics }));
  await untilMembers(h, group, clientIds.length);
  h.scheduler.advance(0);
  const joined = (await Promise.all(joins)).map((response) => {
    expect(response.statusCode, response.body).toBe(200);
    return response.json() as { member_id: string; generation_id: number; leader_id: string };
  });
  const synced = await Promise.all(
    joined.map((j) => sync(h, group, j.member_id, j.member_id === j.leader_id ? { generation_id: j.generation_id, server_assignment: assignor } : { generation_id: j.generation_id })),
  );
  return joined.map((j, i) => {
    expect(synced[i].statusCode, synced[i].body).toBe(200);
    return { memberId: j.member_id, generationId: j.generation_id, isLeader: j.member_id === j.leader_id, assigned: synced[i].json().assigned };
  });
}
