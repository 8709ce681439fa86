/**
 * The consumer's group routes through app.inject() on a real broker: JoinGroup (both forms, the
 * MEMBER_ID_REQUIRED two-step, msgpack), SyncGroup with the leader's or the broker's assignment,
 * heartbeats during a rebalance, LeaveGroup, commits with Kafka's fencing, OffsetFetch, and parked
 * calls when the server closes. Coordinator time is a ManualScheduler.
 */

import { Packr, Unpackr } from 'msgpackr';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { decodeAssignment, decodeSubscription, encodeAssignment, encodeSubscription } from '../../../broker/groups/consumer-protocol.ts';
import type { GroupHarness } from './groups-harness.ts';
import { REBALANCE_TIMEOUT_MS, SESSION_TIMEOUT_MS, commit, heartbeat, join, memberCount, post, stableGroup, startGroupHarness, sync, untilMembers } from './groups-harness.ts';
import { JSON_V2, MSGPACK, errorOf, eventually } from './http-harness.ts';

const packr = new Packr({ useRecords: false });
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true });

let h: GroupHarness;
beforeEach(async () => {
  h = await startGroupHarness();
  await post(h, '/topics', { name: 't', partitions: 5 });
});
afterEach(async () => {
  await h.close();
});

function allPartitions(members: Array<{ assigned: Array<{ topic: string; partitions: number[] }> }>): number[] {
  return members.flatMap((m) => m.assigned.flatMap((a) => a.partitions)).sort((a, b) => a - b);
}

