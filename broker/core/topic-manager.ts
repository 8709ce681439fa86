/**
 * Topics and their partitions: create, delete, list, describe, alter configs, add partitions,
 * and the lookup every produce and fetch starts with.
 *
 * Invariants: a topic in the store has exactly `partitions` open Partition objects, numbered
 * 0..n-1; names pass Kafka's rules (common/topic-name.ts) before anything touches the disk, so no
 * name reaches outside the data directory. Changes are made durable in the store before they are
 * acted on for creation (so a crash leaves a topic whose missing directories are created on the
 * next start) and after for deletion (metadata first, then files; leftovers are swept at start).
 *
 * Concurrent admin calls on the same topic are serialized by a per-broker queue: they are rare,
 * and each awaits file I/O between its check and its change.
 */

import { MiniKafkaError } from '../../common/errors.ts';
import { validateTopicName } from '../../common/topic-name.ts';
import type { Clock } from '../storage/clock.ts';
import type { FileIo } from '../storage/file-io.ts';
import type { LogManager } from '../storage/log-manager.ts';
import type { LogConfig } from '../storage/log-config.ts';
import type { PartitionRules } from './partition.ts';
import { Partition } from './partition.ts';
import type { StoredTopic } from './topic-store.ts';
import { TopicStore } from './topic-store.ts';

/** What the broker's config layer provides: a topic's effective settings from its overrides. */
export interface TopicConfigResolver {
  /** Checks overrides as a request gives them and returns them in canonical form, to be stored.
   * Throws one INVALID_CONFIG naming every unknown name and bad value. */
  validate(raw: Readonly<Record<string, string | number | boolean | null>>, topic: string): Record<string, string>;
  /** The effective settings of stored (canonical) overrides. */
  resolve(overrides: Readonly<Record<string, string>>): { readonly log: LogConfig; readonly rules: PartitionRules };
  /** Every topic config with its effective value and where it comes from, for describe. */
  describe(overrides: Readonly<Record<string, string>>): ReadonlyArray<{ readonly name: string; readonly value: string | null; readonly source: string }>;
  /** num.partitions: the count for topics created without one, and for auto-created topics. */
  readonly defaultPartitions: number;
  /** A named limit on partitions per topic, so a typo cannot open a million files. */
  readonly maxPartitions: number;
}

export interface TopicDescription {
  readonly name: string;
  readonly topicId: string;
  readonly isInternal: boolean;
  readonly partitions: ReadonlyArray<PartitionDescription>;
  readonly configs: ReturnType<TopicConfigResolver['describe']>;
}

export interface PartitionDescription {
  readonly partition: number;
  readonly leader: number;
  readonly logStartOffset: number;
  readonly highWatermark: number;
  readonly recoveryPoint: number;
  readonly sizeBytes: number;
  readonly segments: ReadonlyArray<{ readonly baseOffset: number; readonly nextOffset: number; readonly sizeBytes: number; readonly maxTimestamp: number }>;
}

export const BROKER_ID = 0;

/** Topics the broker itself writes (`__consumer_offsets`): clients may read them, not write or delete them. */
export function isInternalTopic(name: string): boolean {
  return name === '__consumer_offsets';
}

export class TopicManager {
  readonly #store: TopicStore;
  readonly #logs: LogManager;
  readonly #configs: TopicConfigResolver;
  readonly #io: FileIo;
  readonly #clock: Clock;
  readonly #partitions = new Map<string, Partition[]>();
  readonly #partitionsAddedListeners: Array<(topic: string) => void> = [];
  #queue: Promise<unknown> = Promise.resolve();

  private constructor(store: TopicStore, logs: LogManager, configs: TopicConfigResolver, io: FileIo, clock: Clock) {
    this.#store = store;
    this.#logs = logs;
    this.#configs = configs;
    this.#io = io;
    this.#clock = clock;
  }

