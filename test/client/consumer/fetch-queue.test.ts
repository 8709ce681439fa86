/**
 * FetchQueue: the bounds between the fetch loops and the runner (one waiting result per
 * partition, a byte budget over all of them), arrival order, and waits that end on abort or
 * interrupt.
 */

import { describe, expect, test } from 'vitest';
import { FetchQueue } from '../../../client/consumer/fetch-queue.ts';
import type { FetchItem } from '../../../client/consumer/partition-fetcher.ts';
import { PartitionState } from '../../../client/consumer/partition-state.ts';

function item(sizeBytes: number, nextOffset = 1): FetchItem {
  return { kind: 'records', epoch: 0, bytes: Buffer.alloc(0), fetchOffset: nextOffset, nextOffset, highWatermark: nextOffset, sizeBytes };
}

/** Whether `promise` has settled once pending callbacks ran. */
async function isSettled(promise: Promise<unknown>): Promise<boolean> {
  let settled = false;
  void promise.then(() => (settled = true), () => (settled = true));
  await new Promise((resolve) => setImmediate(resolve));
  return settled;
}

describe('FetchQueue', () => {
  test('gives results in arrival order across partitions', async () => {
    const queue = new FetchQueue(1000);
    const a = new PartitionState('t', 0, 0, -1);
    const b = new PartitionState('t', 1, 0, -1);
    queue.put(b, item(10, 5));
    queue.put(a, item(10, 7));
    expect((await queue.take(null))!.part).toBe(b);
    expect((await queue.take(null))!.part).toBe(a);
    expect(queue.waitingBytes).toBe(0);
  });

  test('lets a partition fetch again only once its waiting result was taken', async () => {
    const queue = new FetchQueue(1000);
    const part = new PartitionState('t', 0, 0, -1);
    const abort = new AbortController();
    expect(await queue.waitForRoom(part, abort.signal)).toBe(true);
    queue.put(part, item(10));
    const room = queue.waitForRoom(part, abort.signal);
    expect(await isSettled(room)).toBe(false);
    await queue.take(null);
    expect(await room).toBe(true);
  });

  test('holds fetches back while the waiting results fill the byte budget, but always lets one result in', async () => {
    const queue = new FetchQueue(100);
    const a = new PartitionState('t', 0, 0, -1);
    const b = new PartitionState('t', 1, 0, -1);
    const abort = new AbortController();
    queue.put(a, item(500)); // over the budget alone: still accepted
    const room = queue.waitForRoom(b, abort.signal);
    expect(await isSettled(room)).toBe(false);
    queue.drop(a);
    expect(queue.waitingBytes).toBe(0);
    expect(await room).toBe(true);
  });

  test('ends waits on abort (false) and a take() on interrupt() or its timeout (null)', async () => {
    const queue = new FetchQueue(100);
    const part = new PartitionState('t', 0, 0, -1);
    queue.put(part, item(10));
    const abort = new AbortController();
    const room = queue.waitForRoom(part, abort.signal);
    abort.abort();
    expect(await room).toBe(false);
    await queue.take(null);
    const taking = queue.take(null);
    queue.interrupt();
    expect(await taking).toBeNull();
    expect(await queue.take(5)).toBeNull();
  });
});
