/**
 * The running consumer: one loop that keeps the membership, the fetch loops and the
 * application's handler in step, so that every record is processed in offset order within its
 * partition and counted only once processed.
 *
 *   join + sync → assignment → starting positions (committed offset, a pending seek, or auto.offset.reset)
 *     → one fetch loop per partition (partition-fetcher.ts) → fetch queue (fetch-queue.ts)
 *     → this loop: take a result, decode it (fetched-batch.ts), hand its records to eachMessage / eachBatch, move the position
 *     → auto-commit the positions every autoCommitIntervalMs, or autoCommitThreshold records (offset-committer.ts)
 *   heartbeat says REBALANCE_IN_PROGRESS → stop after the record in the handler → revoke every
 *     partition (stop fetching, drop what was fetched) → commit the positions → join again
 *
 * Delivery is at-least-once: a position moves past a record only after its handler returned, and
 * only positions are committed. Records fetched but not processed are dropped on revocation and
 * read again by whoever gets the partition, from the committed offset. A crash after processing
 * and before the commit, or a commit the group refuses (this member was dropped), means the next
 * owner processes those records again.
 *
 * Everything that changes positions or fetch loops happens on this loop, between handler calls:
 * seek() and resume() from elsewhere only mark the partition, and the loop (re)starts its fetch
 * loop before it takes the next result. A seek during a handler makes the partition's epoch stale
 * (partition-state.ts): the rest of the batch is not handed out, and the position stays where
 * the seek put it.
 *
 * Errors: an error thrown by the handler, or a partition that cannot go on (offset out of range
 * with auto.offset.reset none, a record that does not decode), stops the consumer: it commits
 * what was processed (with auto-commit), leaves the group, and reports the error (consumer.crash).
 * An exception, as KafkaJS's pattern: a handler that pauses its own partition and throws has
 * simply not processed the record, which comes again after resume().
 */

import { AsyncLocalStorage } from 'node:async_hooks';
import { ClientClosedError, MiniKafkaClientError } from '../errors.ts';
import type { Transport } from '../transport.ts';
import type { AutoOffsetReset, ConsumerConfig } from './consumer-config.ts';
import type { ConsumerEventEmitter } from './consumer-events.ts';
import { retrying } from './consumer-retry.ts';
import { FetchQueue } from './fetch-queue.ts';
import type { ConsumerMessage } from './fetched-batch.ts';
import { decodeFetch } from './fetched-batch.ts';
import type { GroupCalls, TopicPartition, TopicPartitionOffset } from './group-calls.ts';
import { partitionKey } from './group-calls.ts';
import type { Generation } from './group-membership.ts';
import { GroupMembership } from './group-membership.ts';
import type { EachBatchHandler, EachBatchPayload, EachMessageHandler } from './handler-payloads.ts';
import { Batch } from './handler-payloads.ts';
import { OffsetCommitter, toOffset, toTopicPartitionOffset } from './offset-committer.ts';
import type { FetchedRecords, FetchItem } from './partition-fetcher.ts';
import { runFetchLoop } from './partition-fetcher.ts';
import type { PausedPartitions } from './paused-partitions.ts';
import { PartitionState } from './partition-state.ts';

/** What an internal handler (the for-await iterator's) returns for a record it gives back unprocessed. */
export const NOT_PROCESSED = Symbol('not processed');

export interface RunSettings<K, V> {
  readonly eachMessage?: (payload: Parameters<EachMessageHandler<K, V>>[0]) => Promise<void | typeof NOT_PROCESSED>;
  readonly eachBatch?: EachBatchHandler<K, V>;
  readonly autoCommit: boolean;
  readonly autoCommitIntervalMs: number;
  /** Commit once this many records were processed since the last commit; null: by time only. */
  readonly autoCommitThreshold: number | null;
  readonly eachBatchAutoResolve: boolean;
}

