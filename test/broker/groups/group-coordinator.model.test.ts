/**
 * A state-machine property test of the group coordinator. Five simulated consumers send random
 * JoinGroups, SyncGroups (the leader assigns with a random assignor), heartbeats, LeaveGroups and
 * commits from current, stale, unknown and removed members, while the clock jumps forward by
 * random amounts. What the consumers observe is checked against two promises:
 *
 * - within any generation no partition is handed to two members (across every SyncGroup answer
 *   of the run, not just the final state);
 * - a commit is never accepted from a member that was told it is gone or that left, from a
 *   generation older than one already handed out, or for a generation the member was not in.
 *
 * Every coordinator error must be one of the catalogue codes the operation documents; anything
 * else (an assertion inside the coordinator included) fails the run with its seed.
 */

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isMiniKafkaError } from '../../../common/errors.ts';
import type { AssignorSubscription } from '../../../broker/groups/assignors/assignor.ts';
import { findAssignor } from '../../../broker/groups/assignors/assignor-registry.ts';
import { decodeAssignment, decodeSubscription, encodeAssignment, encodeSubscription } from '../../../broker/groups/consumer-protocol.ts';
import { GroupCoordinator } from '../../../broker/groups/group-coordinator.ts';
import type { GroupProtocol, JoinGroupMember } from '../../../broker/groups/group-requests.ts';
import { ManualScheduler } from '../../../broker/groups/scheduler.ts';
import { flush } from './group-harness.ts';

const GROUP_ID = 'g';
const PARTITION_COUNTS = new Map([
  ['a', 3],
  ['b', 4],
  ['c', 1],
]);
const SESSION_TIMEOUT_MS = 2_000;

interface Client {
  readonly clientId: string;
  readonly protocols: readonly GroupProtocol[];
  readonly rebalanceTimeoutMs: number;
  /** The id it uses: a full member's, or one handed out with MEMBER_ID_REQUIRED. */
  memberId: string | null;
  generationId: number;
  isLeader: boolean;
  members: readonly JoinGroupMember[];
  joinCount: number;
  isJoinPending: boolean;
  isSyncPending: boolean;
  /** The generation it last got an assignment for. */
  syncedGenerationId: number;
  /** Told to rejoin (REBALANCE_IN_PROGRESS, ILLEGAL_GENERATION). */
  shouldRejoin: boolean;
}

interface World {
  readonly scheduler: ManualScheduler;
  readonly coordinator: GroupCoordinator;
  readonly clients: Client[];
  /** Ids that received a JoinGroup result: they were members of some generation. */
  readonly fullMembers: Set<string>;
  /** Full members told they are gone (UNKNOWN_MEMBER_ID) or that left: never members again. */
  readonly goneMembers: Set<string>;
  readonly generationsByMember: Map<string, Set<number>>;
  maxGenerationSeen: number;
  /** Per generation: partition → the member that SyncGroup gave it to. */
  readonly ownersByGeneration: Map<number, Map<string, string>>;
  readonly unexpected: string[];
  ghostCount: number;
  readonly stats: Stats;
}

interface Stats {
  syncsAnswered: number;
  commitsAccepted: number;
  commitsFenced: number;
}

const stats: Stats = { syncsAnswered: 0, commitsAccepted: 0, commitsFenced: 0 };

function expectError(world: World, operation: string, error: unknown, allowed: readonly string[]): string {
  if (isMiniKafkaError(error) && allowed.includes(error.code)) return error.code;
  world.unexpected.push(`${operation}: ${error instanceof Error ? `${error.name} ${(error as { code?: string }).code ?? ''} ${error.message}` : String(error)}`);
  return '';
}

function markGone(world: World, memberId: string): void {
  if (world.fullMembers.has(memberId)) world.goneMembers.add(memberId);
  for (const client of world.clients) {
    if (client.memberId === memberId && world.fullMembers.has(memberId)) Object.assign(client, { memberId: null, generationId: -1, isLeader: false, members: [] });
  }
}

function recordJoin(world: World, client: Client, result: { memberId: string; generationId: number; leaderId: string; members: readonly JoinGroupMember[] }, joinNumber: number): void {
  world.fullMembers.add(result.memberId);
  let generations = world.generationsByMember.get(result.memberId);
  if (generations === undefined) world.generationsByMember.set(result.memberId, (generations = new Set()));
  generations.add(result.generationId);
  world.maxGenerationSeen = Math.max(world.maxGenerationSeen, result.generationId);
  if (result.leaderId === result.memberId) {
    const ids = result.members.map((m) => m.memberId);
    if (new Set(ids).size !== ids.length || !ids.includes(result.memberId)) world.unexpected.push(`leader's member list ${ids} of generation ${result.generationId}`);
  }
  if (joinNumber !== client.joinCount) return; // a later JoinGroup of this client is under way
  Object.assign(client, { memberId: result.memberId, generationId: result.generationId, isLeader: result.leaderId === result.memberId, members: result.members, shouldRejoin: false });
}

