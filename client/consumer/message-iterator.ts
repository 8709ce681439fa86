/**
 * `for await (const message of consumer)`: the consumer as an async iterator of its records, in
 * offset order per partition, one at a time.
 *
 * It is `run({ eachMessage })` underneath: the handler hands each record to the waiting `next()`
 * and waits until the loop asks for the following one. So:
 *
 * - a record counts as processed when the loop body that got it finishes (the next `next()`),
 *   and auto-commit commits only processed records: at-least-once, as with eachMessage;
 * - the first `next()` joins the group (what run() does) and waits for the first record;
 * - leaving the loop (`break`, `return`, a throw) closes the consumer: the record the body was
 *   processing counts as not processed, the positions are committed (auto-commit), the group is
 *   left; the loop's own throw then continues out of it;
 * - while the body runs, heartbeats go on, and the next fetch is already in flight;
 * - close() while a loop body holds a record (from the body itself, or from elsewhere) gives that
 *   record back unprocessed, as leaving the loop does, and the loop ends at its next turn; when
 *   the consumer crashes, the loop throws the error.
 */

import type { ConsumerMessage } from './fetched-batch.ts';
import type { EachMessagePayload } from './handler-payloads.ts';
import { NOT_PROCESSED } from './consumer-runner.ts';

export interface IteratorHooks<K, V> {
  /** Starts the consumer with this handler; resolves once it joined (run()). */
  readonly start: (eachMessage: (payload: EachMessagePayload<K, V>) => Promise<void | typeof NOT_PROCESSED>) => Promise<void>;
  readonly close: () => Promise<void>;
  /** Registers what to do when the consumer stops, with its crash error if it crashed. */
  readonly onStopped: (listener: (error: Error | null) => void) => void;
}

interface Offer<K, V> {
  readonly message: ConsumerMessage<K, V>;
  readonly settle: (isProcessed: boolean) => void;
}

export class MessageIterator<K, V> implements AsyncIterableIterator<ConsumerMessage<K, V>> {
  readonly #hooks: IteratorHooks<K, V>;
  #started: Promise<void> | null = null;
  /** The record the loop body holds, settled by the next next() (processed) or by return() (not). */
  #held: Offer<K, V> | null = null;
  /** A record the handler offered before anyone asked. */
  #offered: Offer<K, V> | null = null;
  /** A next() waiting for a record. */
  #waiting: { resolve: (result: IteratorResult<ConsumerMessage<K, V>>) => void; reject: (error: Error) => void } | null = null;
  #isDone = false;
  #error: Error | null = null;

  constructor(hooks: IteratorHooks<K, V>) {
    this.#hooks = hooks;
    hooks.onStopped((error) => this.#end(error));
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  async next(): Promise<IteratorResult<ConsumerMessage<K, V>>> {
    this.#held?.settle(true);
    this.#held = null;
    this.#started ??= this.#hooks.start((payload) => this.#offer(payload.message));
    await this.#started;
    if (this.#error !== null) throw this.#error;
    if (this.#isDone) return { done: true, value: undefined };
    const offered = this.#offered;
    if (offered !== null) {
      this.#offered = null;
      this.#held = offered;
      return { done: false, value: offered.message };
    }
    return new Promise((resolve, reject) => {
      this.#waiting = { resolve, reject };
    });
  }

  async return(): Promise<IteratorResult<ConsumerMessage<K, V>>> {
    this.release();
    // release() ran first, so the consumer's loop sees the stop before it could move on.
    await this.#hooks.close();
    return { done: true, value: undefined };
  }

  /**
   * Gives the record the loop body holds back, unprocessed, and ends the iteration at the next
   * turn: what leaving the loop does, and what close() does while a body holds a record (a
   * close() awaited inside the body would otherwise wait for the body).
   */
  release(): void {
    this.#held?.settle(false);
    this.#held = null;
    this.#offered?.settle(false);
    this.#offered = null;
    this.#isDone = true;
  }

  async throw(error?: unknown): Promise<IteratorResult<ConsumerMessage<K, V>>> {
    await this.return();
    throw error;
  }

  #offer(message: ConsumerMessage<K, V>): Promise<void | typeof NOT_PROCESSED> {
    if (this.#isDone) return Promise.resolve(NOT_PROCESSED);
    return new Promise((resolve) => {
      const offer: Offer<K, V> = { message, settle: (isProcessed) => resolve(isProcessed ? undefined : NOT_PROCESSED) };
      const waiting = this.#waiting;
      if (waiting === null) {
        this.#offered = offer;
        return;
      }
      this.#waiting = null;
      this.#held = offer;
      waiting.resolve({ done: false, value: message });
    });
  }

  #end(error: Error | null): void {
    this.#isDone = true;
    if (error !== null) this.#error = error;
    this.#offered?.settle(false);
    this.#offered = null;
    const waiting = this.#waiting;
    this.#waiting = null;
    if (waiting === null) return;
    if (error !== null) waiting.reject(error);
    else waiting.resolve({ done: true, value: undefined });
  }
}