export interface RunnerDependencies {
  readonly config: ConsumerConfig<unknown, unknown>;
  readonly calls: GroupCalls;
  readonly fetchTransport: Transport;
  readonly events: ConsumerEventEmitter;
  readonly paused: PausedPartitions;
  readonly topics: ReadonlyArray<string>;
  /** auto.offset.reset per topic (subscribe's fromBeginning may differ from the consumer's option). */
  readonly resetFor: (topic: string) => AutoOffsetReset;
}

export interface PartitionLag {
  readonly topic: string;
  readonly partition: number;
  /** The next offset to hand to the application. */
  readonly offset: number;
  readonly committedOffset: number | null;
  /** From the last fetch answer; null before the first. */
  readonly highWatermark: number | null;
  /** highWatermark − offset; null before the first fetch answer. */
  readonly lag: number | null;
}

/** Answers from this size on are decoded after one turn of the event loop (see #process). */
const YIELD_BEFORE_DECODING_BYTES = 64 * 1024;

export class ConsumerRunner<K, V> {
  readonly #config: ConsumerConfig<unknown, unknown>;
  readonly #calls: GroupCalls;
  readonly #events: ConsumerEventEmitter;
  readonly #paused: PausedPartitions;
  readonly #topics: ReadonlyArray<string>;
  readonly #resetFor: (topic: string) => AutoOffsetReset;
  readonly #settings: RunSettings<K, V>;
  readonly #membership: GroupMembership;
  readonly #committer: OffsetCommitter;
  readonly #queue: FetchQueue;
  readonly #fetchTransport: Transport;
  readonly #partitions = new Map<string, PartitionState>();
  /** Partitions whose fetch loop the main loop must (re)start: after seek(), resume(), an assignment. */
  readonly #restartNeeded = new Set<PartitionState>();
  /** seek() on a partition not (yet) assigned: applied if the next assignment brings it. */
  readonly #pendingSeeks = new Map<string, number>();
  /** Aborts a join in progress when the consumer stops. */
  readonly #stopAbort = new AbortController();
  /** Marks async work that runs inside a handler call (close() from a handler must not wait for itself). */
  readonly #handlerScope = new AsyncLocalStorage<boolean>();
  #isStopping = false;
  #handlerStartedMs = -1;
  #done: Promise<void> = Promise.resolve();

