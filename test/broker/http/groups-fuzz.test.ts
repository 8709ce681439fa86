/**
 * Hostile input against every consumer-group route: whatever arrives (any method, group or member
 * id, content type, body, query), the answer is a success or a 4xx in the one error shape with a
 * catalogue code for that status, never a 5xx; and afterwards the broker still runs a whole group
 * round (join, sync, commit, describe).
 *
 * A well-formed JoinGroup or SyncGroup parks until its rebalance ends, so every request is
 * awaited while coordinator time moves on: first by nothing (a join phase whose members have all
 * joined ends), then in jumps of 2^31 ms, more than any int32 timeout, after which each parked
 * call is answered or its member dropped.
 */

import fc from 'fast-check';
import type { LightMyRequestResponse } from 'fastify';
import { Packr } from 'msgpackr';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { encodeAssignment, encodeSubscription } from '../../../broker/groups/consumer-protocol.ts';
import type { GroupHarness } from './groups-harness.ts';
import { SESSION_TIMEOUT_MS, commit, join, post, startGroupHarness, sync, untilMembers } from './groups-harness.ts';
import { MSGPACK, expectHandled } from './http-harness.ts';

const RUNS = 200;
const packr = new Packr({ useRecords: false });

let h: GroupHarness;
beforeAll(async () => {
  h = await startGroupHarness({ limits: { maxBodyBytes: 64 * 1024 } });
  await post(h, '/topics', { name: 'fuzz', partitions: 2 });
});
afterAll(async () => {
  await h.close();
});

/** Awaits an inject() while moving coordinator time on, so that no parked call can hold the test. */
async function settle(pending: Promise<LightMyRequestResponse>): Promise<LightMyRequestResponse> {
  let isSettled = false;
  void pending.finally(() => (isSettled = true));
  for (let turn = 0; turn < 500 && !isSettled; turn++) {
    await new Promise((resolve) => setImmediate(resolve));
    // First only the (zero) initial delay, so groups live on from one run to the next; then jump.
    h.scheduler.advance(turn < 20 ? 0 : 2 ** 31);
  }
  expect(isSettled, 'a group call stayed parked').toBe(true);
  return pending;
}

/** A new group goes through join, sync, commit and describe as if nothing had happened. */
async function expectStillServing(): Promise<void> {
  expect((await h.app.inject('/healthz')).statusCode).toBe(200);
  const group = `alive-${Math.random().toString(36).slice(2)}`;
  const joining = join(h, group, { topics: ['fuzz'] });
  await untilMembers(h, group, 1);
  h.scheduler.advance(0);
  const joined = (await joining).json();
  expect(joined.generation_id).toBe(1);
  const synced = await sync(h, group, joined.member_id, { generation_id: 1, server_assignment: 'range' });
  expect(synced.json().assigned).toEqual([{ topic: 'fuzz', partitions: [0, 1] }]);
  expect((await commit(h, group, { generation_id: 1, member_id: joined.member_id, offsets: [{ topic: 'fuzz', partition: 1, offset: 0 }] })).statusCode).toBe(200);
  expect((await h.app.inject(`/groups/${group}`)).json().partitions).toMatchObject([{ partition: 0, current_offset: null }, { partition: 1, current_offset: 0, consumer_id: joined.member_id }]);
}

const trickyIds = fc.constantFrom('..%2F..', '%2e%2e', '..', '.', '%00', 'a%2Fb', '%5C..%5C', 'x'.repeat(300), '%C0%AE%C0%AE', '%E2%80%AE', 'g%20', '', 'g', 'alive', '__proto__', 'constructor');
const idSegment = fc.oneof(trickyIds, fc.string({ maxLength: 40 }).map(encodeURIComponent));
const numberText = fc.oneof(fc.constantFrom('-1', '0', '1', '1.5', '1e3', 'NaN', '9007199254740993', '99999999999999999999999', '0x10', '', '%00'), fc.integer().map(String));
const contentTypes = fc.constantFrom('application/json', 'application/vnd.kafka.v2+json', MSGPACK, 'application/x-msgpack', 'application/vnd.kafka.json.v2+json', 'text/plain', 'application/octet-stream', '', 'application/json; charset=latin1');
const hostileBody = fc.oneof(
  fc.uint8Array({ maxLength: 300 }).map((bytes) => Buffer.from(bytes)),
  fc.jsonValue({ maxDepth: 4 }).map((value) => Buffer.from(JSON.stringify(value) ?? 'null')),
  fc.string({ maxLength: 200 }).map((text) => Buffer.from(text)),
  fc.jsonValue({ maxDepth: 3 }).map((value) => Buffer.from(packr.pack(value))),
);
/** Mostly well-formed values, now and then a hostile one, so both the happy paths and the checks run. */
const mostly = <T, U>(valid: fc.Arbitrary<T>, hostile: fc.Arbitrary<U>) => fc.oneof({ weight: 15, arbitrary: valid }, { weight: 1, arbitrary: hostile });
const anyValue = fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.constant(undefined), fc.constant(null), fc.double(), fc.string({ maxLength: 5 }));
const int32ish = mostly(fc.integer({ min: -1, max: 3 }), fc.oneof(fc.integer(), fc.double(), fc.constant(2 ** 31), fc.string({ maxLength: 4 })));

