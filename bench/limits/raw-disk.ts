/**
 * The disk as a limit: sequential appends to one file with `fs.writeSync` (no log, no records,
 * no network), in the same run and on the same filesystem as the systems compared, so a row of
 * minikafka can be read as a fraction of what the disk gave at that moment.
 *
 * | row           | writes                        | what "acknowledged" means                        |
 * |---------------|-------------------------------|--------------------------------------------------|
 * | produce       | 1 MiB, no fsync               | write() returned: the bytes are in the page cache |
 * | produce       | 1 MiB, one fsync at the end   | the whole file is on disk when the last fsync returns (its time is counted) |
 * | produce-fsync | 1 MiB, fsync after each write | each write is on disk before the next            |
 * | produce-fsync | 1,000 records' worth (100,000 B), fsync after each | the peers' batch, made durable one by one |
 * | consume       | 1 MiB reads of the file just written | from the page cache                        |
 *
 * records/s is bytes ÷ 100 B: how many 100-byte values that many bytes would carry (a record in a
 * Kafka batch takes about 110 B). Latencies are per write (per read), not per record. fsync is
 * `fs.fsyncSync`, the call the storage benchmarks' raw baseline uses.
 */

import fs from 'node:fs';
import path from 'node:path';
import type { Figure } from '../benchmark.ts';
import { figureOf } from '../benchmark.ts';
import { formatBytes } from '../report.ts';
import { benchDataRoot, createBenchDir, filesystemOf } from '../tmp-dir.ts';
import { createRandom } from '../workload.ts';
import { RecordLatencies, latencyFigures } from '../peers/drivers.ts';
import type { RowSpec } from '../peers/measure.ts';
import { attempt, comparisonMeasurement } from '../peers/measure.ts';
import type { ComparisonMeasurement, CompareContext, SystemBench } from '../peers/workload.ts';
import { VALUE_BYTES, formatCount } from '../peers/workload.ts';

const MiB = 2 ** 20;
type FsyncPolicy = 'none' | 'end' | 'each';

export interface AppendRound {
  readonly bytes: number;
  readonly elapsedMs: number;
  readonly latencies: RecordLatencies;
}

function randomBuffer(bytes: number): Buffer {
  const random = createRandom(11);
  const buffer = Buffer.allocUnsafe(bytes);
  for (let i = 0; i < bytes; i++) buffer[i] = (random() * 256) | 0;
  return buffer;
}

