/**
 * Startup of one partition log (Kafka's LogLoader): from the files in its directory to a list of
 * open segments that can be trusted.
 *
 * 1. Finish what a crash interrupted: complete or roll back a swap of cleaned segments (`.swap`
 *    and `.cleaned` files, segment-swap.ts), remove `*.deleted` files (their segment was being
 *    deleted), `*.tmp` files (a checkpoint being replaced) and index files whose `.log` is gone.
 * 2. Open every segment. A segment whose index is missing or fails its sanity check is recovered,
 *    which rebuilds both indexes from the .log (indexes are derived data).
 * 3. After an unclean stop, recover every segment from the one holding the recovery point (the
 *    offset up to which an fsync is known to have covered the log) to the end, in order. The
 *    first invalid byte ends the log: the file is cut there and every later segment deleted.
 *    Below the recovery point nothing is scanned; that is what makes restarts fast.
 * 4. An empty directory gets one empty segment at the log start offset.
 */

import path from 'node:path';
import type { Clock } from './clock.ts';
import type { FileIo } from './file-io.ts';
import { DELETED_SUFFIX, INDEX_SUFFIX, LOG_SUFFIX, TIME_INDEX_SUFFIX, parseSegmentFileName } from './file-names.ts';
import type { LogConfig } from './log-config.ts';
import { LogSegment } from './log-segment.ts';
import { finishInterruptedSwaps } from './segment-swap.ts';
import type { StorageLogger, StorageMetrics } from './storage-observer.ts';

export interface LoadLogOptions {
  readonly dir: string;
  readonly config: LogConfig;
  readonly io: FileIo;
  readonly clock: Clock;
  readonly logger: StorageLogger;
  readonly metrics: StorageMetrics;
  readonly hadCleanShutdown: boolean;
  readonly recoveryPoint: number;
  readonly logStartOffset: number;
}

export interface LoadedLog {
  readonly segments: LogSegment[];
  readonly recoveryPoint: number;
  readonly logStartOffset: number;
  /** Bytes scanned by recovery (0 after a clean shutdown with sane indexes). */
  readonly recoveredBytes: number;
  /** Set when the directory held nothing: a fresh log whose creation must be made durable. */
  readonly isNew: boolean;
  /** Swaps of cleaned segments that a crash interrupted and startup completed (renames to make durable). */
  readonly finishedSwaps: number;
}

export function loadLog(options: LoadLogOptions): LoadedLog {
  const { dir, io } = options;
  const isNew = !io.exists(dir);
  io.mkdir(dir);
  const finishedSwaps = finishInterruptedSwaps(io, dir);
  if (finishedSwaps > 0) options.logger.warn({ dir, finishedSwaps }, 'completed a swap of cleaned segments that a crash interrupted');
  const baseOffsets = removeLeftoversAndListSegments(io, dir);
  const nowMs = options.clock.nowMs();
  const opened = baseOffsets.map((baseOffset) => LogSegment.open(io, dir, baseOffset, options.config, nowMs));
  const segments = opened.map((o) => o.segment);
  opened.slice(0, -1).forEach(({ segment, isSane }) => segment.markInactive(isSane));
  const recoveredBytes = recoverSegments(options, segments, opened.map((o) => o.isSane));

  let logStartOffset = Math.max(options.logStartOffset, segments[0]?.baseOffset ?? 0);
  const nextOffset = segments.at(-1)?.nextOffset ?? logStartOffset;
  if (segments.length === 0 || nextOffset < logStartOffset) {
    // Nothing on disk, or files removed by hand below the checkpointed log start: start over there.
    for (const segment of segments) segment.delete();
    segments.length = 0;
    segments.push(LogSegment.create(io, dir, logStartOffset, options.config, nowMs));
  }
  logStartOffset = Math.max(logStartOffset, segments[0].baseOffset);
  const endOffset = segments.at(-1)!.nextOffset;
  const recoveryPoint = options.hadCleanShutdown ? endOffset : Math.min(options.recoveryPoint, endOffset);
  return { segments, recoveryPoint, logStartOffset, recoveredBytes, isNew, finishedSwaps };
}

/** Step 1, and the sorted base offsets of the segments that remain. */
function removeLeftoversAndListSegments(io: FileIo, dir: string): number[] {
  const names = io.readdir(dir);
  const logs = new Set<number>();
  for (const name of names) {
    if (name.endsWith(DELETED_SUFFIX) || name.endsWith('.tmp')) io.unlink(path.join(dir, name));
    else {
      const parsed = parseSegmentFileName(name);
      if (parsed?.suffix === LOG_SUFFIX) logs.add(parsed.baseOffset);
    }
  }
  for (const name of names) {
    const parsed = parseSegmentFileName(name);
    if ((parsed?.suffix === INDEX_SUFFIX || parsed?.suffix === TIME_INDEX_SUFFIX) && !logs.has(parsed.baseOffset)) {
      io.unlink(path.join(dir, name));
    }
  }
  return [...logs].sort((a, b) => a - b);
}

/**
 * Steps 2 and 3: recover each segment that needs it, in order. The first recovery that finds an
 * invalid byte ends the log there: later segments are deleted. Returns the bytes scanned.
 * Mutates `segments` when it deletes a tail.
 */
function recoverSegments(options: LoadLogOptions, segments: LogSegment[], isSane: boolean[]): number {
  let firstUnflushed = segments.length;
  if (!options.hadCleanShutdown) {
    firstUnflushed = 0;
    while (firstUnflushed + 1 < segments.length && segments[firstUnflushed + 1].baseOffset <= options.recoveryPoint) firstUnflushed += 1;
  }
  let scannedBytes = 0;
  for (let i = 0; i < segments.length; i++) {
    if (i < firstUnflushed && isSane[i]) continue;
    const segment = segments[i];
    const result = segment.recover();
    scannedBytes += result.validBytes + result.truncatedBytes;
    if (!isSane[i]) {
      options.metrics.indexRebuilt(options.dir, segment.baseOffset);
      options.logger.warn({ dir: options.dir, segment: segment.baseOffset }, 'rebuilt the indexes of a segment whose index was missing or damaged');
    }
    if (result.truncatedBytes === 0 && result.stopReason === 'end') continue;
    const later = segments.splice(i + 1);
    for (const dropped of later) {
      dropped.delete();
      options.metrics.segmentDeleted(options.dir, 'truncation');
    }
    segment.reactivate();
    const cut = {
      dir: options.dir,
      segmentBaseOffset: segment.baseOffset,
      position: result.validBytes,
      truncatedBytes: result.truncatedBytes + later.reduce((sum, s) => sum + s.sizeBytes, 0),
      reason: result.stopReason,
      nextOffset: result.nextOffset,
      deletedSegments: later.length,
    };
    options.metrics.recoveryCut(cut);
    options.logger.warn(cut, `recovery cut ${cut.truncatedBytes} bytes (${cut.reason}) at position ${cut.position} of segment ${segment.baseOffset}; the log now ends at offset ${cut.nextOffset}`);
    break;
  }
  return scannedBytes;
}