describe('POST /groups/:group/members (JoinGroup)', () => {
  test('two members joining at once both get the same generation, and only the leader gets the member list', async () => {
    const joins = [join(h, 'g', { client_id: 'a' }), join(h, 'g', { client_id: 'b' })];
    await untilMembers(h, 'g', 2);
    h.scheduler.advance(0);
    const answers = (await Promise.all(joins)).map((response) => {
      expect(response.statusCode, response.body).toBe(200);
      return response.json();
    });
    expect(answers.map((a) => a.generation_id)).toEqual([1, 1]);
    expect(answers[0].leader_id).toBe(answers[1].leader_id);
    const [leader, follower] = answers[0].member_id === answers[0].leader_id ? answers : [answers[1], answers[0]];
    expect(leader.member_id).toBe(leader.leader_id);
    expect(follower.member_id).not.toBe(follower.leader_id);
    expect(leader.protocol_type).toBe('consumer');
    expect(leader.protocol_name).toBe('range');
    expect(leader.members.map((m: { member_id: string }) => m.member_id).sort()).toEqual([leader.member_id, follower.member_id].sort());
    for (const member of leader.members) expect(decodeSubscription(Buffer.from(member.metadata, 'base64')).topics).toEqual(['t']);
    expect(follower.members).toEqual([]);
  });

  test('with require_known_member_id, a new member is answered MEMBER_ID_REQUIRED and joins with the id it was given', async () => {
    const first = await join(h, 'g', { require_known_member_id: true });
    expect(first.statusCode).toBe(409);
    const error = errorOf(first);
    expect(error.code).toBe('MEMBER_ID_REQUIRED');
    const memberId = error.details!.memberId as string;
    expect(memberId).toMatch(/^client-/);
    const second = join(h, 'g', { member_id: memberId, require_known_member_id: true });
    await untilMembers(h, 'g', 1);
    h.scheduler.advance(0);
    const answer = await second;
    expect(answer.statusCode, answer.body).toBe(200);
    expect(answer.json()).toMatchObject({ member_id: memberId, generation_id: 1, leader_id: memberId });
  });

  test('without require_known_member_id, a new member is added at once', async () => {
    const joining = join(h, 'g');
    await untilMembers(h, 'g', 1);
    h.scheduler.advance(0);
    expect((await joining).statusCode).toBe(200);
  });

  test('takes ready-made protocols with base64 metadata, and the client id from x-client-id when the body has none', async () => {
    const metadata = encodeSubscription({ topics: ['t'] }).toString('base64');
    const joining = h.app.inject({
      method: 'POST', url: '/groups/g/members', headers: { 'content-type': 'application/json', 'x-client-id': 'sdk-7' },
      payload: { session_timeout_ms: SESSION_TIMEOUT_MS, protocol_type: 'consumer', protocols: [{ name: 'roundrobin', metadata }] },
    });
    await untilMembers(h, 'g', 1);
    h.scheduler.advance(0);
    const answer = await joining;
    expect(answer.statusCode, answer.body).toBe(200);
    expect(answer.json().protocol_name).toBe('roundrobin');
    expect(answer.json().members[0].metadata).toBe(metadata);
    const [member] = h.core.groups.coordinator.describeGroup('g').members;
    expect(member).toMatchObject({ clientId: 'sdk-7', clientHost: '/127.0.0.1' });
  });

  test('speaks msgpack: bin metadata in, bin metadata out', async () => {
    const metadata = encodeSubscription({ topics: ['t'] });
    const joining = h.app.inject({
      method: 'POST', url: '/groups/g/members', headers: { 'content-type': MSGPACK, accept: MSGPACK },
      payload: packr.pack({ client_id: 'mp', session_timeout_ms: SESSION_TIMEOUT_MS, protocol_type: 'consumer', protocols: [{ name: 'range', metadata }] }),
    });
    await untilMembers(h, 'g', 1);
    h.scheduler.advance(0);
    const answer = await joining;
    expect(answer.statusCode, answer.body).toBe(200);
    expect(answer.headers['content-type']).toBe(MSGPACK);
    const joined = unpackr.unpack(answer.rawPayload);
    expect(Buffer.from(joined.members[0].metadata).equals(metadata)).toBe(true);

    const synced = await h.app.inject({
      method: 'POST', url: `/groups/g/members/${joined.member_id}/sync`, headers: { 'content-type': MSGPACK, accept: MSGPACK },
      payload: packr.pack({ generation_id: joined.generation_id, assignments: [{ member_id: joined.member_id, assignment: encodeAssignment([{ topic: 't', partitions: [4] }]) }] }),
    });
    expect(synced.statusCode, synced.body).toBe(200);
    const answer2 = unpackr.unpack(synced.rawPayload);
    expect(decodeAssignment(Buffer.from(answer2.assignment)).assignedPartitions).toEqual([{ topic: 't', partitions: [4] }]);
    expect(answer2.assigned).toEqual([{ topic: 't', partitions: [4] }]);
  });

  test.each([
    ['neither protocols nor topics', { topics: undefined }],
    ['both protocols and topics', { protocols: [{ name: 'range', metadata: '' }] }],
    ['metadata that is not base64', { topics: undefined, protocols: [{ name: 'range', metadata: 'not base64!' }] }],
    ['topics with another protocol type', { protocol_type: 'connect' }],
    ['a client id too long to store', { client_id: 'x'.repeat(201) }],
    ['a session timeout that is not a number', { session_timeout_ms: 'soon' }],
  ])('refuses a join with %s as INVALID_REQUEST, adding no member', async (_what, body) => {
    const response = await join(h, 'g', body);
    expect(response.statusCode, response.body).toBe(400);
    expect(errorOf(response).code).toBe('INVALID_REQUEST');
    expect(memberCount(h, 'g')).toBe(0);
  });

  test('refuses a session timeout outside the broker bounds with INVALID_SESSION_TIMEOUT', async () => {
    const response = await join(h, 'g', { session_timeout_ms: 10 });
    expect(response.statusCode).toBe(400);
    expect(errorOf(response)).toMatchObject({ code: 'INVALID_SESSION_TIMEOUT', details: { minSessionTimeoutMs: 6000 } });
  });

  test('answers INVALID_GROUP_ID for an empty group id', async () => {
    const response = await post(h, '/groups//members', { session_timeout_ms: SESSION_TIMEOUT_MS, topics: ['t'] });
    expect(response.statusCode).toBe(400);
    expect(errorOf(response).code).toBe('INVALID_GROUP_ID');
  });

  test('a join parked when the server closes is answered BROKER_SHUTTING_DOWN, retriable', async () => {
    const joining = join(h, 'g');
    await untilMembers(h, 'g', 1);
    await h.close();
    const answer = await joining;
    expect(answer.statusCode).toBe(503);
    expect(errorOf(answer)).toMatchObject({ code: 'BROKER_SHUTTING_DOWN', retriable: true });
  });
});

