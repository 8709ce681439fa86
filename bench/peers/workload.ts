/**
 * The comparison's vocabulary: which systems and workloads there are, how big each workload is
 * in quick and full mode, and the measurement every system returns.
 *
 * Workloads, as Kafka's perf tools name them (kafka-producer-perf-test, kafka-consumer-perf-test,
 * EndToEndLatency):
 *
 * | workload      | what is measured                                                                |
 * |---------------|---------------------------------------------------------------------------------|
 * | produce       | records/s and MB/s of a producer appending as fast as acknowledgements allow, and each record's latency from send to acknowledgement; the acknowledgement does not wait for an fsync |
 * | produce-fsync | the same, where the acknowledgement waits for an fsync covering the record       |
 * | consume       | records/s and MB/s of one consumer reading what produce wrote, from the start, over the fetch time; the group join is timed apart |
 * | e2e-latency   | a producer at a fixed rate and a consumer in one process, on one clock: each record carries its send time, the consumer subtracts it from its arrival time |
 *
 * Records are 100-byte values without a key (MB = 10^6 bytes of values). Every system runs the
 * same workload with the same sizes in the same run; each module (one per system) maps the
 * workload onto its own client, and says in its settings what that mapping was and what an
 * acknowledgement means there.
 */

import { createRequire } from 'node:module';
import type { BenchContext, Measurement } from '../benchmark.ts';

export const SYSTEMS = ['minikafka', 'redis-streams', 'nats-jetstream', 'raw-disk', 'loopback'] as const;
export type SystemName = (typeof SYSTEMS)[number];

export const WORKLOADS = ['produce', 'produce-fsync', 'consume', 'e2e-latency'] as const;
export type WorkloadName = (typeof WORKLOADS)[number];

/** Kafka's perf tools, and the targets this comparison is read against, use 100-byte records. */
export const VALUE_BYTES = 100;

/** A measurement that knows which system and workload it belongs to: one row of the comparison. */
export interface ComparisonMeasurement extends Measurement {
  readonly system: SystemName;
  readonly workload: WorkloadName;
}

export interface WorkloadSizes {
  /** Records per produce round, and per consume round. */
  readonly recordCount: number;
  /** Produce and consume rounds; the figures are medians over them with their range. */
  readonly rounds: number;
  /** Records sent before the first round and not measured: the JIT and the server warm up. */
  readonly warmupRecordCount: number;
  /** Records per send (a Redis pipeline, a window of NATS publishes): the batch. */
  readonly batchRecords: number;
  /** Batches sent and not yet acknowledged, at most. */
  readonly inFlightBatches: number;
  readonly e2eRatePerSec: number;
  /** Measured time of the e2e-latency workload, after its warm-up. */
  readonly e2eDurationMs: number;
  readonly e2eWarmupMs: number;
  /**
   * Rounds of the limits (raw disk, loopback): cheap, and the page cache of this kind of VM
   * stalls now and then for a whole round, so never fewer than three.
   */
  readonly limitRounds: number;
  /** Bytes of the raw-disk append without fsync (and of the loopback stream). */
  readonly rawBytes: number;
  /** Bytes of the raw-disk append with an fsync per write: fsyncs are slow. */
  readonly rawFsyncBytes: number;
}

export const QUICK_SIZES: WorkloadSizes = {
  recordCount: 200_000,
  rounds: 1,
  warmupRecordCount: 20_000,
  batchRecords: 1000,
  inFlightBatches: 4,
  e2eRatePerSec: 10_000,
  e2eDurationMs: 3000,
  e2eWarmupMs: 500,
  limitRounds: 3,
  rawBytes: 256 * 2 ** 20,
  rawFsyncBytes: 128 * 2 ** 20,
};

export const FULL_SIZES: WorkloadSizes = {
  recordCount: 1_000_000,
  rounds: 3,
  warmupRecordCount: 100_000,
  batchRecords: 1000,
  inFlightBatches: 4,
  e2eRatePerSec: 10_000,
  e2eDurationMs: 20_000,
  e2eWarmupMs: 1000,
  limitRounds: 3,
  rawBytes: 512 * 2 ** 20,
  rawFsyncBytes: 256 * 2 ** 20,
};

export interface CompareContext extends BenchContext {
  readonly sizes: WorkloadSizes;
}

/**
 * One system's part of the comparison: it starts what it needs, runs the workloads it has and
 * stops everything it started. It throws SystemUnavailableError when it cannot be had at all.
 */
export interface SystemBench {
  readonly system: SystemName;
  /** The workloads it runs: when the system cannot run at all, each gets a row saying why. */
  readonly workloads: readonly WorkloadName[];
  run(context: CompareContext): Promise<ComparisonMeasurement[]>;
}

/** The system cannot run on this machine (not installed, cannot be installed): the bench says so and runs the rest. */
export class SystemUnavailableError extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'SystemUnavailableError';
  }
}

/** `1,000,000`: counts in settings are printed exactly. */
export function formatCount(count: number): string {
  return count.toLocaleString('en-US');
}

/** The settings every row of a record-carrying workload starts with. */
export function recordSettings(recordCount: number): Record<string, string> {
  return { records: formatCount(recordCount), record: `${VALUE_BYTES} B value, no key` };
}

/** The installed version of an npm package (`ioredis 5.11.1`), for the settings. */
export function clientVersion(packageName: string): string {
  try {
    const { version } = createRequire(import.meta.url)(`${packageName}/package.json`) as { version: string };
    return `${packageName} ${version}`;
  } catch {
    return packageName;
  }
}
