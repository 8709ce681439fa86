/**
 * ProducerState against Kafka's rules (kafka-facts §6.4), and its snapshot format.
 */

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { RecordBatchHeader } from '../../../common/record-batch.ts';
import { readRecordBatchHeader, encodeRecordBatch } from '../../../common/record-batch.ts';
import { BATCHES_TO_RETAIN, ProducerState, addSequence } from '../../../broker/core/producer-state.ts';

function header(producerId: number, producerEpoch: number, baseSequence: number, count: number, baseOffset = 0): RecordBatchHeader {
  const batch = encodeRecordBatch({ producerId, producerEpoch, baseSequence, records: Array.from({ length: count }, () => ({ value: 'v', timestamp: 1 })) });
  const read = readRecordBatchHeader(batch);
  return { ...read, baseOffset, lastOffset: baseOffset + read.lastOffsetDelta };
}

describe('ProducerState', () => {
  it('answers a retry of any of the last 5 batches with its original offsets, and no older one', () => {
    const state = new ProducerState();
    let offset = 100;
    let sequence = 0;
    const appended: RecordBatchHeader[] = [];
    for (let i = 0; i < 8; i++) {
      const h = header(7, 0, sequence, 3, offset);
      expect(state.check(h, {}).isDuplicate).toBe(false);
      state.update(h);
      appended.push(h);
      offset += 3;
      sequence += 3;
    }
    for (const [i, h] of appended.entries()) {
      const isRetained = i >= appended.length - BATCHES_TO_RETAIN;
      if (isRetained) expect(state.check(h, {})).toEqual({ isDuplicate: true, batch: expect.objectContaining({ baseOffset: h.baseOffset, lastOffset: h.lastOffset }) });
      else expect(() => state.check(h, {})).toThrowError(expect.objectContaining({ code: 'OUT_OF_ORDER_SEQUENCE_NUMBER' }) as unknown as Error);
    }
  });

  it('rejects a gap with OUT_OF_ORDER_SEQUENCE_NUMBER naming the expected sequence', () => {
    const state = new ProducerState();
    state.update(header(1, 0, 0, 2));
    expect(() => state.check(header(1, 0, 5, 1), { topic: 't' })).toThrowError(expect.objectContaining({ code: 'OUT_OF_ORDER_SEQUENCE_NUMBER', details: expect.objectContaining({ expectedSequence: 2 }) }) as unknown as Error);
  });

  it('fences an older epoch and lets a newer one start at sequence 0 only', () => {
    const state = new ProducerState();
    state.update(header(1, 3, 0, 1));
    expect(() => state.check(header(1, 2, 1, 1), {})).toThrowError(expect.objectContaining({ code: 'INVALID_PRODUCER_EPOCH' }) as unknown as Error);
    expect(() => state.check(header(1, 4, 9, 1), {})).toThrowError(expect.objectContaining({ code: 'OUT_OF_ORDER_SEQUENCE_NUMBER' }) as unknown as Error);
    expect(state.check(header(1, 4, 0, 1), {}).isDuplicate).toBe(false);
  });

  it('accepts any first sequence from a producer it has not seen, and ignores non-idempotent batches', () => {
    const state = new ProducerState();
    expect(state.check(header(9, 0, 12345, 1), {}).isDuplicate).toBe(false);
    const plain = header(-1, -1, -1, 1);
    state.update(plain);
    expect(state.check(plain, {}).isDuplicate).toBe(false);
    expect(state.producerCount).toBe(0);
  });

  it('wraps sequences after 2^31 - 1 to 0, as Kafka does', () => {
    expect(addSequence(0x7fffffff, 1)).toBe(0);
    expect(addSequence(0x7ffffffe, 3)).toBe(1);
    const state = new ProducerState();
    state.update(header(1, 0, 0x7ffffffe, 2));
    expect(state.check(header(1, 0, 0, 1), {}).isDuplicate).toBe(false);
  });

  it('never appends a batch twice and never skips one, for any interleaving of retries', () => {
    // Model: a producer sends batches 0..n-1 in order, each possibly retried later (within the
    // 5-batch window); the partition must hold each exactly once, in order.
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 30 }), fc.array(fc.nat(), { maxLength: 40 }), (sizes, retries) => {
        const state = new ProducerState();
        const sent: RecordBatchHeader[] = [];
        const log: number[] = [];
        let sequence = 0;
        let offset = 0;
        let retryAt = 0;
        for (const size of sizes) {
          const h = header(5, 0, sequence, size, offset);
          if (!state.check(h, {}).isDuplicate) {
            state.update(h);
            log.push(h.baseSequence);
            offset += size;
          }
          sent.push(h);
          sequence += size;
          // Retry one of the recent batches now and then.
          if (retryAt < retries.length && retries[retryAt++] % 2 === 0) {
            const again = sent[Math.max(0, sent.length - 1 - (retries[retryAt - 1] % BATCHES_TO_RETAIN))];
            expect(state.check({ ...again, baseOffset: 999_999 }, {}).isDuplicate).toBe(true);
          }
        }
        expect(log).toEqual(sent.map((h) => h.baseSequence));
      }),
      { numRuns: 200 },
    );
  });

  it('round-trips through its snapshot and rejects a damaged one', () => {
    const state = new ProducerState();
    for (let p = 0; p < 4; p++) for (let i = 0; i < 7; i++) state.update(header(1000 + p, p, i * 2, 2, p * 100 + i * 2));
    const bytes = state.encodeSnapshot();
    const copy = ProducerState.decodeSnapshot(bytes);
    expect(copy.encodeSnapshot().equals(bytes)).toBe(true);
    expect(copy.check(header(1003, 3, 12, 2, 0), {})).toEqual({ isDuplicate: true, batch: expect.objectContaining({ baseOffset: 312 }) });
    const damaged = Buffer.from(bytes);
    damaged[20] ^= 1;
    expect(() => ProducerState.decodeSnapshot(damaged)).toThrow(/CRC/);
  });
});
