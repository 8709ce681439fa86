/**
 * The log cleaner: compaction of logs whose cleanup.policy includes `compact` (Kafka's
 * LogCleaner, one thread, simplified; kafka-facts §4.2, docs/compaction.md).
 *
 *   logStartOffset     cleaner checkpoint     first uncleanable offset      nextOffset
 *   |<--- clean section --->|<--- dirty section --->|<--- not cleaned yet --->|
 *                                                     (active segment, and anything not
 *                                                      yet fsynced: above the recovery point)
 *
 * One pass over one log:
 *
 * 1. Cleanable segments: the closed segments that lie wholly below min(active segment's base
 *    offset, recovery point). The recovery point matters on a single broker: compaction must not
 *    drop a record because of a later one that a power loss could still take away.
 * 2. Offset map: read the dirty section (from the cleaner checkpoint on) and map every key to the
 *    offset of its latest record, batch by batch, until the map's memory limit
 *    (log.cleaner.dedupe.buffer.size) is reached; the map then covers [checkpoint, mappedUpTo).
 * 3. Recopy every cleanable segment with a base offset below mappedUpTo, clean and dirty alike,
 *    consecutive ones merged while they fit segment.bytes, keeping a record unless
 *      - its key has a later record in the map (a later value or tombstone supersedes it),
 *      - it is a tombstone whose batch's delete horizon has passed (cleaned-batch.ts), or
 *      - it has no key (Kafka's cleaner drops those too; compacted topics refuse them on produce).
 *    A tombstone kept for the first time gets its batch stamped with a delete horizon of
 *    now + delete.retention.ms. A batch left without records is dropped, unless it is the last
 *    batch of its producer id (producer state must survive, as in Kafka) or the last batch of the
 *    merged group (so the new segment ends where the old ones did, which is what lets startup
 *    complete an interrupted swap: segment-swap.ts); then it is kept, emptied, 61 bytes.
 *    Nothing is reordered and no offset changes: batches keep their base offsets and
 *    lastOffsetDelta, records their offset deltas.
 * 4. Each new segment is written to `<base>.log.cleaned`, fsynced, swapped in
 *    (PartitionLog.replaceSegments) and the directory fsynced, before the next group starts.
 * 5. The cleaner checkpoint becomes mappedUpTo, saved in the partition directory.
 *
 * Reads and appends go on during a pass: the pass does its work synchronously one segment at a
 * time and yields to the event loop between segments; each swap is one synchronous step. If the
 * log changes under it (closed, truncated, a segment deleted by retention), the pass gives up:
 * the unfinished `.cleaned` file is deleted, swaps already done stay (each is a valid
 * compaction), and the checkpoint is not advanced.
 *
 * The cleaner checkpoint is per log (cleaner-checkpoint.ts). A truncation seen by the cleaner
 * resets it to the log start: the truncated offsets may come back with other records, which must
 * be read as dirty.
 */

import assert from 'node:assert';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { MiniKafkaError } from '../../common/errors.ts';
import type { RecordBatchHeader } from '../../common/record-batch.ts';
import { decodeRecordBatch, isCrcValid, validateRecordBatch } from '../../common/record-batch.ts';
import { readCleanerCheckpoint, writeCleanerCheckpoint } from './cleaner-checkpoint.ts';
import { deleteHorizonMsOf, emptiedBatch, rebuildBatch } from './cleaned-batch.ts';
import type { Clock } from './clock.ts';
import { systemClock } from './clock.ts';
import type { FileIo } from './file-io.ts';
import { nodeFileIo } from './file-io.ts';
import { isCompacted } from './log-config.ts';
import type { LogSegment } from './log-segment.ts';
import { OffsetMap } from './offset-map.ts';
import type { PartitionLog } from './partition-log.ts';
import { cleanedLogPath } from './segment-swap.ts';
import type { StorageLogger } from './storage-observer.ts';
import { silentLogger } from './storage-observer.ts';

