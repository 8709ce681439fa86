/**
 * Swapping a cleaned segment in for the closed segments it replaces, so that a crash at any moment
 * leaves either the old segments or the new one, never a mix and never a loss (Kafka's
 * LocalLog.replaceSegments and the swap recovery in LogLoader).
 *
 *   <base>.log.cleaned   the log cleaner writes the new segment here, then fsyncs it
 *   <base>.log.swap      the same file, renamed: from this rename on, the swap is decided
 *   <base>.log           where it ends up, replacing the segment of the same base offset
 *
 * `<base>` is the base offset of the first replaced segment, so the new segment has the name of
 * the old first one. Only the `.log` travels through these names: indexes are derived data, so the
 * new segment's are rebuilt from its `.log` once it is in place, never swapped.
 *
 * The swap (`swapInCleanedSegment`), one synchronous run of renames and unlinks:
 *
 *   1. rename <base>.log.cleaned → <base>.log.swap                         the commit point
 *   2. delete each replaced segment: its three files renamed *.deleted, then unlinked
 *   3. rename <base>.log.swap → <base>.log; open it and rebuild both indexes
 *
 * and then the caller fsyncs the partition directory (a flush round does it). At startup
 * (`finishInterruptedSwaps`, before the loader lists segments):
 *
 *   - every `*.cleaned` file is deleted: step 1 never happened, the old segments are all there;
 *   - every `<base>.log.swap` is finished: the segments it replaced are exactly the `.log` files
 *     whose base offset lies in [base, the swap file's next offset), because the cleaner always
 *     keeps the last batch of what it replaces (emptied of records if need be) and so the new
 *     segment ends where the last replaced one did. Those are deleted, with their indexes and
 *     base's, and the swap file is renamed to `<base>.log`.
 *
 * Why that covers every crash. A process crash (or a file system replaying its journal) stops the
 * run between two renames or unlinks, and every such point is one of the cases above: before step
 * 1 the old segments are whole and `.cleaned` is thrown away; from step 1 to the end of step 3 the
 * `.swap` file exists, or its rename to `.log` is done, and startup completes the swap. A power
 * loss is the same, with one more rule: the `.cleaned` file is fsynced before step 1, so a `.swap`
 * name never points at bytes the disk lost, and until the directory fsync after step 3 completes,
 * a power loss takes the directory back to the old names (the old segments, all fsynced: the
 * cleaner only takes segments below the recovery point).
 */

import path from 'node:path';
import { BatchScanner } from './batch-scanner.ts';
import type { FileIo } from './file-io.ts';
import { LOG_SUFFIX, offsetFileName, parseSegmentFileName } from './file-names.ts';
import type { SegmentSettings } from './log-segment.ts';
import { LogSegment } from './log-segment.ts';

export const CLEANED_SUFFIX = '.cleaned';
export const SWAP_SUFFIX = '.swap';

/** Where the cleaner writes the segment that will take `baseOffset`'s place. */
export function cleanedLogPath(dir: string, baseOffset: number): string {
  return path.join(dir, offsetFileName(baseOffset, LOG_SUFFIX) + CLEANED_SUFFIX);
}

/**
 * Steps 1 to 3 above: `replaced` are consecutive closed segments, the first of which gives the
 * base offset, and `<base>.log.cleaned` is complete and fsynced. Returns the new segment, inactive,
 * its indexes rebuilt in memory (they reach the disk with the next flush). The directory is not
 * fsynced here.
 */
export function swapInCleanedSegment(io: FileIo, dir: string, replaced: readonly LogSegment[], settings: SegmentSettings, nowMs: number): LogSegment {
  const baseOffset = replaced[0].baseOffset;
  const logPath = path.join(dir, offsetFileName(baseOffset, LOG_SUFFIX));
  io.rename(logPath + CLEANED_SUFFIX, logPath + SWAP_SUFFIX);
  for (const segment of replaced) segment.delete();
  io.rename(logPath + SWAP_SUFFIX, logPath);
  const { segment } = LogSegment.open(io, dir, baseOffset, settings, nowMs);
  segment.rebuildIndexes();
  segment.markInactive();
  return segment;
}

/**
 * Startup: throws away unfinished `.cleaned` files and completes every swap that reached step 1
 * (see above). Runs before the loader lists segments. Returns how many swaps it completed.
 */
export function finishInterruptedSwaps(io: FileIo, dir: string): number {
  const names = io.readdir(dir);
  const swapBases: number[] = [];
  for (const name of names) {
    if (name.endsWith(CLEANED_SUFFIX)) {
      io.unlink(path.join(dir, name));
      continue;
    }
    if (!name.endsWith(SWAP_SUFFIX)) continue;
    const parsed = parseSegmentFileName(name.slice(0, -SWAP_SUFFIX.length));
    if (parsed?.suffix === LOG_SUFFIX) swapBases.push(parsed.baseOffset);
    // Nothing else is ever named *.swap here; a stray one (an index, say) is derived data.
    else io.unlink(path.join(dir, name));
  }
  swapBases.sort((a, b) => a - b);
  for (const baseOffset of swapBases) finishSwap(io, dir, baseOffset, names);
  return swapBases.length;
}

function finishSwap(io: FileIo, dir: string, baseOffset: number, names: readonly string[]): void {
  const logPath = path.join(dir, offsetFileName(baseOffset, LOG_SUFFIX));
  const nextOffset = swapFileNextOffset(io, logPath + SWAP_SUFFIX, baseOffset);
  for (const name of names) {
    const parsed = parseSegmentFileName(name);
    if (parsed === null || parsed.baseOffset < baseOffset || (parsed.baseOffset >= nextOffset && parsed.baseOffset !== baseOffset)) continue;
    const file = path.join(dir, name);
    if (io.exists(file)) io.unlink(file);
  }
  // The index files of `base` went with the replaced segment of that name: the loader finds them
  // missing and rebuilds them from the new .log.
  io.rename(logPath + SWAP_SUFFIX, logPath);
}

/** The offset after the last whole batch of a swap file (its base offset if it has none). */
function swapFileNextOffset(io: FileIo, file: string, baseOffset: number): number {
  const fd = io.open(file, 'r');
  try {
    const scanner = new BatchScanner(io, fd, io.sizeOf(fd), 0, { wholeBatches: false });
    let nextOffset = baseOffset;
    for (let batch = scanner.next(); batch !== null; batch = scanner.next()) nextOffset = batch.header.lastOffset + 1;
    return nextOffset;
  } finally {
    io.close(fd);
  }
}
