/**
 * One batch on its way to one partition: the records appended to it, which send() calls they
 * belong to (as runs: consecutive records of one call), and its delivery state.
 *
 * Life: open (takes records) → closed (full, or drained) → encoded once, when first drained,
 * with its producer id, epoch and base sequence → in flight → acknowledged, or failed, or back in
 * its queue for a retry with the same bytes (so the broker recognises a retry of a batch it
 * already appended, and answers with the original offsets).
 *
 * Sizes are estimates made while appending (an upper bound of each record's encoded size), used
 * to close the batch at batch.size and to account buffer memory; the encoder computes the exact
 * bytes.
 */

import assert from 'node:assert';
import type { RecordInput } from '../../common/record-batch.ts';
import { BATCH_HEADER_BYTES, decodeRecordBatch, encodeRecordBatch } from '../../common/record-batch.ts';
import type { PendingSend } from './pending-send.ts';

let nextBatchId = 0;

export class ProducerBatch {
  /** Creation order; within a partition, sequences follow it. */
  readonly id = nextBatchId++;
  readonly topic: string;
  readonly partition: number;
  readonly createdMs: number;
  /** delivery.timeout.ms after creation: acknowledged by then, or failed. */
  readonly deadlineMs: number;
  #records: RecordInput[] | null = [];
  readonly #runSends: PendingSend[] = [];
  readonly #runCounts: number[] = [];
  recordCount = 0;
  /** Estimated encoded size, header included. */
  sizeBytes = BATCH_HEADER_BYTES;
  /** Buffer memory held by this batch's records, given back when it completes. */
  reservedBytes = 0;
  /** No more records: full, or drained. */
  isClosed = false;
  /** −1 until drained by an idempotent producer. */
  baseSequence = -1;
  #encoded: Buffer | null = null;
  /** Sends so far; more than 0 means this is a retry. */
  attempts = 0;
  /** No retry before this time (backoff). */
  retryAtMs = 0;
  lastError: unknown = null;
  #isDone = false;
  #doneWaiters: Array<() => void> | null = null;

  constructor(topic: string, partition: number, createdMs: number, deliveryTimeoutMs: number) {
    this.topic = topic;
    this.partition = partition;
    this.createdMs = createdMs;
    this.deadlineMs = createdMs + deliveryTimeoutMs;
  }

  get isDone(): boolean {
    return this.#isDone;
  }

  get encoded(): Buffer | null {
    return this.#encoded;
  }

  /**
   * Appends a record of `sizeBytes` unless the batch would pass `batchBytes` (a first record is
   * always taken: a record larger than batch.size gets a batch of its own). Returns false when
   * the record did not fit; the batch is then closed.
   */
  tryAppend(record: RecordInput, sizeBytes: number, send: PendingSend, batchBytes: number): boolean {
    if (this.recordCount > 0 && this.sizeBytes + sizeBytes > batchBytes) {
      this.isClosed = true;
      return false;
    }
    // Per record, so no assert here: #records is null only once encoded, and an encoded batch is closed (the accumulator checks isClosed).
    this.#records!.push(record);
    const lastRun = this.#runSends.length - 1;
    if (lastRun >= 0 && this.#runSends[lastRun] === send) {
      this.#runCounts[lastRun]++;
    } else {
      this.#runSends.push(send);
      this.#runCounts.push(1);
      send.addRun();
    }
    this.recordCount++;
    this.sizeBytes += sizeBytes;
    this.reservedBytes += sizeBytes;
    if (this.sizeBytes >= batchBytes) this.isClosed = true;
    return true;
  }

  /**
   * The batch's bytes, encoded on first use with the given identity; later calls (retries) return
   * the same bytes. Records are dropped once encoded.
   */
  encode(identity: { producerId: number; producerEpoch: number; baseSequence: number }, compression: 'none' | 'gzip'): Buffer {
    if (this.#encoded !== null) return this.#encoded;
    assert(this.#records !== null && this.recordCount > 0, 'a batch is encoded once, with records');
    this.isClosed = true;
    this.baseSequence = identity.baseSequence;
    this.#encoded = encodeRecordBatch({
      records: this.#records,
      producerId: identity.producerId,
      producerEpoch: identity.producerEpoch,
      baseSequence: identity.baseSequence,
      compression,
    });
    this.#records = null;
    return this.#encoded;
  }

  /**
   * Forgets the encoded bytes so the next drain encodes again with a new identity (after the
   * producer's epoch was bumped). The records are read back from the bytes.
   */
  resetIdentity(): void {
    if (this.#encoded === null) return;
    this.#records = decodeRecordBatch(this.#encoded).records.map((r) => ({ key: r.key, value: r.value, headers: r.headers, timestamp: r.timestamp }));
    this.#encoded = null;
    this.baseSequence = -1;
  }

  /** Acknowledged: each run's first record is at baseOffset + its index (baseOffset −1 with acks=0). */
  complete(baseOffset: number, logAppendTimeMs: number, logStartOffset: number): void {
    assert(!this.#isDone, 'a batch completes once');
    let index = 0;
    for (let run = 0; run < this.#runSends.length; run++) {
      this.#runSends[run].completeRun(this.topic, this.partition, baseOffset < 0 ? -1 : baseOffset + index, logAppendTimeMs, logStartOffset);
      index += this.#runCounts[run];
    }
    this.#finish();
  }

  fail(error: unknown): void {
    assert(!this.#isDone, 'a batch completes once');
    for (const send of this.#runSends) send.failRun(error);
    this.#finish();
  }

  /** Resolves when the batch was acknowledged or failed (flush() waits on this). */
  whenDone(): Promise<void> {
    if (this.#isDone) return Promise.resolve();
    return new Promise((resolve) => (this.#doneWaiters ??= []).push(resolve));
  }

  #finish(): void {
    this.#isDone = true;
    this.#records = null;
    for (const resolve of this.#doneWaiters ?? []) resolve();
    this.#doneWaiters = null;
  }
}
