/**
 * `minikafka dump-log` on real segment files: the storage engine writes a partition log with
 * several segments and dense indexes, the broker closes it cleanly, and dump-log must report what
 * was appended, batch for batch and entry for entry; then the files are damaged (a flipped byte, a
 * torn tail, a bad magic byte, broken index entries) and it must say where and why. Two kinds of
 * log need context to read: one the log cleaner compacted (a delete horizon in place of a
 * timestamp, gaps, emptied batches), and `__consumer_offsets`, whose records are group commits.
 */

import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import type { RecordInput } from '../../common/record-batch.ts';
import { encodeRecordBatch } from '../../common/record-batch.ts';
import { BrokerCore } from '../../broker/core/broker-core.ts';
import { encodeSubscription } from '../../broker/groups/consumer-protocol.ts';
import { OFFSETS_TOPIC, encodeGroupMetadataKey, encodeOffsetCommitKey, encodeOffsetCommitValue } from '../../broker/groups/offsets-topic-records.ts';
import { ManualScheduler } from '../../broker/groups/scheduler.ts';
import { ManualClock } from '../../broker/storage/clock.ts';
import { INDEX_SUFFIX, LOG_SUFFIX, TIME_INDEX_SUFFIX, offsetFileName, parseSegmentFileName } from '../../broker/storage/file-names.ts';
import { CleanupPolicyBits, resolveLogConfig } from '../../broker/storage/log-config.ts';
import { LogManager } from '../../broker/storage/log-manager.ts';
import { makeTempDir } from '../helpers/temp-dir.ts';
import { testTopicConfigs } from '../helpers/test-topic-configs.ts';
import type { CliRun } from './cli-harness.ts';
import { runCapturing } from './cli-harness.ts';

const T = 1_700_000_000_000;
const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

interface Appended {
  readonly baseOffset: number;
  readonly lastOffset: number;
  readonly recordCount: number;
  readonly sizeBytes: number;
  readonly compression: 'none' | 'gzip';
  readonly records: RecordInput[];
}

interface Written {
  readonly partitionDir: string;
  readonly appended: Appended[];
  /** Segment files by base offset, in offset order. */
  readonly segments: Array<{ baseOffset: number; log: string; index: string; timeindex: string }>;
}

/** Record sets that cover what dump-log has to show: null keys and values, headers, binary bytes. */
function recordsFor(i: number): RecordInput[] {
  const timestamp = T + i * 100;
  switch (i % 3) {
    case 0:
      return [
        { key: `user-${i}`, value: 'hello world', timestamp, headers: [{ key: 'trace-id', value: `t${i}` }, { key: 'bin', value: Buffer.from([0x00, 0xff]) }] },
        { key: null, value: `value ${i}`, timestamp: timestamp + 1 },
        { key: `user-${i}`, value: null, timestamp: timestamp + 2 },
      ];
    case 1:
      return [
        { key: Buffer.from([0xde, 0xad, 0xbe, 0xef]), value: Buffer.from([1, 2, 3]), timestamp },
        { key: 'multi', value: 'line one\nline two', timestamp: timestamp + 5, headers: { empty: null } },
      ];
    default:
      return [{ key: '0xlooks-like-hex', value: 'ünïcödé ✓', timestamp }];
  }
}

/** Appends 14 batches to `orders-0` with tiny segments and an index entry for every batch. */
async function writeSegments(): Promise<Written> {
  const dataDir = makeTempDir();
  const manager = await LogManager.open({ dataDir });
  const log = manager.openLog('orders', 0, resolveLogConfig({ segmentBytes: 700, indexIntervalBytes: 1 }));
  const appended: Appended[] = [];
  for (let i = 0; i < 14; i++) {
    const records = recordsFor(i);
    const compression = i % 2 === 0 ? 'none' : 'gzip';
    const result = log.append(encodeRecordBatch({ records, compression }));
    appended.push({ baseOffset: result.baseOffset, lastOffset: result.lastOffset, recordCount: result.recordCount, sizeBytes: result.sizeBytes, compression, records });
  }
  await manager.close();
  const partitionDir = path.join(dataDir, 'orders-0');
  const segments = fs.readdirSync(partitionDir)
    .map((name) => parseSegmentFileName(name))
    .filter((parsed) => parsed !== null && parsed.suffix === LOG_SUFFIX)
    .map((parsed) => parsed!.baseOffset)
    .sort((a, b) => a - b)
    .map((baseOffset) => ({
      baseOffset,
      log: path.join(partitionDir, offsetFileName(baseOffset, LOG_SUFFIX)),
      index: path.join(partitionDir, offsetFileName(baseOffset, INDEX_SUFFIX)),
      timeindex: path.join(partitionDir, offsetFileName(baseOffset, TIME_INDEX_SUFFIX)),
    }));
  return { partitionDir, appended, segments };
}

function dumpLog(...args: string[]): Promise<CliRun> {
  return runCapturing(['dump-log', ...args]);
}

