/**
 * Committed offsets and group metadata, kept durably in the internal topic `__consumer_offsets`
 * through the same storage engine as every other topic, and in memory for reads.
 *
 * - A commit appends one batch holding one OffsetCommit record per partition to the group's
 *   partition of `__consumer_offsets` (offsetsPartitionFor), and updates the cache once the
 *   append is acknowledged; a fetch reads the cache.
 * - The coordinator's group snapshots go to the same partition as GroupMetadata records; a Dead
 *   group becomes a tombstone, and so do its offsets.
 * - At startup every partition is read from its log start and replayed, last record per key
 *   wins, tombstones delete: that rebuilds the cache and the groups (coordinator.loadGroup).
 *   Because the topic is compacted (cleanup.policy=compact), the replay reads roughly one record
 *   per live key, not the whole history.
 * - Retention (offsets.retention.minutes): the offsets of a group that has been Empty for longer
 *   than that, counted from the later of "became Empty" and its newest commit, are deleted
 *   together with the group, as Kafka does since 2.1.
 */

import { MiniKafkaError } from '../../common/errors.ts';
import { decodeRecordBatch, encodeRecordBatch, iterateRecordBatches } from '../../common/record-batch.ts';
import type { Clock } from '../storage/clock.ts';
import type { TopicManager } from '../core/topic-manager.ts';
import type { GroupSnapshot } from './group-snapshot.ts';
import type { CommittedOffset } from './offsets-topic-records.ts';
import {
  OFFSETS_TOPIC,
  decodeGroupMetadataValue,
  decodeOffsetCommitValue,
  decodeOffsetsTopicKey,
  encodeGroupMetadataKey,
  encodeGroupMetadataValue,
  encodeOffsetCommitKey,
  encodeOffsetCommitValue,
  offsetsPartitionFor,
} from './offsets-topic-records.ts';

export interface TopicPartitionOffset {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly metadata: string;
}

interface StoredOffset extends CommittedOffset {
  readonly topic: string;
  readonly partition: number;
}

const READ_CHUNK_BYTES = 1 << 20;
/** offset.metadata.max.bytes: Kafka's limit on the metadata string a commit may carry. */
export const OFFSET_METADATA_MAX_BYTES = 4096;

export class GroupOffsets {
  readonly #topics: TopicManager;
  readonly #partitions: number;
  readonly #clock: Clock;
  readonly #ensureTopic: () => Promise<void>;
  readonly #offsets = new Map<string, Map<string, StoredOffset>>();
  /** When each Empty group became Empty (from its snapshots); absent for groups with members. */
  readonly #emptySinceMs = new Map<string, number>();

  private constructor(topics: TopicManager, partitions: number, clock: Clock, ensureTopic: () => Promise<void>) {
    this.#topics = topics;
    this.#partitions = partitions;
    this.#clock = clock;
    this.#ensureTopic = ensureTopic;
  }

  /**
   * Replays every partition of `__consumer_offsets` if it exists; returns the store and the
   * groups to load. Like Kafka, the topic is created only when the first group needs it
   * (`ensureTopic`, with `partitions` partitions), so a broker nobody consumes from does not carry it.
   */
  static load(topics: TopicManager, clock: Clock, partitionsIfNew: number, ensureTopic: () => Promise<void>): { offsets: GroupOffsets; groups: GroupSnapshot[] } {
    const exists = topics.has(OFFSETS_TOPIC);
    const partitions = exists ? topics.partitionCount(OFFSETS_TOPIC) : partitionsIfNew;
    const store = new GroupOffsets(topics, partitions, clock, ensureTopic);
    const groups = new Map<string, GroupSnapshot>();
    for (let partition = 0; exists && partition < partitions; partition++) {
      const { log } = topics.partition(OFFSETS_TOPIC, partition);
      for (let offset = log.logStartOffset; offset < log.nextOffset; ) {
        const read = log.read(offset, READ_CHUNK_BYTES);
        if (read === null) break;
        for (const { position } of iterateRecordBatches(read.bytes)) {
          for (const record of decodeRecordBatch(read.bytes, position).records) {
            if (record.key === null || record.offset < offset) continue;
            store.#replay(record.key, record.value, groups);
          }
        }
        offset = read.lastOffset + 1;
      }
    }
    for (const snapshot of groups.values()) store.#noteGroupState(snapshot);
    return { offsets: store, groups: [...groups.values()] };
  }

  /** The committed offsets of a group: all of them, or those asked for (offset -1 where none). */
  fetch(groupId: string, partitions?: ReadonlyArray<{ topic: string; partition: number }>): TopicPartitionOffset[] {
    const group = this.#offsets.get(groupId);
    if (partitions === undefined) {
      return [...(group?.values() ?? [])].map(({ topic, partition, offset, metadata }) => ({ topic, partition, offset, metadata })).sort(byTopicPartition);
    }
    return partitions.map(({ topic, partition }) => {
      const stored = group?.get(keyOf(topic, partition));
      return { topic, partition, offset: stored?.offset ?? -1, metadata: stored?.metadata ?? '' };
    });
  }

