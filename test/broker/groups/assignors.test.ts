/**
 * The three assignors: known answers from Kafka's documented behaviour, then properties on random
 * groups — every subscribed partition assigned exactly once and only to a subscriber, the balance
 * each assignor promises, and sticky's promise not to move what it can keep.
 */

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Assignor, AssignorSubscription, MemberAssignment } from '../../../broker/groups/assignors/assignor.ts';
import { findAssignor, serverAssignors } from '../../../broker/groups/assignors/assignor-registry.ts';
import { rangeAssignor } from '../../../broker/groups/assignors/range.ts';
import { roundRobinAssignor } from '../../../broker/groups/assignors/round-robin.ts';
import { stickyAssignor } from '../../../broker/groups/assignors/sticky.ts';

const subs = (entries: Record<string, string[]>): Map<string, AssignorSubscription> => new Map(Object.entries(entries).map(([memberId, topics]) => [memberId, { topics }]));
const counts = (entries: Record<string, number>): Map<string, number> => new Map(Object.entries(entries));
const plain = (result: Map<string, MemberAssignment>): Record<string, Record<string, number[]>> =>
  Object.fromEntries([...result].map(([memberId, assigned]) => [memberId, Object.fromEntries(assigned.map(({ topic, partitions }) => [topic, [...partitions]]))]));

describe('known assignments', () => {
  it('range gives each member a contiguous run per topic, the first P mod N one extra', () => {
    const result = rangeAssignor.assign(subs({ c2: ['t1', 't2'], c1: ['t1', 't2'], c3: ['t1'] }), counts({ t1: 7, t2: 3 }));
    expect(plain(result)).toEqual({ c1: { t1: [0, 1, 2], t2: [0, 1] }, c2: { t1: [3, 4], t2: [2] }, c3: { t1: [5, 6] } });
  });

  it('roundrobin deals sorted partitions to sorted members, skipping members not subscribed', () => {
    const result = roundRobinAssignor.assign(subs({ b: ['t0', 't1'], a: ['t0'], c: ['t1'] }), counts({ t0: 3, t1: 3 }));
    // t0-0 a, t0-1 b, t0-2 (c skipped) a, t1-0 b, t1-1 c, t1-2 (a skipped) b
    expect(plain(result)).toEqual({ a: { t0: [0, 2] }, b: { t0: [1], t1: [0, 2] }, c: { t1: [1] } });
  });

  it('sticky keeps owners in place and gives a newcomer only what balance requires', () => {
    const before = new Map<string, AssignorSubscription>([
      ['a', { topics: ['t'], ownedPartitions: [{ topic: 't', partitions: [0, 1, 2] }] }],
      ['b', { topics: ['t'], ownedPartitions: [{ topic: 't', partitions: [3, 4, 5] }] }],
      ['c', { topics: ['t'] }],
    ]);
    const result = plain(stickyAssignor.assign(before, counts({ t: 6 })));
    expect(result.a.t.every((p) => [0, 1, 2].includes(p))).toBe(true);
    expect(result.b.t.every((p) => [3, 4, 5].includes(p))).toBe(true);
    expect([result.a.t.length, result.b.t.length, result.c.t.length]).toEqual([2, 2, 2]);
  });

  it('leaves out topics the broker does not know and lists members that get nothing', () => {
    expect(plain(rangeAssignor.assign(subs({ a: ['gone'], b: ['t'] }), counts({ t: 1 })))).toEqual({ a: {}, b: { t: [0] } });
  });

  it('finds assignors by their Kafka protocol names and refuses others', () => {
    expect(serverAssignors.map((a) => a.name)).toEqual(['range', 'roundrobin', 'sticky']);
    expect(findAssignor('roundrobin')).toBe(roundRobinAssignor);
    expect(() => findAssignor('RoundRobinAssigner')).toThrow(expect.objectContaining({ code: 'INVALID_REQUEST' }));
  });
});

interface Case {
  subscriptions: Map<string, AssignorSubscription>;
  partitionCounts: Map<string, number>;
}

const TOPICS = ['t0', 't1', 't2', 't3'];

/** Random groups: up to 7 members, up to 4 topics of 0–12 partitions, random previous ownership. */
function groupCase(equalSubscriptions: boolean): fc.Arbitrary<Case> {
  return fc
    .record({
      memberCount: fc.integer({ min: 1, max: 7 }),
      partitionCounts: fc.tuple(...TOPICS.map(() => fc.integer({ min: 0, max: 12 }))),
      topicChoices: fc.array(fc.subarray(TOPICS, { minLength: 1 }), { minLength: 7, maxLength: 7 }),
      ownerSeeds: fc.array(fc.integer({ min: -3, max: 6 }), { minLength: 48, maxLength: 48 }),
    })
    .map(({ memberCount, partitionCounts, topicChoices, ownerSeeds }) => {
      const memberIds = Array.from({ length: memberCount }, (_, i) => `member-${(i * 7919) % 1000}`);
      const topicsOf = (i: number): string[] => (equalSubscriptions ? topicChoices[0] : topicChoices[i]);
      // Disjoint previous ownership: each partition had at most one owner (or none: seed < 0),
      // as after a clean previous generation; owners may have left the group since.
      const owned = new Map<string, Map<string, number[]>>(memberIds.map((id) => [id, new Map()]));
      let seed = 0;
      TOPICS.forEach((topic, t) => {
        for (let partition = 0; partition < partitionCounts[t]; partition++) {
          const owner = ownerSeeds[seed++ % ownerSeeds.length];
          if (owner < 0 || owner >= memberCount) continue;
          const byTopic = owned.get(memberIds[owner])!;
          byTopic.set(topic, [...(byTopic.get(topic) ?? []), partition]);
        }
      });
      const subscriptions = new Map<string, AssignorSubscription>(
        memberIds.map((id, i) => [id, { topics: topicsOf(i), ownedPartitions: [...owned.get(id)!].map(([topic, partitions]) => ({ topic, partitions })) }]),
      );
      return { subscriptions, partitionCounts: new Map(TOPICS.map((topic, t) => [topic, partitionCounts[t]])) };
    });
}