describe('POST /groups/:group/members/:member/sync (SyncGroup)', () => {
  test.each(['range', 'roundrobin', 'sticky'])('with server_assignment %s the members get disjoint partitions that cover the topic', async (assignor) => {
    const members = await stableGroup(h, 'g', ['a', 'b', 'c'], assignor);
    expect(allPartitions(members)).toEqual([0, 1, 2, 3, 4]);
    for (const member of members) expect(member.assigned.length).toBeGreaterThan(0);
    const description = h.core.groups.coordinator.describeGroup('g');
    expect(description.state).toBe('Stable');
    for (const member of members) {
      const described = description.members.find((m) => m.memberId === member.memberId)!;
      expect(decodeAssignment(described.assignment).assignedPartitions).toEqual(member.assigned);
    }
  });

  test('hands each member the assignment its leader sent', async () => {
    const joins = [join(h, 'g', { client_id: 'a' }), join(h, 'g', { client_id: 'b' })];
    await untilMembers(h, 'g', 2);
    h.scheduler.advance(0);
    const [x, y] = (await Promise.all(joins)).map((r) => r.json());
    const [leader, follower] = x.member_id === x.leader_id ? [x, y] : [y, x];
    const followerSync = sync(h, 'g', follower.member_id, { generation_id: 1 });
    const assignments = [
      { member_id: leader.member_id, assignment: encodeAssignment([{ topic: 't', partitions: [0, 1] }]).toString('base64') },
      { member_id: follower.member_id, assignment: encodeAssignment([{ topic: 't', partitions: [2, 3, 4] }]).toString('base64') },
    ];
    const leaderSync = await sync(h, 'g', leader.member_id, { generation_id: 1, assignments });
    expect(leaderSync.json()).toMatchObject({ protocol_type: 'consumer', protocol_name: 'range', assignment: assignments[0].assignment, assigned: [{ topic: 't', partitions: [0, 1] }] });
    expect((await followerSync).json().assigned).toEqual([{ topic: 't', partitions: [2, 3, 4] }]);
  });

  test('refuses leader assignments that are not consumer protocol bytes, and takes good ones after', async () => {
    const [member] = await (async () => {
      const joining = join(h, 'g');
      await untilMembers(h, 'g', 1);
      h.scheduler.advance(0);
      return [(await joining).json()];
    })();
    const bad = await sync(h, 'g', member.member_id, { generation_id: 1, assignments: [{ member_id: member.member_id, assignment: Buffer.from([0, 0, 0x7f, 0xff, 0xff, 0xff]).toString('base64') }] });
    expect(bad.statusCode).toBe(400);
    expect(errorOf(bad)).toMatchObject({ code: 'INVALID_REQUEST', details: { field: 'assignments[0].assignment' } });
    const good = await sync(h, 'g', member.member_id, { generation_id: 1, server_assignment: 'range' });
    expect(good.json().assigned).toEqual([{ topic: 't', partitions: [0, 1, 2, 3, 4] }]);
  });

  test('a leader that syncs again with server_assignment once the group is Stable gets its assignment again', async () => {
    const [leader] = await stableGroup(h, 'g', ['a']);
    const again = await sync(h, 'g', leader.memberId, { generation_id: leader.generationId, server_assignment: 'range' });
    expect(again.statusCode, again.body).toBe(200);
    expect(again.json().assigned).toEqual(leader.assigned);
  });

  test('refuses an unknown assignor, and assignments with server_assignment, as INVALID_REQUEST', async () => {
    const [leader] = await stableGroup(h, 'g', ['a']);
    const unknown = await sync(h, 'g', leader.memberId, { generation_id: 1, server_assignment: 'magic' });
    expect(errorOf(unknown)).toMatchObject({ code: 'INVALID_REQUEST', details: { assignor: 'magic' } });
    const both = await sync(h, 'g', leader.memberId, { generation_id: 1, server_assignment: 'range', assignments: [] });
    expect(errorOf(both).code).toBe('INVALID_REQUEST');
  });

  test('answers UNKNOWN_MEMBER_ID for a member the group does not have, and ILLEGAL_GENERATION for another generation', async () => {
    const [leader] = await stableGroup(h, 'g', ['a']);
    const unknown = await sync(h, 'g', 'nobody', { generation_id: 1, server_assignment: 'range' });
    expect(unknown.statusCode).toBe(404);
    expect(errorOf(unknown).code).toBe('UNKNOWN_MEMBER_ID');
    const stale = await sync(h, 'g', leader.memberId, { generation_id: 7 });
    expect(stale.statusCode).toBe(409);
    expect(errorOf(stale).code).toBe('ILLEGAL_GENERATION');
  });
});

