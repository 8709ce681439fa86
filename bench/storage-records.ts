/**
 * Benchmark 2: small records through the whole storage path, in records per second.
 *
 * Records of 100-byte values go round the loop a producer and a consumer drive:
 *
 *   encodeRecordBatch → PartitionLog.append → PartitionLog.read → decodeRecordBatch
 *
 * in batches of 100 and of 1000 records. Each stage is timed on its own (the sum of its calls),
 * and the whole loop by the wall clock, so the table shows which stage bounds the loop. Nothing
 * is fsynced (flush never): this measures CPU per record, not the disk. Reads fetch up to
 * max.partition.fetch.bytes' default of 1 MiB at a time, from the page cache the appends filled.
 */

import assert from 'node:assert';
import path from 'node:path';
import type { RecordInput } from '../common/record-batch.ts';
import { decodeRecordBatch, encodeRecordBatch, iterateRecordBatches } from '../common/record-batch.ts';
import { NEVER, resolveLogConfig } from '../broker/storage/log-config.ts';
import { PartitionLog } from '../broker/storage/partition-log.ts';
import type { BenchContext, Benchmark, Measurement } from './benchmark.ts';
import { figureOf } from './benchmark.ts';
import { formatBytes } from './report.ts';
import { createBenchDir } from './tmp-dir.ts';
import { recordsOf } from './workload.ts';

const MiB = 1024 * 1024;
const RECORD_VALUE_BYTES = 100;
const READ_MAX_BYTES = MiB;
const SEGMENT_BYTES = 1024 * MiB;

interface RecordsPlan {
  readonly rounds: number;
  readonly recordsPerRound: number;
}
const fullPlan: RecordsPlan = { rounds: 3, recordsPerRound: 2_000_000 };
const quickPlan: RecordsPlan = { rounds: 2, recordsPerRound: 200_000 };

interface StageTimes {
  readonly records: number;
  readonly logBytes: number;
  readonly encodeMs: number;
  readonly appendMs: number;
  readonly readMs: number;
  readonly decodeMs: number;
  readonly wallMs: number;
}

export const storageRecords: Benchmark = {
  name: 'storage-records',
  title: 'storage-records: 100-byte records through encode, append, read, decode',
  async run(context: BenchContext): Promise<Measurement[]> {
    const plan = context.isQuick ? quickPlan : fullPlan;
    const measurements: Measurement[] = [];
    for (const batchRecords of [100, 1000]) {
      const records = recordsOf(batchRecords, RECORD_VALUE_BYTES);
      // A short unmeasured pass, so the first round does not pay for the JIT.
      await runLoop(records, Math.min(plan.recordsPerRound, 100_000));
      const rounds: StageTimes[] = [];
      for (let round = 0; round < plan.rounds; round++) {
        context.progress(`records in batches of ${batchRecords}, round ${round + 1}/${plan.rounds}`);
        rounds.push(await runLoop(records, plan.recordsPerRound));
      }
      measurements.push(toMeasurement(batchRecords, encodeRecordBatch({ records }).length, plan, rounds));
    }
    return measurements;
  },
};

/** Encodes and appends `totalRecords` records, then reads and decodes them all back. */
async function runLoop(records: readonly RecordInput[], totalRecords: number): Promise<StageTimes> {
  const dir = createBenchDir('records');
  const config = resolveLogConfig({ segmentBytes: SEGMENT_BYTES, flushMessages: NEVER, flushMs: NEVER });
  const log = PartitionLog.open({ dir: path.join(dir.path, 'bench-0'), config });
  const batches = Math.ceil(totalRecords / records.length);
  let encodeMs = 0;
  let appendMs = 0;
  let readMs = 0;
  let decodeMs = 0;
  const wallStartMs = performance.now();
  for (let i = 0; i < batches; i++) {
    const t0 = performance.now();
    const batch = encodeRecordBatch({ records });
    const t1 = performance.now();
    log.append(batch);
    const t2 = performance.now();
    encodeMs += t1 - t0;
    appendMs += t2 - t1;
  }
  let offset = 0;
  let decodedRecords = 0;
  let valueBytes = 0;
  while (offset < log.nextOffset) {
    const t0 = performance.now();
    const read = log.read(offset, READ_MAX_BYTES);
    const t1 = performance.now();
    assert(read !== null, `nothing to read at offset ${offset} below the log end ${log.nextOffset}`);
    for (const { position } of iterateRecordBatches(read.bytes)) {
      // Touch every value, as a consumer would, so no stage can be skipped unseen.
      for (const record of decodeRecordBatch(read.bytes, position).records) valueBytes += record.value!.length;
    }
    const t2 = performance.now();
    readMs += t1 - t0;
    decodeMs += t2 - t1;
    decodedRecords += read.lastOffset - offset + 1;
    offset = read.lastOffset + 1;
  }
  const wallMs = performance.now() - wallStartMs;
  const appendedRecords = batches * records.length;
  assert.equal(decodedRecords, appendedRecords, 'every appended record was read back');
  assert.equal(valueBytes, appendedRecords * RECORD_VALUE_BYTES, 'every value was decoded whole');
  const logBytes = log.sizeBytes;
  await log.delete();
  dir.remove();
  return { records: appendedRecords, logBytes, encodeMs, appendMs, readMs, decodeMs, wallMs };
}

function toMeasurement(batchRecords: number, batchBytes: number, plan: RecordsPlan, rounds: readonly StageTimes[]): Measurement {
  const perSecond = (pick: (times: StageTimes) => number): number[] => rounds.map((times) => times.records / (pick(times) / 1000));
  return {
    benchmark: storageRecords.name,
    case: `batches of ${batchRecords} records`,
    settings: {
      'record value': `${RECORD_VALUE_BYTES} B, null key, no headers`,
      batch: `${batchRecords} records (${formatBytes(batchBytes)})`,
      'flush policy': 'none (page cache only)',
      'segment.bytes': formatBytes(SEGMENT_BYTES),
      'read maxBytes': formatBytes(READ_MAX_BYTES),
      records: `${plan.recordsPerRound.toLocaleString('en-US')} × ${plan.rounds}`,
    },
    figures: [
      figureOf('encode rec/s', perSecond((t) => t.encodeMs)),
      figureOf('append rec/s', perSecond((t) => t.appendMs)),
      figureOf('read rec/s', perSecond((t) => t.readMs)),
      figureOf('decode rec/s', perSecond((t) => t.decodeMs)),
      figureOf('whole loop rec/s', perSecond((t) => t.wallMs)),
      figureOf('whole loop MiB/s', rounds.map((t) => t.logBytes / MiB / (t.wallMs / 1000))),
    ],
  };
}