function leaderAssignment(members: readonly JoinGroupMember[], assignorName: string): { memberId: string; assignment: Buffer }[] {
  const subscriptions = new Map<string, AssignorSubscription>(members.map((m) => [m.memberId, { topics: decodeSubscription(m.metadata).topics }]));
  return [...findAssignor(assignorName).assign(subscriptions, PARTITION_COUNTS)].map(([memberId, partitions]) => ({ memberId, assignment: encodeAssignment(partitions) }));
}

function recordAssignment(world: World, memberId: string, generationId: number, bytes: Buffer): void {
  world.stats.syncsAnswered++;
  let owners = world.ownersByGeneration.get(generationId);
  if (owners === undefined) world.ownersByGeneration.set(generationId, (owners = new Map()));
  for (const { topic, partitions } of decodeAssignment(bytes).assignedPartitions) {
    for (const partition of partitions) {
      const key = `${topic}-${partition}`;
      const owner = owners.get(key);
      if (owner !== undefined && owner !== memberId) world.unexpected.push(`generation ${generationId}: ${key} given to ${owner} and to ${memberId}`);
      owners.set(key, memberId);
    }
  }
}

/** What must hold after every step, looking at the coordinator's own view. */
function checkGroup(world: World): void {
  expect(world.unexpected).toEqual([]);
  const group = world.coordinator.listGroups().find((g) => g.groupId === GROUP_ID);
  if (group === undefined) return;
  const description = world.coordinator.describeGroup(GROUP_ID);
  expect(description.generationId).toBeGreaterThanOrEqual(world.maxGenerationSeen);
  if (description.state !== 'Stable') return;
  const seen = new Set<string>();
  for (const member of description.members) {
    for (const { topic, partitions } of decodeAssignment(member.assignment).assignedPartitions) {
      for (const partition of partitions) {
        expect(seen.has(`${topic}-${partition}`), `Stable generation ${description.generationId} gives ${topic}-${partition} twice`).toBe(false);
        seen.add(`${topic}-${partition}`);
      }
    }
  }
}

type Step = (world: World) => void | Promise<void>;

class Command implements fc.AsyncCommand<World, World> {
  constructor(
    readonly label: string,
    readonly step: Step,
  ) {}
  check(): boolean {
    return true;
  }
  async run(_model: World, world: World): Promise<void> {
    await this.step(world);
    await flush();
    checkGroup(world);
  }
  toString(): string {
    return this.label;
  }
}

/** A JoinGroup; `isRetry` sends one even while the last is unanswered (a client that timed out and retried). */
const join = (i: number, requireKnownMemberId: boolean, isRetry: boolean): Command =>
  new Command(`join(${i}${requireKnownMemberId ? ', requireKnownMemberId' : ''}${isRetry ? ', retry' : ''})`, (world) => {
    const client = world.clients[i];
    if (client.isJoinPending && !isRetry) return;
    const memberId = client.memberId ?? '';
    const joinNumber = ++client.joinCount;
    client.isJoinPending = true;
    const answered = (): void => {
      if (joinNumber === client.joinCount) client.isJoinPending = false;
    };
    world.coordinator
      .joinGroup({ groupId: GROUP_ID, memberId, clientId: client.clientId, clientHost: '/127.0.0.1', sessionTimeoutMs: SESSION_TIMEOUT_MS, rebalanceTimeoutMs: client.rebalanceTimeoutMs, protocolType: 'consumer', protocols: client.protocols, requireKnownMemberId })
      .then(
        (result) => {
          answered();
          recordJoin(world, client, result, joinNumber);
        },
        (error: unknown) => {
          answered();
          const code = expectError(world, `join(${i})`, error, ['MEMBER_ID_REQUIRED', 'UNKNOWN_MEMBER_ID', 'REBALANCE_IN_PROGRESS']);
          if (code === 'MEMBER_ID_REQUIRED' && joinNumber === client.joinCount) client.memberId = (error as { details: { memberId: string } }).details.memberId;
          if (code === 'UNKNOWN_MEMBER_ID' && memberId !== '') {
            markGone(world, memberId);
            if (client.memberId === memberId) client.memberId = null;
          }
        },
      );
  });

