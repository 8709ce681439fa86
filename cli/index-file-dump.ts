/**
 * Reads a segment's `.index` or `.timeindex` for `minikafka dump-log`: every entry, checked against
 * the rules the broker's sanity check applies (OffsetIndex.isSane, TimeIndex.isSane) and against
 * the batches of the sibling `.log`.
 *
 * What a good entry looks like (offset-index.ts and time-index.ts hold the byte layouts):
 * - `.index` (offset, position): a batch of the .log starts at `position` and its last offset is
 *   `offset`; offsets and positions strictly increase, the first entry lies above the segment
 *   start (the first batch is never indexed).
 * - `.timeindex` (timestamp, offset): a batch of the .log ends at `offset` and its maxTimestamp is
 *   `timestamp` (the largest timestamp so far, and the batch that reached it); timestamps strictly
 *   increase, offsets never decrease.
 *
 * An index is at most segment.index.bytes (10 MiB by default) and the broker itself holds it in a
 * Buffer, so it is read whole. The .log may be a 1 GiB segment: it is walked once, headers only,
 * and only the batches that index entries name are remembered.
 */

import path from 'node:path';
import type { RecordBatchHeader } from '../common/record-batch.ts';
import { BatchScanner } from '../broker/storage/batch-scanner.ts';
import type { FileIo } from '../broker/storage/file-io.ts';
import { nodeFileIo, readWholeFile } from '../broker/storage/file-io.ts';
import { LOG_SUFFIX, offsetFileName } from '../broker/storage/file-names.ts';
import { OFFSET_INDEX_ENTRY_BYTES } from '../broker/storage/offset-index.ts';
import { TIME_INDEX_ENTRY_BYTES } from '../broker/storage/time-index.ts';

/** Why the good prefix of an index ends; `end` when every entry is good. */
export type IndexStopReason = 'end' | 'partial' | 'not-increasing' | 'beyond-log' | 'mismatch';

export interface OffsetIndexEntryReport {
  readonly offset: number;
  readonly position: number;
  /** Whether the .log has a batch starting at `position` whose last offset is `offset`; null without a .log. */
  readonly matchesLog: boolean | null;
  readonly problem: string | null;
}

export interface TimeIndexEntryReport {
  readonly timestamp: number;
  readonly offset: number;
  /** Whether the .log has a batch ending at `offset` whose maxTimestamp is `timestamp`; null without a .log. */
  readonly matchesLog: boolean | null;
  readonly problem: string | null;
}

export interface IndexFileSummary {
  readonly sizeBytes: number;
  readonly entryCount: number;
  /** The sibling .log the entries were checked against, or null when there is none. */
  readonly logFile: string | null;
  /** Bytes of the leading entries that are all good. */
  readonly validBytes: number;
  readonly stopReason: IndexStopReason;
  readonly stopDetail: string | null;
}

interface Problem {
  readonly reason: Exclude<IndexStopReason, 'end' | 'partial'>;
  readonly text: string;
}

interface LogFacts {
  readonly sizeBytes: number;
  /** Where the whole batches end: the file size unless the .log has a torn or bad tail. */
  readonly batchesEndPosition: number;
  /** Last offset of the last batch the walk could read; null for an empty or unreadable log. */
  readonly lastOffset: number | null;
}