interface OffsetsTopicJson {
  type: string | null; keyVersion: number | null; key: Record<string, unknown> | null;
  valueVersion: number | null; value: Record<string, unknown> | null; isTombstone: boolean; error: string | null;
}
interface RecordJson {
  offset: number; timestamp: number; keySizeBytes: number; key: string | null; valueSizeBytes: number; value: string | null;
  headers: Array<{ key: string; value: string | null }>; offsetsTopic?: OffsetsTopicJson;
}
interface BatchJson {
  baseOffset: number; lastOffset: number; recordCount: number; position: number; sizeBytes: number; crcValid: boolean;
  compression: string; maxTimestamp: number; baseTimestamp: number | null; deleteHorizonMs: number | null; timestampType: string; producerId: number;
  records?: RecordJson[] | null;
  recordsError?: string;
}
interface EntryJson { offset: number; position?: number; timestamp?: number; matchesLog: boolean | null; problem: string | null }
interface DocumentJson {
  file: string; kind: string; baseOffset: number | null; sizeBytes: number; validBytes: number; stopReason: string; stopDetail: string | null;
  unreadableBytes?: number; entryCount?: number; logFile?: string | null; batches?: BatchJson[]; entries?: EntryJson[];
}

/** Runs dump-log --json and parses its output: one JSON document per line, one line per file. */
async function dumpJson(...args: string[]): Promise<DocumentJson[]> {
  const { exitCode, stdout, stderr } = await dumpLog('--json', ...args);
  expect(stderr).toBe('');
  expect(exitCode).toBe(0);
  return stdout.trimEnd().split('\n').map((line) => JSON.parse(line) as DocumentJson);
}

/** A copy of one segment's files in a fresh directory, to damage without touching the original. */
function copySegment(segment: Written['segments'][number]): { log: string; index: string; timeindex: string } {
  const dir = makeTempDir();
  const copy = (file: string): string => {
    const target = path.join(dir, path.basename(file));
    fs.copyFileSync(file, target);
    return target;
  };
  return { log: copy(segment.log), index: copy(segment.index), timeindex: copy(segment.timeindex) };
}

function oneErrorLine(stderr: string): void {
  const lines = stderr.trimEnd().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^error: /);
  expect(stderr).not.toMatch(/^\s+at /m);
}

