/**
 * What `run({ eachMessage })` and `run({ eachBatch })` hand to the application, in KafkaJS's
 * shapes (offsets and the high watermark as strings, as KafkaJS gives int64s), limited to what
 * this consumer does faithfully:
 *
 * - eachMessage `{ topic, partition, message, heartbeat, pause }`;
 * - eachBatch `{ batch, resolveOffset, heartbeat, commitOffsetsIfNecessary, uncommittedOffsets,
 *   isRunning, isStale, pause }`, with `batch` `{ topic, partition, highWatermark, messages,
 *   isEmpty(), firstOffset(), lastOffset(), offsetLag(), offsetLagLow() }`.
 *
 * The runner (consumer-runner.ts) builds the payloads; their semantics are documented there and
 * in docs/sdk.md ("Consumer").
 */

import type { ConsumerMessage } from './fetched-batch.ts';

export interface EachMessagePayload<K, V> {
  readonly topic: string;
  readonly partition: number;
  readonly message: ConsumerMessage<K, V>;
  /** Sends a heartbeat now. Never needed (heartbeats have their own timer); kept for KafkaJS code. */
  heartbeat(): Promise<void>;
  /** Pauses this partition; returns a function that resumes it. */
  pause(): () => void;
}

/** KafkaJS's uncommittedOffsets() shape. */
export interface OffsetsByTopic {
  readonly topics: ReadonlyArray<{ readonly topic: string; readonly partitions: ReadonlyArray<{ readonly partition: number; readonly offset: string }> }>;
}

export interface CommitOffset {
  readonly topic: string;
  readonly partition: number;
  /** The next offset to read (the last processed + 1), as a string (KafkaJS) or a number. */
  readonly offset: string | number;
}

export interface EachBatchPayload<K, V> {
  readonly batch: Batch<K, V>;
  /** Marks every record up to `offset` processed: the partition's position becomes offset + 1. */
  resolveOffset(offset: string | number): void;
  heartbeat(): Promise<void>;
  /** With `offsets`, commits them. Without, commits every resolved position if auto-commit is due (interval or threshold), or at once when auto-commit is off. */
  commitOffsetsIfNecessary(offsets?: ReadonlyArray<CommitOffset>): Promise<void>;
  /** The positions not yet committed, of every assigned partition. */
  uncommittedOffsets(): OffsetsByTopic;
  /** False once close() was called. */
  isRunning(): boolean;
  /** True once the rest of this batch should not be processed: a seek on its partition, a revocation, a rebalance, or a pause of its partition. */
  isStale(): boolean;
  pause(): () => void;
}

export type EachMessageHandler<K, V> = (payload: EachMessagePayload<K, V>) => Promise<void>;
export type EachBatchHandler<K, V> = (payload: EachBatchPayload<K, V>) => Promise<void>;

/** The records of one fetch of one partition. */
export class Batch<K, V> {
  readonly topic: string;
  readonly partition: number;
  /** The partition's high watermark (the offset its next record gets) when this batch was fetched. */
  readonly highWatermark: string;
  readonly messages: ReadonlyArray<ConsumerMessage<K, V>>;

  constructor(topic: string, partition: number, highWatermark: number, messages: ReadonlyArray<ConsumerMessage<K, V>>) {
    this.topic = topic;
    this.partition = partition;
    this.highWatermark = String(highWatermark);
    this.messages = messages;
  }

  isEmpty(): boolean {
    return this.messages.length === 0;
  }

  firstOffset(): string | null {
    return this.isEmpty() ? null : this.messages[0].offset;
  }

  /** The last message's offset; for an empty batch, highWatermark − 1 (KafkaJS). */
  lastOffset(): string {
    return this.isEmpty() ? String(Number(this.highWatermark) - 1) : this.messages[this.messages.length - 1].offset;
  }

  /** Records after this batch's last one, up to the high watermark. */
  offsetLag(): string {
    return String(Math.max(0, Number(this.highWatermark) - 1 - Number(this.lastOffset())));
  }

  /** Records from this batch's first one up to the high watermark. */
  offsetLagLow(): string {
    const first = this.firstOffset();
    return first === null ? '0' : String(Math.max(0, Number(this.highWatermark) - 1 - Number(first)));
  }
}