describe('heartbeats and LeaveGroup', () => {
  test('a heartbeat is 204 while the group is Stable and REBALANCE_IN_PROGRESS (409, retriable) once a third member joins', async () => {
    const [a, b] = await stableGroup(h, 'g', ['a', 'b']);
    expect((await heartbeat(h, 'g', a.memberId, a.generationId)).statusCode).toBe(204);
    const third = join(h, 'g', { client_id: 'c' });
    await untilMembers(h, 'g', 3);
    const during = await heartbeat(h, 'g', a.memberId, a.generationId);
    expect(during.statusCode).toBe(409);
    expect(errorOf(during)).toMatchObject({ code: 'REBALANCE_IN_PROGRESS', retriable: true });
    // Rejoining ends the rebalance: everyone is in generation 2.
    const rejoins = [join(h, 'g', { client_id: 'a', member_id: a.memberId }), join(h, 'g', { client_id: 'b', member_id: b.memberId })];
    const answers = await Promise.all([third, ...rejoins]);
    expect(answers.map((r) => r.json().generation_id)).toEqual([2, 2, 2]);
  });

  test('DELETE removes the member at once; its heartbeat is then UNKNOWN_MEMBER_ID', async () => {
    const [a, b] = await stableGroup(h, 'g', ['a', 'b']);
    const left = await h.app.inject({ method: 'DELETE', url: `/groups/g/members/${b.memberId}` });
    expect(left.statusCode).toBe(204);
    expect(memberCount(h, 'g')).toBe(1);
    expect(errorOf(await heartbeat(h, 'g', b.memberId, b.generationId)).code).toBe('UNKNOWN_MEMBER_ID');
    expect(errorOf(await heartbeat(h, 'g', a.memberId, a.generationId)).code).toBe('REBALANCE_IN_PROGRESS');
    expect(errorOf(await h.app.inject({ method: 'DELETE', url: `/groups/g/members/${b.memberId}` })).code).toBe('UNKNOWN_MEMBER_ID');
  });
});