/** Yields every entry of the .index at `indexPath`, checked, and returns the summary. */
export function* readOffsetIndexFile(indexPath: string, segmentBaseOffset: number, io: FileIo = nodeFileIo): Generator<OffsetIndexEntryReport, IndexFileSummary, void> {
  const content = readWholeFile(io, indexPath);
  const entryCount = Math.floor(content.length / OFFSET_INDEX_ENTRY_BYTES);
  const entryAt = (i: number): { offset: number; position: number } => ({
    offset: segmentBaseOffset + content.readInt32BE(i * OFFSET_INDEX_ENTRY_BYTES),
    position: content.readInt32BE(i * OFFSET_INDEX_ENTRY_BYTES + 4),
  });
  const logPath = siblingLogPath(indexPath, segmentBaseOffset, io);
  const wantedPositions = sortedUnique(entryCount, (i) => entryAt(i).position);
  const lastOffsetAt = new Map<number, number>();
  const log = logPath === null ? null : walkLog(io, logPath, (position, header) => {
    if (contains(wantedPositions, position)) lastOffsetAt.set(position, header.lastOffset);
  });

  let previous = { offset: segmentBaseOffset - 1, position: 0 };
  let firstProblem: { entry: number; problem: Problem } | null = null;
  for (let i = 0; i < entryCount; i++) {
    const entry = entryAt(i);
    let problem: Problem | null = null;
    if (entry.offset <= previous.offset || entry.position <= previous.position) {
      problem = i === 0
        ? { reason: 'not-increasing', text: `the first entry must lie above the segment start (offset at least ${segmentBaseOffset}, position above 0)` }
        : { reason: 'not-increasing', text: `does not increase: offset ${entry.offset} at position ${entry.position} comes after offset ${previous.offset} at position ${previous.position}` };
    }
    let matchesLog: boolean | null = null;
    if (log !== null) {
      const batchLastOffset = lastOffsetAt.get(entry.position);
      matchesLog = batchLastOffset === entry.offset;
      if (problem === null && entry.position >= log.batchesEndPosition) {
        const end = log.batchesEndPosition === log.sizeBytes ? `its ${log.sizeBytes} bytes` : `byte ${log.batchesEndPosition} of ${log.sizeBytes}, where its whole batches end`;
        problem = { reason: 'beyond-log', text: `position ${entry.position} is past the end of the .log (${end})` };
      } else if (problem === null && batchLastOffset === undefined) {
        problem = { reason: 'mismatch', text: `no batch of the .log starts at position ${entry.position}` };
      } else if (problem === null && !matchesLog) {
        problem = { reason: 'mismatch', text: `the batch at position ${entry.position} ends at offset ${batchLastOffset}, not ${entry.offset}` };
      }
    }
    if (problem !== null && firstProblem === null) firstProblem = { entry: i, problem };
    yield { offset: entry.offset, position: entry.position, matchesLog, problem: problem?.text ?? null };
    previous = entry;
  }
  return summarize(content.length, entryCount, OFFSET_INDEX_ENTRY_BYTES, logPath, firstProblem);
}

/** Yields every entry of the .timeindex at `indexPath`, checked, and returns the summary. */
export function* readTimeIndexFile(indexPath: string, segmentBaseOffset: number, io: FileIo = nodeFileIo): Generator<TimeIndexEntryReport, IndexFileSummary, void> {
  const content = readWholeFile(io, indexPath);
  const entryCount = Math.floor(content.length / TIME_INDEX_ENTRY_BYTES);
  const entryAt = (i: number): { timestamp: number; offset: number } => {
    const at = i * TIME_INDEX_ENTRY_BYTES;
    return { timestamp: content.readInt32BE(at) * 2 ** 32 + content.readUInt32BE(at + 4), offset: segmentBaseOffset + content.readInt32BE(at + 8) };
  };
  const logPath = siblingLogPath(indexPath, segmentBaseOffset, io);
  const wantedOffsets = sortedUnique(entryCount, (i) => entryAt(i).offset);
  const maxTimestampEndingAt = new Map<number, number>();
  const log = logPath === null ? null : walkLog(io, logPath, (_position, header) => {
    if (contains(wantedOffsets, header.lastOffset) && !maxTimestampEndingAt.has(header.lastOffset)) {
      maxTimestampEndingAt.set(header.lastOffset, header.maxTimestamp);
    }
  });

  let previous = { timestamp: Number.MIN_SAFE_INTEGER, offset: segmentBaseOffset };
  let firstProblem: { entry: number; problem: Problem } | null = null;
  for (let i = 0; i < entryCount; i++) {
    const entry = entryAt(i);
    let problem: Problem | null = null;
    if (entry.timestamp <= previous.timestamp || entry.offset < previous.offset) {
      problem = i === 0
        ? { reason: 'not-increasing', text: `offset ${entry.offset} is below the segment's base offset ${segmentBaseOffset}` }
        : { reason: 'not-increasing', text: `does not increase: timestamp ${entry.timestamp} at offset ${entry.offset} comes after timestamp ${previous.timestamp} at offset ${previous.offset}` };
    }
    let matchesLog: boolean | null = null;
    if (log !== null) {
      const batchMaxTimestamp = maxTimestampEndingAt.get(entry.offset);
      matchesLog = batchMaxTimestamp === entry.timestamp;
      if (problem === null && (log.lastOffset === null || entry.offset > log.lastOffset)) {
        problem = { reason: 'beyond-log', text: `offset ${entry.offset} is past the last offset in the .log's whole batches (${log.lastOffset ?? 'none: it holds no whole batch'})` };
      } else if (problem === null && batchMaxTimestamp === undefined) {
        problem = { reason: 'mismatch', text: `no batch of the .log ends at offset ${entry.offset}` };
      } else if (problem === null && !matchesLog) {
        problem = { reason: 'mismatch', text: `the batch ending at offset ${entry.offset} has maxTimestamp ${batchMaxTimestamp}, not ${entry.timestamp}` };
      }
    }
    if (problem !== null && firstProblem === null) firstProblem = { entry: i, problem };
    yield { timestamp: entry.timestamp, offset: entry.offset, matchesLog, problem: problem?.text ?? null };
    previous = entry;
  }
  return summarize(content.length, entryCount, TIME_INDEX_ENTRY_BYTES, logPath, firstProblem);
}