/** Appends `totalBytes` in writes of `buffer.length` to a new file at `file`. */
function appendRound(file: string, buffer: Buffer, totalBytes: number, fsync: FsyncPolicy): AppendRound {
  const latencies = new RecordLatencies();
  const fd = fs.openSync(file, 'w');
  const startMs = performance.now();
  try {
    for (let position = 0; position < totalBytes; position += buffer.length) {
      const writeStartMs = performance.now();
      const length = Math.min(buffer.length, totalBytes - position);
      fs.writeSync(fd, buffer, 0, length, position);
      if (fsync === 'each') fs.fsyncSync(fd);
      latencies.recordMs(performance.now() - writeStartMs, 1);
    }
    if (fsync === 'end') fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  return { bytes: totalBytes, elapsedMs: performance.now() - startMs, latencies };
}

/**
 * The raw reference measured beside a broker's log, round for round (minikafka's 1 MiB-batch
 * row): one file that only grows, appended to with writeSync and no fsync, kept until the row
 * ends. It takes fresh page-cache memory for every byte as the log does; a file written, deleted
 * and written again (the raw-disk rows) reuses pages just freed, which on this VM is up to ten
 * times faster (bench/README.md).
 */
export class GrowingFile {
  readonly #dir = createBenchDir('raw-beside');
  readonly #fd = fs.openSync(path.join(this.#dir.path, 'append.bin'), 'w');
  #size = 0;

  /** Appends `totalBytes` in writes of `buffer.length` at the file's end. */
  append(buffer: Buffer, totalBytes: number): AppendRound {
    const latencies = new RecordLatencies();
    const startMs = performance.now();
    for (let written = 0; written < totalBytes; written += buffer.length) {
      const writeStartMs = performance.now();
      const length = Math.min(buffer.length, totalBytes - written);
      fs.writeSync(this.#fd, buffer, 0, length, this.#size);
      this.#size += length;
      latencies.recordMs(performance.now() - writeStartMs, 1);
    }
    return { bytes: totalBytes, elapsedMs: performance.now() - startMs, latencies };
  }

  remove(): void {
    fs.closeSync(this.#fd);
    this.#dir.remove();
  }
}

/** Reads `file` from start to end in reads of `buffer.length`. */
function readRound(file: string, buffer: Buffer): AppendRound {
  const latencies = new RecordLatencies();
  const fd = fs.openSync(file, 'r');
  const startMs = performance.now();
  let bytes = 0;
  try {
    for (let count = -1; count !== 0; bytes += count) {
      const readStartMs = performance.now();
      count = fs.readSync(fd, buffer, 0, buffer.length, bytes);
      latencies.recordMs(performance.now() - readStartMs, 1);
    }
  } finally {
    fs.closeSync(fd);
  }
  return { bytes, elapsedMs: performance.now() - startMs, latencies };
}

function throughputFigures(rounds: readonly AppendRound[]): Figure[] {
  return [
    figureOf('records/s', rounds.map((r) => r.bytes / VALUE_BYTES / (r.elapsedMs / 1000))),
    figureOf('MB/s', rounds.map((r) => r.bytes / 1e6 / (r.elapsedMs / 1000))),
  ];
}

interface AppendCase {
  readonly row: Omit<RowSpec, 'settings'>;
  readonly writeBytes: number;
  readonly totalBytes: number;
  readonly fsync: FsyncPolicy;
  readonly ackMeans: string;
}

export const rawDisk: SystemBench = {
  system: 'raw-disk',
  workloads: ['produce', 'produce-fsync', 'consume'],
  async run(context) {
    const { sizes } = context;
    const recordsWorth = sizes.batchRecords * VALUE_BYTES;
    const cases: AppendCase[] = [
      { row: { system: 'raw-disk', workload: 'produce', caseName: 'raw-disk produce (1 MiB writes, no fsync)' }, writeBytes: MiB, totalBytes: sizes.rawBytes, fsync: 'none', ackMeans: 'page cache: write() returned' },
      { row: { system: 'raw-disk', workload: 'produce', caseName: 'raw-disk produce (1 MiB writes, one fsync at the end)' }, writeBytes: MiB, totalBytes: sizes.rawBytes, fsync: 'end', ackMeans: 'on disk when the one fsync at the end returns (counted)' },
      { row: { system: 'raw-disk', workload: 'produce-fsync', caseName: 'raw-disk produce-fsync (1 MiB writes, fsync each)' }, writeBytes: MiB, totalBytes: sizes.rawFsyncBytes, fsync: 'each', ackMeans: 'fsync per write' },
      {
        row: { system: 'raw-disk', workload: 'produce-fsync', caseName: `raw-disk produce-fsync (${formatCount(recordsWorth)} B writes, fsync each)` },
        writeBytes: recordsWorth, totalBytes: sizes.rawFsyncBytes / 4, fsync: 'each', ackMeans: 'fsync per write',
      },
    ];
    const filesystem = filesystemOf(benchDataRoot());
    const results: ComparisonMeasurement[] = [];
    for (const appendCase of cases) results.push(await attempt(appendCase.row, context, async () => measureAppend(appendCase, filesystem, context)));
    const consumeRow = { system: 'raw-disk', workload: 'consume', caseName: 'raw-disk consume (1 MiB reads, page cache)' } as const;
    results.push(await attempt(consumeRow, context, async () => measureRead(consumeRow, filesystem, context)));
    return results;
  },
};

function measureAppend(appendCase: AppendCase, filesystem: string, context: CompareContext): ComparisonMeasurement {
  const buffer = randomBuffer(appendCase.writeBytes);
  const rounds: AppendRound[] = [];
  for (let round = 0; round < context.sizes.limitRounds; round++) {
    context.progress(`${appendCase.row.caseName}: round ${round + 1} of ${context.sizes.limitRounds}, ${formatBytes(appendCase.totalBytes)}`);
    const dir = createBenchDir('raw-disk');
    try {
      rounds.push(appendRound(path.join(dir.path, 'append.bin'), buffer, appendCase.totalBytes, appendCase.fsync));
    } finally {
      dir.remove();
    }
  }
  return comparisonMeasurement({ ...appendCase.row, settings: {} }, [...throughputFigures(rounds), ...latencyFigures(rounds.map((r) => r.latencies))], {
    bytes: formatBytes(appendCase.totalBytes),
    batch: `${formatBytes(appendCase.writeBytes)} per write() at the file's end`,
    rounds: `${context.sizes.limitRounds} (median [min–max])`,
    'ack means': appendCase.ackMeans,
    'records/s': `bytes ÷ ${VALUE_BYTES} B`,
    latency: appendCase.fsync === 'each' ? 'per write, with its fsync' : 'per write',
    filesystem,
  });
}

function measureRead(row: Omit<RowSpec, 'settings'>, filesystem: string, context: CompareContext): ComparisonMeasurement {
  const buffer = randomBuffer(MiB);
  const rounds: AppendRound[] = [];
  const dir = createBenchDir('raw-disk-read');
  try {
    const file = path.join(dir.path, 'read.bin');
    appendRound(file, buffer, context.sizes.rawBytes, 'none');
    for (let round = 0; round < context.sizes.limitRounds; round++) {
      context.progress(`${row.caseName}: round ${round + 1} of ${context.sizes.limitRounds}, ${formatBytes(context.sizes.rawBytes)}`);
      rounds.push(readRound(file, buffer));
    }
  } finally {
    dir.remove();
  }
  return comparisonMeasurement({ ...row, settings: {} }, [...throughputFigures(rounds), figureOf('fetch ms', rounds.map((r) => r.elapsedMs))], {
    bytes: formatBytes(context.sizes.rawBytes),
    fetch: '1 MiB per read(), the file just written (page cache)',
    rounds: `${context.sizes.limitRounds} (median [min–max])`,
    'records/s': `bytes ÷ ${VALUE_BYTES} B`,
    filesystem,
  });
}
