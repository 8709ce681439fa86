/**
 * Consumer groups as the front doors see them: the coordinator (membership, rebalances), the
 * offsets store (commits in `__consumer_offsets`) and the topics (log end offsets, for lag and
 * resets), behind one set of calls. HTTP routes and the Kafka protocol adapter call this.
 *
 * Lag, as Kafka's tools show it: for each partition a group has committed, high watermark minus
 * committed offset. A partition the group is assigned but never committed has no lag figure
 * (Kafka prints "-"); it is reported with committed offset null and lag null.
 *
 * Offset resets follow kafka-consumer-groups: only while the group has no live members (else
 * consumers would overwrite the reset with their next commit), a dry run by default that shows
 * the plan, and target offsets clamped into [log start offset, high watermark].
 */

import { MiniKafkaError } from '../../common/errors.ts';
import type { TopicManager } from '../core/topic-manager.ts';
import type { Clock } from '../storage/clock.ts';
import { CONSUMER_PROTOCOL_TYPE, decodeAssignment } from './consumer-protocol.ts';
import type { GroupCoordinator } from './group-coordinator.ts';
import type { GroupOffsets, TopicPartitionOffset } from './group-offsets.ts';
import type { GroupDescription, ListedGroup, SyncGroupRequest, SyncGroupResult } from './group-requests.ts';
import type { GroupSnapshot } from './group-snapshot.ts';
import { GroupState } from './group.ts';

export interface PartitionLag {
  readonly topic: string;
  readonly partition: number;
  /** null where the group never committed for this partition. */
  readonly committedOffset: number | null;
  readonly logEndOffset: number;
  readonly lag: number | null;
  /** The member this partition is assigned to now, or null. */
  readonly memberId: string | null;
  readonly clientId: string | null;
  readonly host: string | null;
  readonly metadata: string;
}

export interface GroupWithLag {
  readonly description: GroupDescription | null;
  readonly partitions: readonly PartitionLag[];
  /** Sum of the lag of every partition that has a figure. */
  readonly totalLag: number;
}

export type ResetStrategy =
  | { readonly kind: 'earliest' }
  | { readonly kind: 'latest' }
  | { readonly kind: 'offset'; readonly offset: number }
  | { readonly kind: 'timestamp'; readonly timestampMs: number }
  | { readonly kind: 'shift'; readonly by: number };

export interface ResetPlanRow {
  readonly topic: string;
  readonly partition: number;
  readonly currentOffset: number | null;
  readonly newOffset: number;
}

export interface GroupServiceOptions {
  readonly coordinator: GroupCoordinator;
  readonly offsets: GroupOffsets;
  readonly topics: TopicManager;
  readonly clock: Clock;
  /** offsets.retention.minutes, in ms. */
  readonly offsetsRetentionMs: number;
}

export class GroupService {
  readonly coordinator: GroupCoordinator;
  readonly #offsets: GroupOffsets;
  readonly #topics: TopicManager;
  readonly #offsetsRetentionMs: number;

  constructor(options: GroupServiceOptions) {
    this.coordinator = options.coordinator;
    this.#offsets = options.offsets;
    this.#topics = options.topics;
    this.#offsetsRetentionMs = options.offsetsRetentionMs;
  }

