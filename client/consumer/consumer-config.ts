/**
 * The consumer's options, their defaults, and the checks between them. Names are Kafka's Java
 * consumer configs in camelCase with the unit last (`session.timeout.ms` → `sessionTimeoutMs`),
 * as the producer's are; the KafkaJS name is beside each for readers coming from there. Defaults
 * are the Java consumer's (kafka-facts §7.1), except where the table says.
 *
 * | option                   | Kafka config                  | KafkaJS                | default    |
 * |--------------------------|-------------------------------|------------------------|------------|
 * | `groupId`                | group.id                      | groupId                | required   |
 * | `sessionTimeoutMs`       | session.timeout.ms            | sessionTimeout         | 45000      |
 * | `heartbeatIntervalMs`    | heartbeat.interval.ms         | heartbeatInterval      | 3000       |
 * | `rebalanceTimeoutMs`     | max.poll.interval.ms          | rebalanceTimeout       | 300000     |
 * | `autoOffsetReset`        | auto.offset.reset             | fromBeginning          | 'latest'   |
 * | `autoCommit`             | enable.auto.commit            | run({ autoCommit })    | true       |
 * | `autoCommitIntervalMs`   | auto.commit.interval.ms       | autoCommitInterval     | 5000       |
 * | `fetchMaxWaitMs`         | fetch.max.wait.ms             | maxWaitTimeInMs        | 500        |
 * | `maxPartitionFetchBytes` | max.partition.fetch.bytes     | maxBytesPerPartition   | 1048576    |
 * | `fetchMaxBytes`          | fetch.max.bytes               | maxBytes               | 52428800   |
 * | `assignors`              | partition.assignment.strategy | partitionAssigners     | ['range']  |
 * | `allowAutoTopicCreation` | allow.auto.create.topics      | allowAutoTopicCreation | true       |
 * | `requestTimeoutMs`       | request.timeout.ms            | requestTimeout         | the client's (30000) |
 * | `retry`                  | retry.backoff.ms, …           | retry                  | unlimited, 100 → 1000 ms |
 *
 * `rebalanceTimeoutMs` is both what JoinGroup sends as the rebalance timeout and, as Java's
 * max.poll.interval.ms, the longest one handler call may take before the consumer gives its
 * partitions up (consumer-runner.ts). `fetchMaxBytes` bounds the bytes fetched and not yet
 * handed to the application, over all partitions. Retriable failures (a broker restart) are
 * retried without limit by default, as Java's consumer does; `retry.retries` bounds them.
 *
 * Checks between options: the heartbeat interval must be below the session timeout (as Java's
 * consumer checks; Kafka advises a third of it), the rebalance timeout not below the session
 * timeout, and one partition's fetch must fit fetchMaxBytes.
 */

import { InvalidArgumentError } from '../errors.ts';
import type { ResolvedRetryOptions, RetryOptions } from '../retry.ts';
import { resolveRetryOptions } from '../retry.ts';
import type { Serde } from '../serializers.ts';
import { serializers } from '../serializers.ts';

/** Where a partition without a committed offset (or with one outside the log) starts. */
export type AutoOffsetReset = 'earliest' | 'latest' | 'none';

/** The assignors the broker runs for its leader (docs/consumer-groups.md, "Choosing the assignor"). */
export type AssignorName = 'range' | 'roundrobin' | 'sticky';

/** What turns a record's key or value bytes into what the application gets; every Serde is one. */
export type Deserializer<T> = Pick<Serde<T>, 'name' | 'deserialize'>;

export interface ConsumerOptions<K = Buffer, V = Buffer> {
  readonly groupId: string;
  readonly sessionTimeoutMs?: number;
  readonly heartbeatIntervalMs?: number;
  readonly rebalanceTimeoutMs?: number;
  readonly autoOffsetReset?: AutoOffsetReset;
  readonly autoCommit?: boolean;
  readonly autoCommitIntervalMs?: number;
  readonly fetchMaxWaitMs?: number;
  readonly maxPartitionFetchBytes?: number;
  readonly fetchMaxBytes?: number;
  /** Most preferred first; the group uses the one every member offers that most members prefer. */
  readonly assignors?: ReadonlyArray<AssignorName>;
  readonly allowAutoTopicCreation?: boolean;
  readonly requestTimeoutMs?: number;
  readonly retry?: RetryOptions;
  /** Default: the key as a Buffer (null stays null). */
  readonly keyDeserializer?: Deserializer<K>;
  /** Default: the value as a Buffer (null, a tombstone, stays null). */
  readonly valueDeserializer?: Deserializer<V>;
}

export interface ConsumerConfig<K, V> {
  readonly groupId: string;
  readonly clientId: string;
  readonly sessionTimeoutMs: number;
  readonly heartbeatIntervalMs: number;
  readonly rebalanceTimeoutMs: number;
  readonly autoOffsetReset: AutoOffsetReset;
  readonly autoCommit: boolean;
  readonly autoCommitIntervalMs: number;
  readonly fetchMaxWaitMs: number;
  readonly maxPartitionFetchBytes: number;
  readonly fetchMaxBytes: number;
  readonly assignors: ReadonlyArray<AssignorName>;
  readonly allowAutoTopicCreation: boolean;
  readonly requestTimeoutMs: number;
  readonly retry: ResolvedRetryOptions;
  readonly keyDeserializer: Deserializer<K>;
  readonly valueDeserializer: Deserializer<V>;
}

/** What the client passes down: its own settings, which the consumer's options may override. */
export interface ClientDefaults {
  readonly clientId: string;
  readonly requestTimeoutMs: number;
}