describe('dump-log on a cleanly closed log', () => {
  it('reports every appended batch, segment by segment, with offsets, counts, sizes and valid CRCs', async () => {
    const written = await writeSegments();
    expect(written.segments.length).toBeGreaterThanOrEqual(3);
    const documents = await dumpJson(...written.segments.map((segment) => segment.log));
    expect(documents).toHaveLength(written.segments.length);

    const dumped: BatchJson[] = [];
    for (const [i, document] of documents.entries()) {
      const segment = written.segments[i];
      expect(document).toMatchObject({ file: segment.log, kind: 'log', baseOffset: segment.baseOffset, stopReason: 'end', stopDetail: null, unreadableBytes: 0 });
      expect(document.sizeBytes).toBe(fs.statSync(segment.log).size);
      expect(document.validBytes).toBe(document.sizeBytes);
      let position = 0;
      for (const batch of document.batches!) {
        expect(batch.position).toBe(position);
        expect(batch.crcValid).toBe(true);
        position += batch.sizeBytes;
      }
      expect(position).toBe(document.sizeBytes);
      expect(document.batches![0].baseOffset).toBe(segment.baseOffset);
      dumped.push(...document.batches!);
    }
    expect(dumped.map((batch) => ({ baseOffset: batch.baseOffset, lastOffset: batch.lastOffset, recordCount: batch.recordCount, sizeBytes: batch.sizeBytes, compression: batch.compression })))
      .toEqual(written.appended.map((batch) => ({ baseOffset: batch.baseOffset, lastOffset: batch.lastOffset, recordCount: batch.recordCount, sizeBytes: batch.sizeBytes, compression: batch.compression })));
    for (const [i, batch] of dumped.entries()) {
      const timestamps = written.appended[i].records.map((record) => record.timestamp!);
      expect(batch).toMatchObject({ baseTimestamp: timestamps[0], maxTimestamp: Math.max(...timestamps), timestampType: 'CreateTime', producerId: -1 });
    }
  });

  it('shows each record with its offset, timestamp, text or hex key and value, nulls and headers', async () => {
    const written = await writeSegments();
    const [document] = await dumpJson('--records', written.segments[0].log);
    const first = document.batches![0];
    expect(first.records).toEqual([
      { offset: 0, timestamp: T, keySizeBytes: 6, key: 'user-0', valueSizeBytes: 11, value: 'hello world', headers: [{ key: 'trace-id', value: 't0' }, { key: 'bin', value: '0x00ff' }] },
      { offset: 1, timestamp: T + 1, keySizeBytes: -1, key: null, valueSizeBytes: 7, value: 'value 0', headers: [] },
      { offset: 2, timestamp: T + 2, keySizeBytes: 6, key: 'user-0', valueSizeBytes: -1, value: null, headers: [] },
    ]);
    const gzipped = document.batches![1];
    expect(gzipped.compression).toBe('gzip');
    expect(gzipped.records).toEqual([
      { offset: 3, timestamp: T + 100, keySizeBytes: 4, key: '0xdeadbeef', valueSizeBytes: 3, value: '0x010203', headers: [] },
      // A newline would break the one-line-per-record text output, so it counts as binary.
      { offset: 4, timestamp: T + 105, keySizeBytes: 5, key: 'multi', valueSizeBytes: 17, value: `0x${Buffer.from('line one\nline two').toString('hex')}`, headers: [{ key: 'empty', value: null }] },
    ]);
    // Text that starts with "0x" is shown as hex, so a shown "0x…" is always hex.
    expect(document.batches![2].records).toEqual([
      { offset: 5, timestamp: T + 200, keySizeBytes: 16, key: `0x${Buffer.from('0xlooks-like-hex').toString('hex')}`, valueSizeBytes: Buffer.byteLength('ünïcödé ✓'), value: 'ünïcödé ✓', headers: [] },
    ]);
  });

  it('finds every .index entry on a batch boundary whose last offset is the entry offset', async () => {
    const written = await writeSegments();
    const logs = await dumpJson(...written.segments.map((segment) => segment.log));
    const indexes = await dumpJson(...written.segments.map((segment) => segment.index));
    for (const [i, index] of indexes.entries()) {
      const batches = logs[i].batches!;
      expect(index).toMatchObject({ kind: 'index', baseOffset: written.segments[i].baseOffset, stopReason: 'end', logFile: written.segments[i].log });
      // indexIntervalBytes 1: every batch but the first of a segment gets an entry.
      expect(index.entries!.map((entry) => ({ offset: entry.offset, position: entry.position })))
        .toEqual(batches.slice(1).map((batch) => ({ offset: batch.lastOffset, position: batch.position })));
      for (const entry of index.entries!) expect(entry).toMatchObject({ matchesLog: true, problem: null });
      expect(index.validBytes).toBe(index.sizeBytes);
    }
  });

  it('finds every .timeindex entry at a batch end carrying that batch maxTimestamp', async () => {
    const written = await writeSegments();
    const logs = await dumpJson(...written.segments.map((segment) => segment.log));
    const timeIndexes = await dumpJson(...written.segments.map((segment) => segment.timeindex));
    for (const [i, timeIndex] of timeIndexes.entries()) {
      expect(timeIndex).toMatchObject({ kind: 'timeindex', stopReason: 'end' });
      expect(timeIndex.entries!.length).toBeGreaterThan(0);
      const maxTimestampByLastOffset = new Map(logs[i].batches!.map((batch) => [batch.lastOffset, batch.maxTimestamp]));
      for (const entry of timeIndex.entries!) {
        expect(entry).toMatchObject({ matchesLog: true, problem: null });
        expect(maxTimestampByLastOffset.get(entry.offset)).toBe(entry.timestamp);
      }
    }
  });

  it('checks the CRC of batches larger than its 1 MiB read piece, across a log larger than one read chunk', async () => {
    const dataDir = makeTempDir();
    const manager = await LogManager.open({ dataDir });
    const log = manager.openLog('big', 0, resolveLogConfig({ maxMessageBytes: 4 << 20 }));
    const valueBytes = [2.5 * (1 << 20), 700 * 1024, 3 * (1 << 20)];
    // Bytes that do not repeat, so that a CRC over the wrong range could not match by chance.
    const values = valueBytes.map((bytes, i) => Buffer.from(Array.from({ length: bytes }, (_, j) => (j * 31 + i * 7 + (j >> 10)) & 0xff)));
    for (const value of values) log.append(encodeRecordBatch({ records: [{ key: 'k', value, timestamp: T }] }));
    await manager.close();
    const file = path.join(dataDir, 'big-0', offsetFileName(0, LOG_SUFFIX));

    const [clean] = await dumpJson(file);
    expect(clean.batches!.map((batch) => [batch.baseOffset, batch.crcValid])).toEqual([[0, true], [1, true], [2, true]]);
    expect(clean).toMatchObject({ stopReason: 'end', validBytes: fs.statSync(file).size });

    // One byte in the third 1 MiB piece of the first batch: only a CRC that reads every piece sees it.
    const fd = fs.openSync(file, 'r+');
    const at = 61 + 2 * (1 << 20) + 12_345;
    const byte = Buffer.alloc(1);
    fs.readSync(fd, byte, 0, 1, at);
    byte[0] ^= 0x01;
    fs.writeSync(fd, byte, 0, 1, at);
    fs.closeSync(fd);
    const [flipped] = await dumpJson(file);
    expect(flipped.batches!.map((batch) => batch.crcValid)).toEqual([false, true, true]);
    expect(flipped).toMatchObject({ stopReason: 'crc', validBytes: 0 });
  });

  it('prints Kafka-style text: a header, one line per batch, records under it, and the summary', async () => {
    const written = await writeSegments();
    const file = written.segments[0].log;
    const { exitCode, stdout, stderr } = await dumpLog('--records', file);
    expect(exitCode).toBe(0);
    expect(stderr).toBe('');
    const lines = stdout.trimEnd().split('\n');
    expect(lines[0]).toBe(`Dumping ${file} (log segment, base offset 0)`);
    expect(lines[1]).toMatch(/^baseOffset: 0 lastOffset: 2 count: 3 position: 0 size: \d+ crcValid: true crc: 0x[0-9a-f]{8} magic: 2 compression: none timestampType: CreateTime /);
    expect(lines[2]).toBe(`| offset: 0 timestamp: ${T} keySize: 6 key: "user-0" valueSize: 11 value: "hello world" headers: ["trace-id"="t0", "bin"=0x00ff]`);
    expect(lines[3]).toBe(`| offset: 1 timestamp: ${T + 1} keySize: -1 key: null valueSize: 7 value: "value 0" headers: []`);
    const size = fs.statSync(file).size;
    expect(lines.at(-1)).toBe(`validBytes: ${size} of ${size} stopReason: end (every batch is whole, its CRC matches and its offsets increase)`);
  });
});

