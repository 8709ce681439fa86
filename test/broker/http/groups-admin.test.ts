/**
 * Group administration over HTTP on a real broker: listing, describing with lag (every column of
 * `kafka-consumer-groups --describe`), deleting, and offset resets (dry run and execute, each
 * target, refused while members are live).
 */

import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import type { GroupHarness } from './groups-harness.ts';
import { commit, post, stableGroup, startGroupHarness } from './groups-harness.ts';
import { JSON_V2, errorOf } from './http-harness.ts';

let h: GroupHarness;
beforeEach(async () => {
  h = await startGroupHarness();
  await post(h, '/topics', { name: 't', partitions: 3 });
  await post(h, '/topics', { name: 'u', partitions: 1 });
});
afterEach(async () => {
  await h.close();
});

/** Appends `count` records to one partition, each with the given timestamp. */
async function produce(topic: string, partition: number, count: number, timestamp = Date.now()): Promise<void> {
  const records = Array.from({ length: count }, (_, i) => ({ value: i, timestamp }));
  const response = await h.app.inject({ method: 'POST', url: `/topics/${topic}/partitions/${partition}`, headers: { 'content-type': JSON_V2 }, payload: { records } });
  expect(response.statusCode, response.body).toBe(200);
}

function reset(group: string, body: Record<string, unknown>) {
  return post(h, `/groups/${group}/offsets/reset`, body);
}

async function leave(group: string, memberId: string): Promise<void> {
  expect((await h.app.inject({ method: 'DELETE', url: `/groups/${group}/members/${memberId}` })).statusCode).toBe(204);
}

describe('GET /groups', () => {
  test('lists every group with its protocol type and state, filtered by state in any case', async () => {
    expect((await h.app.inject('/groups')).json()).toEqual([]);
    await stableGroup(h, 'readers', ['a']);
    await commit(h, 'tool', { offsets: [{ topic: 't', partition: 0, offset: 0 }] });
    expect((await h.app.inject('/groups')).json()).toEqual([
      { group_id: 'readers', protocol_type: 'consumer', state: 'Stable' },
      { group_id: 'tool', protocol_type: '', state: 'Empty' },
    ]);
    expect((await h.app.inject('/groups?state=stable')).json()).toEqual([{ group_id: 'readers', protocol_type: 'consumer', state: 'Stable' }]);
    expect((await h.app.inject('/groups?state=Empty&state=Dead')).json()).toEqual([{ group_id: 'tool', protocol_type: '', state: 'Empty' }]);
    const bad = await h.app.inject('/groups?state=sleepy');
    expect(bad.statusCode).toBe(400);
    expect(errorOf(bad).code).toBe('INVALID_REQUEST');
  });
});

