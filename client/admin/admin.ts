/**
 * The admin client: topics (create, delete, list, describe, alter configs, add partitions),
 * partition offsets (earliest, latest, by time) and consumer groups (list, describe with lag,
 * delete, committed offsets, reset offsets), over the broker's HTTP admin routes
 * (docs/http-api.md). Method names and result shapes are KafkaJS's where KafkaJS has the call
 * (`createTopics`, `fetchTopicOffsets`, `listGroups`, `fetchOffsets`, … with offsets as strings);
 * `describeTopic`, `alterTopicConfigs`, `describeGroup` and `resetOffsets` are minikafka's own
 * and give numbers.
 *
 * Every call takes an optional `{ timeoutMs }` (default the client's requestTimeoutMs) for each
 * request it makes, and is retried on retriable errors (the client's retry options). Retrying a
 * create or delete whose first answer was lost is safe: the retry's TOPIC_ALREADY_EXISTS (create)
 * or UNKNOWN_TOPIC_OR_PARTITION (delete) is read as the first attempt's success.
 *
 * An offset reset is a dry run unless `dryRun: false`, as `kafka-consumer-groups --reset-offsets`
 * is without `--execute`; only a reset that shifts by N is not retried (a retry after a lost
 * answer would shift twice).
 */

import { BrokerError, ClientClosedError, InvalidArgumentError } from '../errors.ts';
import type { MiniKafkaClientError } from '../errors.ts';
import { topicPath } from '../metadata.ts';
import type { ResolvedRetryOptions } from '../retry.ts';
import { withRetries } from '../retry.ts';
import type { Transport, TransportRequest } from '../transport.ts';
import type { GroupDescription, GroupDescriptionBody, GroupState, ListedGroup, ResetOffsetsBody, ResetOffsetsResult } from './group-description.ts';
import { toGroupDescription, toResetOffsetsResult } from './group-description.ts';
import type { ConfigValue, TopicDescription, TopicDescriptionBody } from './topic-description.ts';
import { toTopicDescription } from './topic-description.ts';

export type { TopicDescription, PartitionDescription, ConfigEntry } from './topic-description.ts';
export type { GroupDescription, GroupMemberDescription, GroupPartitionDescription, GroupState, ListedGroup, ResetOffsetsResult, ResetPlanRow } from './group-description.ts';

/**
 * Where resetOffsets() moves each partition, as `kafka-consumer-groups --reset-offsets`:
 * `--to-earliest`, `--to-latest`, `--to-offset`, `--to-datetime` (a timestamp in ms, or an
 * ISO-8601 `datetime`), `--shift-by` (negative moves back). Every target is clamped into
 * [log start offset, log end offset].
 */
export type ResetTarget =
  | 'earliest'
  | 'latest'
  | { readonly offset: number }
  | { readonly timestamp: number }
  | { readonly datetime: string }
  | { readonly shiftBy: number };

export interface ResetOffsetsRequest {
  readonly groupId: string;
  /** Topic names (all their partitions) or `{ topic, partitions }`; or `topic` for one; or `allTopics`. */
  readonly topics?: ReadonlyArray<string | { readonly topic: string; readonly partitions?: ReadonlyArray<number> }>;
  readonly topic?: string;
  /** Every topic the group has committed offsets for. */
  readonly allTopics?: boolean;
  readonly to: ResetTarget;
  /** Default true: compute and return the plan, commit nothing. */
  readonly dryRun?: boolean;
}

export interface CallOptions {
  /** Per request of this call; default the client's requestTimeoutMs. */
  readonly timeoutMs?: number;
}

export interface TopicConfig {
  readonly topic: string;
  /** Default: the broker's num.partitions (-1 says the same). */
  readonly numPartitions?: number;
  /** 1 or -1: this is one broker. */
  readonly replicationFactor?: number;
  readonly configEntries?: ReadonlyArray<{ readonly name: string; readonly value: ConfigValue }>;
}

