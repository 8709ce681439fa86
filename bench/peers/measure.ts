/**
 * Rounds and rows: runs a driver (drivers.ts) the number of rounds the mode asks for and turns the
 * rounds into one ComparisonMeasurement, with every setting beside the figures. A workload that
 * fails becomes a row saying so, and the rest of the comparison runs.
 *
 * Figures are medians over rounds with their range; latency percentiles are each round's, and
 * the row shows their median over rounds.
 */

import type { Figure } from '../benchmark.ts';
import { figureOf } from '../benchmark.ts';
import { consumeRound, e2eLatencyRun, latencyFigures, produceRound } from './drivers.ts';
import type { ProduceRound } from './drivers.ts';
import type { StreamClient } from './stream-client.ts';
import type { ComparisonMeasurement, CompareContext, SystemName, WorkloadName } from './workload.ts';
import { VALUE_BYTES, formatCount, recordSettings } from './workload.ts';

/** Which row a measurement is, and the settings its system module gives it. */
export interface RowSpec {
  readonly system: SystemName;
  readonly workload: WorkloadName;
  /** What is printed in the table's first column: `redis-streams produce (appendfsync everysec)`. */
  readonly caseName: string;
  readonly settings: Readonly<Record<string, string>>;
}

export function comparisonMeasurement(row: RowSpec, figures: Figure[], settings: Readonly<Record<string, string>>): ComparisonMeasurement {
  return { benchmark: 'compare', case: row.caseName, system: row.system, workload: row.workload, settings: { ...settings, ...row.settings }, figures };
}

/** A row without figures: the workload did not run, and why. */
export function notRunMeasurement(row: Omit<RowSpec, 'settings'>, reason: string): ComparisonMeasurement {
  return { benchmark: 'compare', case: row.caseName, system: row.system, workload: row.workload, settings: { 'not run': reason }, figures: [] };
}

/** Runs `measure`; if it throws, the row says why instead, and the comparison goes on. */
export async function attempt(row: Omit<RowSpec, 'settings'>, context: CompareContext, measure: () => Promise<ComparisonMeasurement>): Promise<ComparisonMeasurement> {
  try {
    return await measure();
  } catch (error) {
    const reason = `failed: ${error instanceof Error ? error.message : String(error)}`;
    context.progress(`${row.caseName}: ${reason}`);
    return notRunMeasurement(row, reason);
  }
}

/**
 * Runs `use` (which pushes rows onto `results`); if it throws, for instance because its server
 * would not start, each of `rows` it had not pushed yet becomes a row saying why.
 */
export async function runOrMarkNotRun(rows: ReadonlyArray<Omit<RowSpec, 'settings'>>, results: ComparisonMeasurement[], context: CompareContext, use: () => Promise<void>): Promise<void> {
  try {
    await use();
  } catch (error) {
    const reason = `failed: ${error instanceof Error ? error.message : String(error)}`;
    for (const row of rows) {
      if (results.some((result) => result.case === row.caseName)) continue;
      context.progress(`${row.caseName}: ${reason}`);
      results.push(notRunMeasurement(row, reason));
    }
  }
}

function roundsSetting(context: CompareContext): string {
  return context.sizes.rounds === 1 ? '1' : `${context.sizes.rounds} (median [min–max])`;
}

/** produce or produce-fsync: a warm-up, then the rounds, all appended to `stream`. */
export async function measureProduce(client: StreamClient, stream: string, row: RowSpec, context: CompareContext): Promise<ComparisonMeasurement> {
  return produceMeasurement(row, await produceRounds(client, stream, row, context), context);
}

/** The warm-up and the rounds of measureProduce; `beforeEachRound` runs just before each round starts (unmeasured). */
export async function produceRounds(client: StreamClient, stream: string, row: RowSpec, context: CompareContext, beforeEachRound?: () => void): Promise<ProduceRound[]> {
  const { sizes } = context;
  await client.createStream(stream);
  context.progress(`${row.caseName}: warm-up, ${formatCount(sizes.warmupRecordCount)} records`);
  await produceRound(client, stream, sizes.warmupRecordCount, sizes);
  const rounds = [];
  for (let round = 0; round < sizes.rounds; round++) {
    context.progress(`${row.caseName}: round ${round + 1} of ${sizes.rounds}, ${formatCount(sizes.recordCount)} records`);
    beforeEachRound?.();
    rounds.push(await produceRound(client, stream, sizes.recordCount, sizes));
  }
  return rounds;
}