const ASSIGNORS: ReadonlyArray<AssignorName> = ['range', 'roundrobin', 'sticky'];
const RESETS: ReadonlyArray<AutoOffsetReset> = ['earliest', 'latest', 'none'];
/** Java's consumer retries a broker that is away for as long as it takes; so does this one by default. */
const DEFAULT_RETRY: ResolvedRetryOptions = Object.freeze({ retries: Number.POSITIVE_INFINITY, retryBackoffMs: 100, retryBackoffMaxMs: 1000 });

export function resolveConsumerConfig<K, V>(options: ConsumerOptions<K, V>, client: ClientDefaults): ConsumerConfig<K, V> {
  if (options === null || typeof options !== 'object') throw new InvalidArgumentError('consumer() takes { groupId, … }');
  if (typeof options.groupId !== 'string' || options.groupId.length === 0) {
    throw new InvalidArgumentError(`groupId must be a non-empty string, got ${JSON.stringify(options.groupId)}: a consumer reads as a member of a group`, { groupId: options.groupId });
  }
  const autoOffsetReset = options.autoOffsetReset ?? 'latest';
  if (!RESETS.includes(autoOffsetReset)) {
    throw new InvalidArgumentError(`autoOffsetReset must be 'earliest', 'latest' or 'none', got ${JSON.stringify(autoOffsetReset)}`, { autoOffsetReset });
  }
  const assignors = options.assignors ?? ['range'];
  if (!Array.isArray(assignors) || assignors.length === 0 || assignors.some((name) => !ASSIGNORS.includes(name))) {
    throw new InvalidArgumentError(`assignors must be a non-empty list of ${ASSIGNORS.map((a) => `'${a}'`).join(', ')}, got ${JSON.stringify(assignors)}`, { assignors });
  }
  const config: ConsumerConfig<K, V> = {
    groupId: options.groupId,
    clientId: client.clientId,
    sessionTimeoutMs: wholeNumber(options.sessionTimeoutMs ?? 45_000, 'sessionTimeoutMs', 1),
    heartbeatIntervalMs: wholeNumber(options.heartbeatIntervalMs ?? 3000, 'heartbeatIntervalMs', 1),
    rebalanceTimeoutMs: wholeNumber(options.rebalanceTimeoutMs ?? 300_000, 'rebalanceTimeoutMs', 1),
    autoOffsetReset,
    autoCommit: options.autoCommit ?? true,
    autoCommitIntervalMs: wholeNumber(options.autoCommitIntervalMs ?? 5000, 'autoCommitIntervalMs', 0),
    fetchMaxWaitMs: wholeNumber(options.fetchMaxWaitMs ?? 500, 'fetchMaxWaitMs', 0),
    maxPartitionFetchBytes: wholeNumber(options.maxPartitionFetchBytes ?? 1_048_576, 'maxPartitionFetchBytes', 1),
    fetchMaxBytes: wholeNumber(options.fetchMaxBytes ?? 52_428_800, 'fetchMaxBytes', 1),
    assignors: [...new Set(assignors)],
    allowAutoTopicCreation: options.allowAutoTopicCreation ?? true,
    requestTimeoutMs: wholeNumber(options.requestTimeoutMs ?? client.requestTimeoutMs, 'requestTimeoutMs', 1),
    retry: resolveRetryOptions(options.retry, DEFAULT_RETRY),
    keyDeserializer: options.keyDeserializer ?? (serializers.buffer as unknown as Deserializer<K>),
    valueDeserializer: options.valueDeserializer ?? (serializers.buffer as unknown as Deserializer<V>),
  };
  checkTogether(config);
  return Object.freeze(config);
}

function checkTogether(config: ConsumerConfig<unknown, unknown>): void {
  // Java's consumer refuses the same (GroupRebalanceConfig); Kafka advises a third of the session
  // timeout or less, so that a lost heartbeat or two does not cost the membership.
  if (config.heartbeatIntervalMs >= config.sessionTimeoutMs) {
    throw new InvalidArgumentError(`heartbeatIntervalMs (${config.heartbeatIntervalMs}) must be below sessionTimeoutMs (${config.sessionTimeoutMs}), or the member times out between heartbeats; a third of it or less is advised`, {
      heartbeatIntervalMs: config.heartbeatIntervalMs, sessionTimeoutMs: config.sessionTimeoutMs,
    });
  }
  if (config.rebalanceTimeoutMs < config.sessionTimeoutMs) {
    throw new InvalidArgumentError(`rebalanceTimeoutMs (${config.rebalanceTimeoutMs}) must be at least sessionTimeoutMs (${config.sessionTimeoutMs}): a rebalance waits that long for members to rejoin`, {
      rebalanceTimeoutMs: config.rebalanceTimeoutMs, sessionTimeoutMs: config.sessionTimeoutMs,
    });
  }
  if (config.fetchMaxBytes < config.maxPartitionFetchBytes) {
    throw new InvalidArgumentError(`fetchMaxBytes (${config.fetchMaxBytes}) must be at least maxPartitionFetchBytes (${config.maxPartitionFetchBytes}): one partition's fetch must fit the consumer's buffer`, {
      fetchMaxBytes: config.fetchMaxBytes, maxPartitionFetchBytes: config.maxPartitionFetchBytes,
    });
  }
}

function wholeNumber(value: number, name: string, min: number): number {
  if (!Number.isSafeInteger(value) || value < min) throw new InvalidArgumentError(`${name} must be a whole number ≥ ${min}, got ${value}`, { [name]: value });
  return value;
}
