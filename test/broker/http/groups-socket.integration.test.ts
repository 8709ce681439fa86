/**
 * Parked JoinGroups on a real listening socket (127.0.0.1, port 0): what happens when the client
 * of a join disconnects mid-rebalance. The member is treated as Kafka treats one whose JoinGroup
 * connection died: it stays in the group until its session (or the rebalance) timeout drops it,
 * and the group then settles without it; a client that rejoins with its member id replaces the
 * lost call instead. Coordinator time is a ManualScheduler, so no test sleeps for a timeout.
 */

import http from 'node:http';
import type net from 'node:net';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import type { GroupHarness } from './groups-harness.ts';
import { REBALANCE_TIMEOUT_MS, SESSION_TIMEOUT_MS, heartbeat, join, memberCount, post, stableGroup, startGroupHarness, sync, untilMembers } from './groups-harness.ts';
import { errorOf, eventually } from './http-harness.ts';

let h: GroupHarness;
let baseUrl: string;
beforeEach(async () => {
  h = await startGroupHarness();
  baseUrl = await h.listen();
  await post(h, '/topics', { name: 't', partitions: 3 });
});
afterEach(async () => {
  await h.close();
});

/** Sends a JoinGroup on its own connection and returns the request, to be destroyed mid-wait. */
function joinOverSocket(group: string, body: Record<string, unknown>): http.ClientRequest {
  const request = http.request(`${baseUrl}/groups/${group}/members`, { method: 'POST', agent: false, headers: { 'content-type': 'application/json' } });
  request.on('error', () => undefined); // destroyed on purpose
  request.end(JSON.stringify({ client_id: 'ghost', session_timeout_ms: SESSION_TIMEOUT_MS, rebalance_timeout_ms: REBALANCE_TIMEOUT_MS, topics: ['t'], ...body }));
  return request;
}

function openConnections(): Promise<number> {
  return new Promise((resolve, reject) => (h.app.server as net.Server).getConnections((error, count) => (error ? reject(error) : resolve(count))));
}

async function disconnect(request: http.ClientRequest): Promise<void> {
  request.destroy();
  await eventually(async () => (await openConnections()) === 0, 'the broker to see the connection close');
}

/** Ends join phases (initial delay 0) until the call is answered. */
async function untilAnswered<T>(call: Promise<T>): Promise<T> {
  let isAnswered = false;
  void call.finally(() => (isAnswered = true));
  await eventually(() => {
    h.scheduler.advance(0);
    return isAnswered;
  }, 'the call to be answered');
  return call;
}

function ownerOf(partition: number): string | null {
  return h.core.groups.describeWithLag('g').partitions.find((p) => p.partition === partition)?.memberId ?? null;
}

describe('a JoinGroup whose client disconnects', () => {
  test('mid-rebalance: the member stays until its session timeout, then the group settles without it', async () => {
    const [a] = await stableGroup(h, 'g', ['a']);
    // Commit so that describe lists every partition with its owner.
    await post(h, '/groups/g/offsets', { generation_id: 1, member_id: a.memberId, offsets: [0, 1, 2].map((partition) => ({ topic: 't', partition, offset: 0 })) });
    const ghost = joinOverSocket('g', {});
    await untilMembers(h, 'g', 2);
    await disconnect(ghost);

    // The coordinator cannot know the client went: its parked join counts as joined, so the
    // rebalance completes as soon as `a` rejoins, with the ghost in generation 2.
    expect(errorOf(await heartbeat(h, 'g', a.memberId, 1)).code).toBe('REBALANCE_IN_PROGRESS');
    const rejoined = (await join(h, 'g', { client_id: 'a', member_id: a.memberId })).json();
    expect(rejoined.generation_id).toBe(2);
    expect(rejoined.members).toHaveLength(2);
    const ghostId = rejoined.members.map((m: { member_id: string }) => m.member_id).find((id: string) => id !== a.memberId);
    const synced = await sync(h, 'g', a.memberId, { generation_id: 2, server_assignment: 'range' });
    expect(synced.json().assigned).toEqual([{ topic: 't', partitions: [0, 1] }]);
    expect(ownerOf(2)).toBe(ghostId);

    // `a` heartbeats; the ghost cannot. After one session timeout it is dropped and the group rebalances.
    h.scheduler.advance(SESSION_TIMEOUT_MS / 2);
    expect((await heartbeat(h, 'g', a.memberId, 2)).statusCode).toBe(204);
    h.scheduler.advance(SESSION_TIMEOUT_MS / 2 + 1);
    expect(memberCount(h, 'g')).toBe(1);
    expect(errorOf(await heartbeat(h, 'g', a.memberId, 2)).code).toBe('REBALANCE_IN_PROGRESS');
    const alone = (await join(h, 'g', { client_id: 'a', member_id: a.memberId })).json();
    expect(alone).toMatchObject({ generation_id: 3, leader_id: a.memberId });
    expect((await sync(h, 'g', a.memberId, { generation_id: 3, server_assignment: 'range' })).json().assigned).toEqual([{ topic: 't', partitions: [0, 1, 2] }]);
    expect([0, 1, 2].map(ownerOf)).toEqual([a.memberId, a.memberId, a.memberId]);
    expect(h.core.groups.coordinator.describeGroup('g').state).toBe('Stable');
  });

  test('before the join phase ends, with require_known_member_id: rejoining with the same id replaces the lost call, leaving no ghost', async () => {
    const first = await join(h, 'fresh', { require_known_member_id: true });
    const memberId = errorOf(first).details!.memberId as string;
    const lost = joinOverSocket('fresh', { member_id: memberId, require_known_member_id: true });
    await untilMembers(h, 'fresh', 1);
    await eventually(() => h.core.groups.coordinator.describeGroup('fresh').state === 'PreparingRebalance', 'the join to park');
    await disconnect(lost);

    // Whether the retry arrives before the join phase ends (it replaces the parked call) or after
    // (it is given the generation again), the group has one member.
    const answer = await untilAnswered(join(h, 'fresh', { member_id: memberId, require_known_member_id: true }));
    expect(answer.statusCode, answer.body).toBe(200);
    expect(answer.json()).toMatchObject({ member_id: memberId, generation_id: 1, leader_id: memberId });
    expect(answer.json().members.map((m: { member_id: string }) => m.member_id)).toEqual([memberId]);
  });

  test('as the only member of a new group: the ghost leads one generation, and the next joiner waits at most its session timeout', async () => {
    const ghost = joinOverSocket('lonely', {});
    await untilMembers(h, 'lonely', 1);
    await disconnect(ghost);
    h.scheduler.advance(0); // the join phase ends; the answer goes nowhere
    expect(h.core.groups.coordinator.describeGroup('lonely')).toMatchObject({ state: 'CompletingRebalance', generationId: 1 });

    const late = join(h, 'lonely', { client_id: 'late' });
    await untilMembers(h, 'lonely', 2);
    h.scheduler.advance(SESSION_TIMEOUT_MS - 1);
    expect(memberCount(h, 'lonely')).toBe(2); // still waiting for the ghost to rejoin
    h.scheduler.advance(1);
    const answer = await late;
    expect(answer.statusCode, answer.body).toBe(200);
    expect(answer.json()).toMatchObject({ generation_id: 2, protocol_name: 'range' });
    expect(answer.json().members.map((m: { member_id: string }) => m.member_id)).toEqual([answer.json().member_id]);
  });
});

describe('the listening server', () => {
  test('puts no timeout on a request that waits for its answer, so a join may park for its whole rebalance', () => {
    expect(h.app.server.timeout).toBe(0);
    expect(h.app.server.requestTimeout).toBe(0);
  });
});
