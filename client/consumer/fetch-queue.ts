/**
 * Between the fetch loops (one per partition, partition-fetcher.ts) and the runner that hands
 * records to the application (consumer-runner.ts): fetch results waiting to be processed.
 *
 * Bounds, so a slow application never makes the consumer hold more than it can use:
 * - at most one waiting result per partition: a partition's next fetch is sent once its previous
 *   result was taken, so while the application processes result n, fetch n+1 is in flight or
 *   waiting here, and nothing further;
 * - at most `maxBytes` (fetch.max.bytes) of results waiting in all: a fetch loop waits for room
 *   before it sends (one result is always let in, so a result larger than the budget still
 *   moves).
 *
 * Results are taken in the order they arrived, so partitions with data take turns. A partition's
 * results arrive in offset order (its loop sends one fetch at a time), which keeps order within a
 * partition. All methods are synchronous except the two waits; every wait ends on abort.
 */

import assert from 'node:assert';
import type { PartitionState } from './partition-state.ts';
import type { FetchItem } from './partition-fetcher.ts';

export class FetchQueue {
  readonly #maxBytes: number;
  readonly #ready: PartitionState[] = [];
  #waitingBytes = 0;
  /** The runner waiting in take(), woken by put(), interrupt() or its timer. */
  #taker: (() => void) | null = null;
  /** Fetch loops waiting for room, each re-checking its own condition when woken. */
  readonly #roomWaiters = new Set<() => void>();

  constructor(maxBytes: number) {
    this.#maxBytes = maxBytes;
  }

  get waitingBytes(): number {
    return this.#waitingBytes;
  }

  put(part: PartitionState, item: FetchItem): void {
    assert(part.waiting === null, 'a partition has at most one waiting result');
    part.waiting = item;
    this.#ready.push(part);
    this.#waitingBytes += item.sizeBytes;
    this.#wakeTaker();
  }

  /**
   * The oldest waiting result and its partition, or null after `timeoutMs` (null: no limit) or
   * an interrupt(). One taker at a time.
   */
  async take(timeoutMs: number | null): Promise<{ part: PartitionState; item: FetchItem } | null> {
    assert(this.#taker === null, 'one taker at a time');
    if (this.#ready.length === 0) {
      await new Promise<void>((resolve) => {
        const timer = timeoutMs === null ? undefined : setTimeout(resolve, timeoutMs);
        this.#taker = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.#taker = null;
    }
    const part = this.#ready.shift();
    if (part === undefined) return null;
    const item = part.waiting;
    assert(item !== null, 'a ready partition has a waiting result');
    part.waiting = null;
    this.#waitingBytes -= item.sizeBytes;
    this.#wakeRoomWaiters();
    return { part, item };
  }

  /** Ends a take() that is waiting, with null. */
  interrupt(): void {
    this.#wakeTaker();
  }

  /** Forgets the partition's waiting result (seek, pause, revocation). */
  drop(part: PartitionState): void {
    if (part.waiting === null) return;
    const index = this.#ready.indexOf(part);
    assert(index >= 0, 'a waiting result is in the ready list');
    this.#ready.splice(index, 1);
    this.#waitingBytes -= part.waiting.sizeBytes;
    part.waiting = null;
    this.#wakeRoomWaiters();
  }

  /** Resolves when `part` has no waiting result and the byte budget has room; false when `signal` aborted first. */
  async waitForRoom(part: PartitionState, signal: AbortSignal): Promise<boolean> {
    const hasRoom = (): boolean => part.waiting === null && (this.#waitingBytes < this.#maxBytes || this.#ready.length === 0);
    while (!hasRoom()) {
      if (signal.aborted) return false;
      await new Promise<void>((resolve) => {
        const wake = (): void => {
          this.#roomWaiters.delete(wake);
          signal.removeEventListener('abort', wake);
          resolve();
        };
        this.#roomWaiters.add(wake);
        signal.addEventListener('abort', wake, { once: true });
      });
    }
    return !signal.aborted;
  }

  #wakeTaker(): void {
    this.#taker?.();
  }

  #wakeRoomWaiters(): void {
    for (const wake of [...this.#roomWaiters]) wake();
  }
}