function summarize(sizeBytes: number, entryCount: number, entryBytes: number, logPath: string | null, firstProblem: { entry: number; problem: Problem } | null): IndexFileSummary {
  const common = { sizeBytes, entryCount, logFile: logPath };
  if (firstProblem !== null) {
    return { ...common, validBytes: firstProblem.entry * entryBytes, stopReason: firstProblem.problem.reason, stopDetail: `entry ${firstProblem.entry}: ${firstProblem.problem.text}` };
  }
  const wholeBytes = entryCount * entryBytes;
  if (wholeBytes < sizeBytes) {
    return { ...common, validBytes: wholeBytes, stopReason: 'partial', stopDetail: `the file ends with ${sizeBytes - wholeBytes} bytes, not a whole ${entryBytes}-byte entry` };
  }
  return { ...common, validBytes: wholeBytes, stopReason: 'end', stopDetail: null };
}

/** `<dir>/<base offset>.log` beside the index, or null if it is not there. */
function siblingLogPath(indexPath: string, segmentBaseOffset: number, io: FileIo): string | null {
  const logPath = path.join(path.dirname(indexPath), offsetFileName(segmentBaseOffset, LOG_SUFFIX));
  return io.exists(logPath) ? logPath : null;
}

/** Walks every batch header of the .log once, in 1 MiB chunks, up to the first bytes that are not a batch. */
function walkLog(io: FileIo, logPath: string, visit: (position: number, header: RecordBatchHeader) => void): LogFacts {
  const fd = io.open(logPath, 'r');
  try {
    const sizeBytes = io.sizeOf(fd);
    const scanner = new BatchScanner(io, fd, sizeBytes, 0, { wholeBatches: false });
    let lastOffset: number | null = null;
    for (let batch = scanner.next(); batch !== null; batch = scanner.next()) {
      visit(batch.position, batch.header);
      lastOffset = batch.header.lastOffset;
    }
    return { sizeBytes, batchesEndPosition: scanner.position, lastOffset };
  } finally {
    io.close(fd);
  }
}

function sortedUnique(count: number, valueAt: (i: number) => number): Float64Array {
  const values = new Float64Array(count);
  for (let i = 0; i < count; i++) values[i] = valueAt(i);
  values.sort();
  let unique = 0;
  for (let i = 0; i < count; i++) {
    if (i === 0 || values[i] !== values[unique - 1]) values[unique++] = values[i];
  }
  return values.subarray(0, unique);
}

function contains(sorted: Float64Array, value: number): boolean {
  let low = 0;
  let high = sorted.length - 1;
  while (low <= high) {
    const mid = (low + high) >>> 1;
    if (sorted[mid] === value) return true;
    if (sorted[mid] < value) low = mid + 1;
    else high = mid - 1;
  }
  return false;
}