  /**
   * SyncGroup, with an optional server-side assignment: an HTTP client that leads the group may
   * ask the broker to run the named assignor over the members' subscriptions instead of sending
   * assignments itself.
   */
  syncGroup(request: SyncGroupRequest, serverAssignor?: string): Promise<SyncGroupResult> {
    if (serverAssignor === undefined) return this.coordinator.syncGroup(request);
    // Only the leader of the generation being completed gets a server-side assignment; any other
    // call goes to the coordinator as it is, which answers it (or its error) as for any client.
    const group = this.coordinator.listGroups().find((g) => g.groupId === request.groupId);
    if (group?.state !== GroupState.CompletingRebalance) return this.coordinator.syncGroup(request);
    const description = this.coordinator.describeGroup(request.groupId);
    if (description.leaderId !== request.memberId || description.generationId !== request.generationId) return this.coordinator.syncGroup(request);
    const counts = new Map<string, number>();
    for (const topic of this.#topics.list()) counts.set(topic, this.#topics.partitionCount(topic));
    const assignments = this.coordinator.assignOnServer(request.groupId, serverAssignor, counts);
    return this.coordinator.syncGroup({ ...request, assignments });
  }

  /** OffsetCommit: fenced by generation and member (zombies are refused), partitions must exist. */
  async commitOffsets(groupId: string, generationId: number, memberId: string, offsets: readonly TopicPartitionOffset[]): Promise<void> {
    this.coordinator.validateCommit(groupId, generationId, memberId);
    for (const { topic, partition } of offsets) this.#topics.partition(topic, partition);
    await this.#offsets.commit(groupId, offsets);
  }

  /** OffsetFetch: offset -1 for a partition without a commit, as Kafka answers. */
  fetchOffsets(groupId: string, partitions?: ReadonlyArray<{ topic: string; partition: number }>): TopicPartitionOffset[] {
    return this.#offsets.fetch(groupId, partitions);
  }

  listGroups(): ListedGroup[] {
    return this.coordinator.listGroups();
  }

  /** The group with, per partition, committed offset, log end offset, lag and owner. */
  describeWithLag(groupId: string): GroupWithLag {
    let description: GroupDescription | null = null;
    try {
      description = this.coordinator.describeGroup(groupId);
    } catch (error) {
      if (!(error instanceof MiniKafkaError && error.code === 'GROUP_ID_NOT_FOUND') || this.#offsets.fetch(groupId).length === 0) throw error;
    }
    const owners = new Map<string, { memberId: string; clientId: string; host: string }>();
    if (description !== null && description.protocolType === CONSUMER_PROTOCOL_TYPE && description.state === GroupState.Stable) {
      for (const member of description.members) {
        if (member.assignment.length === 0) continue;
        // A Kafka-protocol leader may hand out bytes that are not a valid Assignment: such a
        // member shows no partitions rather than failing the whole describe.
        let assigned: ReturnType<typeof decodeAssignment>['assignedPartitions'];
        try {
          assigned = decodeAssignment(member.assignment).assignedPartitions;
        } catch {
          continue;
        }
        for (const { topic, partitions } of assigned) {
          for (const partition of partitions) owners.set(`${topic}\u0000${partition}`, { memberId: member.memberId, clientId: member.clientId, host: member.clientHost });
        }
      }
    }
    const rows = new Map<string, PartitionLag>();
    const row = (topic: string, partition: number, committed: TopicPartitionOffset | null): void => {
      const key = `${topic}\u0000${partition}`;
      if (rows.has(key) || !this.#topics.has(topic)) return;
      const logEndOffset = this.#topics.partition(topic, partition).log.highWatermark;
      const owner = owners.get(key);
      const committedOffset = committed?.offset ?? null;
      rows.set(key, {
        topic,
        partition,
        committedOffset,
        logEndOffset,
        lag: committedOffset === null ? null : Math.max(0, logEndOffset - committedOffset),
        memberId: owner?.memberId ?? null,
        clientId: owner?.clientId ?? null,
        host: owner?.host ?? null,
        metadata: committed?.metadata ?? '',
      });
    };
    for (const committed of this.#offsets.fetch(groupId)) row(committed.topic, committed.partition, committed);
    for (const key of owners.keys()) {
      const [topic, partition] = key.split('\u0000');
      row(topic, Number(partition), null);
    }
    const partitions = [...rows.values()].sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition));
    return { description, partitions, totalLag: partitions.reduce((sum, p) => sum + (p.lag ?? 0), 0) };
  }

  /** Deletes an Empty group and its offsets (NON_EMPTY_GROUP while it has members). */
  async deleteGroup(groupId: string): Promise<void> {
    const isKnown = this.coordinator.listGroups().some((g) => g.groupId === groupId);
    if (isKnown) await this.coordinator.deleteGroup(groupId);
    else if (this.#offsets.fetch(groupId).length > 0) await this.#offsets.deleteGroup(groupId);
    else throw new MiniKafkaError('GROUP_ID_NOT_FOUND', `group ${groupId} does not exist`, { groupId });
  }

  /**
   * Plans (and with `execute`, commits) new offsets for the given partitions (all partitions of a
   * topic when none are listed). Throws NON_EMPTY_GROUP while the group has live members.
   */
  async resetOffsets(groupId: string, targets: ReadonlyArray<{ topic: string; partitions?: readonly number[] }>, strategy: ResetStrategy, execute: boolean): Promise<ResetPlanRow[]> {
    const live = this.coordinator.listGroups().find((g) => g.groupId === groupId && g.state !== GroupState.Empty && g.state !== GroupState.Dead);
    if (live !== undefined) {
      throw new MiniKafkaError('NON_EMPTY_GROUP', `group ${groupId} is ${live.state}: offsets can only be reset while it has no live members; stop its consumers first`, { groupId, state: live.state });
    }
    const plan: ResetPlanRow[] = [];
    for (const target of targets) {
      const count = this.#topics.partitionCount(target.topic);
      const partitions = target.partitions ?? Array.from({ length: count }, (_, i) => i);
      const current = this.#offsets.fetch(groupId, partitions.map((partition) => ({ topic: target.topic, partition })));
      for (const [i, partition] of partitions.entries()) {
        const { log } = this.#topics.partition(target.topic, partition);
        const currentOffset = current[i].offset >= 0 ? current[i].offset : null;
        plan.push({ topic: target.topic, partition, currentOffset, newOffset: clamp(this.#target(strategy, target.topic, partition, currentOffset ?? log.logStartOffset), log.logStartOffset, log.highWatermark) });
      }
    }
    if (execute) await this.commitOffsets(groupId, -1, '', plan.map((row) => ({ topic: row.topic, partition: row.partition, offset: row.newOffset, metadata: '' })));
    return plan;
  }

  /** offsets.retention.minutes: deletes groups that have been Empty too long, with their offsets. */
  async expireOffsets(): Promise<string[]> {
    const states = new Map(this.coordinator.listGroups().map((g) => [g.groupId, g.state]));
    const expired = this.#offsets.expiredGroups(this.#offsetsRetentionMs, (groupId) => (states.get(groupId) ?? GroupState.Empty) === GroupState.Empty);
    for (const groupId of expired) await this.deleteGroup(groupId);
    return expired;
  }

  /** The coordinator's persistence hook. */
  persistGroup(snapshot: GroupSnapshot): Promise<void> {
    return this.#offsets.persistGroup(snapshot);
  }

  #target(strategy: ResetStrategy, topic: string, partition: number, currentOffset: number): number {
    const { log } = this.#topics.partition(topic, partition);
    switch (strategy.kind) {
      case 'earliest':
        return log.logStartOffset;
      case 'latest':
        return log.highWatermark;
      case 'offset':
        return strategy.offset;
      case 'shift':
        return currentOffset + strategy.by;
      case 'timestamp':
        return log.findOffsetByTimestamp(strategy.timestampMs)?.offset ?? log.highWatermark;
    }
  }
}

function clamp(value: number, low: number, high: number): number {
  return Math.min(Math.max(value, low), high);
}
