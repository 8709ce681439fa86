/**
 * BufferMemory: reservations up to the bound, waiters served first come first served as bytes are
 * released, a wait that ends after maxBlockMs with BUFFER_EXHAUSTED, and closing.
 */

import { describe, expect, test } from 'vitest';
import { BufferExhaustedError, ClientClosedError } from '../../../client/errors.ts';
import { BufferMemory } from '../../../client/producer/buffer-memory.ts';

describe('BufferMemory', () => {
  test('tryReserve() takes bytes up to the total and refuses beyond it', () => {
    const memory = new BufferMemory(100);
    expect(memory.tryReserve(60)).toBe(true);
    expect(memory.tryReserve(50)).toBe(false);
    expect(memory.tryReserve(40)).toBe(true);
    expect(memory.usedBytes).toBe(100);
    memory.release(100);
    expect(memory.usedBytes).toBe(0);
  });

  test('release() wakes waiters in arrival order, and a later small request does not overtake a waiting large one', async () => {
    const memory = new BufferMemory(100);
    expect(memory.tryReserve(90)).toBe(true);
    const order: string[] = [];
    const large = memory.reserve(80, 10_000).then(() => order.push('large'));
    expect(memory.tryReserve(5)).toBe(false); // someone waits ahead
    const small = memory.reserve(5, 10_000).then(() => order.push('small'));
    memory.release(90);
    await Promise.all([large, small]);
    expect(order).toEqual(['large', 'small']);
    expect(memory.usedBytes).toBe(85);
  });

  test('reserve() rejects with BUFFER_EXHAUSTED after maxBlockMs, naming the limits, and frees the line for those behind', async () => {
    const memory = new BufferMemory(100);
    memory.tryReserve(50);
    const tooLarge = memory.reserve(80, 20).catch((e: unknown) => e);
    const fits = memory.reserve(40, 10_000);
    const error = await tooLarge;
    expect(error).toBeInstanceOf(BufferExhaustedError);
    expect(error).toMatchObject({ code: 'BUFFER_EXHAUSTED', retriable: true, details: { requestedBytes: 80, usedBytes: 50, bufferMemoryBytes: 100, maxBlockMs: 20 } });
    await fits;
    expect(memory.usedBytes).toBe(90);
  });

  test('rejectWaiters() fails every waiting reservation with CLIENT_CLOSED', async () => {
    const memory = new BufferMemory(10);
    memory.tryReserve(10);
    const waiting = memory.reserve(5, 10_000).catch((e: unknown) => e);
    memory.rejectWaiters('closing');
    expect(await waiting).toBeInstanceOf(ClientClosedError);
    expect(memory.waiterCount).toBe(0);
  });
});