describe('GET /groups/:group', () => {
  test('shows per partition the committed offset, log end offset, lag and owner after produce and commit', async () => {
    const [a, b] = await stableGroup(h, 'g', ['client-a', 'client-b'], 'range');
    await produce('t', 0, 5);
    await produce('t', 1, 3);
    await produce('t', 2, 2);
    const owner = (partition: number) => [a, b].find((m) => m.assigned.some((x) => x.partitions.includes(partition)))!;
    await commit(h, 'g', { generation_id: 1, member_id: owner(0).memberId, offsets: [{ topic: 't', partition: 0, offset: 2, metadata: 'note' }] });
    await commit(h, 'g', { generation_id: 1, member_id: owner(1).memberId, offsets: [{ topic: 't', partition: 1, offset: 3 }] });

    const response = await h.app.inject('/groups/g');
    expect(response.statusCode, response.body).toBe(200);
    const body = response.json();
    expect(body).toMatchObject({ group_id: 'g', state: 'Stable', protocol_type: 'consumer', protocol: 'range', generation_id: 1, leader_id: [a, b].find((m) => m.isLeader)!.memberId });
    expect(body.members.map((m: { member_id: string }) => m.member_id).sort()).toEqual([a.memberId, b.memberId].sort());
    for (const member of body.members) {
      const expected = [a, b].find((m) => m.memberId === member.member_id)!;
      expect(member).toEqual({ member_id: expected.memberId, group_instance_id: null, client_id: expected === a ? 'client-a' : 'client-b', host: '/127.0.0.1', assignment: expected.assigned });
    }
    const row = (partition: number, current: number | null, end: number, lag: number | null, metadata = '') => ({
      topic: 't', partition, current_offset: current, log_end_offset: end, lag,
      consumer_id: owner(partition).memberId, host: '/127.0.0.1', client_id: owner(partition) === a ? 'client-a' : 'client-b', metadata,
    });
    expect(body.partitions).toEqual([row(0, 2, 5, 3, 'note'), row(1, 3, 3, 0), row(2, null, 2, null)]);
    expect(body.total_lag).toBe(3);
  });

  test('knows a group that only has committed offsets, with no owners', async () => {
    await produce('u', 0, 4);
    await commit(h, 'tool', { offsets: [{ topic: 'u', partition: 0, offset: 1 }] });
    expect((await h.app.inject('/groups/tool')).json()).toEqual({
      group_id: 'tool', state: 'Empty', protocol_type: '', protocol: '', generation_id: 0, leader_id: null, members: [],
      partitions: [{ topic: 'u', partition: 0, current_offset: 1, log_end_offset: 4, lag: 3, consumer_id: null, host: null, client_id: null, metadata: '' }],
      total_lag: 3,
    });
  });

  test('answers GROUP_ID_NOT_FOUND (404) for a group that does not exist, and INVALID_GROUP_ID for an empty id', async () => {
    const missing = await h.app.inject('/groups/nobody');
    expect(missing.statusCode).toBe(404);
    expect(errorOf(missing)).toMatchObject({ code: 'GROUP_ID_NOT_FOUND', details: { groupId: 'nobody' } });
    const empty = await h.app.inject('/groups/');
    expect(empty.statusCode).toBe(400);
    expect(errorOf(empty).code).toBe('INVALID_GROUP_ID');
  });
});

describe('DELETE /groups/:group', () => {
  test('refuses a group with live members (NON_EMPTY_GROUP, 409), then deletes it and its offsets once it is Empty', async () => {
    const [a] = await stableGroup(h, 'g', ['a']);
    await commit(h, 'g', { generation_id: 1, member_id: a.memberId, offsets: [{ topic: 't', partition: 0, offset: 0 }] });
    const refused = await h.app.inject({ method: 'DELETE', url: '/groups/g' });
    expect(refused.statusCode).toBe(409);
    expect(errorOf(refused)).toMatchObject({ code: 'NON_EMPTY_GROUP', details: { state: 'Stable' } });
    await leave('g', a.memberId);
    expect((await h.app.inject({ method: 'DELETE', url: '/groups/g' })).statusCode).toBe(204);
    expect((await h.app.inject('/groups/g')).statusCode).toBe(404);
    expect((await h.app.inject('/groups/g/offsets')).json().offsets).toEqual([]);
    expect(errorOf(await h.app.inject({ method: 'DELETE', url: '/groups/g' })).code).toBe('GROUP_ID_NOT_FOUND');
  });
});