describe('dump-log on damaged files', () => {
  it('marks the batch whose byte was flipped crcValid false, ends the valid bytes there and still lists later batches', async () => {
    const written = await writeSegments();
    const files = copySegment(written.segments[0]);
    const [before] = await dumpJson(files.log);
    const victim = before.batches![1];
    const bytes = fs.readFileSync(files.log);
    const flipAt = victim.position + Math.floor((61 + victim.sizeBytes) / 2);
    bytes[flipAt] ^= 0xff;
    fs.writeFileSync(files.log, bytes);

    const [after] = await dumpJson('--records', files.log);
    expect(after.batches!.map((batch) => batch.crcValid)).toEqual(before.batches!.map((_, i) => i !== 1));
    expect(after.stopReason).toBe('crc');
    expect(after.validBytes).toBe(victim.position);
    expect(after.stopDetail).toContain(`position ${victim.position}`);
    expect(after.batches![1].records).toBeNull();
    expect(after.batches![1].recordsError).toMatch(/CRC/);
    expect(after.batches![2].records).not.toBeNull();
  });

  it('reports a torn last batch as partial and keeps the whole batches before it', async () => {
    const written = await writeSegments();
    const files = copySegment(written.segments[0]);
    const [before] = await dumpJson(files.log);
    const last = before.batches!.at(-1)!;
    for (const keptBytes of [30, 70]) {
      fs.truncateSync(files.log, last.position + keptBytes);
      const [after] = await dumpJson(files.log);
      expect(after).toMatchObject({ stopReason: 'partial', validBytes: last.position, sizeBytes: last.position + keptBytes, unreadableBytes: keptBytes });
      expect(after.batches).toEqual(before.batches!.slice(0, -1));
      expect(after.stopDetail).toContain(`position ${last.position}`);
    }
  });

  it('stops at bytes that are not a v2 batch and names the bad magic byte', async () => {
    const written = await writeSegments();
    const files = copySegment(written.segments[0]);
    const [before] = await dumpJson(files.log);
    const victim = before.batches![1];
    const bytes = fs.readFileSync(files.log);
    bytes[victim.position + 16] = 1;
    fs.writeFileSync(files.log, bytes);

    const [after] = await dumpJson(files.log);
    expect(after).toMatchObject({ stopReason: 'invalid', validBytes: victim.position, unreadableBytes: after.sizeBytes - victim.position });
    expect(after.batches).toHaveLength(1);
    expect(after.stopDetail).toMatch(/magic byte 1, not 2/);
  });

  it('reports offsets below the base offset in the file name as an offset stop, and checks none for an unnamed .log', async () => {
    const written = await writeSegments();
    const dir = makeTempDir();
    const misnamed = path.join(dir, offsetFileName(100, LOG_SUFFIX));
    fs.copyFileSync(written.segments[1].log, misnamed);
    const [document] = await dumpJson(misnamed);
    expect(document).toMatchObject({ baseOffset: 100, stopReason: 'offset', validBytes: 0, unreadableBytes: 0 });
    expect(document.stopDetail).toContain(`starts below offset 100`);
    expect(document.batches!.every((batch) => batch.crcValid)).toBe(true);

    const unnamed = path.join(dir, 'copy.log');
    fs.copyFileSync(written.segments[1].log, unnamed);
    const [copy] = await dumpJson(unnamed);
    expect(copy).toMatchObject({ baseOffset: null, stopReason: 'end', validBytes: copy.sizeBytes });
    expect(copy.batches![0].baseOffset).toBe(written.segments[1].baseOffset);
  });

  it('flags index entries that point past the whole batches of a torn .log', async () => {
    const written = await writeSegments();
    const files = copySegment(written.segments[0]);
    const [log] = await dumpJson(files.log);
    const last = log.batches!.at(-1)!;
    fs.truncateSync(files.log, last.position + 30);

    const [index, timeIndex] = await dumpJson(files.index, files.timeindex);
    expect(index.entries!.at(-1)).toMatchObject({ offset: last.lastOffset, position: last.position, matchesLog: false });
    expect(index.entries!.at(-1)!.problem).toMatch(/past the end of the \.log/);
    expect(index.entries!.slice(0, -1).every((entry) => entry.matchesLog === true)).toBe(true);
    expect(index).toMatchObject({ stopReason: 'beyond-log', validBytes: index.sizeBytes - 8 });
    expect(timeIndex.stopReason).toBe('beyond-log');
    expect(timeIndex.entries!.at(-1)!.problem).toMatch(/past the last offset/);
  });

  it('reports offset index entries that do not increase or match no batch, and a torn entry', async () => {
    const written = await writeSegments();
    const files = copySegment(written.segments[0]);
    const [log] = await dumpJson(files.log);
    const [, second, third] = log.batches!;
    const entries = Buffer.alloc(3 * 8 + 4);
    entries.writeInt32BE(third.lastOffset, 0);
    entries.writeInt32BE(third.position, 4);
    entries.writeInt32BE(second.lastOffset, 8); // goes backwards
    entries.writeInt32BE(second.position, 12);
    entries.writeInt32BE(third.lastOffset + 1, 16);
    entries.writeInt32BE(third.position + 1, 20); // not a batch start
    fs.writeFileSync(files.index, entries);

    const [index] = await dumpJson(files.index);
    expect(index.entryCount).toBe(3);
    expect(index.entries!.map((entry) => entry.matchesLog)).toEqual([true, true, false]);
    expect(index.entries![0].problem).toBeNull();
    expect(index.entries![1].problem).toMatch(/^does not increase/);
    expect(index.entries![2].problem).toBe(`no batch of the .log starts at position ${third.position + 1}`);
    expect(index).toMatchObject({ stopReason: 'not-increasing', validBytes: 8 });

    fs.writeFileSync(files.index, entries.subarray(0, 8 + 4));
    const [torn] = await dumpJson(files.index);
    expect(torn).toMatchObject({ entryCount: 1, stopReason: 'partial', validBytes: 8, sizeBytes: 12 });
  });

  it('reports a time index entry whose timestamp is not the maxTimestamp of the batch it names', async () => {
    const written = await writeSegments();
    const files = copySegment(written.segments[0]);
    const [log] = await dumpJson(files.log);
    const batch = log.batches![1];
    const entry = Buffer.alloc(12);
    entry.writeInt32BE(Math.floor((batch.maxTimestamp - 7) / 2 ** 32), 0);
    entry.writeUInt32BE((batch.maxTimestamp - 7) >>> 0, 4);
    entry.writeInt32BE(batch.lastOffset, 8);
    fs.writeFileSync(files.timeindex, entry);

    const [timeIndex] = await dumpJson(files.timeindex);
    expect(timeIndex.entries).toEqual([{ timestamp: batch.maxTimestamp - 7, offset: batch.lastOffset, matchesLog: false, problem: `the batch ending at offset ${batch.lastOffset} has maxTimestamp ${batch.maxTimestamp}, not ${batch.maxTimestamp - 7}` }]);
    expect(timeIndex.stopReason).toBe('mismatch');
  });

  it('checks index entries only for order when there is no .log beside the index', async () => {
    const written = await writeSegments();
    const files = copySegment(written.segments[0]);
    fs.rmSync(files.log);
    const [index] = await dumpJson(files.index);
    expect(index.logFile).toBeNull();
    expect(index.entries!.length).toBeGreaterThan(0);
    expect(index.entries!.every((entry) => entry.matchesLog === null && entry.problem === null)).toBe(true);
    expect(index.stopReason).toBe('end');
  });
});