describe('POST /groups/:group/offsets (OffsetCommit) and GET (OffsetFetch)', () => {
  test('a commit from the current generation is stored and fetched back', async () => {
    const [a] = await stableGroup(h, 'g', ['a']);
    const committed = await commit(h, 'g', { generation_id: a.generationId, member_id: a.memberId, offsets: [{ topic: 't', partition: 0, offset: 3, metadata: 'm' }, { topic: 't', partition: 2, offset: 1 }] });
    expect(committed.statusCode, committed.body).toBe(200);
    expect(committed.json()).toEqual({ offsets: [{ topic: 't', partition: 0, error_code: null, error: null }, { topic: 't', partition: 2, error_code: null, error: null }] });
    expect((await h.app.inject('/groups/g/offsets')).json()).toEqual({ offsets: [{ topic: 't', partition: 0, offset: 3, metadata: 'm' }, { topic: 't', partition: 2, offset: 1, metadata: '' }] });
    expect((await h.app.inject('/groups/g/offsets?topic=t&partition=2&topic=t&partition=4')).json()).toEqual({ offsets: [{ topic: 't', partition: 2, offset: 1, metadata: '' }, { topic: 't', partition: 4, offset: -1, metadata: '' }] });
    expect((await h.app.inject('/groups/g/offsets?topic=t')).json().offsets.map((o: { offset: number }) => o.offset)).toEqual([3, -1, 1, -1, -1]);
    const packed = await h.app.inject({ url: '/groups/g/offsets?topic=t&partition=0', headers: { accept: MSGPACK } });
    expect(unpackr.unpack(packed.rawPayload)).toEqual({ offsets: [{ topic: 't', partition: 0, offset: 3, metadata: 'm' }] });
  });

  test('a commit from a stale generation is ILLEGAL_GENERATION (409) and stores nothing', async () => {
    const [a, b] = await stableGroup(h, 'g', ['a', 'b']);
    const third = join(h, 'g', { client_id: 'c' });
    await untilMembers(h, 'g', 3);
    await Promise.all([third, join(h, 'g', { client_id: 'a', member_id: a.memberId }), join(h, 'g', { client_id: 'b', member_id: b.memberId })]);
    const stale = await commit(h, 'g', { generation_id: a.generationId, member_id: a.memberId, offsets: [{ topic: 't', partition: 0, offset: 5 }] });
    expect(stale.statusCode).toBe(409);
    expect(errorOf(stale)).toMatchObject({ code: 'ILLEGAL_GENERATION', details: { generationId: 1, currentGenerationId: 2 } });
    expect((await h.app.inject('/groups/g/offsets')).json().offsets).toEqual([]);
  });

  test('a commit from a member removed for missing its session timeout is UNKNOWN_MEMBER_ID (404)', async () => {
    const [a, b] = await stableGroup(h, 'g', ['a', 'b']);
    h.scheduler.advance(SESSION_TIMEOUT_MS / 2);
    expect((await heartbeat(h, 'g', a.memberId, a.generationId)).statusCode).toBe(204);
    h.scheduler.advance(SESSION_TIMEOUT_MS / 2 + 1); // b never heartbeat: removed
    const zombie = await commit(h, 'g', { generation_id: b.generationId, member_id: b.memberId, offsets: [{ topic: 't', partition: 0, offset: 5 }] });
    expect(zombie.statusCode).toBe(404);
    expect(errorOf(zombie).code).toBe('UNKNOWN_MEMBER_ID');
  });

  test('a commit without a generation is refused while the group has members, and taken once it is Empty', async () => {
    const [a] = await stableGroup(h, 'g', ['a']);
    const outsider = await commit(h, 'g', { offsets: [{ topic: 't', partition: 0, offset: 1 }] });
    expect(errorOf(outsider).code).toBe('UNKNOWN_MEMBER_ID');
    await h.app.inject({ method: 'DELETE', url: `/groups/g/members/${a.memberId}` });
    expect((await commit(h, 'g', { generation_id: -1, member_id: '', offsets: [{ topic: 't', partition: 0, offset: 1 }] })).statusCode).toBe(200);
  });

  test('answers per partition: an unknown partition fails alone, and a commit where every partition fails the same way fails whole', async () => {
    const mixed = await commit(h, 'solo', { offsets: [{ topic: 't', partition: 1, offset: 2 }, { topic: 't', partition: 9, offset: 2 }, { topic: 't', partition: 3, offset: 1, metadata: 'x'.repeat(4097) }] });
    expect(mixed.statusCode, mixed.body).toBe(200);
    const results = mixed.json().offsets;
    expect(results[0]).toEqual({ topic: 't', partition: 1, error_code: null, error: null });
    expect(results[1]).toMatchObject({ topic: 't', partition: 9, error_code: 40401 });
    expect(results[2]).toMatchObject({ topic: 't', partition: 3, error_code: 40008 });
    expect(results[2].error).toContain('offset.metadata.max.bytes');
    expect((await h.app.inject('/groups/solo/offsets')).json().offsets).toEqual([{ topic: 't', partition: 1, offset: 2, metadata: '' }]);

    const none = await commit(h, 'solo', { offsets: [{ topic: 'nope', partition: 0, offset: 1 }] });
    expect(none.statusCode).toBe(404);
    expect(errorOf(none).code).toBe('UNKNOWN_TOPIC_OR_PARTITION');
  });

  test.each([
    ['a partition without a topic', '?partition=0'],
    ['topics and partitions that do not pair up', '?topic=t&topic=t&partition=0'],
    ['a negative partition', '?topic=t&partition=-1'],
  ])('refuses an OffsetFetch with %s as INVALID_REQUEST', async (_what, query) => {
    const response = await h.app.inject(`/groups/g/offsets${query}`);
    expect(response.statusCode).toBe(400);
    expect(errorOf(response).code).toBe('INVALID_REQUEST');
  });

  test('refuses a body that is not JSON or msgpack with UNSUPPORTED_CONTENT_TYPE', async () => {
    const response = await h.app.inject({ method: 'POST', url: '/groups/g/offsets', headers: { 'content-type': JSON_V2.replace('json.v2', 'avro.v2') }, payload: '{}' });
    expect(response.statusCode).toBe(415);
    expect(errorOf(response).code).toBe('UNSUPPORTED_CONTENT_TYPE');
  });

  test('the rebalance timeout bounds how long a member that never rejoins holds the others', async () => {
    const [a, b] = await stableGroup(h, 'g', ['a', 'b']);
    const rejoin = join(h, 'g', { client_id: 'a', member_id: a.memberId });
    await eventually(() => h.core.groups.coordinator.describeGroup('g').state === 'PreparingRebalance', 'the rebalance to start');
    h.scheduler.advance(REBALANCE_TIMEOUT_MS);
    const answer = await rejoin;
    expect(answer.json()).toMatchObject({ generation_id: 2, leader_id: a.memberId });
    expect(answer.json().members.map((m: { member_id: string }) => m.member_id)).toEqual([a.memberId]);
    expect(errorOf(await heartbeat(h, 'g', b.memberId, b.generationId)).code).toBe('UNKNOWN_MEMBER_ID');
  });
});
