/**
 * The consumer's commits: positions (the next offset to read, never a fetch offset) sent with
 * OffsetCommit as this member at its generation, one commit at a time, in call order; and when
 * auto-commit is due (every autoCommitIntervalMs, or autoCommitThreshold processed records).
 *
 * A success records each partition's committed offset and emits consumer.commit_offsets. A
 * fenced commit — ILLEGAL_GENERATION (a rebalance went by) or UNKNOWN_MEMBER_ID (the member was
 * dropped) — also makes the member rejoin. Retriable failures are tried COMMIT_RETRIES more
 * times; a commit is never cut short by close(), since the commit on the way out is the one
 * that matters most. After a failed auto-commit the next one waits at least retryBackoffMaxMs,
 * so a commit that keeps failing is not a busy loop.
 */

import { InvalidArgumentError, MiniKafkaClientError } from '../errors.ts';
import type { ResolvedRetryOptions } from '../retry.ts';
import type { ConsumerConfig } from './consumer-config.ts';
import type { ConsumerEventEmitter } from './consumer-events.ts';
import { committedTopics } from './consumer-events.ts';
import { retrying } from './consumer-retry.ts';
import type { GroupCalls, TopicPartitionOffset } from './group-calls.ts';
import { partitionKey } from './group-calls.ts';
import type { GroupMembership } from './group-membership.ts';
import type { CommitOffset, OffsetsByTopic } from './handler-payloads.ts';
import type { PartitionState } from './partition-state.ts';

/** Retries of one commit on retriable errors (a lost connection, the broker restarting). */
const COMMIT_RETRIES = 3;

export interface CommitterDependencies {
  readonly config: ConsumerConfig<unknown, unknown>;
  readonly calls: GroupCalls;
  readonly membership: GroupMembership;
  readonly events: ConsumerEventEmitter;
  /** The current assignment's partitions, by partitionKey. */
  readonly partitions: ReadonlyMap<string, PartitionState>;
}

export class OffsetCommitter {
  readonly #config: ConsumerConfig<unknown, unknown>;
  readonly #retry: ResolvedRetryOptions;
  readonly #calls: GroupCalls;
  readonly #membership: GroupMembership;
  readonly #events: ConsumerEventEmitter;
  readonly #partitions: ReadonlyMap<string, PartitionState>;
  readonly #intervalMs: number;
  readonly #threshold: number | null;
  #chain: Promise<void> = Promise.resolve();
  #nextAutoCommitMs = Date.now();
  #processedSinceCommit = 0;

  constructor(dependencies: CommitterDependencies, autoCommit: { intervalMs: number; threshold: number | null }) {
    this.#config = dependencies.config;
    this.#retry = dependencies.config.retry;
    this.#calls = dependencies.calls;
    this.#membership = dependencies.membership;
    this.#events = dependencies.events;
    this.#partitions = dependencies.partitions;
    this.#intervalMs = autoCommit.intervalMs;
    this.#threshold = autoCommit.threshold;
  }

  /** Counts processed records toward autoCommitThreshold. */
  countProcessed(records: number): void {
    this.#processedSinceCommit += records;
  }

  /** A new assignment: the next auto-commit is one interval away. */
  restartSchedule(): void {
    this.#nextAutoCommitMs = Date.now() + this.#intervalMs;
    this.#processedSinceCommit = 0;
  }

  get isAutoCommitDue(): boolean {
    return Date.now() >= this.#nextAutoCommitMs || (this.#threshold !== null && this.#processedSinceCommit >= this.#threshold);
  }