/** log.cleaner.backoff.ms: the pause between two looks for a log to clean. */
export const DEFAULT_BACKOFF_MS = 15_000;
/** log.cleaner.dedupe.buffer.size: memory for the offset map (Kafka's, shared by its threads). */
export const DEFAULT_DEDUPE_BUFFER_BYTES = 128 * 1024 * 1024;
/** Relative offsets are int32 in the indexes: a merged segment may not span more. */
const MAX_RELATIVE_OFFSET = 0x7fffffff;
/** Positions are int32 in the offset index: a rewritten segment may not grow past this. */
const MAX_SEGMENT_BYTES = 0x7fffffff;

export interface LogCleanerOptions {
  /** The logs to look at, asked afresh on every round (the log manager's open logs). */
  readonly logs: () => Iterable<PartitionLog>;
  readonly io?: FileIo;
  readonly clock?: Clock;
  readonly logger?: StorageLogger;
  /** log.cleaner.backoff.ms, default 15 000. */
  readonly backoffMs?: number;
  /** log.cleaner.dedupe.buffer.size, default 128 MiB. */
  readonly dedupeBufferBytes?: number;
}

export interface CleaningResult {
  readonly dir: string;
  /** False when the log changed under the pass and it gave up; the swaps it made before stay. */
  readonly isComplete: boolean;
  /** Where the dirty section began: the cleaner checkpoint before the pass. */
  readonly firstDirtyOffset: number;
  /** The offset map covered every record from firstDirtyOffset up to here: the new checkpoint. */
  readonly mappedUpToOffset: number;
  /** Every batch below this offset was recopied (and its tombstones given a delete horizon). */
  readonly rewrittenUpToOffset: number;
  readonly segmentsReplaced: number;
  readonly segmentsWritten: number;
  readonly bytesBefore: number;
  readonly bytesAfter: number;
  /** Records dropped for any reason, tombstones included. */
  readonly recordsRemoved: number;
  /** Tombstones dropped because their batch's delete horizon had passed. */
  readonly tombstonesRemoved: number;
}

/** What the cleaner would do with a log now: the sections of step 1 and how dirty it is. */
export interface CleanableSection {
  /** Closed segments wholly below firstUncleanableOffset, oldest first. */
  readonly segments: readonly LogSegment[];
  /** Where each of `segments` ends: the next segment's base offset. */
  readonly endOffsets: readonly number[];
  readonly firstDirtyOffset: number;
  readonly firstUncleanableOffset: number;
  readonly cleanBytes: number;
  readonly dirtyBytes: number;
  /** dirtyBytes / (cleanBytes + dirtyBytes); 0 for an empty section. */
  readonly dirtyRatio: number;
}

/** What the cleaner remembers about one open log object. */
interface LogState {
  /** The cleaner checkpoint, null when there is none (everything from the log start is dirty). */
  checkpoint: number | null;
  /** The log's truncation count when the last pass began. */
  truncationsSeen: number;
  /** The earliest delete horizon of a tombstone kept by the last pass: a pass from then on can drop it. */
  earliestDeleteHorizonMs: number | null;
}

/** Everything one pass shares between its steps. */
interface Pass {
  readonly log: PartitionLog;
  readonly nowMs: number;
  readonly truncations: number;
  readonly map: OffsetMap;
  /** Producer id → last offset of its last batch among the batches read. */
  readonly lastOffsetOfProducer: Map<number, number>;
  recordsRemoved: number;
  tombstonesRemoved: number;
  earliestDeleteHorizonMs: number | null;
}

export class LogCleaner {
  readonly #logs: () => Iterable<PartitionLog>;
  readonly #io: FileIo;
  readonly #clock: Clock;
  readonly #logger: StorageLogger;
  readonly #backoffMs: number;
  readonly #dedupeBufferBytes: number;
  readonly #states = new WeakMap<PartitionLog, LogState>();
  /** Passes run one at a time, in request order: Kafka's single cleaner thread. */
  #queue: Promise<unknown> = Promise.resolve();
  #timer: NodeJS.Timeout | null = null;
  #isClosed = false;