describe('fuzzing the consumer-group routes', () => {
  test('any method, path, content type and body is handled', async () => {
    const routes = fc.tuple(idSegment, idSegment, numberText).chain(([group, member, number]) =>
      fc.constantFrom(
        ['GET', `/groups?state=${number}`], ['GET', `/groups/${group}`], ['DELETE', `/groups/${group}`], ['POST', `/groups/${group}/offsets/reset`],
        ['POST', `/groups/${group}/members`], ['POST', `/groups/${group}/members/${member}/sync`], ['POST', `/groups/${group}/members/${member}/heartbeat`],
        ['DELETE', `/groups/${group}/members/${member}`], ['POST', `/groups/${group}/offsets`], ['GET', `/groups/${group}/offsets?topic=${member}&partition=${number}`],
        ['PUT', `/groups/${group}`], ['GET', `/groups/${group}/members/${member}`],
      ),
    );
    await fc.assert(
      fc.asyncProperty(routes, contentTypes, hostileBody, async ([method, url], contentType, body) => {
        const headers = contentType === '' ? {} : { 'content-type': contentType };
        expectHandled(await settle(h.app.inject({ method: method as 'GET', url, headers, payload: method === 'GET' || method === 'DELETE' ? undefined : body })));
      }),
      { numRuns: RUNS },
    );
    await expectStillServing();
  });

  test('JoinGroup and SyncGroup bodies of any shape, in JSON and msgpack, are handled', async () => {
    const subscription = fc.oneof(fc.constant(encodeSubscription({ topics: ['fuzz'] })), fc.uint8Array({ maxLength: 40 }).map((b) => Buffer.from(b)));
    const bytes = (format: string) => subscription.map((b) => (format === MSGPACK ? b : b.toString('base64')));
    const common = {
      member_id: mostly(fc.constant(''), fc.string({ maxLength: 10 })),
      group_instance_id: mostly(fc.constant(null), anyValue),
      client_id: mostly(fc.constantFrom('c1', 'c2'), anyValue),
      session_timeout_ms: mostly(fc.constant(SESSION_TIMEOUT_MS), fc.oneof(fc.integer(), anyValue)),
      rebalance_timeout_ms: mostly(fc.integer({ min: 0, max: 60_000 }), fc.oneof(fc.integer(), anyValue)),
      require_known_member_id: mostly(fc.boolean(), anyValue),
    };
    const optional = ['member_id', 'group_instance_id', 'rebalance_timeout_ms', 'require_known_member_id'];
    // Either form of JoinGroup, now and then with a field of the other form or one missing.
    const joinBody = (format: string) =>
      fc.oneof(
        fc.record(
          { ...common, protocol_type: mostly(fc.constant('consumer'), anyValue), protocols: mostly(fc.array(fc.record({ name: fc.constantFrom('range', 'roundrobin', 'x'), metadata: bytes(format) }), { minLength: 1, maxLength: 3 }), anyValue), topics: fc.constant(undefined) },
          { requiredKeys: ['client_id', 'session_timeout_ms', 'protocol_type', 'protocols'] },
        ),
        fc.record(
          { ...common, topics: mostly(fc.array(fc.constantFrom('fuzz', 'nope', ''), { maxLength: 3 }), anyValue), assignors: mostly(fc.array(fc.constantFrom('range', 'sticky', 'zzz'), { minLength: 1, maxLength: 3 }), anyValue), protocols: fc.constant(undefined) },
          { requiredKeys: ['client_id', 'session_timeout_ms', 'topics'] },
        ),
      ).map((body) => Object.fromEntries(Object.entries(body).filter(([key, value]) => value !== undefined || !optional.includes(key))));
    const syncBody = (format: string) =>
      fc.record(
        {
          generation_id: mostly(fc.constantFrom(0, 1, 2, 3), int32ish),
          assignments: mostly(fc.array(fc.record({ member_id: fc.string({ maxLength: 8 }), assignment: fc.oneof(bytes(format), fc.constant(encodeAssignment([{ topic: 'fuzz', partitions: [0, 1] }]))) }), { maxLength: 3 }), anyValue),
          server_assignment: mostly(fc.constantFrom('range', 'roundrobin', 'sticky', 'magic'), anyValue),
          protocol_type: anyValue,
          protocol_name: anyValue,
        },
        { requiredKeys: ['generation_id'] },
      );
    const request = fc.constantFrom('application/json', MSGPACK).chain((format) =>
      fc.tuple(fc.constant(format), fc.constantFrom('g', 'h'), fc.oneof(joinBody(format).map((b) => ['join', b] as const), syncBody(format).map((b) => ['sync', b] as const))),
    );
    await fc.assert(
      fc.asyncProperty(request, async ([format, group, [kind, body]]) => {
        const members = h.core.groups.coordinator.listGroups().some((g) => g.groupId === group) ? h.core.groups.coordinator.describeGroup(group).members : [];
        const url = kind === 'join' ? `/groups/${group}/members` : `/groups/${group}/members/${encodeURIComponent(members[0]?.memberId ?? 'nobody')}/sync`;
        const payload = format === MSGPACK ? packr.pack(body) : JSON.stringify(body);
        expectHandled(await settle(h.app.inject({ method: 'POST', url, headers: { 'content-type': format, accept: format }, payload })));
      }),
      { numRuns: RUNS },
    );
    await expectStillServing();
  });

  test('commit, offset fetch and reset bodies of any shape are handled', async () => {
    const offsets = fc.array(
      fc.record({ topic: mostly(fc.constant('fuzz'), anyValue), partition: mostly(fc.constantFrom(0, 1), int32ish), offset: mostly(fc.nat(10), fc.oneof(fc.integer(), fc.double(), fc.constant(2 ** 63))), metadata: mostly(fc.string({ maxLength: 5 }), fc.oneof(anyValue, fc.constant('m'.repeat(5000)))) }, { requiredKeys: ['topic', 'partition', 'offset'] }),
      { maxLength: 5 },
    );
    const commitBody = fc.record({ generation_id: mostly(fc.constant(-1), int32ish), member_id: mostly(fc.constant(''), anyValue), offsets: mostly(offsets, anyValue) }, { requiredKeys: ['offsets'] });
    const to = mostly(fc.oneof(fc.constantFrom('earliest', 'latest'), fc.record({ offset: fc.nat(5) }), fc.record({ shift_by: fc.integer({ min: -3, max: 3 }) }), fc.record({ timestamp: fc.nat() }), fc.record({ datetime: fc.constant('2020-01-01T00:00:00Z') })), fc.oneof(fc.constant('current'), fc.record({ offset: int32ish }), fc.record({ datetime: fc.string({ maxLength: 12 }) }), anyValue));
    const resetBody = fc.record(
      { topics: mostly(fc.array(fc.oneof(fc.constant('fuzz'), fc.record({ topic: fc.constantFrom('fuzz', 'nope'), partitions: fc.array(mostly(fc.constantFrom(0, 1), int32ish), { maxLength: 3 }) })), { minLength: 1, maxLength: 3 }), anyValue), all_topics: mostly(fc.constant(undefined), anyValue), to, execute: mostly(fc.boolean(), anyValue) },
      { requiredKeys: ['topics', 'to'] },
    );
    const request = fc.oneof(
      fc.tuple(fc.constant('POST'), fc.constant('/groups/c/offsets'), commitBody),
      fc.tuple(fc.constant('POST'), fc.constant('/groups/c/offsets/reset'), resetBody),
      fc.tuple(fc.constant('GET'), fc.array(fc.tuple(fc.constantFrom('topic', 'partition', 'other'), numberText), { maxLength: 4 }).map((q) => `/groups/c/offsets?${q.map(([k, v]) => `${k}=${v}`).join('&')}`), fc.constant(undefined)),
    );
    await fc.assert(
      fc.asyncProperty(request, fc.constantFrom('application/json', MSGPACK), async ([method, url, body], format) => {
        const payload = body === undefined ? undefined : format === MSGPACK ? packr.pack(body) : JSON.stringify(body);
        expectHandled(await settle(h.app.inject({ method: method as 'GET', url, headers: payload === undefined ? {} : { 'content-type': format }, payload })));
      }),
      { numRuns: RUNS },
    );
    await expectStillServing();
  });
});
