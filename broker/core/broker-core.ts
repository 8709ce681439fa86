/**
 * The broker's core: everything the front doors (the HTTP API today, the Kafka protocol later)
 * need, with no knowledge of either. Adapters translate a request into one of these calls and the
 * result (or a MiniKafkaError from common/errors.ts) back into their wire format.
 *
 *   topics    create · delete · list · describe · alterConfigs · addPartitions (TopicManager)
 *   produce   produceBatch: one ready-made RecordBatch v2 (the SDK's path)
 *             produceRecords: records to be partitioned and batched here (the JSON path)
 *   fetch     long-polling read of whole batches from one partition
 *   offsets   earliest / latest / by timestamp
 *   producers initProducerId for idempotent producers
 */

import { MiniKafkaError, isMiniKafkaError } from '../../common/errors.ts';
import { partitionForKey } from '../../common/murmur2.ts';
import type { RecordInput } from '../../common/record-batch.ts';
import { encodeRecordBatch } from '../../common/record-batch.ts';
import type { Clock } from '../storage/clock.ts';
import { systemClock } from '../storage/clock.ts';
import type { FileIo } from '../storage/file-io.ts';
import { nodeFileIo } from '../storage/file-io.ts';
import { LogManager } from '../storage/log-manager.ts';
import { ReadBuffers } from '../storage/read-buffers.ts';
import type { StorageLogger, StorageMetrics } from '../storage/storage-observer.ts';
import { silentLogger } from '../storage/storage-observer.ts';
import type { Acks, FetchResult, ProduceResult } from './partition.ts';
import type { ProducerIdAndEpoch } from './producer-ids.ts';
import { ProducerIds } from './producer-ids.ts';
import type { TopicConfigResolver, TopicDescription } from './topic-manager.ts';
import { TopicManager, isInternalTopic } from './topic-manager.ts';
import { GroupCoordinator } from '../groups/group-coordinator.ts';
import type { GroupCoordinatorConfig } from '../groups/group-coordinator-config.ts';
import { GroupOffsets } from '../groups/group-offsets.ts';
import { GroupService } from '../groups/group-service.ts';
import { OFFSETS_TOPIC } from '../groups/offsets-topic-records.ts';
import type { ScheduledTimer, Scheduler } from '../groups/scheduler.ts';
import { systemScheduler } from '../groups/scheduler.ts';

export type { Acks, FetchResult, ProduceResult } from './partition.ts';
export type { TopicDescription } from './topic-manager.ts';

/** Per-topic traffic, for the metrics endpoint; nothing is counted per record. */
export interface TrafficMetrics {
  produced(topic: string, records: number, bytes: number): void;
  fetched(topic: string, records: number, bytes: number): void;
}

/** Consumer-group settings, under Kafka's broker config names in the comments. */
export interface GroupSettings {
  /** offsets.topic.num.partitions */
  readonly offsetsTopicPartitions: number;
  /** offsets.topic.segment.bytes */
  readonly offsetsTopicSegmentBytes: number;
  /** offsets.retention.minutes, in ms */
  readonly offsetsRetentionMs: number;
  /** offsets.retention.check.interval.ms */
  readonly offsetsRetentionCheckIntervalMs: number;
  /** group.initial.rebalance.delay.ms, group.min.session.timeout.ms, group.max.session.timeout.ms */
  readonly coordinator: Partial<GroupCoordinatorConfig>;
}

export const defaultGroupSettings: GroupSettings = {
  offsetsTopicPartitions: 50,
  offsetsTopicSegmentBytes: 104_857_600,
  offsetsRetentionMs: 10_080 * 60_000,
  offsetsRetentionCheckIntervalMs: 600_000,
  coordinator: {},
};

export interface BrokerCoreOptions {
  readonly dataDir: string;
  readonly topicConfigs: TopicConfigResolver;
  /** auto.create.topics.enable: produce to an unknown topic creates it with num.partitions. */
  readonly autoCreateTopics: boolean;
  readonly io?: FileIo;
  readonly clock?: Clock;
  readonly logger?: StorageLogger;
  readonly storageMetrics?: StorageMetrics;
  readonly trafficMetrics?: TrafficMetrics;
  readonly checkpointIntervalMs?: number;
  readonly retentionCheckIntervalMs?: number;
  readonly cleanerBackoffMs?: number;
  readonly cleanerDedupeBufferBytes?: number;
  readonly groups?: Partial<GroupSettings>;
  /** Timers of the group coordinator; tests pass a ManualScheduler. */
  readonly scheduler?: Scheduler;
}

