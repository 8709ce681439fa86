/**
 * The comparison (`npm run bench -- compare`, `minikafka bench`): the same workloads on minikafka
 * and its peers, one after another on this machine in one run, beside the limits of the hardware.
 * One module per system (bench/peers/, bench/limits/) implements the workloads of
 * bench/peers/workload.ts over its own client; the drivers that time them are shared.
 *
 * Systems run one at a time (never beside each other: each would take the other's CPU and disk),
 * each starting and stopping its own servers. A system that cannot be had here (not installed and
 * not installable) gets a row per workload saying so, and the rest runs. The order of `systems`
 * is the order of the table and the chart.
 *
 * `comparisonRows()` turns the measurements into the rows the JSON results carry, one per system
 * and workload case:
 *
 *   { system, workload, recordsPerSec, mbPerSec, p50Ms, p99Ms, p999Ms, settings, case }
 *
 * with `p…Ms` null where a workload has no latency (consume, a stream of bytes) and every figure
 * null in a row that did not run (its settings say why, under `not run`).
 */

import os from 'node:os';
import type { Benchmark, Measurement } from './benchmark.ts';
import { formatTable } from './report.ts';
import { loopback } from './limits/loopback.ts';
import { rawDisk } from './limits/raw-disk.ts';
import { notRunMeasurement } from './peers/measure.ts';
import { minikafka } from './peers/minikafka.ts';
import { natsJetstream } from './peers/nats-jetstream.ts';
import { redisStreams } from './peers/redis-streams.ts';
import type { ComparisonMeasurement, SystemBench, SystemName, WorkloadName } from './peers/workload.ts';
import { FULL_SIZES, QUICK_SIZES, SystemUnavailableError, WORKLOADS } from './peers/workload.ts';

const systems: readonly SystemBench[] = [minikafka, redisStreams, natsJetstream, rawDisk, loopback];

export interface ComparisonRow {
  readonly system: SystemName;
  readonly workload: WorkloadName;
  readonly recordsPerSec: number | null;
  readonly mbPerSec: number | null;
  readonly p50Ms: number | null;
  readonly p99Ms: number | null;
  readonly p999Ms: number | null;
  readonly settings: Readonly<Record<string, string>>;
  /** Which of a system's cases this is, as the table prints it: `raw-disk produce (1 MiB writes, no fsync)`. */
  readonly case: string;
}

export const compare: Benchmark = {
  name: 'compare',
  title: 'Comparison: the same workloads on minikafka, Redis Streams, NATS JetStream, the raw disk and loopback TCP',
  async run(benchContext) {
    const context = { ...benchContext, sizes: benchContext.isQuick ? QUICK_SIZES : FULL_SIZES };
    const results: ComparisonMeasurement[] = [];
    for (const system of systems) {
      const startMs = performance.now();
      const loadBefore = os.loadavg()[0];
      try {
        const rows = await system.run(context);
        // This machine may be shared: a load that rose during a system's run says its rows were disturbed.
        const load = `${loadBefore.toFixed(2)} → ${os.loadavg()[0].toFixed(2)}`;
        results.push(...rows.map((row) => (row.figures.length === 0 ? row : { ...row, settings: { ...row.settings, 'load 1m': load } })));
      } catch (error) {
        const reason = error instanceof SystemUnavailableError ? error.message : `failed: ${error instanceof Error ? error.message : String(error)}`;
        context.progress(`${system.system}: not run: ${reason}`);
        for (const workload of system.workloads) results.push(notRunMeasurement({ system: system.system, workload, caseName: `${system.system} ${workload}` }, reason));
      }
      context.progress(`${system.system} took ${((performance.now() - startMs) / 1000).toFixed(1)} s`);
    }
    return results;
  },
};

/**
 * The comparison for a terminal: one table per workload (so each has only the settings columns
 * its rows have), and the settings every row of a table shares printed once above it.
 */
export function formatComparison(title: string, measurements: readonly Measurement[]): string {
  const comparison = measurements.filter(isComparisonMeasurement);
  const tables = WORKLOADS.map((workload) => {
    const rows = comparison.filter((m) => m.workload === workload);
    if (rows.length === 0) return '';
    // Rows that did not run have no settings but the reason: they share nothing, and hide nothing.
    const ran = rows.filter((m) => m.figures.length > 0);
    const shared = ran.length < 2 ? [] : Object.entries(ran[0].settings).filter(([name, value]) => ran.every((m) => m.settings[name] === value));
    const sharedNames = new Set(shared.map(([name]) => name));
    const trimmed = rows.map((m) => ({ ...m, settings: Object.fromEntries(Object.entries(m.settings).filter(([name]) => !sharedNames.has(name))) }));
    const sharedLine = shared.length === 0 ? '' : `\n\nevery row: ${shared.map(([name, value]) => `${name} ${value}`).join(' · ')}`;
    return formatTable(`${workload}${sharedLine}`, trimmed);
  });
  return [`# ${title}`, '', ...tables.filter((table) => table !== '')].join('\n');
}

function isComparisonMeasurement(measurement: Measurement): measurement is ComparisonMeasurement {
  return measurement.benchmark === compare.name && 'system' in measurement && 'workload' in measurement;
}

/** The comparison's rows among `measurements` (empty when the comparison did not run). */
export function comparisonRows(measurements: readonly Measurement[]): ComparisonRow[] {
  return measurements.filter(isComparisonMeasurement).map((m) => {
    const figure = (label: string): number | null => m.figures.find((f) => f.label === label)?.value ?? null;
    return {
      system: m.system,
      workload: m.workload,
      recordsPerSec: roundTo(figure('records/s'), 0),
      mbPerSec: roundTo(figure('MB/s'), 2),
      p50Ms: roundTo(figure('p50 ms'), 4),
      p99Ms: roundTo(figure('p99 ms'), 4),
      p999Ms: roundTo(figure('p99.9 ms'), 4),
      settings: m.settings,
      case: m.case,
    };
  });
}

function roundTo(value: number | null, digits: number): number | null {
  return value === null ? null : Number(value.toFixed(digits));
}