/** The row of produce rounds: throughput and latency figures, with the settings that go with them. */
export function produceMeasurement(row: RowSpec, rounds: readonly ProduceRound[], context: CompareContext): ComparisonMeasurement {
  const { sizes } = context;
  const figures = [
    figureOf('records/s', rounds.map((r) => r.recordCount / (r.elapsedMs / 1000))),
    figureOf('MB/s', rounds.map((r) => r.bytes / 1e6 / (r.elapsedMs / 1000))),
    ...latencyFigures(rounds.map((r) => r.latencies)),
  ];
  return comparisonMeasurement(row, figures, {
    ...recordSettings(sizes.recordCount),
    rounds: roundsSetting(context),
    'warm-up': `${formatCount(sizes.warmupRecordCount)} records`,
    latency: 'per record, send() to its acknowledgement',
  });
}

/**
 * consume: first a warm-up group reads `warmupRecordCount` records (not measured, as produce's
 * warm-up: the client's code paths get compiled before the clock runs), then each round a new
 * group reads `recordCount` records from the start of `stream`.
 */
export async function measureConsume(client: StreamClient, stream: string, row: RowSpec, context: CompareContext): Promise<ComparisonMeasurement> {
  const { sizes } = context;
  const warmupCount = Math.min(sizes.warmupRecordCount, sizes.recordCount);
  context.progress(`${row.caseName}: warm-up, ${formatCount(warmupCount)} records`);
  await consumeRound(client, stream, 'consume-warm-up', warmupCount);
  const rounds = [];
  for (let round = 0; round < sizes.rounds; round++) {
    context.progress(`${row.caseName}: round ${round + 1} of ${sizes.rounds}, ${formatCount(sizes.recordCount)} records`);
    rounds.push(await consumeRound(client, stream, `consume-${round}`, sizes.recordCount));
  }
  const figures = [
    figureOf('records/s', rounds.map((r) => r.recordCount / (r.fetchMs / 1000))),
    figureOf('MB/s', rounds.map((r) => r.bytes / 1e6 / (r.fetchMs / 1000))),
    figureOf('fetch ms', rounds.map((r) => r.fetchMs)),
    figureOf('join ms', rounds.map((r) => r.joinMs)),
  ];
  return comparisonMeasurement(row, figures, {
    ...recordSettings(sizes.recordCount),
    rounds: roundsSetting(context),
    'warm-up': `${formatCount(warmupCount)} records read by a group of their own, not measured`,
    'records/s over': 'fetch time, group join apart',
  });
}

/** e2e-latency: one run at the fixed rate on a new stream. */
export async function measureE2eLatency(client: StreamClient, stream: string, row: RowSpec, context: CompareContext): Promise<ComparisonMeasurement> {
  const { sizes } = context;
  context.progress(`${row.caseName}: ${formatCount(sizes.e2eRatePerSec)} records/s for ${(sizes.e2eWarmupMs + sizes.e2eDurationMs) / 1000} s`);
  const run = await e2eLatencyRun(client, stream, 'e2e', sizes);
  const recordsPerSec = run.measuredRecordCount / (run.measuredMs / 1000);
  const figures = [figureOf('records/s', [recordsPerSec]), figureOf('MB/s', [(recordsPerSec * VALUE_BYTES) / 1e6]), ...latencyFigures([run.latencies])];
  return comparisonMeasurement(row, figures, {
    records: `${formatCount(sizes.e2eRatePerSec)}/s for ${sizes.e2eDurationMs / 1000} s (+${sizes.e2eWarmupMs / 1000} s warm-up, not counted)`,
    record: recordSettings(0).record,
    sends: 'every 1 ms timer tick, the records due by then',
    latency: 'send time (in the record) to arrival at the consumer, one clock',
    ...(run.behindTicks > 0 ? { 'fell behind': `${run.behindTicks} ticks waited for acknowledgements` } : {}),
  });
}
