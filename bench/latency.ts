/**
 * Latency percentiles with HdrHistogram (hdr-histogram-js): every operation is recorded, none
 * sampled, in nanoseconds with three significant digits, so a 5 µs page-cache write and a 40 ms
 * fsync stall land in the same histogram without losing either.
 */

import * as hdr from 'hdr-histogram-js';
import type { Histogram } from 'hdr-histogram-js';

export class LatencyRecorder {
  readonly #histogram: Histogram = hdr.build({ numberOfSignificantValueDigits: 3 });

  /** Records one operation that took `durationMs` (as performance.now() differences give it). */
  recordMs(durationMs: number): void {
    this.#histogram.recordValue(Math.max(0, Math.round(durationMs * 1e6)));
  }

  get count(): number {
    return this.#histogram.totalCount;
  }

  /** The value at `percentile` (0–100), in microseconds. */
  percentileUs(percentile: number): number {
    return this.#histogram.getValueAtPercentile(percentile) / 1000;
  }

  get maxUs(): number {
    return this.#histogram.maxValue / 1000;
  }
}