  constructor(dependencies: RunnerDependencies, settings: RunSettings<K, V>) {
    this.#config = dependencies.config;
    this.#calls = dependencies.calls;
    this.#events = dependencies.events;
    this.#paused = dependencies.paused;
    this.#topics = dependencies.topics;
    this.#resetFor = dependencies.resetFor;
    this.#fetchTransport = dependencies.fetchTransport;
    this.#settings = settings;
    this.#queue = new FetchQueue(this.#config.fetchMaxBytes);
    this.#membership = new GroupMembership(this.#calls, this.#config, this.#events, {
      onRejoinNeeded: () => this.#queue.interrupt(),
      handlerRunningMs: () => (this.#handlerStartedMs < 0 ? -1 : Date.now() - this.#handlerStartedMs),
    });
    this.#committer = new OffsetCommitter(
      { config: this.#config, calls: this.#calls, membership: this.#membership, events: this.#events, partitions: this.#partitions },
      { intervalMs: settings.autoCommitIntervalMs, threshold: settings.autoCommitThreshold },
    );
  }

  get memberId(): string {
    return this.#membership.memberId;
  }

  get generationId(): number {
    return this.#membership.generationId;
  }

  /** True inside a handler call of this consumer (and the async work it started). */
  get isInHandler(): boolean {
    return this.#handlerScope.getStore() === true;
  }

  /**
   * Joins the group, gets the first assignment and its starting positions, and starts the loop.
   * Resolves once the first assignment is in place; rejects with what stopped the first join.
   * `onStopped` runs once the loop ended (after a crash or stop()), with the error if any.
   */
  start(onStopped: (error: Error | null) => Promise<void>): Promise<void> {
    let markStarted!: (error: Error | null) => void;
    const started = new Promise<void>((resolve, reject) => {
      markStarted = (error) => (error === null ? resolve() : reject(error));
    });
    this.#done = this.#main(markStarted, onStopped);
    return started;
  }

  /**
   * Stops: the record in the handler is finished, the rest is not handed out, positions are
   * committed (auto-commit), the group is left. Resolves when all that is done — except when
   * called from inside a handler, where waiting would wait for itself: it then resolves at once
   * and the consumer stops as soon as the handler returns.
   */
  stop(): Promise<void> {
    if (!this.#isStopping) {
      this.#isStopping = true;
      this.#stopAbort.abort(new ClientClosedError('the consumer was closed'));
      this.#queue.interrupt();
    }
    return this.isInHandler ? Promise.resolve() : this.#done;
  }

  /** Sets the position of an assigned partition (or of one the next assignment may bring). */
  seek(topic: string, partition: number, offset: number): void {
    const part = this.#partitions.get(partitionKey(topic, partition));
    if (part === undefined || part.isRevoked) {
      this.#pendingSeeks.set(partitionKey(topic, partition), offset);
      return;
    }
    part.position = offset;
    part.epoch++;
    this.#stopFetching(part);
    this.#restartNeeded.add(part);
    this.#queue.interrupt();
  }

  /** Applies the paused set to the assigned partitions: stops the fetch loops of paused ones, restarts resumed ones. */
  applyPaused(): void {
    for (const part of this.#partitions.values()) {
      const isPaused = this.#paused.isPaused(part.topic, part.partition);
      if (isPaused === part.isPaused || part.isRevoked) continue;
      part.isPaused = isPaused;
      if (isPaused) {
        this.#stopFetching(part);
      } else {
        this.#restartNeeded.add(part);
        this.#queue.interrupt();
      }
    }
  }

  assignment(): Array<{ topic: string; partitions: number[] }> {
    return groupByTopic([...this.#partitions.values()].map((p) => ({ topic: p.topic, partition: p.partition })));
  }

  pausedAssigned(): Array<{ topic: string; partitions: number[] }> {
    return groupByTopic([...this.#partitions.values()].filter((p) => p.isPaused).map((p) => ({ topic: p.topic, partition: p.partition })));
  }

  lag(): PartitionLag[] {
    return [...this.#partitions.values()].map((p) => ({
      topic: p.topic,
      partition: p.partition,
      offset: p.position,
      committedOffset: p.committedOffset < 0 ? null : p.committedOffset,
      highWatermark: p.highWatermark < 0 ? null : p.highWatermark,
      lag: p.highWatermark < 0 ? null : p.lag,
    }));
  }

  /** Commits `offsets` as this member (KafkaJS's commitOffsets); throws what the broker refused. */
  async commitOffsets(offsets: ReadonlyArray<TopicPartitionOffset>): Promise<void> {
    await this.#committer.commit(offsets, true);
  }

  // ---- the loop -------------------------------------------------------------------------------

  async #main(markStarted: (error: Error | null) => void, onStopped: (error: Error | null) => Promise<void>): Promise<void> {
    let failure: Error | null = null;
    let isStarted = false;
    try {
      await this.#joinAndAssign();
      isStarted = true;
      markStarted(null);
      await this.#loop();
    } catch (error) {
      // A join or a lookup cut short by stop() is the stop, not a failure.
      if (error !== this.#stopAbort.signal.reason) failure = error as Error;
    }
    this.#isStopping = true;
    try {
      await this.#revokeAll(false);
      await this.#committer.whenIdle();
      await this.#membership.leave();
      await onStopped(isStarted ? failure : null);
    } finally {
      // After onStopped: a run() that fails finds the consumer closed.
      if (!isStarted) markStarted(failure ?? new ClientClosedError('the consumer was closed before it joined its group'));
    }
  }

  async #loop(): Promise<void> {
    while (!this.#isStopping) {
      if (this.#membership.needsRejoin) {
        await this.#revokeAll(true);
        if (this.#isStopping) return;
        await this.#joinAndAssign();
        continue;
      }
      this.#startFetchLoops();
      const taken = await this.#queue.take(this.#waitMs());
      if (taken !== null) await this.#process(taken.part, taken.item);
      if (this.#settings.autoCommit && this.#committer.isAutoCommitDue) await this.#committer.commitPositions(this.#partitions.values());
    }
  }

  /** How long the loop may wait for a fetch result: until the next auto-commit is due, when there is something to commit. */
  #waitMs(): number | null {
    if (!this.#settings.autoCommit || ![...this.#partitions.values()].some((p) => p.hasUncommitted)) return null;
    return this.#committer.msUntilDue;
  }

  #startFetchLoops(): void {
    for (const part of this.#restartNeeded) {
      if (part.isRevoked || part.isPaused || part.fetchAbort !== null) continue;
      const abort = new AbortController();
      part.fetchAbort = abort;
      part.fetching = runFetchLoop({ transport: this.#fetchTransport, queue: this.#queue, config: this.#configFor(part.topic) }, part, abort.signal);
    }
    this.#restartNeeded.clear();
  }

  #configFor(topic: string): ConsumerConfig<unknown, unknown> {
    const reset = this.#resetFor(topic);
    return reset === this.#config.autoOffsetReset ? this.#config : { ...this.#config, autoOffsetReset: reset };
  }

  #stopFetching(part: PartitionState): void {
    part.fetchAbort?.abort();
    part.fetchAbort = null;
    this.#queue.drop(part);
  }

  async #process(part: PartitionState, item: FetchItem): Promise<void> {
    if (item.epoch !== part.epoch || part.isRevoked) return;
    if (item.kind === 'failure') throw item.error;
    // Decoded here, not in the fetch loop, so that the partition's next fetch is on its way
    // meanwhile: take() let that loop go, and for a large answer one turn of the event loop lets it
    // send its request before the decoding (milliseconds for 1 MiB) holds the loop; a small answer
    // is decoded at once (the turn would only add latency). A batch that does not decode throws:
    // the consumer stops on it, as on a failed fetch.
    if (item.bytes.length >= YIELD_BEFORE_DECODING_BYTES) {
      await new Promise((resolve) => setImmediate(resolve));
      // Meanwhile stop(), a pause or a rebalance may have come: then these records are not handed
      // out; the position stays, so they are fetched again if this member keeps the partition.
      if (item.epoch !== part.epoch || part.isRevoked || part.isPaused || this.#isStopping || this.#membership.needsRejoin) return;
    }
    const { keyDeserializer, valueDeserializer } = this.#config;
    const messages = decodeFetch(item.bytes, part.topic, part.partition, item.fetchOffset, keyDeserializer, valueDeserializer).messages as ReadonlyArray<ConsumerMessage<K, V>>;
    if (messages.length === 0) {
      part.position = item.nextOffset;
      return;
    }
    if (this.#settings.eachBatch !== undefined) await this.#processBatch(part, item, messages, this.#settings.eachBatch);
    else await this.#processMessages(part, item, messages);
  }

  /** Hands each record to eachMessage in order; stops at a stale epoch, a pause, a rebalance or stop(). */
  async #processMessages(part: PartitionState, item: FetchedRecords, messages: ReadonlyArray<ConsumerMessage<K, V>>): Promise<void> {
    const eachMessage = this.#settings.eachMessage!;
    const heartbeat = (): Promise<void> => this.#membership.heartbeatNow();
    const pause = (): (() => void) => this.#pauseOwn(part);
    for (const message of messages) {
      if (this.#isStopping || this.#membership.needsRejoin || part.isPaused || item.epoch !== part.epoch) return;
      const outcome = await this.#callHandler(part, () => eachMessage({ topic: part.topic, partition: part.partition, message, heartbeat, pause }));
      if (outcome === NOT_PROCESSED || item.epoch !== part.epoch) return;
      part.position = Number(message.offset) + 1;
      this.#committer.countProcessed(1);
    }
    if (item.epoch === part.epoch) part.position = item.nextOffset;
  }

  async #processBatch(part: PartitionState, item: FetchedRecords, messages: ReadonlyArray<ConsumerMessage<K, V>>, eachBatch: EachBatchHandler<K, V>): Promise<void> {
    const epoch = item.epoch;
    const payload: EachBatchPayload<K, V> = {
      batch: new Batch(part.topic, part.partition, item.highWatermark, messages),
      resolveOffset: (offset) => {
        const next = toOffset(offset, 'resolveOffset') + 1;
        if (part.epoch !== epoch || next <= part.position) return;
        this.#committer.countProcessed(next - part.position);
        part.position = next;
      },
      heartbeat: () => this.#membership.heartbeatNow(),
      commitOffsetsIfNecessary: (offsets) => (offsets === undefined ? this.#commitIfNecessary() : this.commitOffsets(offsets.map(toTopicPartitionOffset))),
      uncommittedOffsets: () => this.#committer.uncommittedOffsets(),
      isRunning: () => !this.#isStopping,
      isStale: () => part.epoch !== epoch || part.isRevoked || part.isPaused || this.#membership.needsRejoin,
      pause: () => this.#pauseOwn(part),
    };
    const outcome = await this.#callHandler(part, () => eachBatch(payload));
    if (outcome === NOT_PROCESSED || part.epoch !== epoch || !this.#settings.eachBatchAutoResolve) return;
    if (item.nextOffset > part.position) {
      this.#committer.countProcessed(messages.length);
      part.position = item.nextOffset;
    }
  }

  /**
   * Runs one handler call, timed for the max.poll.interval.ms check and marked as "inside a
   * handler". A throw from a partition the handler paused is "not processed" (KafkaJS's
   * pause-and-throw); any other throw stops the consumer.
   */
  async #callHandler(part: PartitionState, call: () => Promise<void | typeof NOT_PROCESSED>): Promise<void | typeof NOT_PROCESSED> {
    this.#handlerStartedMs = Date.now();
    try {
      return await this.#handlerScope.run(true, call);
    } catch (error) {
      if (part.isPaused) return NOT_PROCESSED;
      throw error;
    } finally {
      this.#handlerStartedMs = -1;
    }
  }

  /** pause() from a handler: pauses the partition; the function it returns resumes it. */
  #pauseOwn(part: PartitionState): () => void {
    this.#paused.pause(part.topic, [part.partition]);
    this.applyPaused();
    return () => {
      this.#paused.resume(part.topic, [part.partition]);
      this.applyPaused();
    };
  }

  // ---- generations ----------------------------------------------------------------------------

  async #joinAndAssign(): Promise<void> {
    const startMs = Date.now();
    const generation = await this.#membership.join(this.#topics, this.#stopAbort.signal);
    const assigned = generation.assignment
      .flatMap(({ topic, partitions }) => partitions.map((partition) => ({ topic, partition })))
      .sort((a, b) => (a.topic === b.topic ? a.partition - b.partition : a.topic < b.topic ? -1 : 1));
    const positions = await this.#startingPositions(assigned);
    for (const { topic, partition, position, committedOffset, highWatermark } of positions) {
      // Read after the lookups: a seek made while they were out still applies.
      const part = new PartitionState(topic, partition, this.#pendingSeeks.get(partitionKey(topic, partition)) ?? position, committedOffset);
      part.highWatermark = highWatermark;
      part.isPaused = this.#paused.isPaused(topic, partition);
      this.#partitions.set(part.key, part);
      this.#restartNeeded.add(part);
    }
    this.#pendingSeeks.clear();
    this.#committer.restartSchedule();
    this.#emitGroupJoin(generation, Date.now() - startMs);
  }

  /** Per assigned partition: a pending seek, else the committed offset, else where auto.offset.reset says. */
  async #startingPositions(assigned: TopicPartition[]): Promise<Array<TopicPartition & { position: number; committedOffset: number; highWatermark: number }>> {
    if (assigned.length === 0) return [];
    const committed = await this.#lookUp(() => this.#calls.committed(assigned, this.#config.requestTimeoutMs));
    return Promise.all(assigned.map(async ({ topic, partition }) => {
      const key = partitionKey(topic, partition);
      const committedOffset = committed.get(key) ?? -1;
      const sought = this.#pendingSeeks.get(key);
      if (sought !== undefined) return { topic, partition, position: sought, committedOffset, highWatermark: -1 };
      if (committedOffset >= 0) return { topic, partition, position: committedOffset, committedOffset, highWatermark: -1 };
      const reset = this.#resetFor(topic);
      if (reset === 'none') {
        throw new MiniKafkaClientError('OFFSET_OUT_OF_RANGE', `group ${this.#config.groupId} has no committed offset for ${topic} partition ${partition} and autoOffsetReset is 'none'; commit or reset an offset first (admin.resetOffsets), or choose 'earliest' or 'latest'`, {
          retriable: false, details: { groupId: this.#config.groupId, topic, partition },
        });
      }
      const offsets = await this.#lookUp(() => this.#calls.logOffsets(topic, partition, this.#config.requestTimeoutMs));
      return { topic, partition, position: reset === 'earliest' ? offsets.logStartOffset : offsets.highWatermark, committedOffset, highWatermark: offsets.highWatermark };
    }));
  }

  /**
   * Gives every partition up (eager rebalance, or the consumer stopping): fetch loops stop, what
   * they fetched is dropped, and, with auto-commit, the positions are committed first so the next
   * owner starts where this member stopped.
   */
  async #revokeAll(isRebalance: boolean): Promise<void> {
    if (isRebalance) this.#events.emit('consumer.rebalancing', { groupId: this.#config.groupId, memberId: this.#membership.memberId });
    const parts = [...this.#partitions.values()];
    for (const part of parts) {
      part.isRevoked = true;
      part.epoch++;
      this.#stopFetching(part);
    }
    await Promise.allSettled(parts.map((p) => p.fetching));
    for (const part of parts) this.#queue.drop(part);
    if (this.#settings.autoCommit) await this.#committer.commitPositions(parts);
    this.#partitions.clear();
    this.#restartNeeded.clear();
  }

  #emitGroupJoin(generation: Generation, durationMs: number): void {
    const memberAssignment: Record<string, number[]> = {};
    for (const { topic, partitions } of generation.assignment) memberAssignment[topic] = [...partitions].sort((a, b) => a - b);
    this.#events.emit('consumer.group_join', {
      groupId: this.#config.groupId,
      memberId: generation.memberId,
      leaderId: generation.leaderId,
      isLeader: generation.isLeader,
      generationId: generation.generationId,
      groupProtocol: generation.protocolName,
      memberAssignment,
      duration: durationMs,
    });
  }

  #commitIfNecessary(): Promise<void> {
    if (this.#settings.autoCommit && !this.#committer.isAutoCommitDue) return Promise.resolve();
    return this.#committer.commitPositions(this.#partitions.values());
  }

  /** A lookup for the assignment, retried on retriable errors until it succeeds or the consumer stops. */
  #lookUp<T>(operation: () => Promise<T>): Promise<T> {
    return retrying(operation, this.#config.retry, this.#config.retry.retries, this.#stopAbort.signal);
  }
}

function groupByTopic(partitions: ReadonlyArray<TopicPartition>): Array<{ topic: string; partitions: number[] }> {
  const byTopic = new Map<string, number[]>();
  for (const { topic, partition } of partitions) {
    let list = byTopic.get(topic);
    if (list === undefined) byTopic.set(topic, (list = []));
    list.push(partition);
  }
  return [...byTopic].map(([topic, list]) => ({ topic, partitions: list.sort((a, b) => a - b) }));
}
