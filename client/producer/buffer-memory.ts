/**
 * The producer's bounded buffer (Kafka's buffer.memory): bytes of records accepted by send() but
 * not yet acknowledged or failed. send() reserves its records' bytes before it appends them and
 * each batch gives its bytes back when it completes, so memory stays under the bound whatever the
 * broker's speed.
 *
 * When the bytes are not there, send() waits (back-pressure) up to max.block.ms, then fails with
 * BufferExhaustedError. Waiters are served first come, first served: a small send arriving later
 * does not overtake a large one that waits, so no send starves.
 */

import assert from 'node:assert';
import { BufferExhaustedError, ClientClosedError } from '../errors.ts';

interface Waiter {
  readonly bytes: number;
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
  timer: NodeJS.Timeout | null;
}

export class BufferMemory {
  readonly totalBytes: number;
  #usedBytes = 0;
  readonly #waiters: Waiter[] = [];

  constructor(totalBytes: number) {
    assert(Number.isSafeInteger(totalBytes) && totalBytes > 0, 'buffer.memory is a positive whole number');
    this.totalBytes = totalBytes;
  }

  get usedBytes(): number {
    return this.#usedBytes;
  }

  get waiterCount(): number {
    return this.#waiters.length;
  }

  /** Reserves at once if the bytes are free and nobody waits ahead; false otherwise. */
  tryReserve(bytes: number): boolean {
    assert(bytes >= 0 && bytes <= this.totalBytes, 'a reservation fits the buffer (send() checks this first)');
    if (this.#waiters.length > 0 || this.#usedBytes + bytes > this.totalBytes) return false;
    this.#usedBytes += bytes;
    return true;
  }

  /** Waits for `bytes` up to `maxBlockMs`; rejects with BufferExhaustedError when they do not come in time. */
  reserve(bytes: number, maxBlockMs: number): Promise<void> {
    if (this.tryReserve(bytes)) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = { bytes, resolve, reject, timer: null };
      waiter.timer = setTimeout(() => {
        this.#remove(waiter);
        reject(new BufferExhaustedError(
          `send() waited ${maxBlockMs} ms (maxBlockMs) for ${bytes} bytes of the producer's ${this.totalBytes}-byte buffer (bufferMemoryBytes) and ${this.#usedBytes} are still taken by records not yet acknowledged: the broker is slower than the sends, or unreachable`,
          { requestedBytes: bytes, usedBytes: this.#usedBytes, bufferMemoryBytes: this.totalBytes, maxBlockMs },
        ));
        // Removing a large waiter at the head may let smaller ones behind it in.
        this.#wakeWaiters();
      }, maxBlockMs);
      this.#waiters.push(waiter);
    });
  }

  release(bytes: number): void {
    assert(bytes >= 0 && bytes <= this.#usedBytes, 'release only what was reserved');
    this.#usedBytes -= bytes;
    this.#wakeWaiters();
  }

  /** Fails every waiting send: the producer is closing. */
  rejectWaiters(reason: string): void {
    for (const waiter of this.#waiters.splice(0)) {
      if (waiter.timer !== null) clearTimeout(waiter.timer);
      waiter.reject(new ClientClosedError(reason));
    }
  }

  #wakeWaiters(): void {
    while (this.#waiters.length > 0 && this.#usedBytes + this.#waiters[0].bytes <= this.totalBytes) {
      const waiter = this.#waiters.shift()!;
      if (waiter.timer !== null) clearTimeout(waiter.timer);
      this.#usedBytes += waiter.bytes;
      waiter.resolve();
    }
  }

  #remove(waiter: Waiter): void {
    const index = this.#waiters.indexOf(waiter);
    if (index >= 0) this.#waiters.splice(index, 1);
  }
}