const sync = (i: number, assignorName: string): Command =>
  new Command(`sync(${i}, ${assignorName})`, (world) => {
    const client = world.clients[i];
    if (client.memberId === null || client.generationId < 0 || client.isSyncPending) return;
    const { memberId, generationId } = client;
    client.isSyncPending = true;
    const assignments = client.isLeader ? leaderAssignment(client.members, assignorName) : [];
    world.coordinator.syncGroup({ groupId: GROUP_ID, memberId, generationId, assignments }).then(
      (result) => {
        client.isSyncPending = false;
        client.syncedGenerationId = generationId;
        recordAssignment(world, memberId, generationId, result.assignment);
      },
      (error: unknown) => {
        client.isSyncPending = false;
        const code = expectError(world, `sync(${i})`, error, ['UNKNOWN_MEMBER_ID', 'ILLEGAL_GENERATION', 'REBALANCE_IN_PROGRESS', 'COORDINATOR_NOT_AVAILABLE']);
        if (code === 'UNKNOWN_MEMBER_ID') markGone(world, memberId);
        else client.shouldRejoin = true;
      },
    );
  });

const heartbeat = (i: number): Command =>
  new Command(`heartbeat(${i})`, (world) => {
    const client = world.clients[i];
    if (client.memberId === null) return;
    try {
      world.coordinator.heartbeat({ groupId: GROUP_ID, memberId: client.memberId, generationId: client.generationId });
    } catch (error) {
      const code = expectError(world, `heartbeat(${i})`, error, ['UNKNOWN_MEMBER_ID', 'ILLEGAL_GENERATION', 'REBALANCE_IN_PROGRESS']);
      if (code === 'UNKNOWN_MEMBER_ID') markGone(world, client.memberId);
      else client.shouldRejoin = true;
    }
  });

/** What a well-behaved consumer does next: join when out or told to rejoin, sync after a join, else heartbeat. */
const consumerStep = (i: number, requireKnownMemberId: boolean, assignorName: string): Command =>
  new Command(`step(${i})`, (world) => {
    const client = world.clients[i];
    if (client.isJoinPending || client.isSyncPending) return;
    if (client.memberId === null || client.generationId < 0 || client.shouldRejoin) return join(i, requireKnownMemberId, false).step(world);
    if (client.syncedGenerationId !== client.generationId) return sync(i, assignorName).step(world);
    return heartbeat(i).step(world);
  });

const leave = (i: number): Command =>
  new Command(`leave(${i})`, (world) => {
    const client = world.clients[i];
    if (client.memberId === null) return;
    const memberId = client.memberId;
    try {
      world.coordinator.leaveGroup({ groupId: GROUP_ID, memberId });
      world.goneMembers.add(memberId);
    } catch (error) {
      expectError(world, `leave(${i})`, error, ['UNKNOWN_MEMBER_ID']);
    }
    Object.assign(client, { memberId: null, generationId: -1, isLeader: false, members: [] });
  });

const tick = (ms: number): Command => new Command(`tick(${ms})`, (world) => world.scheduler.advance(ms));

type CommitKind = 'current' | 'stale' | 'ghost' | 'zombie' | 'none';

const commit = (i: number, kind: CommitKind): Command =>
  new Command(`commit(${i}, ${kind})`, (world) => {
    const client = world.clients[i];
    let memberId = client.memberId ?? '';
    let generationId = client.generationId;
    if (kind === 'stale') generationId -= 1 + (i % 2);
    if (kind === 'ghost') memberId = `ghost-${++world.ghostCount}`;
    if (kind === 'none') [memberId, generationId] = ['', -1];
    if (kind === 'zombie') {
      const zombie = [...world.goneMembers].at(i % Math.max(world.goneMembers.size, 1));
      if (zombie === undefined) return;
      memberId = zombie;
      generationId = Math.max(...(world.generationsByMember.get(zombie) ?? new Set([0])));
    }
    try {
      world.coordinator.validateCommit(GROUP_ID, generationId, memberId);
    } catch (error) {
      expectError(world, `commit(${i}, ${kind})`, error, ['UNKNOWN_MEMBER_ID', 'ILLEGAL_GENERATION', 'REBALANCE_IN_PROGRESS']);
      world.stats.commitsFenced++;
      return;
    }
    world.stats.commitsAccepted++;
    if (generationId >= 0) {
      expect(world.goneMembers.has(memberId), `accepted a commit from ${memberId}, which had left or been removed`).toBe(false);
      expect(generationId, `accepted a commit for generation ${generationId} after generation ${world.maxGenerationSeen} was handed out`).toBeGreaterThanOrEqual(world.maxGenerationSeen);
      expect(world.generationsByMember.get(memberId)?.has(generationId), `accepted a commit from ${memberId} for generation ${generationId}, which it was not in`).toBe(true);
    } else {
      expect(world.coordinator.describeGroup(GROUP_ID).state, 'accepted a commit without membership while the group has members').toBe('Empty');
    }
  });