describe('dump-log with files it cannot dump', () => {
  it('prints one error line and exits 1 for a missing file', async () => {
    const missing = path.join(makeTempDir(), offsetFileName(0, LOG_SUFFIX));
    const { exitCode, stdout, stderr } = await dumpLog(missing);
    expect(exitCode).toBe(1);
    expect(stdout).toBe('');
    oneErrorLine(stderr);
    expect(stderr).toContain(missing);
  });

  it('prints one error line and exits 1 for a file that is not a segment file', async () => {
    const notes = path.join(makeTempDir(), 'notes.txt');
    fs.writeFileSync(notes, 'hello');
    const { exitCode, stdout, stderr } = await dumpLog(notes);
    expect(exitCode).toBe(1);
    expect(stdout).toBe('');
    oneErrorLine(stderr);
    expect(stderr).toMatch(/\.log, \.index and \.timeindex/);
  });

  it('refuses an index whose name does not give its base offset', async () => {
    const written = await writeSegments();
    const renamed = path.join(makeTempDir(), 'copy.index');
    fs.copyFileSync(written.segments[0].index, renamed);
    const { exitCode, stderr } = await dumpLog(renamed);
    expect(exitCode).toBe(1);
    oneErrorLine(stderr);
  });

  it('still dumps the good files given beside a missing one, and exits 1', async () => {
    const written = await writeSegments();
    const missing = path.join(written.partitionDir, offsetFileName(999, LOG_SUFFIX));
    const { exitCode, stdout, stderr } = await dumpLog('--json', missing, written.segments[0].log);
    expect(exitCode).toBe(1);
    oneErrorLine(stderr);
    expect(JSON.parse(stdout)).toMatchObject({ file: written.segments[0].log, stopReason: 'end' });
  });
});

describe('the dump-log process', () => {
  const execFileAsync = promisify(execFile);

  it('runs as a child process, prints JSON for each file and exits 0', async () => {
    const written = await writeSegments();
    const { stdout, stderr } = await execFileAsync(process.execPath, ['--import', 'tsx', 'cli/main.ts', 'dump-log', '--json', written.segments[0].log, written.segments[0].index], { cwd: repoRoot });
    expect(stderr).toBe('');
    const [log, index] = stdout.trimEnd().split('\n').map((line) => JSON.parse(line) as DocumentJson);
    expect(log).toMatchObject({ kind: 'log', stopReason: 'end', baseOffset: 0 });
    expect(log.batches!.map((batch) => batch.baseOffset)).toEqual(written.appended.filter((batch) => batch.lastOffset < written.segments[1].baseOffset).map((batch) => batch.baseOffset));
    expect(index).toMatchObject({ kind: 'index', stopReason: 'end' });
  });

  it('exits 1 with one error line and no stack trace for a missing file', async () => {
    const missing = path.join(makeTempDir(), offsetFileName(0, LOG_SUFFIX));
    const failure = await execFileAsync(process.execPath, ['--import', 'tsx', 'cli/main.ts', 'dump-log', missing], { cwd: repoRoot }).then(
      () => expect.fail('dump-log of a missing file exited 0'),
      (error: { code: number; stdout: string; stderr: string }) => error,
    );
    expect(failure.code).toBe(1);
    expect(failure.stdout).toBe('');
    oneErrorLine(failure.stderr);
  });
});

