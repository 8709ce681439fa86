/**
 * Benchmark 4: lookups per second on a log of many segments.
 *
 * - by offset: `read(offset, 4 KiB)` at uniformly random offsets, what a consumer's first fetch
 *   after a seek costs: pick the segment, binary-search its offset index, scan batch headers from
 *   the entry found, read the batch.
 * - by timestamp: `findOffsetByTimestamp(t)` at uniformly random record times, what ListOffsets by
 *   time (and a consumer seeking to a date) costs: skip segments by max timestamp, search the time
 *   index, find the batch, decode records until one is at or after t.
 *
 * The log is built once: batches of 10 records of 100 bytes (≈1.1 KiB each, so an offset index
 * entry every 4 batches at index.interval.bytes 4096), with record timestamps T0 + offset, so the
 * right answer to every lookup is known and checked. Everything is in the page cache: this is the
 * CPU and syscall cost of a lookup, not the disk's seek time.
 */

import assert from 'node:assert';
import path from 'node:path';
import type { RecordInput } from '../common/record-batch.ts';
import { encodeRecordBatch } from '../common/record-batch.ts';
import { NEVER, resolveLogConfig } from '../broker/storage/log-config.ts';
import { PartitionLog } from '../broker/storage/partition-log.ts';
import type { BenchContext, Benchmark, Figure, Measurement } from './benchmark.ts';
import { figureOf } from './benchmark.ts';
import { LatencyRecorder } from './latency.ts';
import { formatBytes } from './report.ts';
import { createBenchDir } from './tmp-dir.ts';
import { createRandom, randomIntBetween, recordsOf } from './workload.ts';

const MiB = 1024 * 1024;
const RECORD_VALUE_BYTES = 100;
const BATCH_RECORDS = 10;
const READ_MAX_BYTES = 4096;
const INDEX_INTERVAL_BYTES = 4096;
/** Any fixed instant: timestamps only need to be known, not current. */
const T0 = Date.UTC(2026, 0, 1);

interface LookupPlan {
  readonly logBytes: number;
  readonly segmentBytes: number;
  readonly rounds: number;
  readonly offsetLookups: number;
  readonly timestampLookups: number;
}
const fullPlan: LookupPlan = { logBytes: 256 * MiB, segmentBytes: 16 * MiB, rounds: 3, offsetLookups: 200_000, timestampLookups: 20_000 };
const quickPlan: LookupPlan = { logBytes: 64 * MiB, segmentBytes: 4 * MiB, rounds: 2, offsetLookups: 50_000, timestampLookups: 5_000 };

export const storageLookup: Benchmark = {
  name: 'storage-lookup',
  title: 'storage-lookup: reads at random offsets and timestamps on a many-segment log',
  async run(context: BenchContext): Promise<Measurement[]> {
    const plan = context.isQuick ? quickPlan : fullPlan;
    const dir = createBenchDir('lookup');
    try {
      context.progress(`building a ${formatBytes(plan.logBytes)} log of ${formatBytes(plan.segmentBytes)} segments`);
      const log = buildLog(path.join(dir.path, 'bench-0'), plan);
      const byOffset: number[] = [];
      const byTimestamp: number[] = [];
      const offsetLatency = new LatencyRecorder();
      const timestampLatency = new LatencyRecorder();
      for (let round = 0; round < plan.rounds; round++) {
        context.progress(`lookups, round ${round + 1}/${plan.rounds}`);
        byOffset.push(lookUpOffsets(log, plan.offsetLookups, 1000 + round, offsetLatency));
        byTimestamp.push(lookUpTimestamps(log, plan.timestampLookups, 2000 + round, timestampLatency));
      }
      const settings = {
        log: `${formatBytes(plan.logBytes)} in ${log.segments.length} segments`,
        'segment.bytes': formatBytes(plan.segmentBytes),
        batch: `${BATCH_RECORDS} records of ${RECORD_VALUE_BYTES} B`,
        'index.interval.bytes': String(INDEX_INTERVAL_BYTES),
        cache: 'page cache warm',
      };
      await log.delete();
      return [
        {
          benchmark: storageLookup.name,
          case: 'read(offset, 4 KiB) at random offsets',
          settings: { ...settings, lookups: `${plan.offsetLookups.toLocaleString('en-US')} × ${plan.rounds}` },
          figures: [figureOf('lookups/s', byOffset), ...percentiles(offsetLatency)],
        },
        {
          benchmark: storageLookup.name,
          case: 'findOffsetByTimestamp at random times',
          settings: { ...settings, lookups: `${plan.timestampLookups.toLocaleString('en-US')} × ${plan.rounds}` },
          figures: [figureOf('lookups/s', byTimestamp), ...percentiles(timestampLatency)],
        },
      ];
    } finally {
      dir.remove();
    }
  },
};

/** Appends batches until the log holds `plan.logBytes`; record at offset o has timestamp T0 + o. */
function buildLog(dir: string, plan: LookupPlan): PartitionLog {
  const config = resolveLogConfig({ segmentBytes: plan.segmentBytes, indexIntervalBytes: INDEX_INTERVAL_BYTES, flushMessages: NEVER, flushMs: NEVER });
  const log = PartitionLog.open({ dir, config });
  const values = recordsOf(BATCH_RECORDS, RECORD_VALUE_BYTES);
  const records: RecordInput[] = values.map((record) => ({ ...record }));
  let sizeBytes = 0;
  while (sizeBytes < plan.logBytes) {
    const baseTimestamp = T0 + log.nextOffset;
    for (let i = 0; i < BATCH_RECORDS; i++) records[i].timestamp = baseTimestamp + i;
    sizeBytes += log.append(encodeRecordBatch({ records, baseTimestamp })).sizeBytes;
  }
  return log;
}

function lookUpOffsets(log: PartitionLog, lookups: number, seed: number, latency: LatencyRecorder): number {
  const random = createRandom(seed);
  const end = log.nextOffset;
  const startMs = performance.now();
  for (let i = 0; i < lookups; i++) {
    const offset = randomIntBetween(random, 0, end);
    const beforeMs = performance.now();
    const read = log.read(offset, READ_MAX_BYTES);
    latency.recordMs(performance.now() - beforeMs);
    assert(read !== null && read.firstOffset <= offset && offset <= read.lastOffset, `read(${offset}) missed it`);
  }
  return lookups / ((performance.now() - startMs) / 1000);
}

function lookUpTimestamps(log: PartitionLog, lookups: number, seed: number, latency: LatencyRecorder): number {
  const random = createRandom(seed);
  const end = log.nextOffset;
  const startMs = performance.now();
  for (let i = 0; i < lookups; i++) {
    const offset = randomIntBetween(random, 0, end);
    const beforeMs = performance.now();
    const found = log.findOffsetByTimestamp(T0 + offset);
    latency.recordMs(performance.now() - beforeMs);
    assert(found !== null && found.offset === offset, `findOffsetByTimestamp(T0 + ${offset}) answered ${found?.offset}`);
  }
  return lookups / ((performance.now() - startMs) / 1000);
}

function percentiles(latency: LatencyRecorder): Figure[] {
  return [
    { label: 'p50 µs', value: latency.percentileUs(50) },
    { label: 'p99 µs', value: latency.percentileUs(99) },
    { label: 'max µs', value: latency.maxUs },
  ];
}
