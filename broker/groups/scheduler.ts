/**
 * Time and timers for the group coordinator, injected so that session timeouts, rebalance
 * timeouts and `group.initial.rebalance.delay.ms` are tested without sleeping.
 *
 * The coordinator reads the time only through `nowMs()` and waits only through `schedule()`;
 * it never calls `Date.now()` or `setTimeout` itself. Two implementations:
 * - `systemScheduler`: the wall clock and `setTimeout`, unref'd so that a pending session timeout
 *   never keeps the process alive on its own;
 * - `ManualScheduler`: time stands still until a test calls `advance(ms)`, which fires every
 *   timer that falls due in that window, in time order (timers due at the same instant fire in
 *   the order they were scheduled), including timers scheduled by the callbacks themselves.
 */

import assert from 'node:assert';

export interface ScheduledTimer {
  /** Stops the timer; a no-op once it has fired or been cancelled. */
  cancel(): void;
}

export interface Scheduler {
  nowMs(): number;
  /** Calls `fn` once, `delayMs` from now. */
  schedule(delayMs: number, fn: () => void): ScheduledTimer;
}

/** setTimeout's largest delay (a signed 32-bit count of ms); longer delays would fire at once. */
const MAX_TIMEOUT_DELAY_MS = 2 ** 31 - 1;

export const systemScheduler: Scheduler = {
  nowMs: () => Date.now(),
  schedule(delayMs, fn) {
    assert(Number.isFinite(delayMs) && delayMs >= 0, `timer delay must be a non-negative number, got ${delayMs}`);
    const handle = setTimeout(fn, Math.min(delayMs, MAX_TIMEOUT_DELAY_MS));
    handle.unref();
    return { cancel: () => clearTimeout(handle) };
  },
};

interface ManualTimer {
  readonly dueMs: number;
  /** Breaks ties between timers due at the same instant: first scheduled, first fired. */
  readonly sequence: number;
  readonly fn: () => void;
  cancelled: boolean;
}

/** A scheduler whose clock only moves when a test says so. */
export class ManualScheduler implements Scheduler {
  #nowMs: number;
  #nextSequence = 0;
  #timers: ManualTimer[] = [];

  constructor(startMs = 1_700_000_000_000) {
    this.#nowMs = startMs;
  }

  nowMs(): number {
    return this.#nowMs;
  }

  schedule(delayMs: number, fn: () => void): ScheduledTimer {
    assert(Number.isFinite(delayMs) && delayMs >= 0, `timer delay must be a non-negative number, got ${delayMs}`);
    const timer: ManualTimer = { dueMs: this.#nowMs + delayMs, sequence: this.#nextSequence++, fn, cancelled: false };
    this.#timers.push(timer);
    return {
      cancel: () => {
        timer.cancelled = true;
      },
    };
  }

  /** Timers scheduled and not yet fired or cancelled. */
  get pendingTimerCount(): number {
    return this.#timers.filter((timer) => !timer.cancelled).length;
  }

  /**
   * Moves the clock forward by `ms`, firing each timer due on the way at its own due time, so a
   * callback sees `nowMs()` equal to the moment it was due.
   */
  advance(ms: number): void {
    assert(Number.isFinite(ms) && ms >= 0, `advance() takes a non-negative number of ms, got ${ms}`);
    const targetMs = this.#nowMs + ms;
    // Each firing removes one timer; callbacks may add more, so bound the loop by a generous
    // count rather than by the queue length at the start.
    for (let fired = 0; ; fired++) {
      assert(fired < 1_000_000, 'ManualScheduler.advance(): more than a million timers fired; a callback reschedules itself with no delay');
      this.#timers = this.#timers.filter((timer) => !timer.cancelled);
      const next = this.#earliestDue(targetMs);
      if (next === undefined) break;
      this.#timers.splice(this.#timers.indexOf(next), 1);
      this.#nowMs = next.dueMs;
      next.fn();
    }
    this.#nowMs = targetMs;
  }

  #earliestDue(targetMs: number): ManualTimer | undefined {
    let earliest: ManualTimer | undefined;
    for (const timer of this.#timers) {
      if (timer.dueMs > targetMs) continue;
      if (earliest === undefined || timer.dueMs < earliest.dueMs || (timer.dueMs === earliest.dueMs && timer.sequence < earliest.sequence)) earliest = timer;
    }
    return earliest;
  }
}