describe('dump-log on a compacted log', () => {
  const DELETE_RETENTION_MS = 86_400_000;
  const CLEANED_AT_MS = T + 60_000;

  /**
   * The example of docs/compaction.md §6: a batch of four (a=1, b=1, a=2, tombstone c), one from
   * idempotent producer 3 (b=2), one plain (b=3); rolled, flushed, and cleaned once a minute later.
   */
  async function writeCompactedLog(): Promise<string> {
    const dataDir = makeTempDir();
    const clock = new ManualClock(T);
    const manager = await LogManager.open({ dataDir, clock });
    const log = manager.openLog('users', 0, resolveLogConfig({ cleanupPolicy: CleanupPolicyBits.compact, retentionMs: -1, deleteRetentionMs: DELETE_RETENTION_MS }));
    const record = (key: string, value: string | null, afterMs: number): RecordInput => ({ key, value, timestamp: T + afterMs });
    log.append(encodeRecordBatch({ records: [record('a', '1', 0), record('b', '1', 1), record('a', '2', 2), record('c', null, 3)] }));
    log.append(encodeRecordBatch({ records: [record('b', '2', 10)], producerId: 3, producerEpoch: 0, baseSequence: 0 }));
    log.append(encodeRecordBatch({ records: [record('b', '3', 20)] }));
    log.roll();
    await log.flush();
    clock.advance(CLEANED_AT_MS - T);
    const result = await manager.cleaner.cleanNow(log);
    expect(result).toMatchObject({ isComplete: true, segmentsReplaced: 1, recordsRemoved: 3 });
    await manager.close();
    return path.join(dataDir, 'users-0', offsetFileName(0, LOG_SUFFIX));
  }

  it('reports deleteHorizonMs instead of baseTimestamp for a batch the cleaner stamped, with its gaps and its records’ own timestamps', async () => {
    const file = await writeCompactedLog();
    const [document] = await dumpJson('--records', file);
    expect(document).toMatchObject({ stopReason: 'end', validBytes: document.sizeBytes });
    const [stamped, emptied, untouched] = document.batches!;
    expect(stamped).toMatchObject({ baseOffset: 0, lastOffset: 3, recordCount: 2, crcValid: true, baseTimestamp: null, deleteHorizonMs: CLEANED_AT_MS + DELETE_RETENTION_MS, maxTimestamp: T + 3 });
    expect(stamped.records!.map((r) => [r.offset, r.timestamp, r.key, r.value])).toEqual([[2, T + 2, 'a', '2'], [3, T + 3, 'c', null]]);
    expect(untouched).toMatchObject({ baseOffset: 5, lastOffset: 5, recordCount: 1, baseTimestamp: T + 20, deleteHorizonMs: null });
    // Producer 3's only batch lost its record but stays as a bare header, so its sequence survives.
    expect(emptied).toMatchObject({ baseOffset: 4, lastOffset: 4, recordCount: 0, sizeBytes: 61, producerId: 3, baseTimestamp: T + 10, deleteHorizonMs: null, crcValid: true, records: [] });
  });

  it('prints deleteHorizonMs in the text line of a stamped batch and baseTimestamp in the others', async () => {
    const file = await writeCompactedLog();
    const { exitCode, stdout } = await dumpLog(file);
    expect(exitCode).toBe(0);
    const [, stamped, emptied, untouched] = stdout.trimEnd().split('\n');
    expect(stamped).toContain(` timestampType: CreateTime deleteHorizonMs: ${CLEANED_AT_MS + DELETE_RETENTION_MS} maxTimestamp: ${T + 3} `);
    expect(stamped).not.toContain('baseTimestamp');
    expect(emptied).toMatch(/^baseOffset: 4 lastOffset: 4 count: 0 .* baseTimestamp: \d+ .* producerId: 3 /);
    expect(untouched).toContain(` baseTimestamp: ${T + 20} `);
  });
});

