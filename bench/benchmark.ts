/**
 * What a benchmark is, to the runner (run.ts) and to the report (report.ts).
 *
 * A benchmark returns measurements; each measurement is one case (one workload under one set of
 * settings) with its figures. The settings travel with the figures all the way to the printed
 * table and the JSON file, because a figure without its record size, batch size, flush policy
 * and what an acknowledgement meant cannot be compared with anything.
 */

export interface Figure {
  /** What was measured, with its unit: `MB/s`, `records/s`, `p99 µs`. */
  readonly label: string;
  /** The median over rounds (or the single value when there was one round). */
  readonly value: number;
  /** Smallest and largest value over rounds, when there were several: the spread to trust the median by. */
  readonly min?: number;
  readonly max?: number;
}

export interface Measurement {
  readonly benchmark: string;
  readonly case: string;
  /** Every setting that changes the figures, as printed: `1 MiB`, `flush.messages=1`. */
  readonly settings: Readonly<Record<string, string>>;
  readonly figures: readonly Figure[];
}

export interface BenchContext {
  /** --quick: smaller totals and fewer rounds, the whole suite under two minutes. */
  readonly isQuick: boolean;
  /** Progress for the person watching (stderr); never part of the results. */
  progress(message: string): void;
}

export interface Benchmark {
  /** The name the filter on the command line matches, e.g. `storage-append`. */
  readonly name: string;
  readonly title: string;
  run(context: BenchContext): Promise<Measurement[]>;
}

/** The median of a non-empty list, and its spread, as one figure. */
export function figureOf(label: string, values: readonly number[]): Figure {
  if (values.length === 0) throw new RangeError(`figure ${label} has no values`);
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  const median = sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
  if (sorted.length === 1) return { label, value: median };
  return { label, value: median, min: sorted[0], max: sorted[sorted.length - 1] };
}