  /** Loads the topic list, opens (and if needed recovers) every partition, sweeps leftovers. */
  static async open(logs: LogManager, configs: TopicConfigResolver, io: FileIo, clock: Clock): Promise<TopicManager> {
    const manager = new TopicManager(TopicStore.load(io, logs.dataDir), logs, configs, io, clock);
    for (const topic of manager.#store.list()) manager.#openPartitions(topic, 0);
    for (const { topic, partition } of logs.listPartitionsOnDisk()) {
      const stored = manager.#store.get(topic);
      if (stored === undefined || partition >= stored.partitions) await logs.deleteLog(topic, partition);
    }
    return manager;
  }

  has(name: string): boolean {
    return this.#partitions.has(name);
  }

  /** Topics that are open for use (a topic being created appears once its partitions are open). */
  list(): string[] {
    return [...this.#partitions.keys()].sort();
  }

  /** The partition, or UNKNOWN_TOPIC_OR_PARTITION naming what exists. */
  partition(topic: string, index: number): Partition {
    const partitions = this.#partitions.get(topic);
    if (partitions === undefined) throw new MiniKafkaError('UNKNOWN_TOPIC_OR_PARTITION', `topic ${topic} does not exist`, { topic });
    const partition = Number.isSafeInteger(index) ? partitions[index] : undefined;
    if (partition === undefined) {
      throw new MiniKafkaError('UNKNOWN_TOPIC_OR_PARTITION', `topic ${topic} has no partition ${index}: it has partitions 0 to ${partitions.length - 1}`, { topic, partition: index, partitions: partitions.length });
    }
    return partition;
  }

  partitionCount(topic: string): number {
    const partitions = this.#partitions.get(topic);
    if (partitions === undefined) throw new MiniKafkaError('UNKNOWN_TOPIC_OR_PARTITION', `topic ${topic} does not exist`, { topic });
    return partitions.length;
  }

  describe(name: string): TopicDescription {
    const stored = this.#require(name);
    return {
      name,
      topicId: stored.topicId,
      isInternal: isInternalTopic(name),
      partitions: this.#partitions.get(name)!.map((p) => ({
        partition: p.index,
        leader: BROKER_ID,
        logStartOffset: p.log.logStartOffset,
        highWatermark: p.log.highWatermark,
        recoveryPoint: p.log.recoveryPoint,
        sizeBytes: p.log.sizeBytes,
        segments: p.log.segments,
      })),
      configs: this.#configs.describe(stored.configs),
    };
  }

  create(request: { name: string; partitions?: number; replicationFactor?: number; configs?: Record<string, string | number | boolean | null>; validateOnly?: boolean }): Promise<TopicDescription | null> {
    return this.#serialized(async () => {
      const { name } = request;
      validateTopicName(name);
      if (this.#store.get(name) !== undefined) throw new MiniKafkaError('TOPIC_ALREADY_EXISTS', `topic ${name} already exists`, { topic: name });
      const partitions = request.partitions ?? this.#configs.defaultPartitions;
      this.#checkPartitionCount(name, partitions);
      if (request.replicationFactor !== undefined && request.replicationFactor !== 1 && request.replicationFactor !== -1) {
        throw new MiniKafkaError('INVALID_REPLICATION_FACTOR', `replication factor ${request.replicationFactor} is not possible on a single broker; use 1 (or Apache Kafka / Redpanda to replicate)`, { topic: name, replicationFactor: request.replicationFactor });
      }
      const configs = this.#configs.validate(request.configs ?? {}, name);
      this.#configs.resolve(configs);
      if (request.validateOnly === true) return null;
      const stored: StoredTopic = { name, topicId: TopicStore.newTopicId(), partitions, configs, createdMs: this.#clock.nowMs() };
      await this.#store.put(stored);
      this.#openPartitions(stored, 0);
      return this.describe(name);
    });
  }

  delete(name: string): Promise<void> {
    return this.#serialized(async () => {
      this.#require(name);
      if (isInternalTopic(name)) throw new MiniKafkaError('INVALID_REQUEST', `${name} is an internal topic: the broker keeps consumer group state in it`, { topic: name });
      const partitions = this.#partitions.get(name)!;
      this.#partitions.delete(name);
      await this.#store.remove(name);
      for (const partition of partitions) {
        partition.wakeAll();
        await this.#logs.deleteLog(name, partition.index);
      }
    });
  }

  /** Sets (string) or removes (null) topic-level overrides; the new values apply to later appends. */
  alterConfigs(name: string, changes: Record<string, string | number | boolean | null>): Promise<TopicDescription> {
    return this.#serialized(async () => {
      const stored = this.#require(name);
      const configs: Record<string, string> = { ...stored.configs };
      const sets: Record<string, string | number | boolean> = {};
      for (const [key, value] of Object.entries(changes)) {
        if (value === null) delete configs[key];
        else sets[key] = value;
      }
      Object.assign(configs, this.#configs.validate(sets, name));
      const resolved = this.#configs.resolve(configs);
      await this.#store.put({ ...stored, configs });
      for (const partition of this.#partitions.get(name)!) {
        partition.log.updateConfig(resolved.log);
        partition.updateRules(resolved.rules);
      }
      return this.describe(name);
    });
  }

  /** Grows the topic to `totalCount` partitions (Kafka's CreatePartitions: it can only grow). */
  addPartitions(name: string, totalCount: number): Promise<TopicDescription> {
    return this.#serialized(async () => {
      const stored = this.#require(name);
      if (!Number.isSafeInteger(totalCount) || totalCount <= stored.partitions) {
        throw new MiniKafkaError('INVALID_PARTITIONS', `topic ${name} has ${stored.partitions} partitions; the new count must be larger, got ${totalCount}`, { topic: name, partitions: stored.partitions, requested: totalCount });
      }
      this.#checkPartitionCount(name, totalCount);
      const grown = { ...stored, partitions: totalCount };
      await this.#store.put(grown);
      this.#openPartitions(grown, stored.partitions);
      for (const listener of this.#partitionsAddedListeners) listener(name);
      return this.describe(name);
    });
  }

  /** Calls `listener` after a topic gained partitions (groups subscribed to it rebalance). */
  onPartitionsAdded(listener: (topic: string) => void): void {
    this.#partitionsAddedListeners.push(listener);
  }

  /** Closes every partition cleanly (producer snapshots, then logs). */
  async close(): Promise<void> {
    await this.#queue.catch(() => undefined);
    for (const partitions of this.#partitions.values()) for (const partition of partitions) await partition.close();
    this.#partitions.clear();
  }

  wakeAll(): void {
    for (const partitions of this.#partitions.values()) for (const partition of partitions) partition.wakeAll();
  }

  #openPartitions(topic: StoredTopic, from: number): void {
    const resolved = this.#configs.resolve(topic.configs);
    const partitions = this.#partitions.get(topic.name) ?? [];
    for (let index = from; index < topic.partitions; index++) {
      const log = this.#logs.openLog(topic.name, index, resolved.log);
      partitions.push(Partition.open(topic.name, index, log, resolved.rules, this.#io, this.#clock));
    }
    this.#partitions.set(topic.name, partitions);
  }

  #checkPartitionCount(name: string, partitions: number): void {
    if (!Number.isSafeInteger(partitions) || partitions < 1 || partitions > this.#configs.maxPartitions) {
      throw new MiniKafkaError('INVALID_PARTITIONS', `topic ${name}: partitions must be an integer from 1 to ${this.#configs.maxPartitions}, got ${partitions}`, { topic: name, partitions, limit: this.#configs.maxPartitions });
    }
  }

  #require(name: string): StoredTopic {
    const stored = this.#store.get(name);
    if (stored === undefined) throw new MiniKafkaError('UNKNOWN_TOPIC_OR_PARTITION', `topic ${name} does not exist`, { topic: name });
    return stored;
  }

  #serialized<T>(work: () => Promise<T>): Promise<T> {
    const next = this.#queue.then(work, work);
    this.#queue = next.catch(() => undefined);
    return next;
  }
}