  /** Groups that have committed offsets (whether or not the coordinator knows them). */
  groupIds(): string[] {
    return [...this.#offsets.keys()];
  }

  /**
   * Writes the commits durably, then makes them visible. The caller has checked fencing
   * (coordinator.validateCommit) and that the partitions exist.
   */
  async commit(groupId: string, offsets: readonly TopicPartitionOffset[]): Promise<void> {
    if (offsets.length === 0) return;
    const nowMs = this.#clock.nowMs();
    const stored = offsets.map((o): StoredOffset => {
      if (!Number.isSafeInteger(o.offset) || o.offset < 0) {
        throw new MiniKafkaError('INVALID_REQUEST', `group ${groupId}: offset ${o.offset} for ${o.topic}-${o.partition} is not a non-negative integer`, { groupId, topic: o.topic, partition: o.partition });
      }
      if (Buffer.byteLength(o.metadata) > OFFSET_METADATA_MAX_BYTES) {
        throw new MiniKafkaError('OFFSET_METADATA_TOO_LARGE', `group ${groupId}: commit metadata for ${o.topic}-${o.partition} is over offset.metadata.max.bytes (${OFFSET_METADATA_MAX_BYTES})`, { groupId, topic: o.topic, partition: o.partition });
      }
      return { topic: o.topic, partition: o.partition, offset: o.offset, leaderEpoch: -1, metadata: o.metadata, commitTimestampMs: nowMs };
    });
    await this.#append(groupId, stored.map((s) => ({ key: encodeOffsetCommitKey(groupId, s.topic, s.partition), value: encodeOffsetCommitValue(s) })));
    const group = this.#offsets.get(groupId) ?? new Map<string, StoredOffset>();
    for (const s of stored) group.set(keyOf(s.topic, s.partition), s);
    this.#offsets.set(groupId, group);
  }

  /** The coordinator's persistence hook: a group snapshot, or for a Dead group, tombstones. */
  async persistGroup(snapshot: GroupSnapshot): Promise<void> {
    if (snapshot.state === 'Dead') {
      await this.deleteGroup(snapshot.groupId);
      return;
    }
    await this.#append(snapshot.groupId, [{ key: encodeGroupMetadataKey(snapshot.groupId), value: encodeGroupMetadataValue(snapshot) }]);
    this.#noteGroupState(snapshot);
  }

  /** Tombstones for the group's metadata and every offset it committed. */
  async deleteGroup(groupId: string): Promise<void> {
    const group = this.#offsets.get(groupId);
    const records = [{ key: encodeGroupMetadataKey(groupId), value: null }];
    for (const s of group?.values() ?? []) records.push({ key: encodeOffsetCommitKey(groupId, s.topic, s.partition), value: null });
    await this.#append(groupId, records);
    this.#offsets.delete(groupId);
    this.#emptySinceMs.delete(groupId);
  }

  /** Empty groups whose offsets are past offsets.retention.minutes at `nowMs`. */
  expiredGroups(retentionMs: number, isEmpty: (groupId: string) => boolean): string[] {
    const nowMs = this.#clock.nowMs();
    return [...this.#offsets.keys()].filter((groupId) => {
      if (!isEmpty(groupId)) return false;
      let newestMs = this.#emptySinceMs.get(groupId) ?? 0;
      for (const s of this.#offsets.get(groupId)!.values()) newestMs = Math.max(newestMs, s.commitTimestampMs);
      return nowMs - newestMs > retentionMs;
    });
  }

  async #append(groupId: string, records: Array<{ key: Buffer; value: Buffer | null }>): Promise<void> {
    if (!this.#topics.has(OFFSETS_TOPIC)) await this.#ensureTopic();
    const partition = this.#topics.partition(OFFSETS_TOPIC, offsetsPartitionFor(groupId, this.#partitions));
    const timestamp = this.#clock.nowMs();
    await partition.produce(encodeRecordBatch({ records: records.map((r) => ({ ...r, timestamp })) }), -1);
  }

  #replay(key: Buffer, value: Buffer | null, groups: Map<string, GroupSnapshot>): void {
    const decoded = decodeOffsetsTopicKey(key);
    if (decoded.kind === 'group') {
      if (value === null) {
        groups.delete(decoded.groupId);
        this.#offsets.delete(decoded.groupId);
      } else groups.set(decoded.groupId, decodeGroupMetadataValue(decoded.groupId, value));
      return;
    }
    const group = this.#offsets.get(decoded.groupId) ?? new Map<string, StoredOffset>();
    if (value === null) group.delete(keyOf(decoded.topic, decoded.partition));
    else group.set(keyOf(decoded.topic, decoded.partition), { topic: decoded.topic, partition: decoded.partition, ...decodeOffsetCommitValue(value) });
    if (group.size > 0) this.#offsets.set(decoded.groupId, group);
    else this.#offsets.delete(decoded.groupId);
  }

  #noteGroupState(snapshot: GroupSnapshot): void {
    if (snapshot.state === 'Empty') this.#emptySinceMs.set(snapshot.groupId, snapshot.stateTimestampMs);
    else this.#emptySinceMs.delete(snapshot.groupId);
  }
}

function keyOf(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}

function byTopicPartition(a: { topic: string; partition: number }, b: { topic: string; partition: number }): number {
  return a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition;
}