function checkEveryPartitionOnceToASubscriber(assignor: Assignor, { subscriptions, partitionCounts }: Case): Map<string, MemberAssignment> {
  const result = assignor.assign(subscriptions, partitionCounts);
  expect([...result.keys()].sort()).toEqual([...subscriptions.keys()].sort());
  const owners = new Map<string, string>();
  for (const [memberId, assigned] of result) {
    for (const { topic, partitions } of assigned) {
      expect(subscriptions.get(memberId)!.topics, `${assignor.name}: ${memberId} got ${topic} without subscribing`).toContain(topic);
      for (const partition of partitions) {
        const key = `${topic}-${partition}`;
        expect(owners.get(key), `${assignor.name}: ${key} assigned twice`).toBeUndefined();
        owners.set(key, memberId);
      }
    }
  }
  const subscribedTopics = new Set([...subscriptions.values()].flatMap((s) => s.topics));
  const expected = [...subscribedTopics].flatMap((topic) => Array.from({ length: partitionCounts.get(topic) ?? 0 }, (_, p) => `${topic}-${p}`));
  expect([...owners.keys()].sort()).toEqual(expected.sort());
  return result;
}

const countOf = (assigned: MemberAssignment): number => assigned.reduce((sum, { partitions }) => sum + partitions.length, 0);
const spread = (result: Map<string, MemberAssignment>): number => {
  const loads = [...result.values()].map(countOf);
  return Math.max(...loads) - Math.min(...loads);
};

describe('assignor properties', () => {
  for (const assignor of [rangeAssignor, roundRobinAssignor, stickyAssignor]) {
    it(`${assignor.name} assigns every subscribed partition exactly once, only to a member subscribed to its topic`, () => {
      fc.assert(fc.property(fc.boolean().chain(groupCase), (c) => void checkEveryPartitionOnceToASubscriber(assignor, c)));
    });
  }

  it('range balances each topic within one partition among its subscribers', () => {
    fc.assert(
      fc.property(groupCase(false), (c) => {
        const result = checkEveryPartitionOnceToASubscriber(rangeAssignor, c);
        for (const topic of TOPICS) {
          const loads = [...c.subscriptions].filter(([, s]) => s.topics.includes(topic)).map(([id]) => result.get(id)!.find((a) => a.topic === topic)?.partitions.length ?? 0);
          if (loads.length > 0) expect(Math.max(...loads) - Math.min(...loads)).toBeLessThanOrEqual(1);
        }
      }),
    );
  });

  it('roundrobin and sticky balance members within one partition when subscriptions are equal', () => {
    fc.assert(
      fc.property(groupCase(true), (c) => {
        expect(spread(checkEveryPartitionOnceToASubscriber(roundRobinAssignor, c))).toBeLessThanOrEqual(1);
        expect(spread(checkEveryPartitionOnceToASubscriber(stickyAssignor, c))).toBeLessThanOrEqual(1);
      }),
    );
  });

  it('sticky: with equal subscriptions a member keeps all it validly owned, or keeps only what it owned when it had more than its share', () => {
    fc.assert(
      fc.property(groupCase(true), (c) => {
        const result = checkEveryPartitionOnceToASubscriber(stickyAssignor, c);
        for (const [memberId, subscription] of c.subscriptions) {
          // Claims on topics the member no longer subscribes to cannot be kept; the rest can.
          const owned = new Set((subscription.ownedPartitions ?? []).filter(({ topic }) => subscription.topics.includes(topic)).flatMap(({ topic, partitions }) => partitions.map((p) => `${topic}-${p}`)));
          const now = new Set(result.get(memberId)!.flatMap(({ topic, partitions }) => partitions.map((p) => `${topic}-${p}`)));
          const keptAll = [...owned].every((key) => now.has(key));
          const onlyOwned = [...now].every((key) => owned.has(key));
          expect(keptAll || onlyOwned, `${memberId} owned [${[...owned]}], now [${[...now]}]`).toBe(true);
        }
      }),
    );
  });

  it('sticky: with any subscriptions no partition could move to a subscriber with two fewer partitions', () => {
    fc.assert(
      fc.property(groupCase(false), (c) => {
        const result = checkEveryPartitionOnceToASubscriber(stickyAssignor, c);
        const loads = new Map([...result].map(([id, assigned]) => [id, countOf(assigned)]));
        for (const [from, assigned] of result) {
          for (const { topic } of assigned) {
            for (const [to, subscription] of c.subscriptions) {
              if (subscription.topics.includes(topic)) expect(loads.get(to)! + 2 > loads.get(from)!, `${topic} could move from ${from} to ${to}`).toBe(true);
            }
          }
        }
      }),
    );
  });

  it('sticky moves nothing when the previous assignment is already balanced and everyone stayed', () => {
    fc.assert(
      fc.property(groupCase(true), (c) => {
        const first = stickyAssignor.assign(new Map([...c.subscriptions].map(([id, s]) => [id, { topics: s.topics }])), c.partitionCounts);
        const again = stickyAssignor.assign(new Map([...first].map(([id, assigned]) => [id, { topics: c.subscriptions.get(id)!.topics, ownedPartitions: assigned }])), c.partitionCounts);
        expect(plain(again)).toEqual(plain(first));
      }),
    );
  });
});
