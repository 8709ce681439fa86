/**
 * The data the storage benchmarks append: record batches built with the real codec
 * (encodeRecordBatch), so every byte on disk is what a producer would send, and a seeded random
 * source so two runs look up the same offsets.
 *
 * Records have a null key, no headers and a value of `valueBytes` pseudo-random bytes (random,
 * so nothing downstream can profit from runs of equal bytes). In a batch, a record with a 1 KiB
 * value takes 1,033–1,034 bytes and one with a 100-byte value 109–110 (the offset delta grows
 * from one varint byte to two at record 64).
 */

import assert from 'node:assert';
import type { RecordInput } from '../common/record-batch.ts';
import { BATCH_HEADER_BYTES, encodeRecordBatch } from '../common/record-batch.ts';

/** Record bytes besides the value, for a null key, no headers and a value under 8 KiB (upper bound). */
const RECORD_OVERHEAD_BYTES = 11;

/** `count` records whose values are distinct random views of one shared buffer. */
export function recordsOf(count: number, valueBytes: number, random = createRandom(1)): RecordInput[] {
  const pool = randomBytes(valueBytes + count, random);
  const records: RecordInput[] = new Array(count);
  for (let i = 0; i < count; i++) records[i] = { key: null, value: pool.subarray(i, i + valueBytes) };
  return records;
}

/**
 * One batch of exactly `batchBytes` bytes, as many records of `valueBytes` as fit, the last
 * record's value grown to fill the remainder. Returns the batch and its record count.
 */
export function encodeBatchOfBytes(batchBytes: number, valueBytes: number, baseTimestamp = Date.now()): { batch: Buffer; recordCount: number } {
  const recordCount = Math.floor((batchBytes - BATCH_HEADER_BYTES) / (valueBytes + RECORD_OVERHEAD_BYTES));
  assert(recordCount >= 1, `a batch of ${batchBytes} bytes cannot hold a record of ${valueBytes} bytes`);
  const records = recordsOf(recordCount, valueBytes);
  const pool = randomBytes(batchBytes, createRandom(2));
  let lastValueBytes = valueBytes;
  // Growing the last value by the bytes missing may lengthen its varints by a byte or two; step back.
  for (let attempt = 0; attempt < 4; attempt++) {
    const batch = encodeRecordBatch({ records, baseTimestamp });
    const missing = batchBytes - batch.length;
    if (missing === 0) return { batch, recordCount };
    lastValueBytes += missing;
    records[recordCount - 1] = { key: null, value: pool.subarray(0, lastValueBytes) };
  }
  throw new Error(`could not build a batch of exactly ${batchBytes} bytes from records of ${valueBytes} bytes`);
}

/** mulberry32: a small, fast, seeded generator of floats in [0, 1); good enough to pick offsets. */
export function createRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/** An integer in [low, high). */
export function randomIntBetween(random: () => number, low: number, high: number): number {
  return low + Math.floor(random() * (high - low));
}

function randomBytes(length: number, random: () => number): Buffer {
  const bytes = Buffer.allocUnsafe(length);
  for (let i = 0; i < length; i++) bytes[i] = (random() * 256) | 0;
  return bytes;
}