const CLIENTS = 5;
const clientIndex = fc.nat(CLIENTS - 1);
const joinCommand = fc.tuple(clientIndex, fc.boolean(), fc.nat(5)).map(([i, requireKnown, retry]) => join(i, requireKnown, retry === 0));
const syncCommand = fc.tuple(clientIndex, fc.constantFrom('range', 'roundrobin', 'sticky')).map(([i, assignor]) => sync(i, assignor));
const heartbeatCommand = clientIndex.map(heartbeat);
const commitCommand = fc.tuple(clientIndex, fc.constantFrom<CommitKind>('current', 'current', 'stale', 'ghost', 'zombie', 'none')).map(([i, kind]) => commit(i, kind));
// Repeated entries weigh the mix toward what makes rebalances complete (joins, syncs,
// heartbeats) and toward short ticks, so that runs see many generations, not only timeouts.
const stepCommand = fc.tuple(clientIndex, fc.boolean(), fc.constantFrom('range', 'roundrobin', 'sticky')).map(([i, requireKnown, assignor]) => consumerStep(i, requireKnown, assignor));
const commands = [
  stepCommand,
  stepCommand,
  stepCommand,
  stepCommand,
  joinCommand,
  syncCommand,
  heartbeatCommand,
  clientIndex.map(leave),
  fc.constantFrom(10, 50, 200, 500, 1_000, 2_500, 6_000).map(tick),
  fc.constantFrom(10, 50, 200, 500).map(tick),
  fc.constantFrom(10, 50, 200, 500).map(tick),
  commitCommand,
  commitCommand,
];

/** A client's assignors: always `range` (so all can share a group), plus others, in a random order. */
const clientSetup = fc.record({
  topics: fc.subarray(['a', 'b', 'c'], { minLength: 1 }),
  extraAssignors: fc.subarray(['roundrobin', 'sticky']),
  rangePosition: fc.nat(2),
  rebalanceTimeoutMs: fc.constantFrom(3_000, 5_000),
});

type ClientSetup = typeof clientSetup extends fc.Arbitrary<infer T> ? T : never;

function makeWorld(setups: ClientSetup[], initialRebalanceDelayMs: number, isPersistenceAsync: boolean): World {
  const scheduler = new ManualScheduler();
  let next = 0;
  const coordinator = new GroupCoordinator({
    scheduler,
    config: { initialRebalanceDelayMs, minSessionTimeoutMs: 1, newMemberJoinTimeoutMs: 8_000 },
    newMemberIdSuffix: () => `m${++next}`,
    // Async: members wait for a promise between the leader's SyncGroup and their answers.
    onGroupMetadataChanged: () => (isPersistenceAsync ? Promise.resolve() : undefined),
  });
  const clients = setups.map((setup, i): Client => {
    const names = [...setup.extraAssignors];
    names.splice(Math.min(setup.rangePosition, names.length), 0, 'range');
    const metadata = encodeSubscription({ topics: setup.topics });
    return { clientId: `client${i}`, protocols: names.map((name) => ({ name, metadata })), rebalanceTimeoutMs: setup.rebalanceTimeoutMs, memberId: null, generationId: -1, isLeader: false, members: [], joinCount: 0, isJoinPending: false, isSyncPending: false, syncedGenerationId: -1, shouldRejoin: false };
  });
  return { scheduler, coordinator, clients, fullMembers: new Set(), goneMembers: new Set(), generationsByMember: new Map(), maxGenerationSeen: 0, ownersByGeneration: new Map(), unexpected: [], ghostCount: 0, stats };
}

describe('GroupCoordinator state machine (property)', () => {
  it('never gives a partition to two members of one generation and never accepts a fenced commit, under random joins, syncs, heartbeats, leaves, commits and clock ticks', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(clientSetup, { minLength: CLIENTS, maxLength: CLIENTS }),
        fc.constantFrom(0, 300, 1_000),
        fc.boolean(),
        fc.commands(commands, { maxCommands: 150, size: 'max' }),
        async (setups, initialRebalanceDelayMs, isPersistenceAsync, cmds) => {
          const world = makeWorld(setups, initialRebalanceDelayMs, isPersistenceAsync);
          await fc.asyncModelRun(() => ({ model: world, real: world }), cmds);
          world.coordinator.close();
          await flush();
        },
      ),
      { numRuns: 200 },
    );
    // The runs must have exercised both sides of the fence and completed rebalances.
    expect(stats.syncsAnswered).toBeGreaterThan(100);
    expect(stats.commitsAccepted).toBeGreaterThan(100);
    expect(stats.commitsFenced).toBeGreaterThan(100);
  });
});