/** KafkaJS's fetchTopicMetadata shape. */
export interface TopicMetadataDescription {
  readonly name: string;
  readonly partitions: ReadonlyArray<{
    readonly partitionErrorCode: number;
    readonly partitionId: number;
    readonly leader: number;
    readonly replicas: number[];
    readonly isr: number[];
    readonly offlineReplicas: number[];
  }>;
}

interface PartitionBody {
  partition: number;
  leader: number;
  log_start_offset: number;
  high_watermark: number;
  replicas: Array<{ broker: number; leader: boolean; in_sync: boolean }>;
}

export class Admin {
  readonly #transport: Transport;
  readonly #retry: ResolvedRetryOptions;
  #isClosed = false;

  /** Use `client.admin()`; the admin owns `transport` and closes it. */
  constructor(transport: Transport, retry: ResolvedRetryOptions) {
    this.#transport = transport;
    this.#retry = retry;
  }

  /** Checks that the broker answers (`GET /healthz`). Optional, as KafkaJS's connect(). */
  async connect(options: CallOptions = {}): Promise<void> {
    await this.#call({ method: 'GET', path: '/healthz' }, options);
  }

  /** The topic names. */
  async listTopics(options: CallOptions = {}): Promise<string[]> {
    return this.#call<string[]>({ method: 'GET', path: '/topics' }, options);
  }

  /**
   * Creates topics, as KafkaJS's createTopics: resolves true when every topic was created, false
   * when one or more existed already (the others are still created).
   *
   * @throws BrokerError INVALID_TOPIC_EXCEPTION, INVALID_PARTITIONS, INVALID_REPLICATION_FACTOR, INVALID_CONFIG
   * @example await admin.createTopics({ topics: [{ topic: 'orders', numPartitions: 3, configEntries: [{ name: 'retention.ms', value: '86400000' }] }] })
   */
  async createTopics(request: { topics: ReadonlyArray<TopicConfig>; validateOnly?: boolean; timeout?: number }, options: CallOptions = {}): Promise<boolean> {
    if (!Array.isArray(request?.topics)) throw new InvalidArgumentError('createTopics() takes { topics: [{ topic, numPartitions?, replicationFactor?, configEntries? }] }');
    const callOptions = { timeoutMs: options.timeoutMs ?? request.timeout };
    let isEveryTopicCreated = true;
    const topics: ReadonlyArray<TopicConfig> = request.topics;
    for (const topic of topics) {
      const body = JSON.stringify({
        name: topic.topic,
        partitions: topic.numPartitions,
        replication_factor: topic.replicationFactor,
        configs: topic.configEntries?.map(({ name, value }) => ({ name, value })),
        validate_only: request.validateOnly === true,
      });
      try {
        await this.#call({ method: 'POST', path: '/topics', body, contentType: 'application/json' }, callOptions, (error, attempt) => attempt > 0 && isCode(error, 'TOPIC_ALREADY_EXISTS'));
      } catch (error) {
        if (!isCode(error, 'TOPIC_ALREADY_EXISTS')) throw error;
        isEveryTopicCreated = false;
      }
    }
    return isEveryTopicCreated;
  }

  /** Deletes topics and their data. @throws BrokerError UNKNOWN_TOPIC_OR_PARTITION for a topic that does not exist */
  async deleteTopics(request: { topics: ReadonlyArray<string>; timeout?: number }, options: CallOptions = {}): Promise<void> {
    if (!Array.isArray(request?.topics)) throw new InvalidArgumentError('deleteTopics() takes { topics: [name, …] }');
    const callOptions = { timeoutMs: options.timeoutMs ?? request.timeout };
    for (const topic of request.topics) {
      await this.#call({ method: 'DELETE', path: topicPath(topic) }, callOptions, (error, attempt) => attempt > 0 && isCode(error, 'UNKNOWN_TOPIC_OR_PARTITION'));
    }
  }