  /** Milliseconds until the next auto-commit is due (0 when it is). */
  get msUntilDue(): number {
    return Math.max(0, this.#nextAutoCommitMs - Date.now());
  }

  /** Resolves when every commit asked for so far has ended. */
  whenIdle(): Promise<void> {
    return this.#chain;
  }

  /** Commits the positions of `parts` that moved since their last commit; a failure is left for the next time (or the next owner). */
  async commitPositions(parts: Iterable<PartitionState>): Promise<void> {
    const offsets = [...parts].filter((p) => p.hasUncommitted).map((p) => ({ topic: p.topic, partition: p.partition, offset: p.position }));
    const isCommitted = offsets.length === 0 || (await this.commit(offsets, false));
    this.#nextAutoCommitMs = Date.now() + (isCommitted ? this.#intervalMs : Math.max(this.#intervalMs, this.#retry.retryBackoffMaxMs));
  }

  /**
   * Commits `offsets` after the commits before it. With `shouldThrow` a failure rejects;
   * without, it resolves false.
   */
  commit(offsets: ReadonlyArray<TopicPartitionOffset>, shouldThrow: boolean): Promise<boolean> {
    const result = this.#chain.then(() => this.#commitNow(offsets, shouldThrow));
    this.#chain = result.then(() => undefined, () => undefined);
    return result;
  }

  /** The positions not yet committed, in KafkaJS's uncommittedOffsets() shape. */
  uncommittedOffsets(): OffsetsByTopic {
    const offsets = [...this.#partitions.values()].filter((p) => p.hasUncommitted).map((p) => ({ topic: p.topic, partition: p.partition, offset: p.position }));
    return { topics: committedTopics(offsets) };
  }

  async #commitNow(offsets: ReadonlyArray<TopicPartitionOffset>, shouldThrow: boolean): Promise<boolean> {
    const memberId = this.#membership.memberId;
    const generationId = this.#membership.generationId;
    if (memberId === '' || generationId < 0) {
      if (!shouldThrow) return false;
      throw new MiniKafkaClientError('REBALANCE_IN_PROGRESS', `group ${this.#config.groupId}: this consumer is rejoining its group and cannot commit until it has a generation; commit again after the next consumer.group_join`, {
        retriable: true, details: { groupId: this.#config.groupId },
      });
    }
    try {
      await retrying(() => this.#calls.commit(memberId, generationId, offsets, this.#config.requestTimeoutMs), this.#retry, Math.min(COMMIT_RETRIES, this.#retry.retries));
    } catch (error) {
      const code = error instanceof MiniKafkaClientError ? error.code : null;
      // Only when the membership is still the one that committed: a rejoin may have happened meanwhile.
      if (code === 'ILLEGAL_GENERATION' && generationId === this.#membership.generationId) this.#membership.requestRejoin('illegal-generation');
      if (code === 'UNKNOWN_MEMBER_ID' && memberId === this.#membership.memberId) this.#membership.requestRejoin('unknown-member');
      if (shouldThrow) throw error;
      return false;
    }
    for (const { topic, partition, offset } of offsets) {
      const part = this.#partitions.get(partitionKey(topic, partition));
      if (part !== undefined) part.committedOffset = offset;
    }
    this.#processedSinceCommit = 0;
    this.#events.emit('consumer.commit_offsets', { groupId: this.#config.groupId, memberId, groupGenerationId: generationId, topics: committedTopics(offsets) });
    return true;
  }
}

/** An offset as KafkaJS passes it (a string) or a number: a whole number ≥ 0. */
export function toOffset(offset: string | number, where: string): number {
  const value = typeof offset === 'string' && /^\d{1,16}$/.test(offset) ? Number(offset) : offset;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new InvalidArgumentError(`${where}: offset must be a whole number ≥ 0 (or its string), got ${JSON.stringify(offset)}`, { offset });
  }
  return value;
}

/** A `{ topic, partition, offset }` to commit, checked. */
export function toTopicPartitionOffset(entry: CommitOffset): TopicPartitionOffset {
  if (entry === null || typeof entry !== 'object' || typeof entry.topic !== 'string' || !Number.isSafeInteger(entry.partition) || entry.partition < 0) {
    throw new InvalidArgumentError(`an offset to commit is { topic, partition, offset }, got ${JSON.stringify(entry)}`);
  }
  return { topic: entry.topic, partition: entry.partition, offset: toOffset(entry.offset, `${entry.topic}-${entry.partition}`) };
}