describe('POST /groups/:group/offsets/reset', () => {
  /** A group with commits at 2 (t-0), 1 (t-1), none (t-2); t-0 holds 6 records, t-1 4, t-2 2; then it is left Empty. */
  async function emptyGroupWithCommits(): Promise<void> {
    await produce('t', 0, 3, 1_000);
    await produce('t', 0, 3, 2_000);
    await produce('t', 1, 4, 1_000);
    await produce('t', 2, 2, 1_000);
    const [a] = await stableGroup(h, 'g', ['a']);
    await commit(h, 'g', { generation_id: 1, member_id: a.memberId, offsets: [{ topic: 't', partition: 0, offset: 2 }, { topic: 't', partition: 1, offset: 1 }] });
    await leave('g', a.memberId);
  }

  const plan = (rows: Array<[number, number | null, number]>) => rows.map(([partition, current, next]) => ({ topic: 't', partition, current_offset: current, new_offset: next }));

  test('a dry run shows the plan and changes nothing; execute commits it', async () => {
    await emptyGroupWithCommits();
    const dryRun = await reset('g', { topics: ['t'], to: 'earliest' });
    expect(dryRun.statusCode, dryRun.body).toBe(200);
    expect(dryRun.json()).toEqual({ executed: false, plan: plan([[0, 2, 0], [1, 1, 0], [2, null, 0]]) });
    expect((await h.app.inject('/groups/g/offsets')).json().offsets.map((o: { offset: number }) => o.offset)).toEqual([2, 1]);

    const executed = await reset('g', { topics: ['t'], to: 'earliest', execute: true });
    expect(executed.json()).toEqual({ executed: true, plan: plan([[0, 2, 0], [1, 1, 0], [2, null, 0]]) });
    expect((await h.app.inject('/groups/g/offsets')).json().offsets.map((o: { offset: number }) => o.offset)).toEqual([0, 0, 0]);
  });

  test.each([
    ['latest', 'latest', [[0, 2, 6], [1, 1, 4], [2, null, 2]]],
    ['an offset, clamped to each log', { offset: 3 }, [[0, 2, 3], [1, 1, 3], [2, null, 2]]],
    ['a timestamp', { timestamp: 1_500 }, [[0, 2, 3], [1, 1, 4], [2, null, 2]]],
    ['a datetime', { datetime: '1970-01-01T00:00:01.500Z' }, [[0, 2, 3], [1, 1, 4], [2, null, 2]]],
    ['a shift forward, clamped', { shift_by: 2 }, [[0, 2, 4], [1, 1, 3], [2, null, 2]]],
    ['a shift back, clamped', { shift_by: -2 }, [[0, 2, 0], [1, 1, 0], [2, null, 0]]],
  ] as const)('plans a reset to %s', async (_what, to, rows) => {
    await emptyGroupWithCommits();
    const response = await reset('g', { topics: ['t'], to });
    expect(response.statusCode, response.body).toBe(200);
    expect(response.json().plan).toEqual(plan(rows as unknown as Array<[number, number | null, number]>));
  });

  test('takes chosen partitions, or all_topics for every topic the group has committed', async () => {
    await emptyGroupWithCommits();
    expect((await reset('g', { topics: [{ topic: 't', partitions: [1, 1] }], to: 'latest' })).json().plan).toEqual(plan([[1, 1, 4]]));
    expect((await reset('g', { all_topics: true, to: 'earliest' })).json().plan).toEqual(plan([[0, 2, 0], [1, 1, 0], [2, null, 0]]));
  });

  test('is refused with NON_EMPTY_GROUP (409) while the group has live members, dry run included', async () => {
    await stableGroup(h, 'g', ['a']);
    for (const execute of [false, true]) {
      const response = await reset('g', { topics: ['t'], to: 'earliest', execute });
      expect(response.statusCode).toBe(409);
      expect(errorOf(response)).toMatchObject({ code: 'NON_EMPTY_GROUP', details: { state: 'Stable' } });
    }
  });

  test.each([
    ['an unknown target', { topics: ['t'], to: 'yesterday' }],
    ['a target with two fields', { topics: ['t'], to: { offset: 1, shift_by: 1 } }],
    ['a negative offset', { topics: ['t'], to: { offset: -1 } }],
    ['a datetime that is not ISO 8601', { topics: ['t'], to: { datetime: 'last tuesday' } }],
    ['a fractional shift', { topics: ['t'], to: { shift_by: 1.5 } }],
    ['no partitions named', { to: 'earliest' }],
    ['both topics and all_topics', { topics: ['t'], all_topics: true, to: 'earliest' }],
  ])('refuses %s as INVALID_REQUEST', async (_what, body) => {
    const response = await reset('g', body);
    expect(response.statusCode, response.body).toBe(400);
    expect(errorOf(response).code).toBe('INVALID_REQUEST');
  });

  test('answers UNKNOWN_TOPIC_OR_PARTITION for a topic or partition that does not exist', async () => {
    expect(errorOf(await reset('g', { topics: ['nope'], to: 'earliest' })).code).toBe('UNKNOWN_TOPIC_OR_PARTITION');
    expect(errorOf(await reset('g', { topics: [{ topic: 't', partitions: [7] }], to: 'earliest' })).code).toBe('UNKNOWN_TOPIC_OR_PARTITION');
  });
});