  /** Partitions (with log start offset, high watermark, size, segments) and configs (value and source) of a topic. */
  async describeTopic(topic: string, options: CallOptions = {}): Promise<TopicDescription> {
    return toTopicDescription(await this.#call<TopicDescriptionBody>({ method: 'GET', path: topicPath(topic) }, options));
  }

  /** KafkaJS's fetchTopicMetadata: partitions and their leader per topic (every topic when none are named). */
  async fetchTopicMetadata(request: { topics?: ReadonlyArray<string> } = {}, options: CallOptions = {}): Promise<{ topics: TopicMetadataDescription[] }> {
    const names = request.topics ?? (await this.listTopics(options));
    const topics: TopicMetadataDescription[] = [];
    for (const name of names) {
      const partitions = await this.#partitions(name, options);
      topics.push({
        name,
        partitions: partitions.map((p) => {
          const replicas = p.replicas.map((r) => r.broker);
          return { partitionErrorCode: 0, partitionId: p.partition, leader: p.leader, replicas, isr: p.replicas.filter((r) => r.in_sync).map((r) => r.broker), offlineReplicas: [] };
        }),
      });
    }
    return { topics };
  }

  /**
   * Sets (a value) or removes (null: the broker's value applies again) topic config overrides;
   * resolves with the topic's description.
   * @example await admin.alterTopicConfigs({ topic: 'orders', configs: { 'retention.ms': 3600000, 'cleanup.policy': null } })
   */
  async alterTopicConfigs(request: { topic: string; configs: Readonly<Record<string, ConfigValue | null>> }, options: CallOptions = {}): Promise<TopicDescription> {
    const body = JSON.stringify({ configs: request.configs });
    return toTopicDescription(await this.#call<TopicDescriptionBody>({ method: 'PUT', path: `${topicPath(request.topic)}/configs`, body, contentType: 'application/json' }, options));
  }

  /** KafkaJS's createPartitions: grows each topic to `count` partitions in total. */
  async createPartitions(request: { topicPartitions: ReadonlyArray<{ topic: string; count: number }> }, options: CallOptions = {}): Promise<void> {
    if (!Array.isArray(request?.topicPartitions)) throw new InvalidArgumentError('createPartitions() takes { topicPartitions: [{ topic, count }] }');
    for (const { topic, count } of request.topicPartitions) {
      await this.#call({ method: 'POST', path: `${topicPath(topic)}/partitions`, body: JSON.stringify({ count }), contentType: 'application/json' }, options);
    }
  }

  /**
   * KafkaJS's fetchTopicOffsets: per partition the earliest (`low`, the log start offset) and
   * latest (`high`, the high watermark: the offset the next record gets) offsets; `offset` is `high`.
   */
  async fetchTopicOffsets(topic: string, options: CallOptions = {}): Promise<Array<{ partition: number; offset: string; high: string; low: string }>> {
    const partitions = await this.#partitions(topic, options);
    return partitions.map((p) => ({ partition: p.partition, offset: String(p.high_watermark), high: String(p.high_watermark), low: String(p.log_start_offset) }));
  }

  /**
   * KafkaJS's fetchTopicOffsetsByTimestamp: per partition the first offset whose record timestamp
   * is ≥ `timestampMs`, or, as KafkaJS does, the latest offset when no record is that recent.
   */
  async fetchTopicOffsetsByTimestamp(topic: string, timestampMs: number, options: CallOptions = {}): Promise<Array<{ partition: number; offset: string }>> {
    if (!Number.isSafeInteger(timestampMs) || timestampMs < 0) throw new InvalidArgumentError(`timestampMs must be milliseconds since the epoch, got ${timestampMs}`, { timestampMs });
    const partitions = await this.#partitions(topic, options);
    const offsets = [];
    for (const p of partitions) {
      const found = await this.#call<{ offset: number }>({ method: 'GET', path: `${topicPath(topic)}/partitions/${p.partition}/offsets?timestamp=${timestampMs}` }, options);
      // Read after the partition list: a record appended in between has offset ≥ the listed high watermark, so it is never skipped.
      offsets.push({ partition: p.partition, offset: String(found.offset >= 0 ? found.offset : p.high_watermark) });
    }
    return offsets;
  }

  // ---- consumer groups ------------------------------------------------------------------------

  /** KafkaJS's listGroups, with each group's state; `states` keeps only groups in those states. */
  async listGroups(request: { states?: ReadonlyArray<GroupState> } = {}, options: CallOptions = {}): Promise<{ groups: ListedGroup[] }> {
    const query = (request.states ?? []).map((state) => `state=${encodeURIComponent(state)}`).join('&');
    const body = await this.#call<Array<{ group_id: string; protocol_type: string; state: GroupState }>>({ method: 'GET', path: query === '' ? '/groups' : `/groups?${query}` }, options);
    return { groups: body.map((g) => ({ groupId: g.group_id, protocolType: g.protocol_type, state: g.state })) };
  }

  /**
   * A group: state, generation, members with their partitions, and per partition the committed
   * offset, log end offset, lag and owner (what `kafka-consumer-groups --describe` prints), and
   * the total lag.
   * @throws BrokerError GROUP_ID_NOT_FOUND for a group that has neither members nor committed offsets
   * @example const { partitions, totalLag } = await admin.describeGroup('billing')
   */
  async describeGroup(groupId: string, options: CallOptions = {}): Promise<GroupDescription> {
    return toGroupDescription(await this.#call<GroupDescriptionBody>({ method: 'GET', path: groupPath(groupId) }, options));
  }

  /** KafkaJS's describeGroups: describeGroup() of each, in order. */
  async describeGroups(groupIds: ReadonlyArray<string>, options: CallOptions = {}): Promise<{ groups: GroupDescription[] }> {
    if (!Array.isArray(groupIds)) throw new InvalidArgumentError('describeGroups() takes [groupId, …]');
    const groups = [];
    for (const groupId of groupIds) groups.push(await this.describeGroup(groupId, options));
    return { groups };
  }

  /**
   * Deletes groups and their committed offsets. Only a group without members can be deleted.
   * @throws BrokerError NON_EMPTY_GROUP while it has members, GROUP_ID_NOT_FOUND
   */
  async deleteGroups(groupIds: ReadonlyArray<string>, options: CallOptions = {}): Promise<void> {
    if (!Array.isArray(groupIds)) throw new InvalidArgumentError('deleteGroups() takes [groupId, …]');
    for (const groupId of groupIds) {
      await this.#call({ method: 'DELETE', path: groupPath(groupId) }, options, (error, attempt) => attempt > 0 && isCode(error, 'GROUP_ID_NOT_FOUND'));
    }
  }

  /**
   * KafkaJS's fetchOffsets: the group's committed offsets (the next offset it reads) per
   * partition of each topic, '-1' where it has none; without `topics`, every offset it committed.
   */
  async fetchOffsets(request: { groupId: string; topics?: ReadonlyArray<string> }, options: CallOptions = {}): Promise<Array<{ topic: string; partitions: Array<{ partition: number; offset: string; metadata: string }> }>> {
    if (request === null || typeof request !== 'object' || typeof request.groupId !== 'string') throw new InvalidArgumentError('fetchOffsets() takes { groupId, topics? }');
    const query = (request.topics ?? []).map((topic) => `topic=${encodeURIComponent(topic)}`).join('&');
    const body = await this.#call<{ offsets: Array<{ topic: string; partition: number; offset: number; metadata: string }> }>({
      method: 'GET', path: `${groupPath(request.groupId)}/offsets${query === '' ? '' : `?${query}`}`,
    }, options);
    const byTopic = new Map<string, Array<{ partition: number; offset: string; metadata: string }>>();
    for (const topic of request.topics ?? []) byTopic.set(topic, []);
    for (const o of body.offsets) {
      let partitions = byTopic.get(o.topic);
      if (partitions === undefined) byTopic.set(o.topic, (partitions = []));
      partitions.push({ partition: o.partition, offset: String(o.offset), metadata: o.metadata });
    }
    return [...byTopic].map(([topic, partitions]) => ({ topic, partitions: partitions.sort((a, b) => a.partition - b.partition) }));
  }

  /**
   * Moves a group's committed offsets, as `kafka-consumer-groups --reset-offsets`: **a dry run
   * unless `dryRun: false`**; the group must have no live members (a dry run too), or its
   * consumers' next commit would undo the reset. Resolves with the plan: per partition the
   * current and the new offset.
   * @throws BrokerError NON_EMPTY_GROUP while the group has members, UNKNOWN_TOPIC_OR_PARTITION; InvalidArgumentError for a malformed request
   * @example await admin.resetOffsets({ groupId: 'billing', topics: ['orders'], to: 'earliest', dryRun: false })
   */
  async resetOffsets(request: ResetOffsetsRequest, options: CallOptions = {}): Promise<ResetOffsetsResult> {
    if (request === null || typeof request !== 'object' || typeof request.groupId !== 'string') throw new InvalidArgumentError('resetOffsets() takes { groupId, topics | topic | allTopics, to, dryRun? }');
    if (request.to === undefined) {
      throw new InvalidArgumentError("resetOffsets() needs `to`: 'earliest', 'latest', { offset }, { timestamp }, { datetime } or { shiftBy }. KafkaJS's resetOffsets({ groupId, topic, earliest: true }) is resetOffsets({ groupId, topic, to: 'earliest', dryRun: false }) here: without dryRun: false nothing is changed", {});
    }
    const topics = request.topics ?? (request.topic === undefined ? undefined : [request.topic]);
    const isShift = typeof request.to === 'object' && request.to !== null && 'shiftBy' in request.to;
    const to = isShift ? { shift_by: (request.to as { shiftBy: number }).shiftBy } : request.to;
    const execute = request.dryRun === false;
    const httpRequest: TransportRequest = {
      method: 'POST',
      path: `${groupPath(request.groupId)}/offsets/reset`,
      contentType: 'application/json',
      body: JSON.stringify({ topics, all_topics: request.allTopics === true ? true : undefined, to, execute }),
    };
    if (execute && isShift) {
      this.#assertOpen();
      return toResetOffsetsResult(await this.#transport.requestJson<ResetOffsetsBody>({ ...httpRequest, timeoutMs: options.timeoutMs }));
    }
    return toResetOffsetsResult(await this.#call<ResetOffsetsBody>(httpRequest, options));
  }

  /** Closes the connections; later calls fail with CLIENT_CLOSED. */
  async close(): Promise<void> {
    this.#isClosed = true;
    await this.#transport.close();
  }

  /** KafkaJS's name for close(). */
  disconnect(): Promise<void> {
    return this.close();
  }

  #assertOpen(): void {
    if (this.#isClosed) throw new ClientClosedError('the admin client is closed; create a new one with client.admin()');
  }

  #partitions(topic: string, options: CallOptions): Promise<PartitionBody[]> {
    return this.#call<PartitionBody[]>({ method: 'GET', path: `${topicPath(topic)}/partitions` }, options);
  }

  /**
   * One request, retried while retriable. `isSuccessOfEarlierAttempt` reads a retry's error as
   * proof that an earlier attempt, whose answer was lost, did the work.
   */
  async #call<T>(request: TransportRequest, options: CallOptions, isSuccessOfEarlierAttempt?: (error: unknown, attempt: number) => boolean): Promise<T> {
    this.#assertOpen();
    return withRetries(async (attempt) => {
      try {
        return await this.#transport.requestJson<T>({ ...request, timeoutMs: options.timeoutMs });
      } catch (error) {
        if (isSuccessOfEarlierAttempt?.(error, attempt) === true) return undefined as T;
        throw error;
      }
    }, this.#retry);
  }
}

function groupPath(groupId: string): string {
  if (typeof groupId !== 'string') throw new InvalidArgumentError(`a group id is a string, got ${JSON.stringify(groupId)}`);
  return `/groups/${encodeURIComponent(groupId)}`;
}

function isCode(error: unknown, code: MiniKafkaClientError['code']): boolean {
  return error instanceof BrokerError && error.code === code;
}