/** One record on the JSON produce path, before partitioning. */
export interface ProduceRecord {
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers: ReadonlyArray<{ key: string; value: Buffer | null }>;
  readonly partition?: number;
  readonly timestamp?: number;
}

export interface RecordOffset {
  readonly partition: number;
  /** -1 when the record was not written (see error) or acks=0 hid the outcome. */
  readonly offset: number;
  readonly error: MiniKafkaError | null;
}

const noTraffic: TrafficMetrics = { produced() {}, fetched() {} };

/** Room left in a batch for its header and per-record framing when records are grouped by size. */
const RECORD_OVERHEAD_BYTES = 24;

export class BrokerCore {
  readonly logs: LogManager;
  readonly topics: TopicManager;
  readonly groups: GroupService;
  readonly #producerIds: ProducerIds;
  readonly #options: BrokerCoreOptions;
  readonly #clock: Clock;
  readonly #traffic: TrafficMetrics;
  /** Fetches read into these and give them back when their answer has left (read-buffers.ts). */
  readonly #readBuffers = new ReadBuffers();
  #isClosing = false;
  #isClosed = false;

  readonly #expiryTimer: ScheduledTimer | null;

  private constructor(options: BrokerCoreOptions, logs: LogManager, topics: TopicManager, groups: GroupService, producerIds: ProducerIds, expiryTimer: ScheduledTimer | null) {
    this.#options = options;
    this.logs = logs;
    this.topics = topics;
    this.groups = groups;
    this.#expiryTimer = expiryTimer;
    this.#producerIds = producerIds;
    this.#clock = options.clock ?? systemClock;
    this.#traffic = options.trafficMetrics ?? noTraffic;
  }

  /** Locks the data directory, recovers every partition, and starts retention and checkpoints. */
  static async open(options: BrokerCoreOptions): Promise<BrokerCore> {
    const io = options.io ?? nodeFileIo;
    const clock = options.clock ?? systemClock;
    const logs = await LogManager.open({
      dataDir: options.dataDir,
      io,
      clock,
      logger: options.logger ?? silentLogger,
      metrics: options.storageMetrics,
      checkpointIntervalMs: options.checkpointIntervalMs,
      retentionCheckIntervalMs: options.retentionCheckIntervalMs,
      cleanerBackoffMs: options.cleanerBackoffMs,
      cleanerDedupeBufferBytes: options.cleanerDedupeBufferBytes,
    });
    try {
      const topics = await TopicManager.open(logs, options.topicConfigs, io, clock);
      const settings = { ...defaultGroupSettings, ...options.groups };
      const groups = await openGroups(topics, settings, clock, options.scheduler ?? systemScheduler, options.logger ?? silentLogger);
      const producerIds = ProducerIds.open(options.dataDir, io);
      logs.start();
      const expiry = scheduleEvery(options.scheduler ?? systemScheduler, settings.offsetsRetentionCheckIntervalMs, async () => {
        const expired = await groups.expireOffsets();
        if (expired.length > 0) (options.logger ?? silentLogger).info({ groups: expired }, 'offsets.retention.minutes: deleted the offsets of groups empty for too long');
      });
      return new BrokerCore(options, logs, topics, groups, producerIds, expiry);
    } catch (error) {
      await logs.close().catch(() => undefined);
      throw error;
    }
  }

  get isClosing(): boolean {
    return this.#isClosing;
  }

  initProducerId(current?: ProducerIdAndEpoch): Promise<ProducerIdAndEpoch> {
    this.#assertRunning();
    return this.#producerIds.init(current);
  }

  /** Appends one ready-made batch to one partition. The buffer is taken over (offsets are written into it). */
  async produceBatch(topic: string, partition: number, batch: Buffer, acks: Acks): Promise<ProduceResult> {
    this.#assertRunning();
    assertWritable(topic);
    await this.#ensureTopic(topic);
    const result = await this.topics.partition(topic, partition).produce(batch, acks);
    if (!result.isDuplicate) this.#traffic.produced(topic, result.recordCount, result.sizeBytes);
    return result;
  }

