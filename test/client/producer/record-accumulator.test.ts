/**
 * RecordAccumulator: batches close at batch.size, a record larger than batch.size gets a batch of
 * its own, the append outcome tells the producer when to wake the sender, and a batch back for a
 * retry goes ahead of every younger batch of its partition.
 */

import { describe, expect, test } from 'vitest';
import { PendingSend } from '../../../client/producer/pending-send.ts';
import { AppendOutcome, RecordAccumulator } from '../../../client/producer/record-accumulator.ts';

const record = { value: 'v' };

describe('RecordAccumulator', () => {
  test('append() fills a batch up to batch.size, then starts the next, and says which happened', () => {
    const accumulator = new RecordAccumulator({ batchBytes: 61 + 30, deliveryTimeoutMs: 1000 });
    const send = new PendingSend();
    expect(accumulator.append('t', 0, record, 10, send, 0)).toBe(AppendOutcome.newBatch);
    expect(accumulator.append('t', 0, record, 10, send, 0)).toBe(AppendOutcome.appended);
    expect(accumulator.append('t', 0, record, 10, send, 0)).toBe(AppendOutcome.batchClosed); // exactly full
    expect(accumulator.append('t', 0, record, 10, send, 0)).toBe(AppendOutcome.newBatch);
    const queue = accumulator.queueOf('t', 0);
    expect(queue.batches.map((b) => [b.recordCount, b.isClosed])).toEqual([[3, true], [1, false]]);
    expect(accumulator.incomplete.size).toBe(2);
    expect([...accumulator.waiting]).toEqual([queue]);
  });

  test('append() gives a record larger than batch.size a batch of its own, closed at once', () => {
    const accumulator = new RecordAccumulator({ batchBytes: 100, deliveryTimeoutMs: 1000 });
    const send = new PendingSend();
    accumulator.append('t', 0, record, 10, send, 0);
    expect(accumulator.append('t', 0, record, 500, send, 0)).toBe(AppendOutcome.batchClosed);
    expect(accumulator.queueOf('t', 0).batches.map((b) => [b.recordCount, b.isClosed])).toEqual([[1, true], [1, true]]);
  });

  test('requeue() puts a batch back ahead of younger batches, and hasUnacknowledgedBefore() sees older ones in flight', () => {
    const accumulator = new RecordAccumulator({ batchBytes: 61 + 10, deliveryTimeoutMs: 1000 });
    const send = new PendingSend();
    for (let i = 0; i < 3; i++) accumulator.append('t', 0, record, 10, send, 0);
    const queue = accumulator.queueOf('t', 0);
    const [first, second, third] = queue.batches;
    accumulator.takeFirst(queue);
    accumulator.takeFirst(queue);
    expect(queue.inFlight).toEqual([first, second]);
    expect(queue.hasUnacknowledgedBefore(second)).toBe(true);
    expect(queue.hasUnacknowledgedBefore(first)).toBe(false);
    accumulator.requeue(queue, second);
    accumulator.requeue(queue, first);
    expect(queue.batches).toEqual([first, second, third]);
    expect(queue.inFlight).toEqual([]);
  });
});
