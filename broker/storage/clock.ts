/**
 * Time as the storage engine sees it. Retention, segment.ms and flush.ms read the clock through
 * this interface so tests can move time forward without sleeping.
 */

export interface Clock {
  nowMs(): number;
}

export const systemClock: Clock = { nowMs: () => Date.now() };

/** A clock that only moves when told to: for tests of time-based rules. */
export class ManualClock implements Clock {
  #nowMs: number;
  constructor(startMs = 1_700_000_000_000) {
    this.#nowMs = startMs;
  }
  nowMs(): number {
    return this.#nowMs;
  }
  advance(ms: number): void {
    this.#nowMs += ms;
  }
}