  /**
   * Partitions records (an explicit partition wins; a key goes where Kafka's murmur2 puts it; keyless
   * records of one request stick to one random partition, like Kafka's sticky partitioner), batches
   * them per partition within max.message.bytes, and appends. Returns one result per record, in
   * request order; a failure on one partition does not fail the others.
   */
  async produceRecords(topic: string, records: ReadonlyArray<ProduceRecord>, options: { acks: Acks; partition?: number }): Promise<RecordOffset[]> {
    this.#assertRunning();
    assertWritable(topic);
    await this.#ensureTopic(topic);
    const partitionCount = this.topics.partitionCount(topic);
    const stickyPartition = Math.floor(Math.random() * partitionCount);
    const byPartition = new Map<number, number[]>();
    records.forEach((record, i) => {
      const partition = options.partition ?? record.partition ?? (record.key === null ? stickyPartition : partitionForKey(record.key, partitionCount));
      const list = byPartition.get(partition) ?? [];
      list.push(i);
      byPartition.set(partition, list);
    });
    const results: RecordOffset[] = new Array(records.length);
    const nowMs = this.#clock.nowMs();
    await Promise.all(
      [...byPartition].map(async ([partition, indexes]) => {
        try {
          for (const chunk of this.#chunkBySize(topic, partition, records, indexes)) {
            const batch = encodeRecordBatch({ records: chunk.map((i) => toRecordInput(records[i], nowMs)) });
            const result = await this.produceBatch(topic, partition, batch, options.acks);
            chunk.forEach((recordIndex, j) => (results[recordIndex] = { partition, offset: options.acks === 0 ? -1 : result.baseOffset + j, error: null }));
          }
        } catch (error) {
          if (!isMiniKafkaError(error)) throw error;
          // The failed chunk and every later one of this partition: order within a partition holds.
          for (const recordIndex of indexes) results[recordIndex] ??= { partition, offset: -1, error };
        }
      }),
    );
    return results;
  }

