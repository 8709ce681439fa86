/**
 * Idempotent-producer state of one partition: for each producer id, its epoch and the metadata of
 * the last 5 batches it appended (Kafka's ProducerStateManager, NUM_BATCHES_TO_RETAIN = 5).
 *
 * On each append of a batch with producerId ≥ 0 (kafka-facts §6.4):
 *   1. its (first sequence, last sequence) equals a retained batch's → a retry of a batch already
 *      in the log: not appended again, answered with the original offsets;
 *   2. its epoch is older than the producer's → INVALID_PRODUCER_EPOCH (a newer instance fenced it);
 *   3. a newer epoch must start at sequence 0; the same epoch must continue at last sequence + 1
 *      (wrapping after 2^31 − 1) → else OUT_OF_ORDER_SEQUENCE_NUMBER;
 *   4. a producer id the partition has never seen may start at any sequence.
 * Why 5: a producer has at most 5 requests in flight, so any batch it may retry is still here.
 *
 * The state survives restarts through snapshot files in the partition directory,
 * `<20-digit offset>.snapshot`, written at clean shutdown: the state as of that log end offset.
 * On open, the newest snapshot at or below the log end offset is loaded and the batch headers
 * after it are replayed (all of them from the log start if there is no snapshot), so a crash
 * costs a longer replay, never state.
 *
 * Snapshot layout (all big-endian; minikafka's own, modelled on Kafka's ProducerSnapshot):
 *
 * | bytes | field         | meaning                                           |
 * |-------|---------------|---------------------------------------------------|
 * | 0..1  | version       | int16, 1                                          |
 * | 2..5  | crc           | uint32, CRC-32C of every byte after this field    |
 * | 6..9  | producerCount | int32                                             |
 * | per producer: producerId int64, epoch int16, batchCount int8, then per batch (oldest first): |
 * |       | firstSequence int32, lastSequence int32, baseOffset int64, lastOffset int64, maxTimestamp int64 | |
 */

import { crc32c } from '../../common/crc32c.ts';
import { MiniKafkaError } from '../../common/errors.ts';
import type { RecordBatchHeader } from '../../common/record-batch.ts';

export const BATCHES_TO_RETAIN = 5;
const SNAPSHOT_VERSION = 1;
const SEQUENCE_MAX = 0x7fffffff;

export interface BatchMetadata {
  readonly firstSequence: number;
  readonly lastSequence: number;
  readonly baseOffset: number;
  readonly lastOffset: number;
  readonly maxTimestamp: number;
}

interface ProducerEntry {
  epoch: number;
  /** Oldest first, at most BATCHES_TO_RETAIN. */
  batches: BatchMetadata[];
}

export type ProducerCheck = { readonly isDuplicate: false } | { readonly isDuplicate: true; readonly batch: BatchMetadata };

const APPEND: ProducerCheck = Object.freeze({ isDuplicate: false });

/** The sequence `count` places after `sequence`, wrapping after 2^31 − 1 to 0 as Kafka does. */
export function addSequence(sequence: number, count: number): number {
  const next = sequence + count;
  return next > SEQUENCE_MAX ? next - SEQUENCE_MAX - 1 : next;
}

export class ProducerState {
  readonly #producers = new Map<number, ProducerEntry>();

  get producerCount(): number {
    return this.#producers.size;
  }

  /** Decides whether the batch may be appended; throws for a fenced or out-of-order batch. */
  check(header: RecordBatchHeader, context: Record<string, unknown>): ProducerCheck {
    if (header.producerId < 0) return APPEND;
    if (header.baseSequence < 0) {
      throw new MiniKafkaError('INVALID_RECORD', `a batch from producer ${header.producerId} must carry a base sequence >= 0`, { ...context, producerId: header.producerId });
    }
    const entry = this.#producers.get(header.producerId);
    if (entry === undefined) return APPEND;
    const firstSequence = header.baseSequence;
    const lastSequence = addSequence(firstSequence, header.lastOffsetDelta);
    const details = { ...context, producerId: header.producerId, producerEpoch: header.producerEpoch, knownEpoch: entry.epoch, sequence: firstSequence };
    if (header.producerEpoch < entry.epoch) {
      throw new MiniKafkaError('INVALID_PRODUCER_EPOCH', `producer ${header.producerId} epoch ${header.producerEpoch} is fenced: this partition has seen epoch ${entry.epoch}`, details);
    }
    if (header.producerEpoch > entry.epoch) {
      if (firstSequence !== 0) {
        throw new MiniKafkaError('OUT_OF_ORDER_SEQUENCE_NUMBER', `producer ${header.producerId} started epoch ${header.producerEpoch} at sequence ${firstSequence}; a new epoch starts at 0`, details);
      }
      return APPEND;
    }
    const duplicate = entry.batches.find((b) => b.firstSequence === firstSequence && b.lastSequence === lastSequence);
    if (duplicate !== undefined) return { isDuplicate: true, batch: duplicate };
    const last = entry.batches.at(-1);
    const expected = last === undefined ? firstSequence : addSequence(last.lastSequence, 1);
    if (firstSequence !== expected) {
      throw new MiniKafkaError('OUT_OF_ORDER_SEQUENCE_NUMBER', `producer ${header.producerId} sent sequence ${firstSequence} but this partition expects ${expected}: a batch in between is missing`, { ...details, expectedSequence: expected });
    }
    return APPEND;
  }