describe('dump-log on __consumer_offsets', () => {
  interface WrittenGroups {
    readonly file: string;
    readonly memberId: string;
    /** What the broker served for `billing` just before it stopped. */
    readonly committed: Array<{ topic: string; partition: number; offset: number; metadata: string }>;
  }

  /**
   * A broker with one __consumer_offsets partition: `billing` joins (one member, roundrobin over
   * `orders`), commits twice; `audit` commits without membership and is then deleted.
   */
  async function writeGroups(): Promise<WrittenGroups> {
    const dataDir = makeTempDir();
    const scheduler = new ManualScheduler(T);
    const core = await BrokerCore.open({
      dataDir, topicConfigs: testTopicConfigs(), autoCreateTopics: false, scheduler, clock: { nowMs: () => scheduler.nowMs() },
      groups: { offsetsTopicPartitions: 1, coordinator: { initialRebalanceDelayMs: 0 } },
    });
    await core.topics.create({ name: 'orders', partitions: 2 });
    const joining = core.groups.coordinator.joinGroup({
      groupId: 'billing', memberId: '', clientId: 'billing-app', clientHost: '127.0.0.1', sessionTimeoutMs: 10_000, rebalanceTimeoutMs: 30_000,
      protocolType: 'consumer', protocols: [{ name: 'roundrobin', metadata: encodeSubscription({ topics: ['orders'] }) }], requireKnownMemberId: false,
    });
    scheduler.advance(0);
    const { memberId, generationId } = await joining;
    await core.groups.syncGroup({ groupId: 'billing', memberId, generationId, assignments: [] }, 'roundrobin');
    scheduler.advance(1000);
    await core.groups.commitOffsets('billing', generationId, memberId, [{ topic: 'orders', partition: 0, offset: 4, metadata: 'first' }, { topic: 'orders', partition: 1, offset: 9, metadata: '' }]);
    scheduler.advance(1000);
    await core.groups.commitOffsets('billing', generationId, memberId, [{ topic: 'orders', partition: 0, offset: 6, metadata: '' }]);
    await core.groups.commitOffsets('audit', -1, '', [{ topic: 'orders', partition: 0, offset: 2, metadata: '' }]);
    scheduler.advance(1000);
    await core.groups.deleteGroup('audit');
    const committed = core.groups.fetchOffsets('billing');
    await core.close();
    return { file: path.join(dataDir, `${OFFSETS_TOPIC}-0`, offsetFileName(0, LOG_SUFFIX)), memberId, committed };
  }

  function recordsOf(document: DocumentJson): RecordJson[] {
    return document.batches!.flatMap((batch) => batch.records!);
  }

  it('decodes every key and value as OffsetCommit or GroupMetadata, tombstones included', async () => {
    const { file, memberId } = await writeGroups();
    const [document] = await dumpJson('--records', file);
    expect(document.stopReason).toBe('end');
    const decoded = recordsOf(document).map((record) => record.offsetsTopic);
    const member = {
      memberId, groupInstanceId: null, clientId: 'billing-app', clientHost: '127.0.0.1', rebalanceTimeoutMs: 30_000, sessionTimeoutMs: 10_000,
      subscribedTopics: ['orders'], assignedPartitions: [{ topic: 'orders', partitions: [0, 1] }],
    };
    const group = (name: string, value: Record<string, unknown>) => ({ type: 'GroupMetadata', keyVersion: 2, key: { group: name }, valueVersion: 3, value, isTombstone: false, error: null });
    const commit = (name: string, partition: number, offset: number, metadata: string, commitTimestamp: number) => ({
      type: 'OffsetCommit', keyVersion: 1, key: { group: name, topic: 'orders', partition }, valueVersion: 3, value: { offset, leaderEpoch: -1, metadata, commitTimestamp }, isTombstone: false, error: null,
    });
    expect(decoded).toEqual([
      group('billing', { protocolType: null, generation: 0, protocol: null, leader: null, currentStateTimestamp: T, members: [] }),
      group('billing', { protocolType: 'consumer', generation: 1, protocol: 'roundrobin', leader: memberId, currentStateTimestamp: T, members: [member] }),
      commit('billing', 0, 4, 'first', T + 1000),
      commit('billing', 1, 9, '', T + 1000),
      commit('billing', 0, 6, '', T + 2000),
      group('audit', { protocolType: null, generation: 0, protocol: null, leader: null, currentStateTimestamp: T + 2000, members: [] }),
      commit('audit', 0, 2, '', T + 2000),
      { type: 'GroupMetadata', keyVersion: 2, key: { group: 'audit' }, valueVersion: null, value: null, isTombstone: true, error: null },
      { type: 'OffsetCommit', keyVersion: 1, key: { group: 'audit', topic: 'orders', partition: 0 }, valueVersion: null, value: null, isTombstone: true, error: null },
    ]);
    // The raw bytes stay in `key` and `value`: they are the encoder's, byte for byte.
    const [first] = recordsOf(document).filter((record) => record.offsetsTopic!.type === 'OffsetCommit');
    expect(first.key).toBe(`0x${encodeOffsetCommitKey('billing', 'orders', 0).toString('hex')}`);
    expect(first.value).toBe(`0x${encodeOffsetCommitValue({ offset: 4, leaderEpoch: -1, metadata: 'first', commitTimestampMs: T + 1000 }).toString('hex')}`);
  });

  it('shows, last commit per partition winning, exactly the offsets the broker served', async () => {
    const { file, committed } = await writeGroups();
    const [document] = await dumpJson('--records', file);
    const latest = new Map<string, { topic: string; partition: number; offset: number; metadata: string }>();
    for (const { offsetsTopic } of recordsOf(document)) {
      if (offsetsTopic!.type !== 'OffsetCommit' || offsetsTopic!.key!.group !== 'billing') continue;
      const key = offsetsTopic!.key as { topic: string; partition: number };
      const value = offsetsTopic!.value as { offset: number; metadata: string };
      latest.set(`${key.topic}-${key.partition}`, { topic: key.topic, partition: key.partition, offset: value.offset, metadata: value.metadata });
    }
    expect([...latest.values()]).toEqual(committed);
    expect(committed.map((c) => c.offset)).toEqual([6, 9]);
  });

  it('prints decoded keys and values in text, one line per member, and says what a tombstone deletes', async () => {
    const { file, memberId } = await writeGroups();
    const { exitCode, stdout } = await dumpLog('--records', file);
    expect(exitCode).toBe(0);
    const lines = stdout.trimEnd().split('\n');
    expect(lines).toContain(`| offset: 2 timestamp: ${T + 1000} keySize: 23 key: OffsetCommitKey v1 {group: "billing", topic: "orders", partition: 0} valueSize: 29 value: OffsetCommitValue v3 {offset: 4, leaderEpoch: -1, metadata: "first", commitTimestamp: ${T + 1000}} headers: []`);
    const groupLine = lines.findIndex((line) => line.includes('GroupMetadataValue v3 {protocolType: "consumer"'));
    expect(lines[groupLine]).toContain(`key: GroupMetadataKey v2 {group: "billing"} valueSize: `);
    expect(lines[groupLine]).toContain(`generation: 1, protocol: "roundrobin", leader: ${JSON.stringify(memberId)}, currentStateTimestamp: ${T}, members: 1}`);
    expect(lines[groupLine + 1]).toBe(`|   member: {memberId: ${JSON.stringify(memberId)}, groupInstanceId: null, clientId: "billing-app", clientHost: "127.0.0.1", rebalanceTimeoutMs: 30000, sessionTimeoutMs: 10000, subscribedTopics: ["orders"], assignedPartitions: {"orders": [0, 1]}}`);
    expect(lines).toContain(`| offset: 7 timestamp: ${T + 3000} keySize: 9 key: GroupMetadataKey v2 {group: "audit"} valueSize: -1 value: null (tombstone: deletes this key) headers: []`);
  });

  it('decodes nothing without --records, nor the same bytes outside a __consumer_offsets directory', async () => {
    const { file } = await writeGroups();
    const [plain] = await dumpJson(file);
    expect(plain.batches!.every((batch) => batch.records === undefined)).toBe(true);
    const elsewhere = path.join(makeTempDir(), 'consumer_offsets-0');
    fs.mkdirSync(elsewhere);
    fs.copyFileSync(file, path.join(elsewhere, path.basename(file)));
    const [copy] = await dumpJson('--records', path.join(elsewhere, path.basename(file)));
    const records = recordsOf(copy);
    expect(records.length).toBeGreaterThan(0);
    expect(records.every((record) => record.offsetsTopic === undefined && record.key!.startsWith('0x'))).toBe(true);
  });

  it('reports records it cannot decode, and still decodes the others', async () => {
    const dataDir = makeTempDir();
    const manager = await LogManager.open({ dataDir });
    const log = manager.openLog(OFFSETS_TOPIC, 3, resolveLogConfig({}));
    const unknownKey = Buffer.from([0x00, 0x09, 0x00, 0x01, 0x67]);
    const shortValue = encodeOffsetCommitValue({ offset: 1, leaderEpoch: -1, metadata: '', commitTimestampMs: T }).subarray(0, 10);
    log.append(encodeRecordBatch({ records: [
      { key: unknownKey, value: 'x', timestamp: T },
      { key: null, value: 'y', timestamp: T },
      { key: encodeOffsetCommitKey('g', 't', 0), value: shortValue, timestamp: T },
      { key: encodeGroupMetadataKey('g'), value: null, timestamp: T },
    ] }));
    await manager.close();
    const file = path.join(dataDir, `${OFFSETS_TOPIC}-3`, offsetFileName(0, LOG_SUFFIX));

    const [document] = await dumpJson('--records', file);
    const [unknown, keyless, short, tombstone] = recordsOf(document).map((record) => record.offsetsTopic!);
    expect(unknown).toMatchObject({ type: null, keyVersion: 9, key: null, value: null, isTombstone: false });
    expect(unknown.error).toMatch(/^key not decoded: .*unknown key version 9/);
    expect(keyless).toMatchObject({ type: null, keyVersion: null, error: 'a record without a key: every __consumer_offsets record has one' });
    expect(short).toMatchObject({ type: 'OffsetCommit', key: { group: 'g', topic: 't', partition: 0 }, valueVersion: 3, value: null });
    expect(short.error).toMatch(/^value not decoded: .*shorter than its fields/);
    expect(tombstone).toMatchObject({ type: 'GroupMetadata', key: { group: 'g' }, isTombstone: true, error: null });

    const { stdout } = await dumpLog('--records', file);
    expect(stdout).toContain(`key: 0x${unknownKey.toString('hex')} valueSize: 1 value: "x" (key not decoded: `);
    expect(stdout).toContain(`key: OffsetCommitKey v1 {group: "g", topic: "t", partition: 0} valueSize: 10 value: 0x${shortValue.toString('hex')} (value not decoded: `);
  });

  it('decodes the worked example of docs/on-disk-format.md, whose bytes are what the broker’s encoder writes', async () => {
    const doc = fs.readFileSync(path.join(repoRoot, 'docs/on-disk-format.md'), 'utf8');
    const hexOf = (name: string): Buffer => {
      const match = new RegExp(`^${name} +\\(\\d+ bytes\\): ([0-9a-f ]+)$`, 'm').exec(doc);
      expect(match, `docs/on-disk-format.md has no "${name} (N bytes): …" line`).not.toBeNull();
      return Buffer.from(match![1].replaceAll(' ', ''), 'hex');
    };
    const key = hexOf('key');
    const value = hexOf('value');
    expect(key).toEqual(encodeOffsetCommitKey('billing', 'orders', 0));
    expect(value).toEqual(encodeOffsetCommitValue({ offset: 6, leaderEpoch: -1, metadata: '', commitTimestampMs: T }));

    const dataDir = makeTempDir();
    const manager = await LogManager.open({ dataDir });
    manager.openLog(OFFSETS_TOPIC, 9, resolveLogConfig({})).append(encodeRecordBatch({ records: [{ key, value, timestamp: T }] }));
    await manager.close();
    const [document] = await dumpJson('--records', path.join(dataDir, `${OFFSETS_TOPIC}-9`, offsetFileName(0, LOG_SUFFIX)));
    expect(recordsOf(document)[0].offsetsTopic).toEqual({
      type: 'OffsetCommit', keyVersion: 1, key: { group: 'billing', topic: 'orders', partition: 0 },
      valueVersion: 3, value: { offset: 6, leaderEpoch: -1, metadata: '', commitTimestamp: T }, isTombstone: false, error: null,
    });
  });
});