  /**
   * Long-polling fetch of whole batches; see Partition.fetch. The bytes sit in a pooled read
   * buffer: call `result.release()` once nothing reads them any more (or never; see read-buffers.ts).
   */
  async fetch(topic: string, partition: number, request: { offset: number; maxBytes: number; maxWaitMs: number; signal?: AbortSignal }): Promise<FetchResult> {
    this.#assertRunning();
    const maxWaitMs = this.#isClosing ? 0 : request.maxWaitMs;
    const result = await this.topics.partition(topic, partition).fetch(request.offset, request.maxBytes, maxWaitMs, request.signal, this.#readBuffers);
    if (result.bytes.length > 0) this.#traffic.fetched(topic, result.recordCount, result.bytes.length);
    return result;
  }

  /** Kafka's ListOffsets for one partition: earliest (log start) and latest (high watermark). */
  offsets(topic: string, partition: number): { logStartOffset: number; highWatermark: number } {
    const { log } = this.topics.partition(topic, partition);
    return { logStartOffset: log.logStartOffset, highWatermark: log.highWatermark };
  }

  /** The first offset whose record timestamp is ≥ `timestampMs`, or null when there is none. */
  offsetForTimestamp(topic: string, partition: number, timestampMs: number): { offset: number; timestamp: number } | null {
    if (!Number.isSafeInteger(timestampMs)) throw new MiniKafkaError('INVALID_REQUEST', `timestamp ${timestampMs} is not an integer of milliseconds`, { topic, partition });
    return this.topics.partition(topic, partition).log.findOffsetByTimestamp(timestampMs);
  }

  /**
   * The first half of a clean stop: new calls get BROKER_SHUTTING_DOWN (retriable) and long polls
   * return at once, while calls already under way finish. The front doors then close their
   * connections, and close() makes everything durable.
   */
  beginShutdown(): void {
    this.#isClosing = true;
    this.topics.wakeAll();
  }

  /** Stops new work, ends long polls, then closes topics (producer snapshots, flush) and the data directory. */
  async close(): Promise<void> {
    if (this.#isClosed) return;
    this.#isClosed = true;
    this.beginShutdown();
    this.#expiryTimer?.cancel();
    this.groups.coordinator.close();
    await this.topics.close();
    await this.logs.close();
  }

  async #ensureTopic(topic: string): Promise<void> {
    if (this.topics.has(topic) || !this.#options.autoCreateTopics) return;
    try {
      await this.topics.create({ name: topic });
    } catch (error) {
      if (!isMiniKafkaError(error, 'TOPIC_ALREADY_EXISTS')) throw error;
    }
  }

  /** Groups a partition's records into batches that stay under max.message.bytes. */
  #chunkBySize(topic: string, partition: number, records: ReadonlyArray<ProduceRecord>, indexes: number[]): number[][] {
    const limit = this.topics.partition(topic, partition).log.config.maxMessageBytes - 61;
    const chunks: number[][] = [];
    let current: number[] = [];
    let currentBytes = 0;
    for (const i of indexes) {
      const record = records[i];
      let bytes = RECORD_OVERHEAD_BYTES + (record.key?.length ?? 0) + (record.value?.length ?? 0);
      for (const header of record.headers) bytes += Buffer.byteLength(header.key) + (header.value?.length ?? 0) + 10;
      if (current.length > 0 && currentBytes + bytes > limit) {
        chunks.push(current);
        current = [];
        currentBytes = 0;
      }
      current.push(i);
      currentBytes += bytes;
    }
    if (current.length > 0) chunks.push(current);
    return chunks;
  }

  #assertRunning(): void {
    if (this.#isClosing) throw new MiniKafkaError('BROKER_SHUTTING_DOWN', 'the broker is shutting down and takes no new requests', {});
  }
}

/**
 * Replays `__consumer_offsets` (if it exists yet) into the offsets store and loads the groups it
 * holds into a new coordinator. The topic (compacted, offsets.topic.num.partitions partitions) is
 * created when the first group writes to it.
 */
async function openGroups(topics: TopicManager, settings: GroupSettings, clock: Clock, scheduler: Scheduler, logger: StorageLogger): Promise<GroupService> {
  const createOffsetsTopic = async (): Promise<void> => {
    try {
      await topics.create({
        name: OFFSETS_TOPIC,
        partitions: settings.offsetsTopicPartitions,
        configs: { 'cleanup.policy': 'compact', 'segment.bytes': settings.offsetsTopicSegmentBytes },
      });
    } catch (error) {
      if (!isMiniKafkaError(error, 'TOPIC_ALREADY_EXISTS')) throw error;
    }
  };
  const { offsets, groups } = GroupOffsets.load(topics, clock, settings.offsetsTopicPartitions, createOffsetsTopic);
  let service: GroupService | null = null;
  const coordinator = new GroupCoordinator({
    scheduler,
    config: settings.coordinator,
    onGroupMetadataChanged: (snapshot) => service!.persistGroup(snapshot),
    onPersistenceError: (error, snapshot) => logger.error({ error, groupId: snapshot.groupId }, 'writing group metadata to __consumer_offsets failed'),
  });
  for (const snapshot of groups) coordinator.loadGroup(snapshot);
  service = new GroupService({ coordinator, offsets, topics, clock, offsetsRetentionMs: settings.offsetsRetentionMs });
  topics.onPartitionsAdded((topic) => coordinator.onTopicPartitionsChanged(topic));
  return service;
}

/**
 * Runs `task` every `intervalMs` on the scheduler (a ManualScheduler in tests). The next run is
 * armed before the task starts, so the rhythm does not drift; a run still going when the next is
 * due makes that one skip.
 */
function scheduleEvery(scheduler: Scheduler, intervalMs: number, task: () => Promise<void>): ScheduledTimer {
  let current: ScheduledTimer;
  let isRunning = false;
  const arm = (): void => {
    current = scheduler.schedule(intervalMs, () => {
      arm();
      if (isRunning) return;
      isRunning = true;
      task()
        .catch(() => undefined)
        .finally(() => (isRunning = false));
    });
  };
  arm();
  return { cancel: () => current.cancel() };
}

function assertWritable(topic: string): void {
  if (isInternalTopic(topic)) throw new MiniKafkaError('INVALID_TOPIC_EXCEPTION', `${topic} is an internal topic: only the broker writes to it`, { topic });
}

function toRecordInput(record: ProduceRecord, nowMs: number): RecordInput {
  return { key: record.key, value: record.value, headers: record.headers, timestamp: record.timestamp ?? nowMs };
}