  /** Records an appended batch (its header with the offsets it got). */
  update(header: RecordBatchHeader): void {
    if (header.producerId < 0) return;
    let entry = this.#producers.get(header.producerId);
    if (entry === undefined || header.producerEpoch > entry.epoch) {
      entry = { epoch: header.producerEpoch, batches: [] };
      this.#producers.set(header.producerId, entry);
    }
    entry.batches.push({
      firstSequence: header.baseSequence,
      lastSequence: addSequence(header.baseSequence, header.lastOffsetDelta),
      baseOffset: header.baseOffset,
      lastOffset: header.lastOffset,
      maxTimestamp: header.maxTimestamp,
    });
    if (entry.batches.length > BATCHES_TO_RETAIN) entry.batches.shift();
  }

  /** Forgets batches at or above `offset` (after the log was truncated there). */
  truncateTo(offset: number): void {
    for (const [producerId, entry] of this.#producers) {
      entry.batches = entry.batches.filter((b) => b.lastOffset < offset);
      if (entry.batches.length === 0) this.#producers.delete(producerId);
    }
  }

  encodeSnapshot(): Buffer {
    let size = 10;
    for (const entry of this.#producers.values()) size += 11 + entry.batches.length * 32;
    const buffer = Buffer.alloc(size);
    buffer.writeInt16BE(SNAPSHOT_VERSION, 0);
    buffer.writeInt32BE(this.#producers.size, 6);
    let at = 10;
    for (const [producerId, entry] of this.#producers) {
      buffer.writeBigInt64BE(BigInt(producerId), at);
      buffer.writeInt16BE(entry.epoch, at + 8);
      buffer.writeInt8(entry.batches.length, at + 10);
      at += 11;
      for (const batch of entry.batches) {
        buffer.writeInt32BE(batch.firstSequence, at);
        buffer.writeInt32BE(batch.lastSequence, at + 4);
        buffer.writeBigInt64BE(BigInt(batch.baseOffset), at + 8);
        buffer.writeBigInt64BE(BigInt(batch.lastOffset), at + 16);
        buffer.writeBigInt64BE(BigInt(batch.maxTimestamp), at + 24);
        at += 32;
      }
    }
    buffer.writeUInt32BE(crc32c(buffer, 6), 2);
    return buffer;
  }

  /** Parses a snapshot; throws an Error naming the problem if the bytes are not a valid one. */
  static decodeSnapshot(buffer: Buffer): ProducerState {
    if (buffer.length < 10 || buffer.readInt16BE(0) !== SNAPSHOT_VERSION) throw new Error('not a version 1 producer snapshot');
    if (crc32c(buffer, 6) !== buffer.readUInt32BE(2)) throw new Error('producer snapshot CRC mismatch');
    const state = new ProducerState();
    const count = buffer.readInt32BE(6);
    let at = 10;
    for (let i = 0; i < count; i++) {
      const producerId = Number(buffer.readBigInt64BE(at));
      const epoch = buffer.readInt16BE(at + 8);
      const batchCount = buffer.readInt8(at + 10);
      at += 11;
      const batches: BatchMetadata[] = [];
      for (let b = 0; b < batchCount; b++) {
        batches.push({
          firstSequence: buffer.readInt32BE(at),
          lastSequence: buffer.readInt32BE(at + 4),
          baseOffset: Number(buffer.readBigInt64BE(at + 8)),
          lastOffset: Number(buffer.readBigInt64BE(at + 16)),
          maxTimestamp: Number(buffer.readBigInt64BE(at + 24)),
        });
        at += 32;
      }
      state.#producers.set(producerId, { epoch, batches });
    }
    if (at !== buffer.length) throw new Error('producer snapshot has trailing bytes');
    return state;
  }
}