  constructor(options: LogCleanerOptions) {
    this.#logs = options.logs;
    this.#io = options.io ?? nodeFileIo;
    this.#clock = options.clock ?? systemClock;
    this.#logger = options.logger ?? silentLogger;
    this.#backoffMs = options.backoffMs ?? DEFAULT_BACKOFF_MS;
    this.#dedupeBufferBytes = options.dedupeBufferBytes ?? DEFAULT_DEDUPE_BUFFER_BYTES;
    assert(Number.isSafeInteger(this.#backoffMs) && this.#backoffMs > 0, `log.cleaner.backoff.ms must be positive, got ${this.#backoffMs}`);
    assert(Number.isSafeInteger(this.#dedupeBufferBytes) && this.#dedupeBufferBytes > 0, `log.cleaner.dedupe.buffer.size must be positive, got ${this.#dedupeBufferBytes}`);
  }

  /** Looks for logs to clean every log.cleaner.backoff.ms, on an unref'd timer. */
  start(): void {
    assert(!this.#isClosed && this.#timer === null, 'the log cleaner is closed or started already');
    this.#timer = setInterval(() => {
      this.runOnce().catch((error: unknown) => this.#logger.error({ error }, 'log cleaner round failed'));
    }, this.#backoffMs);
    this.#timer.unref();
  }

  /**
   * One round: cleans, dirtiest first, every compacted log whose dirty ratio reaches its
   * min.cleanable.dirty.ratio or whose earliest kept tombstone has reached its delete horizon.
   * A pass that fails is logged and the round goes on with the next log.
   */
  runOnce(): Promise<CleaningResult[]> {
    return this.#enqueue(async () => {
      const results: CleaningResult[] = [];
      const nowMs = this.#clock.nowMs();
      const candidates = [...this.#logs()]
        .filter((log) => !log.isClosed && isCompacted(log.config))
        .map((log) => ({ log, section: this.cleanableSection(log) }))
        .filter(({ log, section }) => this.#isDue(log, section, nowMs))
        .sort((a, b) => b.section.dirtyRatio - a.section.dirtyRatio);
      for (const { log } of candidates) {
        if (this.#isClosed) break;
        try {
          results.push(await this.#clean(log));
        } catch (error) {
          this.#logger.error({ dir: log.dir, error }, 'cleaning a log failed; it stays as it was before the failed step');
        }
      }
      return results;
    });
  }

  /** Cleans `log` now, however dirty it is (after any pass already running). Its policy must include compact. */
  cleanNow(log: PartitionLog): Promise<CleaningResult> {
    assert(isCompacted(log.config), `log ${log.dir} does not have cleanup.policy compact`);
    return this.#enqueue(() => this.#clean(log));
  }

  /** Step 1 for `log` as it is now. */
  cleanableSection(log: PartitionLog): CleanableSection {
    const state = this.#stateOf(log);
    const infos = log.segments;
    const closed = log.closedSegments;
    assert(closed.length === infos.length - 1, 'segments and their infos are read at one moment');
    const limit = Math.min(log.recoveryPoint, infos[infos.length - 1].baseOffset);
    let count = 0;
    while (count < closed.length && infos[count + 1].baseOffset <= limit) count += 1;
    const segments = closed.slice(0, count);
    const endOffsets = infos.slice(1, count + 1).map((info) => info.baseOffset);
    const firstUncleanableOffset = infos[count].baseOffset;
    const checkpoint = state.truncationsSeen !== log.truncationCount ? null : state.checkpoint;
    // A checkpoint beyond the log end belongs to offsets that no longer exist.
    const isUsable = checkpoint !== null && checkpoint >= log.logStartOffset && checkpoint <= log.nextOffset;
    const firstDirtyOffset = Math.min(isUsable ? checkpoint : log.logStartOffset, firstUncleanableOffset);
    let cleanBytes = 0;
    let dirtyBytes = 0;
    segments.forEach((segment, i) => {
      if (endOffsets[i] <= firstDirtyOffset) cleanBytes += segment.sizeBytes;
      else dirtyBytes += segment.sizeBytes;
    });
    const dirtyRatio = cleanBytes + dirtyBytes === 0 ? 0 : dirtyBytes / (cleanBytes + dirtyBytes);
    return { segments, endOffsets, firstDirtyOffset, firstUncleanableOffset, cleanBytes, dirtyBytes, dirtyRatio };
  }

  /** Stops the timer and waits for the pass under way, if any. */
  async close(): Promise<void> {
    this.#isClosed = true;
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
    await this.#queue.catch(() => undefined);
  }

  #enqueue<T>(work: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(work);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  #isDue(log: PartitionLog, section: CleanableSection, nowMs: number): boolean {
    if (section.segments.length === 0) return false;
    if (section.dirtyBytes > 0 && section.dirtyRatio >= log.config.minCleanableDirtyRatio) return true;
    const horizon = this.#stateOf(log).earliestDeleteHorizonMs;
    return horizon !== null && nowMs >= horizon;
  }

  #stateOf(log: PartitionLog): LogState {
    let state = this.#states.get(log);
    if (state === undefined) {
      state = { checkpoint: readCleanerCheckpoint(this.#io, log.dir, this.#logger), truncationsSeen: log.truncationCount, earliestDeleteHorizonMs: null };
      this.#states.set(log, state);
    }
    return state;
  }

  /** Steps 1 to 5 for one log. */
  async #clean(log: PartitionLog): Promise<CleaningResult> {
    const state = this.#stateOf(log);
    const section = this.cleanableSection(log);
    const pass: Pass = {
      log,
      nowMs: this.#clock.nowMs(),
      truncations: log.truncationCount,
      map: new OffsetMap(this.#dedupeBufferBytes),
      lastOffsetOfProducer: new Map(),
      recordsRemoved: 0,
      tombstonesRemoved: 0,
      earliestDeleteHorizonMs: null,
    };
    if (state.truncationsSeen !== pass.truncations) state.checkpoint = null;
    state.truncationsSeen = pass.truncations;
    const mappedUpToOffset = section.segments.length === 0 ? section.firstDirtyOffset : await this.#buildOffsetMap(pass, section);
    const rewritten = mappedUpToOffset === null ? [] : section.segments.filter((segment) => segment.baseOffset < mappedUpToOffset);
    const groups = groupSegments(rewritten, section.endOffsets, log.config.segmentBytes);
    let isComplete = mappedUpToOffset !== null;
    let replaced = 0;
    let written = 0;
    let bytesBefore = 0;
    let bytesAfter = 0;
    for (const group of groups) {
      const groupBytes = group.reduce((sum, segment) => sum + segment.sizeBytes, 0);
      const afterBytes = await this.#rewriteGroup(pass, group);
      if (afterBytes === null) {
        isComplete = false;
        break;
      }
      bytesBefore += groupBytes;
      bytesAfter += afterBytes;
      replaced += group.length;
      written += 1;
    }
    const result: CleaningResult = {
      dir: log.dir,
      isComplete,
      firstDirtyOffset: section.firstDirtyOffset,
      mappedUpToOffset: isComplete ? mappedUpToOffset! : section.firstDirtyOffset,
      rewrittenUpToOffset: replaced > 0 ? section.endOffsets[replaced - 1] : log.logStartOffset,
      segmentsReplaced: replaced,
      segmentsWritten: written,
      bytesBefore,
      bytesAfter,
      recordsRemoved: pass.recordsRemoved,
      tombstonesRemoved: pass.tombstonesRemoved,
    };
    if (section.segments.length === 0) return result;
    if (isComplete) {
      state.checkpoint = mappedUpToOffset;
      state.earliestDeleteHorizonMs = pass.earliestDeleteHorizonMs;
      await writeCleanerCheckpoint(this.#io, log.dir, mappedUpToOffset!);
    }
    this.#logger.info({ ...result }, isComplete ? 'cleaned a log' : 'gave up cleaning a log that changed under the cleaner');
    return result;
  }

  /**
   * Step 2. Reads every cleanable segment: the clean ones for their batch headers only (producer
   * ids), the dirty ones whole, filling the map. Returns the offset up to which the map covers the
   * dirty section, or null if the log changed meanwhile.
   */
  async #buildOffsetMap(pass: Pass, section: CleanableSection): Promise<number | null> {
    const { map, lastOffsetOfProducer } = pass;
    const noteProducer = (header: RecordBatchHeader): void => {
      if (header.producerId >= 0) lastOffsetOfProducer.set(header.producerId, header.lastOffset);
    };
    for (let i = 0; i < section.segments.length; i++) {
      const segment = section.segments[i];
      await yieldToEventLoop();
      if (!this.#isIntact(pass, segment)) return null;
      if (section.endOffsets[i] <= section.firstDirtyOffset) {
        segment.forEachBatchHeader(segment.baseOffset, noteProducer);
        continue;
      }
      for (const { bytes, header } of segment.batches()) {
        noteProducer(header);
        if (header.lastOffset < section.firstDirtyOffset || header.isControl) continue;
        checkCrc(segment, bytes!, header);
        const records = decodeRecordBatch(bytes!).records.filter((record) => record.key !== null && record.offset >= section.firstDirtyOffset);
        let costBytes = 0;
        for (const record of records) costBytes += map.costOf(record.key!);
        // A full map ends the dirty section covered by this pass at this batch; an empty map takes
        // the batch anyway, so that every pass makes progress.
        if (map.size > 0 && !map.hasRoomFor(costBytes)) return Math.max(header.baseOffset, section.firstDirtyOffset);
        for (const record of records) map.put(record.key!, record.offset);
      }
    }
    return section.firstUncleanableOffset;
  }

  /**
   * Steps 3 and 4 for one group of consecutive segments. Returns the new segment's size, or null
   * if the log changed under the pass (the `.cleaned` file is then deleted).
   */
  async #rewriteGroup(pass: Pass, group: readonly LogSegment[]): Promise<number | null> {
    const { log } = pass;
    const cleanedPath = cleanedLogPath(log.dir, group[0].baseOffset);
    if (this.#io.exists(cleanedPath)) this.#io.unlink(cleanedPath);
    const fd = this.#io.open(cleanedPath, 'wx+');
    let sizeBytes: number | null;
    try {
      sizeBytes = await this.#writeCleaned(pass, group, fd);
      if (sizeBytes !== null) await this.#io.fsync(fd);
    } catch (error) {
      this.#closeAndRemoveQuietly(fd, cleanedPath);
      throw error;
    }
    this.#io.close(fd);
    if (sizeBytes === null || !log.replaceSegments(group, pass.truncations)) {
      this.#removeQuietly(cleanedPath);
      return null;
    }
    await log.flush();
    return sizeBytes;
  }

  /** Writes the group's kept batches into `fd`; returns the bytes written, or null if the log changed. */
  async #writeCleaned(pass: Pass, group: readonly LogSegment[], fd: number): Promise<number | null> {
    let positionBytes = 0;
    const append = (batch: Buffer): void => {
      if (positionBytes + batch.length > MAX_SEGMENT_BYTES) {
        throw new MiniKafkaError('KAFKA_STORAGE_ERROR', `cleaning ${pass.log.dir} from offset ${group[0].baseOffset} would write a segment past ${MAX_SEGMENT_BYTES} bytes; lower segment.bytes`, { dir: pass.log.dir, baseOffset: group[0].baseOffset });
      }
      this.#io.write(fd, batch, 0, batch.length, positionBytes);
      positionBytes += batch.length;
    };
    let droppedLast: Buffer | null = null;
    for (const segment of group) {
      await yieldToEventLoop();
      if (!this.#isIntact(pass, segment)) return null;
      for (const { bytes, header } of segment.batches()) {
        const cleaned = this.#cleanBatch(pass, segment, bytes!, header);
        droppedLast = cleaned === null ? emptiedBatch(bytes!, header) : null;
        if (cleaned !== null) append(cleaned);
      }
    }
    // The group's last batch stays, emptied if need be, so the new segment ends where the old
    // ones did (segment-swap.ts relies on it after a crash).
    if (droppedLast !== null) append(droppedLast);
    return positionBytes;
  }

  /** Step 3 for one batch: the bytes to write (the batch itself if nothing changes), or null to drop it. */
  #cleanBatch(pass: Pass, segment: LogSegment, bytes: Buffer, header: RecordBatchHeader): Buffer | null {
    // No transactions here, so no control batch can be appended; were one there, it would stay.
    if (header.isControl) return bytes;
    checkCrc(segment, bytes, header);
    const { records } = decodeRecordBatch(bytes);
    const horizonMs = deleteHorizonMsOf(header);
    const keep = new Array<boolean>(records.length);
    let keptCount = 0;
    let keptTombstones = 0;
    records.forEach((record, i) => {
      let isKept: boolean;
      if (record.key === null || pass.map.latestOffset(record.key) > record.offset) isKept = false;
      else if (record.value !== null) isKept = true;
      else {
        isKept = horizonMs === null || pass.nowMs < horizonMs;
        if (isKept) keptTombstones += 1;
        else pass.tombstonesRemoved += 1;
      }
      keep[i] = isKept;
      if (isKept) keptCount += 1;
      else pass.recordsRemoved += 1;
    });
    const stampMs = horizonMs === null && keptTombstones > 0 ? pass.nowMs + pass.log.config.deleteRetentionMs : null;
    if (keptTombstones > 0) pass.earliestDeleteHorizonMs = Math.min(pass.earliestDeleteHorizonMs ?? Infinity, stampMs ?? horizonMs!);
    if (keptCount === 0) {
      const isProducersLast = header.producerId >= 0 && pass.lastOffsetOfProducer.get(header.producerId) === header.lastOffset;
      if (!isProducersLast) return null;
      return header.recordCount === 0 ? bytes : emptiedBatch(bytes, header);
    }
    if (keptCount === records.length && stampMs === null) return bytes;
    const rebuilt = rebuildBatch(bytes, header, keep, stampMs);
    // Both sides of the invariant: what goes to disk decodes, with its offsets where they were.
    const check = validateRecordBatch(rebuilt, 0, { offsetDeltas: 'increasing' });
    assert(check.baseOffset === header.baseOffset && check.lastOffset === header.lastOffset && check.recordCount === keptCount, 'a rebuilt batch keeps its offsets');
    return rebuilt;
  }

  #isIntact(pass: Pass, segment: LogSegment): boolean {
    return !this.#isClosed && pass.log.holdsSegment(segment) && pass.log.truncationCount === pass.truncations;
  }

  #closeAndRemoveQuietly(fd: number, file: string): void {
    try {
      this.#io.close(fd);
    } catch {
      // Already closed, or the disk is gone: the file is removed below or at the next startup.
    }
    this.#removeQuietly(file);
  }

  #removeQuietly(file: string): void {
    try {
      if (this.#io.exists(file)) this.#io.unlink(file);
    } catch (error) {
      // Startup removes any `.cleaned` file left behind.
      this.#logger.warn({ file, error }, 'could not remove an unfinished cleaned segment');
    }
  }
}

/**
 * Consecutive segments merged while their sizes add up to at most segment.bytes and their offsets
 * fit one segment's 31-bit relative range (Kafka's groupSegmentsBySize). Sizes before cleaning:
 * a cleaned group is usually smaller.
 */
export function groupSegments(segments: readonly LogSegment[], endOffsets: readonly number[], segmentBytes: number): LogSegment[][] {
  const groups: LogSegment[][] = [];
  let current: LogSegment[] = [];
  let currentBytes = 0;
  segments.forEach((segment, i) => {
    const lastOffset = endOffsets[i] - 1;
    const fits = current.length > 0 && currentBytes + segment.sizeBytes <= segmentBytes && lastOffset - current[0].baseOffset <= MAX_RELATIVE_OFFSET;
    if (current.length > 0 && !fits) {
      groups.push(current);
      current = [];
      currentBytes = 0;
    }
    current.push(segment);
    currentBytes += segment.sizeBytes;
  });
  if (current.length > 0) groups.push(current);
  return groups;
}

function checkCrc(segment: LogSegment, bytes: Buffer, header: RecordBatchHeader): void {
  if (isCrcValid(bytes)) return;
  throw new MiniKafkaError('KAFKA_STORAGE_ERROR', `the cleaner found a batch whose CRC-32C fails in ${segment.logPath} (baseOffset ${header.baseOffset}); the log was left as it was; restart the broker to recover it`, {
    file: segment.logPath, baseOffset: header.baseOffset,
  });
}
